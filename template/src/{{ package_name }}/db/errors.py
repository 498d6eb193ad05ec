"""Database errors as HTTP answers: bad input is a 409/422, an unavailable database a 503.

Constraint names follow the naming convention in `db.base`, so the `constraint` in the body
says exactly which rule a request broke (`uq_users_email`, `ck_jobs_status`).
"""

from fastapi import FastAPI, Request, status
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError

# SQLSTATE -> (HTTP status, error code): https://www.postgresql.org/docs/current/errcodes-appendix.html
CONSTRAINT_ERRORS = {
    "23505": (status.HTTP_409_CONFLICT, "unique_violation"),
    "23P01": (status.HTTP_409_CONFLICT, "exclusion_violation"),
    "23503": (status.HTTP_409_CONFLICT, "foreign_key_violation"),
    "23514": (status.HTTP_422_UNPROCESSABLE_CONTENT, "check_violation"),
    "23502": (status.HTTP_422_UNPROCESSABLE_CONTENT, "not_null_violation"),
}
QUERY_CANCELED = "57014"  # statement_timeout (or a cancel request) stopped the query


def sqlstate(error: DBAPIError) -> str | None:
    """The PostgreSQL error code; psycopg and SQLAlchemy's asyncpg adapter both expose it."""
    return getattr(error.orig, "sqlstate", None)


def constraint_name(error: DBAPIError) -> str | None:
    """Name of the violated constraint: psycopg keeps it in `diag`, asyncpg on the cause."""
    diagnostics = getattr(error.orig, "diag", None)
    cause = getattr(error.orig, "__cause__", None)
    name = getattr(diagnostics, "constraint_name", None) or getattr(cause, "constraint_name", None)
    return str(name) if name else None


def problem(status_code: int, code: str, detail: str, **extra: str | None) -> JSONResponse:
    return JSONResponse(status_code=status_code, content={"code": code, "detail": detail, **extra})


async def database_error(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, DBAPIError)
    state = sqlstate(error)
    if state in CONSTRAINT_ERRORS:
        status_code, code = CONSTRAINT_ERRORS[state]
        name = constraint_name(error)
        return problem(status_code, code, f"violates constraint {name}", constraint=name)
    if state == QUERY_CANCELED:
        return problem(503, "query_timeout", "the database did not answer in time")
    if state is None or error.connection_invalidated or state.startswith("08"):
        return problem(503, "database_unavailable", "the database is unreachable")
    raise error


async def database_unavailable(request: Request, error: Exception) -> JSONResponse:
    return problem(503, "database_unavailable", "the database is unreachable")


def register_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(DBAPIError, database_error)
    # Pool exhausted past pool_timeout, or the driver could not open a connection at all
    # (asyncpg raises OSError subclasses unwrapped while connecting).
    for unavailable in (PoolTimeoutError, ConnectionError, TimeoutError):
        app.add_exception_handler(unavailable, database_unavailable)

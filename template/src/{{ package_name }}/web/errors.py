"""Database errors as HTTP answers: bad input is a 409/422, a busy or unreachable database a 503.

The `constraint` in the body says exactly which rule a request broke (`uq_users_email`,
`ck_jobs_status`; see `db.errors`). Anything else the database reports stays a 500: it is a bug
to fix, not an answer to shape.
"""

import traceback
from typing import Any

import structlog
from fastapi import FastAPI, Request, status
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy import MetaData
from sqlalchemy.exc import DataError, DBAPIError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError

from ..db.errors import (
    CONNECTION_EXCEPTION_CLASS,
    DATA_EXCEPTION_CLASS,
    constraint_fields,
    diagnostic,
    sqlstate,
)
from ..pagination import InvalidCursorError
from ..state import state_of

# SQLSTATE -> (HTTP status, error code): https://www.postgresql.org/docs/current/errcodes-appendix.html
CONSTRAINT_ERRORS = {
    "23505": (status.HTTP_409_CONFLICT, "unique_violation"),
    "23P01": (status.HTTP_409_CONFLICT, "exclusion_violation"),
    "23503": (status.HTTP_409_CONFLICT, "foreign_key_violation"),
    "23514": (status.HTTP_422_UNPROCESSABLE_CONTENT, "check_violation"),
    "23502": (status.HTTP_422_UNPROCESSABLE_CONTENT, "not_null_violation"),
}
# Worth retrying a moment later: the answer says so with Retry-After.
RETRYABLE_ERRORS = {
    "55P03": "lock_timeout",  # lock_not_available: lock_timeout or NOWAIT
    "40001": "serialization_failure",
    "40P01": "deadlock_detected",
    "57014": "query_timeout",  # query_canceled: statement_timeout
    "53300": "database_unavailable",  # too_many_connections
    "57P01": "database_unavailable",  # admin_shutdown
    "57P02": "database_unavailable",  # crash_shutdown
    "57P03": "database_unavailable",  # cannot_connect_now
}
DRIVER_MODULES = ("sqlalchemy.", "asyncpg.", "psycopg.")

logger = structlog.stdlib.get_logger(__name__)


class Problem(BaseModel):
    """The body of every answer built here, for the OpenAPI schema."""

    code: str
    detail: str
    constraint: str | None = None
    field: str | None = None


# For `APIRouter(responses=...)` of routers that touch the database: any of their operations
# can answer 503 when PostgreSQL is unreachable, busy or too slow.
DATABASE_UNAVAILABLE: dict[int | str, dict[str, Any]] = {
    status.HTTP_503_SERVICE_UNAVAILABLE: {
        "model": Problem,
        "description": "The database is unreachable or busy: retry after `Retry-After` seconds",
    }
}


def problem(
    status_code: int, code: str, detail: str, *, retry: bool = False, **extra: str | None
) -> JSONResponse:
    headers = {"Retry-After": "1"} if retry else None
    content = {"code": code, "detail": detail, **extra}
    return JSONResponse(status_code=status_code, content=content, headers=headers)


def unavailable(
    request: Request, error: Exception, code: str = "database_unavailable"
) -> JSONResponse:
    """A 503 the database caused: logged once, with its code and SQLSTATE, and counted.

    Never the error's message: a driver's message can quote the statement and its values.
    """
    cause, state = (error.orig, sqlstate(error)) if isinstance(error, DBAPIError) else (error, None)
    logger.warning(code, error=type(cause).__name__, sqlstate=state)
    state_of(request.app).metrics.database_errors.labels(code).inc()
    detail = {
        "database_unavailable": "the database is unreachable",
        "query_timeout": "the database did not answer in time",
        "pool_exhausted": "every database connection is in use",
    }.get(code, "the database is busy")
    return problem(status.HTTP_503_SERVICE_UNAVAILABLE, code, detail, retry=True)


async def database_error(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, DBAPIError)
    state = sqlstate(error) or ""
    if state in CONSTRAINT_ERRORS:
        status_code, code = CONSTRAINT_ERRORS[state]
        constraint = diagnostic(error, "constraint_name")
        column = diagnostic(error, "column_name")
        field = column
        if field is None and constraint is not None:
            field = state_of(request.app).constraint_fields.get(constraint)
        detail = f"violates constraint {constraint}" if constraint else f"{column} is required"
        return problem(status_code, code, detail, constraint=constraint, field=field)
    if state.startswith(DATA_EXCEPTION_CLASS) or isinstance(error, DataError):
        detail = "a value does not fit its column (range, format or encoding)"
        return problem(status.HTTP_422_UNPROCESSABLE_CONTENT, "invalid_data", detail)
    if state in RETRYABLE_ERRORS:
        return unavailable(request, error, RETRYABLE_ERRORS[state])
    if (
        state.startswith(CONNECTION_EXCEPTION_CLASS)
        or error.connection_invalidated
        or (not state and isinstance(error, OperationalError | InterfaceError))
    ):
        return unavailable(request, error)
    raise error


async def driver_unavailable(request: Request, error: Exception) -> JSONResponse:
    """The pool or the driver could not get a connection in time (asyncpg raises OSError)."""
    if isinstance(error, PoolTimeoutError):
        return unavailable(request, error, "pool_exhausted")
    frames = traceback.walk_tb(error.__traceback__)
    if any(frame.f_globals.get("__name__", "").startswith(DRIVER_MODULES) for frame, _ in frames):
        return unavailable(request, error)
    raise error  # an unrelated timeout or connection error is a bug, not a database outage


async def invalid_cursor(request: Request, error: Exception) -> JSONResponse:
    return problem(status.HTTP_400_BAD_REQUEST, "invalid_cursor", str(error))


def register_error_handlers(app: FastAPI, metadata: MetaData) -> None:
    """Answer database errors; `metadata` tells which column each constraint guards."""
    state_of(app).constraint_fields.update(constraint_fields(metadata))
    app.add_exception_handler(DBAPIError, database_error)
    app.add_exception_handler(InvalidCursorError, invalid_cursor)
    for unavailable_error in (PoolTimeoutError, ConnectionError, TimeoutError):
        app.add_exception_handler(unavailable_error, driver_unavailable)

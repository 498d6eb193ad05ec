"""What the database said when a statement failed: its SQLSTATE, and which column a rule guards.

Constraint names follow the naming convention in `db.base`, so a violation names exactly which
rule was broken (`uq_users_email`, `ck_jobs_status`); `web.errors` turns that into an answer.
"""

import re

from sqlalchemy import CheckConstraint, Constraint, Index, MetaData
from sqlalchemy.exc import DBAPIError

# SQLSTATE classes and codes: https://www.postgresql.org/docs/current/errcodes-appendix.html
QUERY_CANCELED = "57014"  # statement_timeout, or a cancel request
DATA_EXCEPTION_CLASS = "22"  # a value that does not fit its column: range, syntax, encoding
CONNECTION_EXCEPTION_CLASS = "08"


def sqlstate(error: DBAPIError) -> str | None:
    """The PostgreSQL error code; psycopg and SQLAlchemy's asyncpg adapter both expose it."""
    return getattr(error.orig, "sqlstate", None)


def diagnostic(error: DBAPIError, field: str) -> str | None:
    """A field of the server's error report: psycopg keeps it in `diag`, asyncpg on the cause."""
    value = getattr(getattr(error.orig, "diag", None), field, None) or getattr(
        getattr(error.orig, "__cause__", None), field, None
    )
    return str(value) if value else None


def constraint_fields(metadata: MetaData) -> dict[str, str]:
    """Constraint or index name -> the column it guards: the `field` of an error answer."""
    fields: dict[str, str] = {}
    for table in metadata.tables.values():
        guards: list[Constraint | Index] = [*table.constraints, *table.indexes]
        for guard in guards:
            columns = [column.name for column in getattr(guard, "columns", [])]
            if isinstance(guard, CheckConstraint) and not columns:
                # A table-level CHECK names its columns only in its SQL text.
                text = str(guard.sqltext)
                columns = [c.name for c in table.columns if re.search(rf"\b{c.name}\b", text)]
            if isinstance(guard.name, str) and columns:
                fields[guard.name] = columns[0]
    return fields

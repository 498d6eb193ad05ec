"""The convention checks, one catalog query each: which table, column, index or constraint
breaks which rule (`findings.RULES`), and how to fix it."""

import re
from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from .catalog_queries import (
    COLUMNS,
    FOREIGN_KEYS,
    IGNORED_TABLES,
    INDEXES,
    TABLES_WITHOUT_PRIMARY_KEY,
    TIMESTAMP_COLUMNS,
)
from .findings import Finding

SECRET_NAME = re.compile(r"password|passwd|secret|token|api_?key|private_?key")
HASHED_SUFFIX = re.compile(r"_(hash|hashed|digest|hmac|encrypted|ciphertext)$")


async def _rows(connection: AsyncConnection, sql: str, schema: str) -> list[Any]:
    result = await connection.execute(
        text(sql), {"schema": schema, "ignored": list(IGNORED_TABLES)}
    )
    return list(result)


async def foreign_keys(connection: AsyncConnection, schema: str) -> list[Finding]:
    findings = []
    for table, name, on_delete, columns, indexed in await _rows(connection, FOREIGN_KEYS, schema):
        if not indexed:
            findings.append(
                Finding(
                    "fk-not-indexed",
                    table,
                    name,
                    f"no valid, non-partial index starts with ({', '.join(columns)})",
                    f"add `index=True` to the column, or an index led by {', '.join(columns)}",
                )
            )
        if on_delete == "a":  # NO ACTION: PostgreSQL's default, so nobody decided
            findings.append(
                Finding(
                    "fk-on-delete-undecided",
                    table,
                    name,
                    "ON DELETE is the default NO ACTION",
                    'say ForeignKey(..., ondelete="CASCADE" | "RESTRICT" | "SET NULL")',
                )
            )
    return findings


async def primary_keys(connection: AsyncConnection, schema: str) -> list[Finding]:
    return [
        Finding("no-primary-key", table, "", "the table has no primary key", "add PrimaryKey")
        for (table,) in await _rows(connection, TABLES_WITHOUT_PRIMARY_KEY, schema)
    ]


async def timestamps(connection: AsyncConnection, schema: str) -> list[Finding]:
    columns: dict[str, dict[str, tuple[str | None, bool]]] = {}
    touched: dict[str, bool] = {}
    for table, column, type_, not_null, has_trigger in await _rows(
        connection, TIMESTAMP_COLUMNS, schema
    ):
        columns.setdefault(table, {})
        touched[table] = has_trigger
        if column is not None:
            columns[table][column] = (type_, not_null)
    findings = []
    for table, present in columns.items():
        for column in ("created_at", "updated_at"):
            type_, not_null = present.get(column, (None, False))
            if type_ is None:
                problem = f"no {column} column"
            elif type_ != "timestamp with time zone":
                problem = f"{column} is {type_}"
            elif not not_null:
                problem = f"{column} allows NULL"
            else:
                continue
            findings.append(
                Finding("timestamps", table, column, problem, "use the Timestamps mixin")
            )
        if "updated_at" in present and not touched[table]:
            findings.append(
                Finding(
                    "timestamps",
                    table,
                    "updated_at",
                    "no touch_updated_at trigger keeps it true",
                    f'attach_touch_updated_at("{table}") in a revision',
                )
            )
    return findings


async def columns(connection: AsyncConnection, schema: str) -> list[Finding]:
    findings = []
    for table, column, type_ in await _rows(connection, COLUMNS, schema):
        if type_.startswith("timestamp without time zone"):
            findings.append(
                Finding(
                    "naive-timestamp",
                    table,
                    column,
                    "timestamp without time zone loses the offset",
                    "Mapped[datetime] (TIMESTAMPTZ), and convert the data in a revision",
                )
            )
        if SECRET_NAME.search(column) and not HASHED_SUFFIX.search(column):
            findings.append(
                Finding(
                    "clear-text-secret",
                    table,
                    column,
                    "the name says secret, the column is not a hash",
                    f"store a hash in {column}_hash (argon2 for passwords, HMAC for tokens)",
                )
            )
    return findings


async def indexes(connection: AsyncConnection, schema: str) -> list[Finding]:
    findings = []
    seen: dict[tuple[str, str], str] = {}
    for table, index, valid, definition in await _rows(connection, INDEXES, schema):
        if not valid:
            findings.append(
                Finding(
                    "invalid-index",
                    table,
                    index,
                    "the index is INVALID (a concurrent build failed) and is not used",
                    f"DROP INDEX CONCURRENTLY {index}, then build it again",
                )
            )
        # Same definition but for the name: same table, method, keys, opclasses and predicate.
        shape = definition.replace(f" INDEX {index} ON ", " INDEX ON ", 1)
        if (table, shape) in seen:
            findings.append(
                Finding(
                    "duplicate-index",
                    table,
                    index,
                    f"the same index as {seen[table, shape]}",
                    f"drop one of {seen[table, shape]} and {index}",
                )
            )
        else:
            seen[table, shape] = index
    return findings


Check = Callable[[AsyncConnection, str], Awaitable[list[Finding]]]
ALL: tuple[Check, ...] = (foreign_keys, primary_keys, timestamps, columns, indexes)

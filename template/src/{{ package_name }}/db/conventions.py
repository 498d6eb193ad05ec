"""Convention checks: read PostgreSQL's catalog and report what breaks the project's rules.

Each check is one catalog query; a finding says which table (and column, index or constraint)
breaks which rule, and how to fix it. The generated test suite runs them after `alembic upgrade
head` (tests/migrations/test_conventions.py) and `python -m <package>.db doctor` runs them
against any database. Deliberate exceptions are declared, with a reason, in pyproject.toml.
"""

import re
import tomllib
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from .triggers import TOUCH_UPDATED_AT_FUNCTION

# Alembic's bookkeeping table follows Alembic's conventions, not ours.
IGNORED_TABLES = ("alembic_version",)
SECRET_NAME = re.compile(r"password|passwd|secret|token|api_?key|private_?key")
HASHED_SUFFIX = re.compile(r"_(hash|hashed|digest|hmac|encrypted|ciphertext)$")

RULES = {
    "fk-not-indexed": "every foreign key's columns lead a valid, non-partial index",
    "fk-on-delete-undecided": "every foreign key says ON DELETE CASCADE, RESTRICT or SET NULL",
    "no-primary-key": "every table has a primary key",
    "timestamps": "created_at/updated_at TIMESTAMPTZ NOT NULL, updated_at kept by the trigger",
    "naive-timestamp": "no `timestamp without time zone` column",
    "clear-text-secret": "secrets are stored hashed (a `_hash` column), never in clear",
    "invalid-index": "no INVALID index (a failed concurrent build)",
    "duplicate-index": "no two indexes on the same table with the same definition",
    "stale-exception": "every declared exception still matches a finding",
}


@dataclass(frozen=True)
class Finding:
    rule: str
    table: str
    object: str  # the column, index or constraint; "" for the table itself
    problem: str
    fix: str

    @property
    def target(self) -> str:
        return ".".join(part for part in (self.table, self.object) if part)

    def __str__(self) -> str:
        return f"[{self.rule}] {self.target}: {self.problem}. Fix: {self.fix}"

    def as_dict(self) -> dict[str, str]:
        return {**asdict(self), "target": self.target}


@dataclass(frozen=True)
class ConventionException:
    """`[[tool.<package>.convention-exceptions]]` in pyproject.toml: rule, target, reason."""

    rule: str
    target: str
    reason: str


def load_exceptions(pyproject: Path) -> list[ConventionException]:
    """The exceptions declared under `[tool.<package>]` in the project's pyproject.toml."""
    package = __package__.split(".")[0]
    tool = tomllib.loads(pyproject.read_text()).get("tool", {}).get(package, {})
    declared = tool.get("convention-exceptions", [])
    exceptions = []
    for entry in declared:
        if not {"rule", "target", "reason"} <= entry.keys() or not str(entry["reason"]).strip():
            raise ValueError(f"a convention exception needs rule, target and a reason: {entry}")
        exceptions.append(ConventionException(entry["rule"], entry["target"], entry["reason"]))
    return exceptions


async def _rows(connection: AsyncConnection, sql: str, schema: str) -> list[Any]:
    result = await connection.execute(
        text(sql), {"schema": schema, "ignored": list(IGNORED_TABLES)}
    )
    return list(result)


# The tables checked: ordinary and partitioned tables of the schema, but Alembic's. The queries
# below are assembled from these constant fragments only; every value is a bound parameter.
OUR_TABLES = """
    ns.nspname = :schema AND rel.relkind IN ('r', 'p')
    AND rel.relname <> ALL(CAST(:ignored AS text[]))
"""

FOREIGN_KEYS = f"""
    SELECT rel.relname, con.conname, con.confdeltype,
           ARRAY(SELECT att.attname FROM unnest(con.conkey) WITH ORDINALITY AS k(attnum, n)
                 JOIN pg_attribute att ON att.attrelid = con.conrelid AND att.attnum = k.attnum
                 ORDER BY k.n) AS columns,
           EXISTS (
               SELECT 1 FROM pg_index ix
               WHERE ix.indrelid = con.conrelid AND ix.indisvalid AND ix.indpred IS NULL
                 AND (ix.indkey::int2[])[0:cardinality(con.conkey) - 1] @> con.conkey
                 AND (ix.indkey::int2[])[0:cardinality(con.conkey) - 1] <@ con.conkey
           ) AS indexed
    FROM pg_constraint con
    JOIN pg_class rel ON rel.oid = con.conrelid
    JOIN pg_namespace ns ON ns.oid = rel.relnamespace
    WHERE con.contype = 'f' AND {OUR_TABLES}
    ORDER BY 1, 2
"""  # noqa: S608

TABLES_WITHOUT_PRIMARY_KEY = f"""
    SELECT rel.relname
    FROM pg_class rel JOIN pg_namespace ns ON ns.oid = rel.relnamespace
    WHERE {OUR_TABLES} AND NOT EXISTS (
        SELECT 1 FROM pg_constraint con WHERE con.conrelid = rel.oid AND con.contype = 'p'
    )
    ORDER BY 1
"""  # noqa: S608

TIMESTAMP_COLUMNS = f"""
    SELECT rel.relname, att.attname, format_type(att.atttypid, att.atttypmod), att.attnotnull,
           EXISTS (
               SELECT 1 FROM pg_trigger tg JOIN pg_proc fn ON fn.oid = tg.tgfoid
               WHERE tg.tgrelid = rel.oid AND NOT tg.tgisinternal
                 AND fn.proname = '{TOUCH_UPDATED_AT_FUNCTION}'
           ) AS touched
    FROM pg_class rel
    JOIN pg_namespace ns ON ns.oid = rel.relnamespace
    LEFT JOIN pg_attribute att ON att.attrelid = rel.oid AND NOT att.attisdropped
         AND att.attname IN ('created_at', 'updated_at')
    WHERE {OUR_TABLES}
    ORDER BY 1, 2
"""  # noqa: S608

COLUMNS = f"""
    SELECT rel.relname, att.attname, format_type(att.atttypid, att.atttypmod)
    FROM pg_class rel
    JOIN pg_namespace ns ON ns.oid = rel.relnamespace
    JOIN pg_attribute att ON att.attrelid = rel.oid AND att.attnum > 0 AND NOT att.attisdropped
    WHERE {OUR_TABLES}
    ORDER BY 1, 2
"""  # noqa: S608

INDEXES = f"""
    SELECT rel.relname, idx.relname, ix.indisvalid, pg_get_indexdef(ix.indexrelid)
    FROM pg_index ix
    JOIN pg_class rel ON rel.oid = ix.indrelid
    JOIN pg_class idx ON idx.oid = ix.indexrelid
    JOIN pg_namespace ns ON ns.oid = rel.relnamespace
    WHERE {OUR_TABLES}
    ORDER BY 1, 2
"""  # noqa: S608


async def check_conventions(
    connection: AsyncConnection,
    *,
    schema: str = "public",
    exceptions: list[ConventionException] | None = None,
) -> list[Finding]:
    """Every finding in `schema`, less the declared exceptions (stale ones become findings)."""
    findings = [
        *await _foreign_keys(connection, schema),
        *await _primary_keys(connection, schema),
        *await _timestamps(connection, schema),
        *await _columns(connection, schema),
        *await _indexes(connection, schema),
    ]
    return apply_exceptions(findings, exceptions or [])


def apply_exceptions(
    findings: list[Finding], exceptions: list[ConventionException]
) -> list[Finding]:
    excepted = {(e.rule, e.target) for e in exceptions}
    found = {(f.rule, f.target) for f in findings}
    kept = [f for f in findings if (f.rule, f.target) not in excepted]
    stale = [
        Finding(
            "stale-exception",
            e.target.split(".")[0],
            e.target.partition(".")[2],
            f"the exception for {e.rule} matches nothing (fixed, renamed or dropped)",
            "remove it from pyproject.toml",
        )
        for e in exceptions
        if (e.rule, e.target) not in found
    ]
    return kept + stale


async def _foreign_keys(connection: AsyncConnection, schema: str) -> list[Finding]:
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


async def _primary_keys(connection: AsyncConnection, schema: str) -> list[Finding]:
    return [
        Finding("no-primary-key", table, "", "the table has no primary key", "add PrimaryKey")
        for (table,) in await _rows(connection, TABLES_WITHOUT_PRIMARY_KEY, schema)
    ]


async def _timestamps(connection: AsyncConnection, schema: str) -> list[Finding]:
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


async def _columns(connection: AsyncConnection, schema: str) -> list[Finding]:
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


async def _indexes(connection: AsyncConnection, schema: str) -> list[Finding]:
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

"""`python -m <package>.db doctor`: the convention checks, plus what an operator looks for,
the statements that cost the database most among it (`operations.top_statements`).

Runs in a READ ONLY transaction, so it is safe against production or a read replica.
Exit status: 0 clean, 1 convention findings, 2 the database could not be reached.
"""

import json
import sys
import tomllib
from pathlib import Path
from typing import Any

from sqlalchemy import URL, text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncConnection, create_async_engine
from sqlalchemy.pool import NullPool

from .catalog_queries import IGNORED_TABLES
from .conventions import check_conventions, load_exceptions
from .findings import Finding
from .top_statements import top_statements

# Sessions of this database that hold a transaction open without doing anything: they keep
# locks and stop VACUUM from cleaning up after them.
IDLE_IN_TRANSACTION = """
    SELECT pid, usename, application_name, round(extract(epoch FROM now() - state_change))
    FROM pg_stat_activity
    WHERE datname = current_database() AND pid <> pg_backend_pid()
      AND state LIKE 'idle in transaction%'
      AND now() - state_change > make_interval(secs => :threshold)
"""
LONG_RUNNING = """
    SELECT pid, usename, application_name, round(extract(epoch FROM now() - query_start)),
           left(query, 80)
    FROM pg_stat_activity
    WHERE datname = current_database() AND pid <> pg_backend_pid() AND state = 'active'
      AND now() - query_start > make_interval(secs => :threshold)
"""
LOCK_WAITS = """
    SELECT pid, pg_blocking_pids(pid), left(query, 80)
    FROM pg_stat_activity
    WHERE datname = current_database() AND cardinality(pg_blocking_pids(pid)) > 0
"""
NEVER_MAINTAINED = """
    SELECT relname,
           coalesce(last_vacuum, last_autovacuum) IS NULL,
           coalesce(last_analyze, last_autoanalyze) IS NULL
    FROM pg_stat_user_tables
    WHERE schemaname = :schema AND n_live_tup + n_dead_tup > 0
      AND relname <> ALL(CAST(:ignored AS text[]))
      AND (coalesce(last_vacuum, last_autovacuum) IS NULL
           OR coalesce(last_analyze, last_autoanalyze) IS NULL)
    ORDER BY 1
"""


async def operational_findings(
    connection: AsyncConnection, *, threshold_seconds: float, schema: str = "public"
) -> list[Finding]:
    params = {"threshold": threshold_seconds, "schema": schema, "ignored": list(IGNORED_TABLES)}
    findings = [
        Finding(
            "idle-in-transaction",
            "",
            f"pid {pid}",
            f"{user} ({app or 'no application_name'}) idle in a transaction for {seconds:.0f} s",
            "find the code that leaves transactions open; idle_in_transaction_session_timeout",
        )
        for pid, user, app, seconds in await connection.execute(text(IDLE_IN_TRANSACTION), params)
    ]
    findings += [
        Finding(
            "long-running-query",
            "",
            f"pid {pid}",
            f"{user} ({app or 'no application_name'}) running {seconds:.0f} s: {query}",
            "EXPLAIN it; statement_timeout bounds it",
        )
        for pid, user, app, seconds, query in await connection.execute(text(LONG_RUNNING), params)
    ]
    findings += [
        Finding(
            "lock-wait",
            "",
            f"pid {pid}",
            f"waits for a lock held by pid {', '.join(map(str, blockers))}: {query}",
            "see what the blockers run (pg_stat_activity); lock_timeout bounds the wait",
        )
        for pid, blockers, query in await connection.execute(text(LOCK_WAITS), params)
    ]
    findings += [
        Finding(
            "never-maintained",
            table,
            "",
            "never " + " or ".join(w for w, never in (("vacuumed", v), ("analyzed", a)) if never),
            "check autovacuum; ANALYZE it so the planner knows its data",
        )
        for table, v, a in await connection.execute(text(NEVER_MAINTAINED), params)
    ]
    return findings


async def examine(url: URL, *, project_root: Path, threshold_seconds: float) -> dict[str, Any]:
    exceptions = load_exceptions(project_root / "pyproject.toml")
    engine = create_async_engine(url, poolclass=NullPool)
    try:
        async with engine.connect() as connection:
            await connection.execute(text("SET TRANSACTION READ ONLY"))
            await connection.execute(text("SET LOCAL statement_timeout = '30s'"))
            conventions = await check_conventions(connection, exceptions=exceptions)
            operations = await operational_findings(connection, threshold_seconds=threshold_seconds)
            statements = await top_statements(connection)
            await connection.rollback()
    finally:
        await engine.dispose()
    return {"conventions": conventions, "operations": operations, "statements": statements}


def render_table(title: str, findings: list[Finding]) -> str:
    if not findings:
        return f"{title}: nothing to report"
    rows = [("RULE", "WHERE", "PROBLEM", "FIX")] + [
        (f.rule, f.target, f.problem, f.fix) for f in findings
    ]
    widths = [max(len(row[column]) for row in rows) for column in range(3)]

    def line(row: tuple[str, str, str, str]) -> str:
        padded = [cell.ljust(width) for cell, width in zip(row[:3], widths, strict=True)]
        return "  ".join([*padded, row[3]])

    lines = [line(row) for row in rows]
    return f"{title}: {len(findings)}\n" + "\n".join(lines)


async def run(url: URL, *, as_json: bool, threshold_seconds: float) -> int:
    try:
        report = await examine(url, project_root=Path.cwd(), threshold_seconds=threshold_seconds)
    except (tomllib.TOMLDecodeError, ValueError) as error:
        print(f"db doctor: pyproject.toml: {error}", file=sys.stderr)
        return 2
    except (OSError, SQLAlchemyError) as error:
        reason = str(getattr(error, "orig", None) or error).strip().splitlines()[0]
        print(f"db doctor: cannot examine {url.render_as_string()}: {reason}", file=sys.stderr)
        return 2
    findings = {kind: report[kind] for kind in ("conventions", "operations")}
    statements = report["statements"]
    if as_json:
        output = {kind: [f.as_dict() for f in found] for kind, found in findings.items()}
        output["statements"] = [s.as_dict() for s in statements.statements]
        print(json.dumps({**output, "statements_hint": statements.hint}))
    else:
        print(render_table("Convention findings", findings["conventions"]))
        print()
        print(render_table("Operational findings", findings["operations"]))
        print()
        print("\n".join(statements.lines()))
    return 1 if findings["conventions"] else 0

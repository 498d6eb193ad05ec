"""See the SQL a block of code sends: count it (N+1 shows up as a count that grows with the
data) and EXPLAIN it (an index that is not used shows up in the plan). Template-owned.

    async with recorded_statements(db_session) as statements:
        await client.get("/jobs?limit=100")
    assert len(statements) == 1
    assert "ix_jobs_created_at_id" in await plan_indexes(db_session, statements[0])
"""

import json
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncSession

# Bookkeeping of the rolled-back test transaction, not the code under test.
SAVEPOINT_BOOKKEEPING = ("SAVEPOINT", "RELEASE SAVEPOINT", "ROLLBACK TO SAVEPOINT")


@dataclass(frozen=True)
class Statement:
    sql: str
    parameters: Any


@asynccontextmanager
async def recorded_statements(session: AsyncSession) -> AsyncIterator[list[Statement]]:
    """Statements sent on `session`'s connection (the app's too, with the `client` fixture)."""
    connection = (await session.connection()).sync_connection
    assert connection is not None
    statements: list[Statement] = []

    def record(
        conn: object, cursor: object, sql: str, parameters: Any, context: object, many: bool
    ) -> None:
        if not sql.lstrip().upper().startswith(SAVEPOINT_BOOKKEEPING):
            statements.append(Statement(sql, parameters))

    event.listen(connection, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(connection, "before_cursor_execute", record)


def _index_names(plan: Any) -> Iterator[str]:
    if isinstance(plan, dict):
        if "Index Name" in plan:
            yield plan["Index Name"]
        for value in plan.values():
            yield from _index_names(value)
    elif isinstance(plan, list):
        for item in plan:
            yield from _index_names(item)


async def plan_indexes(session: AsyncSession, statement: Statement) -> set[str]:
    """The indexes PostgreSQL's plan for a recorded statement reads."""
    connection = await session.connection()
    result = await connection.exec_driver_sql(
        f"EXPLAIN (FORMAT JSON) {statement.sql}", statement.parameters
    )
    plan = result.scalar_one()
    return set(_index_names(json.loads(plan) if isinstance(plan, str) else plan))

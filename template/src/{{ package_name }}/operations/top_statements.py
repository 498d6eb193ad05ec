"""The statements that cost the database most, from `pg_stat_statements`, for `db doctor`.

The view holds normalised statements (`$1` for every value) with their counters since the last
reset; it exists once the extension is created, and answers once the server preloads it.
"""

from dataclasses import asdict, dataclass
from typing import Any

from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection

INSTALLED = "SELECT to_regclass('pg_stat_statements') IS NOT NULL"
TOP = """
    SELECT calls, total_exec_time, mean_exec_time,
           left(regexp_replace(query, '\\s+', ' ', 'g'), 120)
    FROM pg_stat_statements
    WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
    ORDER BY total_exec_time DESC
    LIMIT :limit
"""
NOT_INSTALLED = (
    "pg_stat_statements is not installed: add it to shared_preload_libraries (a restart), then "
    "CREATE EXTENSION pg_stat_statements; in this database (managed services: a parameter group "
    "or flag)"
)
NOT_LOADED = (
    "pg_stat_statements is installed but the server does not load it: add it to "
    "shared_preload_libraries and restart"
)


@dataclass(frozen=True)
class TopStatement:
    calls: int
    total_ms: float
    mean_ms: float
    query: str

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class TopStatements:
    statements: list[TopStatement]
    hint: str | None = None  # why there are none to show, and what to do about it

    def lines(self) -> list[str]:
        if self.hint:
            return [f"Top statements: {self.hint}"]
        rows = [
            f"{s.total_ms:>12.1f}  {s.mean_ms:>9.2f}  {s.calls:>9}  {s.query}"
            for s in self.statements
        ]
        header = f"{'TOTAL MS':>12}  {'MEAN MS':>9}  {'CALLS':>9}  STATEMENT"
        return [f"Top statements by total time: {len(rows)}", header, *rows]


async def top_statements(connection: AsyncConnection, *, limit: int = 10) -> TopStatements:
    if not await connection.scalar(text(INSTALLED)):
        return TopStatements([], NOT_INSTALLED)
    try:
        # A savepoint: the view errors when the library is not loaded, and the doctor's
        # transaction must survive that.
        async with connection.begin_nested():
            rows = (await connection.execute(text(TOP), {"limit": limit})).all()
    except DBAPIError as error:
        if getattr(error.orig, "sqlstate", None) != "55000":  # object_not_in_prerequisite_state
            raise
        return TopStatements([], NOT_LOADED)
    return TopStatements(
        [TopStatement(int(c), float(total), float(mean), query) for c, total, mean, query in rows]
    )

"""The baseline for throughput: the generated endpoints' SQL on the bare driver, as a bare ASGI
app. No ORM, no validation, no framework; the same statements, columns and transactions.

- `GET /jobs?limit=50`: the listing's one SELECT (autocommit: one statement needs no more);
- `GET /jobs/<id>`: the same columns for one job;
- `POST /jobs` (JSON `{"user_id": ..., "payload": {...}}`): what the generated `create_job`
  runs in its transaction: lock the owner (reading their e-mail), count their pending jobs,
  insert (returning the row), notify the workers.

`DATABASE_URL=postgresql+asyncpg://... uvicorn bench.raw_app:app`
"""

import json
import os
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

from sqlalchemy import make_url

COLUMNS = """
    j.id, j.user_id, u.email AS user_email, j.status, j.payload, j.result, j.attempts,
    j.max_attempts, j.run_after, j.lease_expires_at, j.last_error, j.created_at, j.updated_at
"""
FROM_LIVE = """
    FROM jobs j JOIN users u ON u.id = j.user_id
    WHERE j.deleted_at IS NULL AND u.deleted_at IS NULL
"""
LIST = f"SELECT {COLUMNS} {FROM_LIVE} ORDER BY j.created_at DESC, j.id DESC LIMIT 51"
ONE = f"SELECT {COLUMNS} {FROM_LIVE} AND j.id = $1"
LOCK_OWNER = "SELECT email FROM users WHERE id = $1 AND deleted_at IS NULL FOR UPDATE"
COUNT_PENDING = (
    "SELECT count(*) FROM jobs WHERE user_id = $1 AND status = 'pending' AND deleted_at IS NULL"
)
INSERT = """
    INSERT INTO jobs (user_id, payload, max_attempts) VALUES ($1, $2, 5)
    RETURNING id, user_id, status, payload, result, attempts, max_attempts, run_after,
              lease_expires_at, last_error, created_at, updated_at
"""
NOTIFY = "SELECT pg_notify('jobs', '')"
POOL_SIZE = 10
Row = dict[str, Any]


class Database(Protocol):
    async def fetch(self, sql: str, *arguments: Any) -> list[Row]: ...
    async def create(self, user_id: str, payload: str) -> Row: ...


def decoded(row: Row) -> Row:
    """JSONB columns as objects, as the generated app returns them (asyncpg gives text)."""
    for column in ("payload", "result"):
        if isinstance(row.get(column), str):
            row[column] = json.loads(row[column])
    return row


async def asyncpg_database(dsn: str) -> Database:
    import asyncpg

    pool = await asyncpg.create_pool(dsn, min_size=POOL_SIZE, max_size=POOL_SIZE)

    class AsyncpgDatabase:
        async def fetch(self, sql: str, *arguments: Any) -> list[Row]:
            async with pool.acquire() as connection:
                return [decoded(dict(row)) for row in await connection.fetch(sql, *arguments)]

        async def create(self, user_id: str, payload: str) -> Row:
            async with pool.acquire() as connection, connection.transaction():
                email = await connection.fetchval(LOCK_OWNER, user_id)
                await connection.fetchval(COUNT_PENDING, user_id)
                job = await connection.fetchrow(INSERT, user_id, payload)
                await connection.execute(NOTIFY)
                return decoded({**job, "user_email": email})

    return AsyncpgDatabase()


async def psycopg_database(dsn: str) -> Database:
    import asyncio

    import psycopg
    from psycopg.rows import dict_row

    idle: asyncio.Queue[psycopg.AsyncConnection[Row]] = asyncio.Queue()
    for _ in range(POOL_SIZE):
        idle.put_nowait(
            await psycopg.AsyncConnection.connect(dsn, autocommit=True, row_factory=dict_row)
        )

    def psycopg_sql(sql: str) -> str:
        return sql.replace("$1", "%s").replace("$2", "%s")

    class PsycopgDatabase:
        async def fetch(self, sql: str, *arguments: Any) -> list[Row]:
            connection = await idle.get()
            try:
                return await (await connection.execute(psycopg_sql(sql), arguments)).fetchall()
            finally:
                idle.put_nowait(connection)

        async def create(self, user_id: str, payload: str) -> Row:
            connection = await idle.get()
            try:
                async with connection.transaction():
                    owner = await connection.execute(psycopg_sql(LOCK_OWNER), (user_id,))
                    email = await owner.fetchone()
                    await connection.execute(psycopg_sql(COUNT_PENDING), (user_id,))
                    inserted = await connection.execute(psycopg_sql(INSERT), (user_id, payload))
                    job = await inserted.fetchone()
                    assert email is not None
                    assert job is not None
                    await connection.execute(NOTIFY)
                    return {**job, "user_email": email["email"]}
            finally:
                idle.put_nowait(connection)

    return PsycopgDatabase()


Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]


async def respond(send: Send, status: int, body: Any) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", b"application/json")],
        }
    )
    await send({"type": "http.response.body", "body": json.dumps(body, default=str).encode()})


async def request_body(receive: Receive) -> bytes:
    body = b""
    while True:
        message = await receive()
        body += message.get("body", b"")
        if not message.get("more_body"):
            return body


class App:
    database: Database

    async def __call__(self, scope: dict[str, Any], receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self.lifespan(receive, send)
        elif scope["method"] == "POST":
            job = json.loads(await request_body(receive))
            created = await self.database.create(job["user_id"], json.dumps(job["payload"]))
            await respond(send, 201, created)
        elif scope["path"].startswith("/jobs/"):
            (row,) = await self.database.fetch(ONE, scope["path"].removeprefix("/jobs/"))
            await respond(send, 200, row)
        else:  # the listing, and /health/live while the server starts
            rows = await self.database.fetch(LIST)
            await respond(send, 200, {"items": rows[:50], "next_cursor": None})

    async def lifespan(self, receive: Receive, send: Send) -> None:
        while (await receive())["type"] != "lifespan.shutdown":
            url = make_url(os.environ["DATABASE_URL"])
            dsn = url.set(drivername="postgresql").render_as_string(hide_password=False)
            driver = url.get_driver_name()
            self.database = await (
                asyncpg_database(dsn) if driver == "asyncpg" else psycopg_database(dsn)
            )
            await send({"type": "lifespan.startup.complete"})
        await send({"type": "lifespan.shutdown.complete"})


app = App()

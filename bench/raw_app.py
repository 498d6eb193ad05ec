"""The baseline for throughput: the listing's SQL on the bare driver, as a bare ASGI app.

Same driver, same SQL as the generated `GET /jobs?limit=50`, no ORM, no validation, no framework.
`DATABASE_URL=postgresql+asyncpg://... uvicorn bench.raw_app:app`
"""

import asyncio
import json
import os
from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy import make_url

SQL = """
    SELECT j.id, j.user_id, u.email AS user_email, j.status, j.payload, j.result,
           j.created_at, j.updated_at
    FROM jobs j JOIN users u ON u.id = j.user_id
    WHERE j.deleted_at IS NULL AND u.deleted_at IS NULL
    ORDER BY j.created_at DESC, j.id DESC
    LIMIT 51
"""
POOL_SIZE = 10
Fetch = Callable[[], Awaitable[list[dict[str, Any]]]]


async def asyncpg_fetcher(dsn: str) -> Fetch:
    import asyncpg

    pool = await asyncpg.create_pool(dsn, min_size=POOL_SIZE, max_size=POOL_SIZE)

    async def fetch() -> list[dict[str, Any]]:
        async with pool.acquire() as connection:
            rows = await connection.fetch(SQL)
        return [{**row, "payload": json.loads(row["payload"])} for row in rows]

    return fetch


async def psycopg_fetcher(dsn: str) -> Fetch:
    import psycopg
    from psycopg.rows import dict_row

    idle: asyncio.Queue[psycopg.AsyncConnection[dict[str, Any]]] = asyncio.Queue()
    for _ in range(POOL_SIZE):
        idle.put_nowait(
            await psycopg.AsyncConnection.connect(dsn, autocommit=True, row_factory=dict_row)
        )

    async def fetch() -> list[dict[str, Any]]:
        connection = await idle.get()
        try:
            return await (await connection.execute(SQL)).fetchall()
        finally:
            idle.put_nowait(connection)

    return fetch


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] == "lifespan":
        while (await receive())["type"] != "lifespan.shutdown":
            url = make_url(os.environ["DATABASE_URL"])
            dsn = url.set(drivername="postgresql").render_as_string(hide_password=False)
            fetcher = asyncpg_fetcher if url.get_driver_name() == "asyncpg" else psycopg_fetcher
            app.fetch = await fetcher(dsn)
            await send({"type": "lifespan.startup.complete"})
        await send({"type": "lifespan.shutdown.complete"})
        return
    rows = await app.fetch()
    body = json.dumps({"items": rows[:50], "next_cursor": None}, default=str).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [(b"content-type", b"application/json")],
        }
    )
    await send({"type": "http.response.body", "body": body})

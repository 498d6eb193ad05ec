"""LISTEN on a channel: a callback called whenever a NOTIFY arrives on it.

The connection comes from the engine's pool (with the service's settings) and is held, in
autocommit, for as long as the block runs: a notification is delivered between transactions
only, and LISTEN lasts as long as its session. That is why it cannot work through PgBouncer's
transaction pooling (pgbouncer/pgbouncer#655): the session behind a client changes with every
transaction. Callers poll as well, so a notification lost with a broken connection costs at
most one poll interval.
"""

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

logger = logging.getLogger(__name__)
# How often the psycopg relay checks that it should stop; asyncpg calls back instead.
_RELAY_CHECK_SECONDS = 0.5


@contextlib.asynccontextmanager
async def listening(
    engine: AsyncEngine, channel: str, on_notify: Callable[[], None]
) -> AsyncIterator[None]:
    """Call `on_notify` (in the event loop) for each NOTIFY on `channel` while the block runs."""
    async with engine.connect() as connection:
        await connection.execution_options(isolation_level="AUTOCOMMIT")
        quoted_channel = engine.dialect.identifier_preparer.quote(channel)
        await connection.execute(text(f"LISTEN {quoted_channel}"))
        driver_connection = (await connection.get_raw_connection()).driver_connection
        try:
            if engine.dialect.driver == "asyncpg":
                async with _asyncpg_listener(driver_connection, channel, on_notify):
                    yield
            else:
                async with _psycopg_relay(driver_connection, on_notify):
                    yield
        finally:
            await _unlisten(connection)


@contextlib.asynccontextmanager
async def _asyncpg_listener(
    driver_connection: Any, channel: str, on_notify: Callable[[], None]
) -> AsyncIterator[None]:
    def callback(*_: object) -> None:  # connection, pid, channel, payload
        on_notify()

    # asyncpg sends its own LISTEN here; the one above keeps the two drivers' paths alike.
    await driver_connection.add_listener(channel, callback)
    try:
        yield
    finally:
        await driver_connection.remove_listener(channel, callback)


@contextlib.asynccontextmanager
async def _psycopg_relay(
    driver_connection: Any, on_notify: Callable[[], None]
) -> AsyncIterator[None]:
    """psycopg hands notifications out through a generator: a task reads it for the block."""
    stopping = asyncio.Event()

    async def relay() -> None:
        try:
            while not stopping.is_set():
                async for _ in driver_connection.notifies(timeout=_RELAY_CHECK_SECONDS):
                    on_notify()
        except Exception:  # the connection broke: polling carries on alone
            logger.warning("LISTEN connection lost; waking up by polling only", exc_info=True)

    task = asyncio.create_task(relay())
    try:
        yield
    finally:
        stopping.set()
        await task


async def _unlisten(connection: AsyncConnection) -> None:
    """Leave the pooled connection as found; a broken one is discarded instead."""
    try:
        await connection.execute(text("UNLISTEN *"))
    except Exception:
        await connection.invalidate()

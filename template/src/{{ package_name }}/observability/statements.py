"""Slow statements in the log: their text with placeholders (never the values), how long they
took, and, through the request's context, which request ran them."""

import time
from typing import Any

import structlog
from sqlalchemy import event
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

logger = structlog.stdlib.get_logger(__name__)
STARTED_KEY = "statement_started"  # in Connection.info: one statement at a time per connection


def log_slow_statements(engine: AsyncEngine, slower_than_ms: int) -> None:
    """Log every statement of `engine` that took `slower_than_ms` or longer (0: none)."""
    if slower_than_ms <= 0:
        return

    @event.listens_for(engine.sync_engine, "before_cursor_execute")
    def _start(connection: Connection, *_: Any) -> None:
        connection.info[STARTED_KEY] = time.perf_counter()

    @event.listens_for(engine.sync_engine, "after_cursor_execute")
    def _finish(connection: Connection, _: Any, statement: str, *__: Any) -> None:
        # A statement that failed (a timeout, say) never gets here: its 503 is logged instead.
        started = connection.info.pop(STARTED_KEY, None)
        if started is None:
            return
        elapsed_ms = (time.perf_counter() - started) * 1000
        if elapsed_ms >= slower_than_ms:
            logger.warning("slow_statement", statement=statement, duration_ms=round(elapsed_ms))

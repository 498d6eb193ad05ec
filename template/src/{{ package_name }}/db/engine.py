"""The async engine, with the session settings every connection must carry.

Two ways to reach PostgreSQL (`DATABASE_POOLER`):

- `none`: the engine pools its connections, and the timeouts travel as startup parameters.
- `pgbouncer` (transaction pooling): consecutive transactions of one client connection may run
  on different server connections, so no prepared statement may outlive a transaction
  (asyncpg's may where PgBouncer 1.21+ carries them: `DATABASE_POOLER_PREPARED_STATEMENTS`),
  and PgBouncer refuses unknown startup parameters, so the timeouts are `SET LOCAL` at the
  start of every transaction instead (one more round trip each). The engine still pools its
  connections *to PgBouncer*: they cost PgBouncer little, and opening one per request
  (`NullPool`) cost a fifth of the throughput (bench figure 7).
"""

import time
import uuid
from typing import Any, Literal

from sqlalchemy import URL, Connection, event, text
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.pool import AsyncAdaptedQueuePool, ConnectionPoolEntry

from ..settings import DatabaseSettings

# Which process a connection belongs to, after the settings' application_name in
# pg_stat_activity and the server's logs: `orders-api:worker`.
Process = Literal["api", "worker", "jobs-command", "migrations"]
# Where a checkout's wait for a connection is noted, for `db_pool_wait_seconds`.
POOL_WAIT_KEY = "pool_wait_seconds"


class TimedQueuePool(AsyncAdaptedQueuePool):
    """The asyncio queue pool, noting on each connection how long its checkout waited (for a
    free connection, or to open a new one); `observability.metrics` reads it at checkout."""

    def _do_get(self) -> ConnectionPoolEntry:
        started = time.perf_counter()
        entry = super()._do_get()
        entry.info[POOL_WAIT_KEY] = time.perf_counter() - started
        return entry


def create_engine(
    settings: DatabaseSettings, url: URL | None = None, *, process: Process = "api"
) -> AsyncEngine:
    """Create an engine for `url` (default: the settings' own). Call it from the app's lifespan.

    Statements reach the log through the `sqlalchemy.engine` logger when DATABASE_ECHO is set
    (`observability.logs`), not through `echo`, which would add a handler of its own.
    """
    url = url or settings.sqlalchemy_url
    application_name = f"{settings.application_name}:{process}"
    behind_pgbouncer = settings.pooler == "pgbouncer"
    engine = create_async_engine(
        url,
        poolclass=TimedQueuePool,
        pool_size=settings.pool_size,
        max_overflow=settings.max_overflow,
        pool_timeout=settings.pool_timeout,
        pool_recycle=settings.pool_recycle,
        pool_pre_ping=settings.pool_pre_ping,
        # Bound values (password hashes, personal data) stay out of error messages and logs.
        hide_parameters=True,
        connect_args=(
            pgbouncer_connect_args(url, settings, application_name)
            if behind_pgbouncer
            else connect_args(url, settings, application_name)
        ),
    )
    if behind_pgbouncer:
        set_timeouts_per_transaction(engine, settings)
    return engine


def application_name_args(url: URL, application_name: str) -> dict[str, Any]:
    """Only the application_name, as each driver takes it (for the migrations' engine)."""
    name = _application_name(url, application_name)
    if url.get_driver_name() == "asyncpg":
        return {"server_settings": {"application_name": name}}
    return {"application_name": name}


def _application_name(url: URL, default: str) -> str:
    """The URL's own `?application_name=` wins over the one the settings make up."""
    named = url.query.get("application_name")
    return named if isinstance(named, str) else default


def timeouts(settings: DatabaseSettings) -> dict[str, str]:
    """Server settings every transaction runs under.

    A runaway query, a forgotten transaction or a lock queue behind a migration then fails
    fast instead of holding a connection (and its locks) for minutes.
    """
    idle_timeout_ms = settings.idle_in_transaction_session_timeout_ms
    return {
        "statement_timeout": f"{settings.statement_timeout_ms}ms",
        "lock_timeout": f"{settings.lock_timeout_ms}ms",
        "idle_in_transaction_session_timeout": f"{idle_timeout_ms}ms",
    }


def connect_args(url: URL, settings: DatabaseSettings, application_name: str) -> dict[str, Any]:
    """Pass the timeouts and application_name as startup parameters, as each driver expects.

    Startup parameters cost no extra round trip, unlike a `SET` on every checkout. What the
    URL itself says (`?options=-c%20search_path%3Dapp`, `?application_name=...`) wins.
    """
    parameters = timeouts(settings)
    application_name = _application_name(url, application_name)
    if url.get_driver_name() == "asyncpg":
        server_settings = {**parameters, "application_name": application_name}
        return {"server_settings": server_settings, "timeout": settings.connect_timeout}
    # psycopg hands libpq keywords through; `options` carries `-c name=value` server settings.
    options = [f"-c {name}={value}" for name, value in parameters.items()]
    url_options = url.query.get("options")
    if isinstance(url_options, str):
        options.append(url_options)
    return {
        "application_name": application_name,
        "options": " ".join(options),
        "connect_timeout": settings.connect_timeout,
    }


def pgbouncer_connect_args(
    url: URL, settings: DatabaseSettings, application_name: str
) -> dict[str, Any]:
    """Only parameters PgBouncer tracks; no prepared statement that outlives its transaction,
    unless PgBouncer carries them (`DATABASE_POOLER_PREPARED_STATEMENTS`, for asyncpg)."""
    application_name = _application_name(url, application_name)
    if url.get_driver_name() == "asyncpg":
        asyncpg_args: dict[str, Any] = {
            "server_settings": {"application_name": application_name},
            "timeout": settings.connect_timeout,
        }
        if settings.pooler_prepared_statements:
            # PgBouncer renames each statement per server connection: the caches stay on.
            return asyncpg_args
        return {
            **asyncpg_args,
            # asyncpg's own statement cache and SQLAlchemy's, off; the statements SQLAlchemy
            # still prepares get names no other client of the server connection can collide with.
            "statement_cache_size": 0,
            "prepared_statement_cache_size": 0,
            "prepared_statement_name_func": lambda: f"__asyncpg_{uuid.uuid4()}__",
        }
    # psycopg never prepares server-side, whatever PgBouncer carries: preparing gained it
    # nothing measurable (bench figure 7), and after a rollback it deallocates in SQL, which
    # PgBouncer before 1.22 passes to the server behind its back.
    return {
        "application_name": application_name,
        "connect_timeout": settings.connect_timeout,
        "prepare_threshold": None,
    }


SET_LOCAL_TIMEOUTS = text(
    "SELECT set_config('statement_timeout', :statement_timeout, true),"
    " set_config('lock_timeout', :lock_timeout, true),"
    " set_config('idle_in_transaction_session_timeout', :idle_in_transaction_session_timeout,"
    " true)"
)


def set_timeouts_per_transaction(engine: AsyncEngine, settings: DatabaseSettings) -> None:
    """`SET LOCAL` the timeouts as each transaction begins: PgBouncer passes that through."""
    parameters = timeouts(settings)

    @event.listens_for(engine.sync_engine, "begin")
    def _set_local_timeouts(connection: Connection) -> None:
        connection.execute(SET_LOCAL_TIMEOUTS, parameters)

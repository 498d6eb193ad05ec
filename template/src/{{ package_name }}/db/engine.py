"""The async engine, with the session settings every connection must carry.

Two ways to reach PostgreSQL (`DATABASE_POOLER`):

- `none`: the engine pools its connections, and the timeouts travel as startup parameters.
- `pgbouncer` (transaction pooling): PgBouncer pools, so the engine keeps none (`NullPool`, as
  SQLAlchemy recommends behind an external pooler); consecutive transactions of one client
  connection may run on different server connections, so no prepared statement may outlive a
  transaction, and PgBouncer refuses unknown startup parameters, so the timeouts are `SET
  LOCAL` at the start of every transaction instead (one more round trip each).
"""

import uuid
from typing import Any

from sqlalchemy import URL, Connection, event, text
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.pool import NullPool

from ..settings import DatabaseSettings


def create_engine(settings: DatabaseSettings, url: URL | None = None) -> AsyncEngine:
    """Create an engine for `url` (default: the settings' own). Call it from the app's lifespan."""
    url = url or settings.sqlalchemy_url
    if settings.pooler == "pgbouncer":
        engine = create_async_engine(
            url,
            poolclass=NullPool,
            echo=settings.echo,
            hide_parameters=True,
            connect_args=pgbouncer_connect_args(url, settings),
        )
        set_timeouts_per_transaction(engine, settings)
        return engine
    return create_async_engine(
        url,
        pool_size=settings.pool_size,
        max_overflow=settings.max_overflow,
        pool_timeout=settings.pool_timeout,
        pool_recycle=settings.pool_recycle,
        pool_pre_ping=settings.pool_pre_ping,
        echo=settings.echo,
        # Bound values (password hashes, personal data) stay out of error messages and logs.
        hide_parameters=True,
        connect_args=connect_args(url, settings),
    )


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


def connect_args(url: URL, settings: DatabaseSettings) -> dict[str, Any]:
    """Pass the timeouts and application_name as startup parameters, as each driver expects.

    Startup parameters cost no extra round trip, unlike a `SET` on every checkout. What the
    URL itself says (`?options=-c%20search_path%3Dapp`, `?application_name=...`) wins.
    """
    parameters = timeouts(settings)
    if url.get_driver_name() == "asyncpg":
        server_settings = {**parameters, "application_name": settings.application_name}
        return {"server_settings": server_settings, "timeout": settings.connect_timeout}
    # psycopg hands libpq keywords through; `options` carries `-c name=value` server settings.
    options = [f"-c {name}={value}" for name, value in parameters.items()]
    url_options = url.query.get("options")
    if isinstance(url_options, str):
        options.append(url_options)
    return {
        "application_name": url.query.get("application_name") or settings.application_name,
        "options": " ".join(options),
        "connect_timeout": settings.connect_timeout,
    }


def pgbouncer_connect_args(url: URL, settings: DatabaseSettings) -> dict[str, Any]:
    """No prepared statement that outlives its transaction; only parameters PgBouncer tracks."""
    if url.get_driver_name() == "asyncpg":
        return {
            "server_settings": {"application_name": settings.application_name},
            "timeout": settings.connect_timeout,
            # asyncpg's own statement cache and SQLAlchemy's, off; the statements SQLAlchemy
            # still prepares get names no other client of the server connection can collide with.
            "statement_cache_size": 0,
            "prepared_statement_cache_size": 0,
            "prepared_statement_name_func": lambda: f"__asyncpg_{uuid.uuid4()}__",
        }
    return {
        "application_name": url.query.get("application_name") or settings.application_name,
        "connect_timeout": settings.connect_timeout,
        "prepare_threshold": None,  # psycopg never prepares server-side
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

"""The pooled async engine, with the session settings every connection must carry."""

from typing import Any

from sqlalchemy import URL
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from ..settings import DatabaseSettings


def create_engine(settings: DatabaseSettings) -> AsyncEngine:
    """Create the service's engine. Call it from the app's lifespan, never at import time."""
    url = settings.sqlalchemy_url
    return create_async_engine(
        url,
        pool_size=settings.pool_size,
        max_overflow=settings.max_overflow,
        pool_timeout=settings.pool_timeout,
        pool_recycle=settings.pool_recycle,
        pool_pre_ping=settings.pool_pre_ping,
        echo=settings.echo,
        connect_args=connect_args(url, settings),
    )


def session_parameters(settings: DatabaseSettings) -> dict[str, str]:
    """Server settings applied to every connection when it is opened.

    A runaway query, a forgotten transaction or a lock queue behind a migration then fails
    fast instead of holding a pooled connection (and its locks) for minutes.
    """
    idle_timeout_ms = settings.idle_in_transaction_session_timeout_ms
    return {
        "statement_timeout": f"{settings.statement_timeout_ms}ms",
        "lock_timeout": f"{settings.lock_timeout_ms}ms",
        "idle_in_transaction_session_timeout": f"{idle_timeout_ms}ms",
        "application_name": settings.application_name,
    }


def connect_args(url: URL, settings: DatabaseSettings) -> dict[str, Any]:
    """Pass `session_parameters` as startup parameters, the way each driver expects them.

    Startup parameters cost no extra round trip, unlike a `SET` on every checkout. What the
    URL itself says (`?options=-c%20search_path%3Dapp`, `?application_name=...`) wins.
    """
    parameters = session_parameters(settings)
    if url.get_driver_name() == "asyncpg":
        return {"server_settings": parameters, "timeout": settings.connect_timeout}
    # psycopg hands libpq keywords through; `options` carries `-c name=value` server settings.
    application_name = url.query.get("application_name") or parameters.pop("application_name")
    parameters.pop("application_name", None)
    options = [f"-c {name}={value}" for name, value in parameters.items()]
    url_options = url.query.get("options")
    if isinstance(url_options, str):
        options.append(url_options)
    return {
        "application_name": application_name,
        "options": " ".join(options),
        "connect_timeout": settings.connect_timeout,
    }

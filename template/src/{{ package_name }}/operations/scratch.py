"""Databases an operations command creates for itself on a server, and always drops."""

import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy import URL, text
from sqlalchemy.ext.asyncio import AsyncConnection, create_async_engine
from sqlalchemy.pool import NullPool

MAINTENANCE_DATABASE = "postgres"
MAX_NAME = 63  # PostgreSQL's identifier length


def scratch_name(source: str, purpose: str) -> str:
    """`<source>_<purpose>_<random>`: whose it is and what for (the source's name is cut only
    past 63 characters less the suffix)."""
    suffix = f"_{purpose}_{secrets.token_hex(2)}"
    return source[: MAX_NAME - len(suffix)] + suffix


@asynccontextmanager
async def administration(server: URL) -> AsyncIterator[AsyncConnection]:
    """An autocommit connection to the server's maintenance database (CREATE/DROP DATABASE
    cannot run in a transaction, nor while connected to the database they copy)."""
    engine = create_async_engine(server.set(database=MAINTENANCE_DATABASE), poolclass=NullPool)
    try:
        async with engine.connect() as connection:
            yield await connection.execution_options(isolation_level="AUTOCOMMIT")
    finally:
        await engine.dispose()


def quoted(connection: AsyncConnection, name: str) -> str:
    return connection.dialect.identifier_preparer.quote(name)


@asynccontextmanager
async def scratch_database(
    server: URL, name: str, *, existing: bool = False, keep: bool = False
) -> AsyncIterator[URL]:
    """A new database `name` on `server` (or one just created, if `existing`), dropped
    afterwards unless `keep`."""
    async with administration(server) as admin:
        if not existing:
            await admin.execute(text(f"CREATE DATABASE {quoted(admin, name)}"))
        try:
            yield server.set(database=name)
        finally:
            if not keep:
                drop = f"DROP DATABASE IF EXISTS {quoted(admin, name)} WITH (FORCE)"
                await admin.execute(text(drop))

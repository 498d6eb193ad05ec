"""FastAPI dependencies: one session and one transaction per request, the cursor codec."""

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession

from ..db.session import unit_of_work
from ..pagination import CursorCodec
from ..state import state_of


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    database = state_of(request.app).running_database()
    async with database.sessionmaker() as session, unit_of_work(session):
        yield session


async def get_read_session(request: Request) -> AsyncIterator[AsyncSession]:
    database = state_of(request.app).running_database()
    async with database.read_sessionmaker() as session, unit_of_work(session):
        yield session


# scope="function" ends the dependency, and so commits, before the response is sent:
# a failed commit becomes an error response instead of a 200 for data that was never stored.
SessionDep = Annotated[AsyncSession, Depends(get_session, scope="function")]
# For endpoints that only read and can live with a replica's lag (DATABASE_READ_URL; the
# primary when unset). Read-only in the database: a write through it fails.
ReadSessionDep = Annotated[AsyncSession, Depends(get_read_session, scope="function")]


async def get_cursor_codec(request: Request) -> CursorCodec:
    """Cursors signed with the service's SECRET_KEY.

    `async` though it never waits: FastAPI runs a plain `def` dependency in a worker thread,
    a thread hop on every request.
    """
    secret_key = state_of(request.app).settings.secret_key
    return CursorCodec(secret_key.get_secret_value().encode())


CursorCodecDep = Annotated[CursorCodec, Depends(get_cursor_codec)]

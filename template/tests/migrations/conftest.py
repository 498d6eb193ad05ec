from collections.abc import AsyncIterator

import pytest
from sqlalchemy import URL

from ..support.database import create_database, drop_database, server_url


@pytest.fixture(scope="module")
async def empty_database_url() -> AsyncIterator[URL]:
    """A database of its own: these tests walk the schema down to base and back up."""
    url = await create_database(server_url())
    try:
        yield url
    finally:
        await drop_database(url)

from collections.abc import AsyncIterator

import pytest
from sqlalchemy import URL

from ..support.database import fresh_database, server_url


@pytest.fixture(scope="module")
async def empty_database_url() -> AsyncIterator[URL]:
    """A database of its own: these tests walk the schema down to base and back up."""
    async with fresh_database(server_url()) as url:
        yield url

"""Every test starts from the migrated, empty database, whatever the previous test committed."""

from httpx import AsyncClient
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from ..support.database import rolled_back_session
from .scratch import Widget


async def count_widgets(session: AsyncSession) -> int:
    return await session.scalar(select(func.count()).select_from(Widget)) or 0


async def test_rows_committed_in_one_test_are_gone_in_the_next(
    engine: AsyncEngine, scratch_tables: None
) -> None:
    async with rolled_back_session(engine) as first_test:
        first_test.add(Widget(name="committed"))
        await first_test.commit()
        assert await count_widgets(first_test) == 1

    async with rolled_back_session(engine) as next_test:
        assert await count_widgets(next_test) == 0


async def test_rows_the_app_commits_are_visible_to_the_test(
    scratch_client: AsyncClient, scratch_session: AsyncSession
) -> None:
    response = await scratch_client.post("/scratch/widgets", json={"name": "from-the-api"})

    assert response.status_code == 201
    assert await count_widgets(scratch_session) == 1


async def test_fixture_rows_survive_an_app_side_rollback(
    scratch_client: AsyncClient, scratch_session: AsyncSession
) -> None:
    scratch_session.add(Widget(name="fixture"))
    await scratch_session.commit()

    # The duplicate name makes the app's transaction fail and roll back.
    response = await scratch_client.post("/scratch/widgets", json={"name": "fixture"})

    assert response.status_code == 409
    assert await count_widgets(scratch_session) == 1

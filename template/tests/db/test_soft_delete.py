"""Soft-deleted rows are hidden from ORM queries unless a statement asks for them."""

from sqlalchemy import func, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from .scratch import Widget


async def add_widgets(session: AsyncSession, *, live: str, deleted: str) -> None:
    session.add_all([Widget(name=live), Widget(name=deleted)])
    await session.flush()
    await session.execute(
        update(Widget).where(Widget.name == deleted).values(deleted_at=func.now())
    )


async def test_queries_hide_soft_deleted_rows(scratch_session: AsyncSession) -> None:
    await add_widgets(scratch_session, live="kept", deleted="gone")

    names = await scratch_session.scalars(select(Widget.name))
    count = await scratch_session.scalar(select(func.count()).select_from(Widget))

    assert names.all() == ["kept"]
    assert count == 1


async def test_include_deleted_shows_soft_deleted_rows(scratch_session: AsyncSession) -> None:
    await add_widgets(scratch_session, live="kept", deleted="gone")

    names = await scratch_session.scalars(
        select(Widget.name).order_by(Widget.name).execution_options(include_deleted=True)
    )

    assert names.all() == ["gone", "kept"]


async def test_soft_deleted_rows_stay_in_the_table(scratch_session: AsyncSession) -> None:
    await add_widgets(scratch_session, live="kept", deleted="gone")

    # Plain SQL is not filtered: the row is still there, only marked.
    deleted = await scratch_session.scalar(
        text("SELECT count(*) FROM scratch_widgets WHERE deleted_at IS NOT NULL")
    )

    assert deleted == 1

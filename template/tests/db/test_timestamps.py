"""created_at / updated_at: TIMESTAMPTZ NOT NULL, and updated_at kept true by the database."""

from datetime import UTC, datetime

from sqlalchemy import insert, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from .scratch import Widget

LONG_AGO = datetime(2000, 1, 1, tzinfo=UTC)


async def test_core_update_advances_updated_at_through_the_trigger(
    scratch_session: AsyncSession,
) -> None:
    widget_id = await scratch_session.scalar(
        insert(Widget)
        .values(name="core", created_at=LONG_AGO, updated_at=LONG_AGO)
        .returning(Widget.id)
    )

    await scratch_session.execute(update(Widget).where(Widget.id == widget_id).values(quantity=3))

    row = (
        await scratch_session.execute(
            select(Widget.created_at, Widget.updated_at).where(Widget.id == widget_id)
        )
    ).one()
    assert row.created_at == LONG_AGO
    assert row.updated_at > LONG_AGO


async def test_trigger_overrides_an_explicit_stale_updated_at(
    scratch_session: AsyncSession,
) -> None:
    widget_id = await scratch_session.scalar(
        insert(Widget).values(name="stale").returning(Widget.id)
    )

    await scratch_session.execute(
        update(Widget).where(Widget.id == widget_id).values(updated_at=LONG_AGO)
    )

    updated_at = await scratch_session.scalar(
        select(Widget.updated_at).where(Widget.id == widget_id)
    )
    assert updated_at is not None
    assert updated_at > LONG_AGO


async def test_an_update_that_changes_nothing_keeps_updated_at(
    scratch_session: AsyncSession,
) -> None:
    """An upsert or a save writing the same values again is not a change to whoever syncs or
    caches by updated_at (touch_updated_at v2, template revision t0002)."""
    widget_id = await scratch_session.scalar(
        insert(Widget)
        .values(name="same", quantity=3, created_at=LONG_AGO, updated_at=LONG_AGO)
        .returning(Widget.id)
    )

    await scratch_session.execute(update(Widget).where(Widget.id == widget_id).values(quantity=3))

    updated_at = await scratch_session.scalar(
        select(Widget.updated_at).where(Widget.id == widget_id)
    )
    assert updated_at == LONG_AGO


async def test_orm_update_reads_the_new_updated_at_back_without_lazy_io(
    scratch_session: AsyncSession,
) -> None:
    widget = Widget(name="orm", created_at=LONG_AGO, updated_at=LONG_AGO)
    scratch_session.add(widget)
    await scratch_session.flush()

    widget.quantity = 5
    await scratch_session.flush()

    # Reading an expired attribute here would raise MissingGreenlet; eager_defaults avoids it.
    assert widget.updated_at > LONG_AGO


async def test_timestamp_columns_are_timestamptz_not_null(scratch_session: AsyncSession) -> None:
    columns = await scratch_session.execute(
        text(
            "SELECT column_name, data_type, is_nullable FROM information_schema.columns"
            " WHERE table_name = 'scratch_widgets' AND column_name LIKE '%\\_at'"
        )
    )

    assert {tuple(row) for row in columns} == {
        ("created_at", "timestamp with time zone", "NO"),
        ("updated_at", "timestamp with time zone", "NO"),
        ("deleted_at", "timestamp with time zone", "YES"),
    }

"""Constraint and index names follow the naming convention, so they are predictable."""

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession


async def test_constraints_and_indexes_are_named_by_convention(
    scratch_session: AsyncSession,
) -> None:
    # contype 'n': PostgreSQL 18 records NOT NULL as constraints too, named by the server.
    constraints = await scratch_session.scalars(
        text(
            "SELECT conname FROM pg_constraint"
            " WHERE conrelid IN ('scratch_widgets'::regclass, 'scratch_parts'::regclass)"
            " AND contype <> 'n'"
        )
    )
    indexes = await scratch_session.scalars(
        text("SELECT indexname FROM pg_indexes WHERE tablename = 'scratch_parts'")
    )

    assert set(constraints.all()) == {
        "pk_scratch_widgets",
        "uq_scratch_widgets_name",
        "ck_scratch_widgets_quantity_not_negative",
        "pk_scratch_parts",
        "fk_scratch_parts_widget_id_scratch_widgets",
    }
    assert set(indexes.all()) == {"pk_scratch_parts", "ix_scratch_parts_widget_id"}

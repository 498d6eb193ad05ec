"""touch_updated_at() v1: every UPDATE sets updated_at to now().

Revision ID: t0001
Revises:
Create Date: 2026-12-01 00:00:00+00:00

A project generated before the template had a chain of its own installed the same function with
its revision 0001: CREATE OR REPLACE adopts it without touching a row or a trigger.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "t0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TOUCH_UPDATED_AT_V1 = """\
CREATE OR REPLACE FUNCTION touch_updated_at() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    NEW.updated_at = now();
    RETURN NEW;
END;
$$"""


def upgrade() -> None:
    op.execute(TOUCH_UPDATED_AT_V1)


def downgrade() -> None:
    # Fails while a table's trigger still calls it: downgrade your own chain first.
    op.execute("DROP FUNCTION touch_updated_at()")

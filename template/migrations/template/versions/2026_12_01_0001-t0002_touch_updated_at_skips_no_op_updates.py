"""touch_updated_at() v2: an UPDATE that changes no column leaves updated_at as it was.

Revision ID: t0002
Revises: t0001
Create Date: 2026-12-01 00:01:00+00:00

v1 bumped updated_at on every UPDATE, so an upsert writing the same values again looked like a
change to whoever syncs or caches by updated_at. The row is compared as text, which every column
type has (a comparison of records would need an equality operator for each column's type, and
`json` has none). An UPDATE that only sets updated_at still gets now().
"""

from collections.abc import Sequence

from alembic import op

revision: str = "t0002"
down_revision: str | Sequence[str] | None = "t0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TOUCH_UPDATED_AT_V2 = """\
CREATE OR REPLACE FUNCTION touch_updated_at() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF NEW::text IS DISTINCT FROM OLD::text THEN
        NEW.updated_at = now();
    END IF;
    RETURN NEW;
END;
$$"""
# v1 again, as t0001 wrote it: a revision keeps the SQL it restores rather than import
# another revision's.
TOUCH_UPDATED_AT_V1 = """\
CREATE OR REPLACE FUNCTION touch_updated_at() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    NEW.updated_at = now();
    RETURN NEW;
END;
$$"""


def upgrade() -> None:
    op.execute(TOUCH_UPDATED_AT_V2)


def downgrade() -> None:
    op.execute(TOUCH_UPDATED_AT_V1)

"""The base of your chain: nothing to do, in either direction.

Revision ID: 0001
Revises:
Create Date: 2026-01-01 00:00:00+00:00

Projects generated before the template had revisions of its own installed touch_updated_at()
here. The template's chain (migrations/template/, applied first by the same command) owns it
now, so this revision neither installs nor drops it: a database that applied it keeps its
history, and downgrading your chain to its base never drops an object the template owns. Your
first revision builds on this one.
"""

from collections.abc import Sequence

revision: str = "0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Nothing: see the module's docstring."""


def downgrade() -> None:
    """Nothing: see the module's docstring."""

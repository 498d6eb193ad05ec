"""The template's own revisions: the database objects the template owns evolve in a chain of their
own, so that a template release can ship a revision to every project without touching yours.

`touch_updated_at()`, and whatever the template adds to the database later, lives in
`migrations/template/versions/`, with its own version table (`alembic_version_template`). Your
revisions live in `migrations/versions/` with Alembic's `alembic_version`. The two chains never
share an id or a head: `alembic upgrade head` keeps meaning what it means, and no update can give
you "Multiple head revisions are present". `migrations/env.py` brings this chain to its head
before your revisions run, in the same command, so that yours can rely on the template's objects.

Every run, `--sql` output included, sets the migration timeouts first, as the project's own
chain does. Template revisions are written by the template's authors, with their SQL frozen
inside them (never imported from code that changes later), and each has a downgrade.
"""

import io
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from alembic.operations import Operations
from alembic.runtime.environment import NameFilterParentNames, NameFilterType
from alembic.runtime.migration import MigrationContext, RevisionStep
from alembic.script import Script, ScriptDirectory
from sqlalchemy import Connection

from .timeouts import set_migration_timeouts

VERSION_TABLE = "alembic_version_template"
# migrations/template/ beside the project's migrations/env.py.
LOCATION = Path("migrations") / "template"

# (scripts, the revisions applied as Alembic hands them over) -> the steps to take.
Steps = Callable[[ScriptDirectory, Any], Sequence[RevisionStep]]


def scripts(project_root: Path) -> ScriptDirectory:
    return ScriptDirectory(str(project_root / LOCATION))


def revisions(project_root: Path) -> list[Script]:
    """The template's revisions, oldest first."""
    return list(reversed(list(scripts(project_root).walk_revisions())))


def upgrade(connection: Connection, project_root: Path, destination: str = "heads") -> None:
    """Apply the template's revisions up to `destination`, one transaction each."""

    def steps(script: ScriptDirectory, current: Any) -> Sequence[RevisionStep]:
        return script._upgrade_revs(destination, current)

    _run(connection, project_root, steps)


def downgrade(connection: Connection, project_root: Path, destination: str) -> None:
    """Revert the template's revisions down to `destination` ("base": all of them)."""

    def steps(script: ScriptDirectory, current: Any) -> Sequence[RevisionStep]:
        return script._downgrade_revs(destination, current)

    _run(connection, project_root, steps)


def not_its_version_table(
    name: str | None, type_: NameFilterType, parent_names: NameFilterParentNames
) -> bool:
    """For autogenerate's `include_name`: the chain's version table is no model's."""
    return not (type_ == "table" and name == VERSION_TABLE)


def offline_sql(project_root: Path, script: Script) -> str:
    """The SQL of one template revision as `--sql` prints it: what the lint reads."""
    buffer = io.StringIO()
    directory = scripts(project_root)
    context = MigrationContext.configure(
        dialect_name="postgresql",
        opts={
            "as_sql": True,
            "output_buffer": buffer,
            "literal_binds": True,
            "script": directory,
            "version_table": VERSION_TABLE,
            "starting_rev": script.down_revision,
            "fn": lambda current, _context: directory._upgrade_revs(script.revision, current),
        },
    )
    set_migration_timeouts(context)
    with Operations.context(context), context.begin_transaction():
        context.run_migrations()
    return buffer.getvalue()


def current(connection: Connection) -> tuple[str, ...]:
    """The template revisions applied to this database (empty: none yet)."""
    context = MigrationContext.configure(connection, opts={"version_table": VERSION_TABLE})
    return context.get_current_heads()


def _run(connection: Connection, project_root: Path, steps: Steps) -> None:
    began_clean = not connection.in_transaction()
    script = scripts(project_root)
    context = MigrationContext.configure(
        connection,
        opts={
            "script": script,
            "version_table": VERSION_TABLE,
            "transaction_per_migration": True,
            # Alembic's own commands compute the steps with these (`alembic.command.upgrade`).
            "fn": lambda current, _context: steps(script, current),
        },
    )
    set_migration_timeouts(context)
    with Operations.context(context), context.begin_transaction():
        context.run_migrations()
    if began_clean and connection.in_transaction():
        # What the timeout SETs began: the project's chain must start outside a
        # transaction, or Alembic takes it for the caller's and autocommit blocks fail.
        connection.commit()

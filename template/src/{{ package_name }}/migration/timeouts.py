"""The timeouts every migration run sets for its session (and writes into `--sql` output).

A short lock timeout makes a migration stuck behind a long transaction fail fast instead of
queueing every query on the table behind it; the statement timeout bounds each statement.
Both come from DATABASE_MIGRATION_LOCK_TIMEOUT_MS and DATABASE_MIGRATION_STATEMENT_TIMEOUT_MS.
"""

from alembic.runtime.migration import MigrationContext

from ..settings import get_settings


def migration_timeouts() -> list[str]:
    database = get_settings().database
    return [
        f"SET lock_timeout = '{database.migration_lock_timeout_ms}ms'",
        f"SET statement_timeout = '{database.migration_statement_timeout_ms}ms'",
    ]


def set_migration_timeouts(context: MigrationContext) -> None:
    """Issued through the migration context, after it is configured, so that Alembic owns the
    transaction the SETs open (and writes them into `--sql` output)."""
    for statement in migration_timeouts():
        context.execute(statement)

"""The template's own revision chain and the migration lock, driven from a generated project's
command line, and each guard shown to matter: without it, the project's own test fails."""

from collections.abc import Iterator

import pytest

from .support.projects import MIGRATION_LOCK_TESTS, Project

LONG_AGO = "2000-01-01 00:00:00+00"
LOCK_TEST = f"{MIGRATION_LOCK_TESTS}::test_a_run_waits_while_another_holds_the_lock"
LOCKED_RUN = "    with migration_lock(connection, wait_seconds=wait_seconds):\n"
IMPORTS = "\nimport asyncio\n"


def touched_by_a_no_op_update(project: Project) -> bool:
    """Whether an UPDATE that changes nothing moves updated_at (it did before t0002)."""
    with project.connect() as connection:
        connection.execute("DELETE FROM users WHERE email = 'same@example.com'")
        connection.execute(
            "INSERT INTO users (email, password_hash, created_at, updated_at)"
            " VALUES ('same@example.com', 'not-a-hash', %s, %s)",
            [LONG_AGO, LONG_AGO],
        )
        connection.execute("UPDATE users SET email = email WHERE email = 'same@example.com'")
        row = connection.execute(
            "SELECT updated_at <> %s FROM users WHERE email = 'same@example.com'", [LONG_AGO]
        ).fetchone()
    assert row is not None
    return bool(row[0])


def template_command(project: Project, *args: str) -> str:
    code, printed = project.command("-m", f"{project.package}.db", "template", *args)
    assert code == 0, printed
    return printed


@pytest.fixture
def migrated(project: Project) -> Iterator[Project]:
    """The project at the head of both chains, before and after the test."""
    project.migrate()
    yield project
    project.migrate()


def test_the_template_command_reverts_v2_and_the_next_upgrade_brings_it_back(
    migrated: Project,
) -> None:
    assert "applied: t0002; latest: t0002" in template_command(migrated)
    assert touched_by_a_no_op_update(migrated) is False

    assert "applied: t0001; latest: t0002" in template_command(migrated, "--downgrade", "t0001")
    assert touched_by_a_no_op_update(migrated) is True  # v1 is back

    migrated.migrate()
    assert "applied: t0002" in template_command(migrated)
    assert touched_by_a_no_op_update(migrated) is False


def test_without_the_lock_a_second_run_does_not_wait(migrated: Project) -> None:
    env_py = migrated.root / "migrations" / "env.py"
    guarded = env_py.read_text()
    assert guarded.count(LOCKED_RUN) == guarded.count(IMPORTS) == 1, "env.py changed: update"
    unguarded = guarded.replace(IMPORTS, f"{IMPORTS}from contextlib import nullcontext\n")
    env_py.write_text(unguarded.replace(LOCKED_RUN, "    with nullcontext():\n"))
    try:
        code, output = migrated.test_suite(LOCK_TEST)
    finally:
        env_py.write_text(guarded)

    assert code != 0
    assert "the run did not wait for the lock" in output
    code, output = migrated.test_suite(LOCK_TEST)
    assert code == 0, output

"""`copier update` delivers the template's database changes to projects that already run.

Two starting points, both real commits of this repository: the template's first release, and
the last commit before the template had a revision chain of its own (`migrations/template/`).
Each project gets a user's model, revision and rows, is migrated, updated to this working tree
and migrated again with the command it already used. Then touch_updated_at() v2 is in effect
(an UPDATE that changes nothing keeps updated_at), the user's rows, files and chain are intact,
and the project's suite passes.
"""

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import make_url

from .support.invoices import INVOICE_MODELS
from .support.projects import Project, project_with_database
from .support.running import assert_suite_passed, parallel_suite
from .support.servers import database_server_url, libpq
from .support.updating import conflicts, generate, git, tagged_versions, update
from .support.variants import PACKAGE


@dataclass(frozen=True)
class StartingPoint:
    commit: str
    # The first release's README told users to attach the updated_at trigger in the revision
    # themselves; later, autogenerate writes it.
    attaches_the_trigger_by_hand: bool
    # Answers for the questions the old version did not ask (the user answers them on update).
    new_answers: dict[str, bool]


STARTING_POINTS = {
    "first-release": StartingPoint(
        "cdfc00ab4eacdb872c24ec013c0fbfa4983fb8e0",
        attaches_the_trigger_by_hand=True,
        # The example's own revision would make a second head beside the user's first one.
        new_answers={"include_example": False},
    ),
    "before-the-template-chain": StartingPoint(
        "945bc98000251e4768464dae8e5dd5515671f0fc",
        attaches_the_trigger_by_hand=False,
        new_answers={},
    ),
}
LONG_AGO = "2000-01-01 00:00:00+00"
OLD_HELPERS = f"from {PACKAGE}.db.migration_helpers import"
NEW_HELPERS = f"from {PACKAGE}.migration.helpers import"


@dataclass(frozen=True)
class Updated:
    project: Project
    before: dict[str, str]  # the user's files before the update


def attach_the_trigger_by_hand(revision: Path) -> None:
    """What the first release's README said to do after autogenerate."""
    text = revision.read_text()
    text = text.replace(
        "from alembic import op\n",
        f"from alembic import op\n{OLD_HELPERS} attach_touch_updated_at, detach_touch_updated_at\n",
        1,
    )
    text = text.replace(
        "\n\n\ndef downgrade() -> None:\n",
        '\n    attach_touch_updated_at("invoices")\n\n\ndef downgrade() -> None:\n'
        '    detach_touch_updated_at("invoices")\n',
        1,
    )
    revision.write_text(text)


def add_invoices_with_rows(project: Project, starting_point: StartingPoint) -> Path:
    """The user's model, the revision the project's command writes for it, and two rows."""
    (project.package_dir / "invoices").mkdir()
    (project.package_dir / "invoices" / "__init__.py").write_text("")
    (project.package_dir / "invoices" / "models.py").write_text(INVOICE_MODELS)
    with (project.package_dir / "models.py").open("a") as models:
        models.write("from .invoices import models as invoices  # noqa: F401\n")
    project.migrate()
    code, printed = project.command(
        "-m", "alembic", "revision", "--autogenerate", "-m", "add invoices"
    )
    assert code == 0, printed
    (revision,) = (project.root / "migrations" / "versions").glob("*add_invoices.py")
    if starting_point.attaches_the_trigger_by_hand:
        attach_the_trigger_by_hand(revision)
    assert "attach_touch_updated_at" in revision.read_text()
    project.migrate()
    with project.connect() as connection:
        for number in ("F-1", "F-2"):
            connection.execute(
                "INSERT INTO invoices (number, amount_cents, created_at, updated_at)"
                " VALUES (%s, 100, %s, %s)",
                [number, LONG_AGO, LONG_AGO],
            )
    return revision


@pytest.fixture(scope="module", params=list(STARTING_POINTS))
def updated(
    request: pytest.FixtureRequest, template: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Updated]:
    """A project of an old version with the user's work and rows, updated and migrated again."""
    starting_point = STARTING_POINTS[request.param]
    folder = tmp_path_factory.mktemp(request.param)
    versions = tagged_versions(starting_point.commit, template, folder / "template")
    root = generate(versions, folder / "my-service")
    with project_with_database(root) as project:
        revision = add_invoices_with_rows(project, starting_point)
        models = project.package_dir / "invoices" / "models.py"
        before = {str(path.relative_to(root)): path.read_text() for path in (models, revision)}
        git(root, "add", "-A")
        git(root, "commit", "-qm", "Invoices")

        update(root, **starting_point.new_answers)
        project.migrate()
        yield Updated(project, before)


def rows(project: Project) -> dict[str, tuple[int, bool]]:
    """number -> (amount, whether updated_at is still the one written at insert)."""
    with project.connect() as connection:
        found = connection.execute(
            "SELECT number, amount_cents, updated_at = %s FROM invoices ORDER BY number",
            [LONG_AGO],
        ).fetchall()
    return {number: (amount, kept) for number, amount, kept in found}


def test_the_update_applies_cleanly_and_the_template_chain_is_at_its_head(
    updated: Updated,
) -> None:
    project = updated.project
    assert conflicts(project.root) == []
    with project.connect() as connection:
        template = connection.execute("SELECT version_num FROM alembic_version_template")
        assert template.fetchall() == [("t0002",)]


def test_the_users_rows_stay_and_a_no_op_update_keeps_updated_at(updated: Updated) -> None:
    project = updated.project
    assert rows(project) == {"F-1": (100, True), "F-2": (100, True)}  # nothing re-ran on them

    with project.connect() as connection:
        connection.execute("UPDATE invoices SET amount_cents = amount_cents WHERE number = 'F-1'")
        connection.execute("UPDATE invoices SET amount_cents = 250 WHERE number = 'F-2'")

    assert rows(project) == {"F-1": (100, True), "F-2": (250, False)}


def test_the_users_files_are_untouched_but_for_moved_imports(updated: Updated) -> None:
    root = updated.project.root
    for name, before in updated.before.items():
        after = (root / name).read_text()
        assert after.replace(NEW_HELPERS, OLD_HELPERS) == before.replace(NEW_HELPERS, OLD_HELPERS)
        assert OLD_HELPERS not in after, f"{name} still imports a module that moved"


def test_the_users_chain_goes_down_to_its_base_and_up_again_on_a_copy(updated: Updated) -> None:
    project = updated.project
    database = make_url(project.env["DATABASE_URL"])
    copy = database.set(database=f"{database.database}_copy")
    with psycopg.connect(libpq(database_server_url()), autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{copy.database}" TEMPLATE "{database.database}"')
        try:
            env = project.service_env(copy)
            for step in (["downgrade", "base"], ["upgrade", "head"]):
                code, printed = project.command("-m", "alembic", *step, env=env)
                assert code == 0, printed
        finally:
            admin.execute(f'DROP DATABASE "{copy.database}" WITH (FORCE)')


def test_the_suite_is_green_after_the_update(updated: Updated) -> None:
    project = updated.project
    assert_suite_passed(parallel_suite(project.root, project.env))

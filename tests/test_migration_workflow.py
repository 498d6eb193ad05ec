"""A user's migration workflow in a generated project: the safe path is the default one, and
the unsafe one fails the project's own tests, naming the rule and the revision.

Every test starts from the same point, the user's first model (invoices) and the revision the
project's command made for it, and the project is put back there afterwards (files and database),
so each test passes alone and in any order.
"""

import re
import subprocess
from collections.abc import Iterator

import pytest

from .support.projects import REVISION_TESTS, Project, commit_all, hand_written_revision

INVOICES = """\
from sqlalchemy import BigInteger, CheckConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ..db.base import Base
from ..db.mixins import PrimaryKey, SoftDelete, Timestamps


class Invoice(Base, PrimaryKey, Timestamps, SoftDelete):
    __tablename__ = "invoices"
    __table_args__ = (CheckConstraint("amount_cents > 0", name="amount_positive"),)

    number: Mapped[str] = mapped_column(unique=True)
    amount_cents: Mapped[int] = mapped_column(BigInteger)
    customer: Mapped[str]
"""


@pytest.fixture(scope="module")
def invoices_revision(project: Project) -> str:
    """The user's first model and the revision `python -m <package>.db revision` made for it,
    committed: the point every test starts from."""
    package = project.package_dir
    (package / "invoices").mkdir()
    (package / "invoices" / "__init__.py").write_text("")
    (package / "invoices" / "models.py").write_text(INVOICES)
    with (package / "models.py").open("a") as models:
        models.write("from .invoices import models as invoices  # noqa: F401\n")
    revision = project.make_revision("add invoices").read_text()
    commit_all(project.root, "Invoices")
    return revision


@pytest.fixture(autouse=True)
def back_to_the_invoices(project: Project, invoices_revision: str) -> Iterator[None]:
    """After a test: the committed files back, untracked ones gone, an empty database."""
    yield
    for command in (["git", "checkout", "-q", "--", "."], ["git", "clean", "-fdq"]):
        subprocess.run(command, cwd=project.root, check=True)
    with project.connect(autocommit=True) as connection:
        connection.execute("DROP SCHEMA public CASCADE")
        connection.execute("CREATE SCHEMA public")


def test_new_model_gets_a_revision_that_attaches_the_trigger(
    project: Project, invoices_revision: str
) -> None:
    assert 'attach_touch_updated_at("invoices")' in invoices_revision
    assert 'detach_touch_updated_at("invoices")' in invoices_revision
    # The template chain's version table is no model's: autogenerate must not drop it.
    assert "alembic_version_template" not in invoices_revision
    code, output = project.test_suite(*REVISION_TESTS)
    assert code == 0, output


def test_index_on_an_existing_table_is_built_concurrently(project: Project) -> None:
    models = project.package_dir / "invoices" / "models.py"
    models.write_text(
        models.read_text().replace(
            "customer: Mapped[str]", "customer: Mapped[str] = mapped_column(index=True)"
        )
    )

    revision = project.make_revision("index invoice customers").read_text()

    assert 'create_index_concurrently(op.f("ix_invoices_customer")' in revision
    assert 'drop_index_concurrently(op.f("ix_invoices_customer")' in revision
    assert "op.create_index(" not in revision
    code, output = project.test_suite(*REVISION_TESTS)
    assert code == 0, output
    project.migrate()
    assert index_is_valid(project, "ix_invoices_customer")


def test_new_column_with_an_index_splits_off_the_concurrent_build(project: Project) -> None:
    models = project.package_dir / "invoices" / "models.py"
    models.write_text(
        models.read_text().replace(
            "    customer: Mapped[str]\n",
            "    customer: Mapped[str]\n    plan: Mapped[str | None] = mapped_column(index=True)\n",
        )
    )

    first = project.make_revision("add invoice plan").read_text()

    (second_path,) = project.root.glob(
        "migrations/versions/*add_invoice_plan_concurrent_indexes.py"
    )
    second = second_path.read_text()
    assert 'op.add_column("invoices"' in first
    assert "create_index_concurrently" not in first
    assert 'create_index_concurrently(op.f("ix_invoices_plan")' in second
    first_id = re.search(r'^revision: str = "(\w+)"', first, re.MULTILINE)
    assert first_id
    assert f'down_revision: str | Sequence[str] | None = "{first_id[1]}"' in second
    code, output = project.test_suite(*REVISION_TESTS)
    assert code == 0, output


def index_is_valid(project: Project, name: str) -> bool:
    with project.connect() as connection:
        row = connection.execute(
            "SELECT indisvalid FROM pg_index WHERE indexrelid = to_regclass(%s)", (name,)
        ).fetchone()
    return bool(row and row[0])


def test_hand_written_revision_with_the_safe_helpers_passes_lint_and_stairway(
    project: Project,
) -> None:
    models = project.package_dir / "invoices" / "models.py"
    models.write_text(
        "import uuid\n\nfrom sqlalchemy import ForeignKey\n"
        + models.read_text()
        + "    priority: Mapped[int] = mapped_column(BigInteger)\n"
        + "    parent_id: Mapped[uuid.UUID | None] = mapped_column(\n"
        + '        ForeignKey("invoices.id", ondelete="SET NULL"), index=True\n'
        + "    )\n"
    )
    revision = project.root / "migrations" / "versions" / "2026_11_30_0000-helpers_priority.py"
    revision.write_text(
        hand_written_revision(
            "helpers",
            project.head(),
            upgrade=f"from {project.package}.migration import helpers as mh\n"
            'mh.lift_timeouts(statement_timeout="5min", lock_timeout="10s")\n'
            'mh.add_not_null_column_safely("invoices", sa.Column("priority", sa.BigInteger()), '
            'backfill="0")\n'
            'op.add_column("invoices", sa.Column("parent_id", sa.Uuid(), nullable=True))\n'
            'mh.add_foreign_key_safely("invoices", ["parent_id"], "invoices", ["id"], '
            'ondelete="SET NULL")\n'
            'mh.create_index_concurrently("ix_invoices_parent_id", "invoices", ["parent_id"])',
            downgrade=f"from {project.package}.migration import helpers as mh\n"
            'mh.drop_index_concurrently("ix_invoices_parent_id", "invoices")\n'
            'mh.drop_foreign_key("invoices", ["parent_id"], "invoices")\n'
            'op.drop_column("invoices", "parent_id")\n'
            'op.drop_column("invoices", "priority")',
        )
    )

    code, output = project.test_suite(*REVISION_TESTS)

    assert code == 0, output
    project.migrate()
    assert index_is_valid(project, "ix_invoices_parent_id")


ADD_REQUIRED_COLUMN_AND_PLAIN_INDEX = (
    'op.add_column("invoices", sa.Column("tier", sa.Text(), nullable=False))\n'
    'op.create_index("ix_invoices_tier", "invoices", ["tier"])'
)
DROP_THEM = (
    'op.drop_index("ix_invoices_tier", table_name="invoices")\nop.drop_column("invoices", "tier")'
)


def test_a_dangerous_hand_written_revision_fails_the_suite_naming_rule_and_revision(
    project: Project,
) -> None:
    with project.temporary_revision("dangerous", ADD_REQUIRED_COLUMN_AND_PLAIN_INDEX, DROP_THEM):
        code, output = project.test_suite(*REVISION_TESTS)
        lint_code, lint_output = project.command("-m", f"{project.package}.db", "lint")

    assert code != 0
    assert "test_revision_sql_passes_squawk[dangerous]" in output
    assert "revision dangerous (2026_12_31_2359-dangerous.py)" in output
    assert "adding-required-field" in output
    assert "require-concurrent-index-creation" in output
    assert lint_code == 1
    assert "adding-required-field" in lint_output


def test_a_declared_exception_silences_exactly_its_rule(project: Project) -> None:
    declared = 'squawk_ignore("adding-required-field", reason="invoices is empty")\n'
    with project.temporary_revision(
        "declared", declared + ADD_REQUIRED_COLUMN_AND_PLAIN_INDEX, DROP_THEM
    ):
        code, output = project.command("-m", f"{project.package}.db", "lint")

    assert code == 1
    assert "adding-required-field" not in output
    assert "revision declared" in output
    assert "require-concurrent-index-creation" in output


def test_a_revision_with_an_empty_downgrade_fails_the_suite_naming_it(project: Project) -> None:
    with project.temporary_revision(
        "oneway", "op.execute(\"COMMENT ON TABLE invoices IS 'billed work'\")", "pass"
    ):
        code, output = project.test_suite(*REVISION_TESTS)

    assert code != 0
    assert "test_revision_has_a_downgrade[oneway]" in output
    assert "revision oneway (2026_12_31_2359-oneway.py) has an empty downgrade()" in output


def test_migrations_give_up_on_a_lock_after_the_lock_timeout(project: Project) -> None:
    project.migrate()
    add_note = 'op.add_column("invoices", sa.Column("note", sa.Text(), nullable=True))'
    drop_note = 'op.drop_column("invoices", "note")'
    with project.temporary_revision("note", add_note, drop_note), project.connect() as blocker:
        # Adding a column needs an ACCESS EXCLUSIVE lock on invoices, which this session holds.
        blocker.execute("LOCK TABLE invoices IN ACCESS EXCLUSIVE MODE")
        code, output = project.command("-m", "alembic", "upgrade", "head")

    assert code != 0
    assert "canceling statement due to lock timeout" in output

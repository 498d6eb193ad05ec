"""`copier update` across the 0.2 layout change: a project generated when everything lived in `db/`
comes out with `db/`, `migration/`, `operations/` and `web/`, and the user's code follows.

The old version is the template's own history (the last commit of the old layout), the new one
this working tree: the update a team with a months-old project runs.
"""

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from .support.invoices import INVOICE_MODELS, add_invoices
from .support.projects import Project, project_with_database
from .support.running import assert_suite_passed, output, parallel_suite, uv_run
from .support.servers import served
from .support.updating import conflicts, generate, git, tagged_versions, update
from .support.variants import PACKAGE

# The last commit whose generated package kept every database module in `db/`.
OLD_LAYOUT = "d2036517ffc889f12720f29e8a7cd1b7dfb543b5"

# A user's router and test written against the old layout: every import below moved.
INVOICE_ROUTER = """\
from fastapi import APIRouter
from sqlalchemy import func, select

from my_service.openapi import Responses

from ..db.dependencies import SessionDep
from ..db.errors import DATABASE_UNAVAILABLE
from ..db.pagination import CursorCodecDep
from .models import Invoice

router = APIRouter(prefix="/invoices", tags=["invoices"], responses=DATABASE_UNAVAILABLE)
COUNTED: Responses = {}


@router.get("/count", responses=COUNTED)
async def count(session: SessionDep, codec: CursorCodecDep) -> dict[str, int | str]:
    total = await session.scalar(select(func.count()).select_from(Invoice)) or 0
    return {"invoices": total, "cursor": codec.encode([total])}
"""
INVOICE_TEST = """\
import pytest
from httpx import AsyncClient
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession

from my_service.db.dependencies import unit_of_work
from my_service.db.errors import DATABASE_UNAVAILABLE, sqlstate
from my_service.db.pagination import CursorCodec

INSERT = text("INSERT INTO invoices (number, amount_cents) VALUES ('F-1', 100)")


async def test_invoices_are_counted(client: AsyncClient) -> None:
    response = await client.get("/invoices/count")
    assert response.status_code == 200
    assert response.json()["invoices"] == 0


async def test_a_number_is_invoiced_once(db_session: AsyncSession) -> None:
    async with unit_of_work(db_session) as session:
        await session.execute(INSERT)
    with pytest.raises(DBAPIError) as raised:
        async with db_session.begin_nested():
            await db_session.execute(INSERT)
    assert sqlstate(raised.value) == "23505"


def test_cursors_round_trip_and_outages_are_documented() -> None:
    codec = CursorCodec(b"secret")
    assert codec.decode(codec.encode([3])) == [3]
    assert 503 in DATABASE_UNAVAILABLE
"""
# What the update migration makes of them (relative imports stay relative).
ROUTER_IMPORTS = """\
from my_service.web.openapi import Responses

from ..web.dependencies import SessionDep
from ..web.errors import DATABASE_UNAVAILABLE
from ..web.dependencies import CursorCodecDep
from .models import Invoice
"""
TEST_IMPORTS = """\
from my_service.db.session import unit_of_work
from my_service.web.errors import DATABASE_UNAVAILABLE
from my_service.db.errors import sqlstate
from my_service.pagination import CursorCodec
"""
# Modules of the package that the update removes (they moved).
GONE = [
    "db/autogenerate.py",
    "db/conventions.py",
    "db/dependencies.py",
    "db/doctor.py",
    "db/embedded.py",
    "db/migration_helpers.py",
    "db/migration_lint.py",
    "db/pagination.py",
    "health.py",
    "method_not_allowed.py",
    "openapi.py",
]


@pytest.fixture(scope="module")
def layout_versions(template: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The template's history with the old layout tagged OLD and this working tree NEW."""
    return tagged_versions(OLD_LAYOUT, template, tmp_path_factory.mktemp("layout") / "template")


def add_old_layout_invoices(project: Project) -> Path:
    """The user's invoices domain in the old layout, its revision made by the old command."""
    add_invoices(project, INVOICE_ROUTER)
    (project.root / "tests" / "test_invoices.py").write_text(INVOICE_TEST)
    revision = project.make_revision("add invoices")
    git(project.root, "add", "-A")
    git(project.root, "commit", "-qm", "Invoices")
    return revision


@dataclass(frozen=True)
class Updated:
    project: Project
    revision: Path  # the user's revision, made by the old layout's command
    texts: dict[str, str]  # the user's files as the update left them (tests may edit them)


@pytest.fixture(scope="module")
def updated(layout_versions: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Updated]:
    """A project of the old layout with the user's invoices, updated to this tree."""
    root = generate(layout_versions, tmp_path_factory.mktemp("old-layout") / "my-service")
    with project_with_database(root) as project:
        revision = add_old_layout_invoices(project)
        assert "from my_service.db.migration_helpers import" in revision.read_text()
        update(root)
        invoices = project.package_dir / "invoices"
        user_files = [*invoices.glob("*.py"), root / "tests" / "test_invoices.py", revision]
        texts = {str(path.relative_to(root)): path.read_text() for path in user_files}
        yield Updated(project, revision, texts)


def test_the_template_owned_modules_move_without_conflicts(
    updated: Updated,
) -> None:
    project = updated.project

    assert conflicts(project.root) == []
    assert [name for name in GONE if (project.package_dir / name).exists()] == []
    for new in ("migration/helpers.py", "operations/findings.py", "web/dependencies.py"):
        assert (project.package_dir / new).is_file(), new


def test_the_users_imports_follow_the_modules(updated: Updated) -> None:
    texts, revision = updated.texts, updated.revision.relative_to(updated.project.root)

    assert ROUTER_IMPORTS in texts[f"src/{PACKAGE}/invoices/router.py"]
    assert TEST_IMPORTS in texts["tests/test_invoices.py"]
    assert "from my_service.migration.helpers import" in texts[str(revision)]
    assert texts[f"src/{PACKAGE}/invoices/models.py"] == INVOICE_MODELS  # nothing in it moved


def test_the_project_passes_its_checks_once_the_imports_are_sorted(
    updated: Updated,
) -> None:
    project = updated.project
    root, env = project.root, project.env

    unsorted = uv_run(root, "ruff", "check", ".", env=env)
    assert unsorted.returncode == 1, output(unsorted)
    assert "I001" in unsorted.stdout, output(unsorted)
    # What the update printed for the user to run:
    assert uv_run(root, "ruff", "check", "--select", "I", "--fix", ".", env=env).returncode == 0
    assert uv_run(root, "ruff", "format", ".", env=env).returncode == 0

    for check in (["ruff", "check", "."], ["ruff", "format", "--check", "."], ["mypy"]):
        result = uv_run(root, *check, env=env)
        assert result.returncode == 0, output(result)


def test_the_suite_and_the_users_endpoint_work_after_the_update(
    updated: Updated,
) -> None:
    project = updated.project

    assert_suite_passed(parallel_suite(project.root, project.env))
    project.migrate()
    app = project.app_factory()
    with served(app, project.env, str(project.root), python=project.python()) as base:
        response = httpx.get(f"{base}/invoices/count", timeout=10)
    assert response.status_code == 200, response.text
    assert response.json()["invoices"] == 0


def test_a_revision_made_after_the_update_imports_the_helpers_from_their_new_home(
    updated: Updated,
) -> None:
    project = updated.project
    models = project.package_dir / "invoices" / "models.py"
    models.write_text(
        models.read_text()
        + "\n\nclass Credit(Base, PrimaryKey, Timestamps):\n"
        + '    __tablename__ = "credits"\n\n'
        + "    amount_cents: Mapped[int] = mapped_column(BigInteger)\n"
    )

    revision = project.make_revision("add credits")

    assert "from my_service.migration.helpers import attach_touch_updated_at" in (
        revision.read_text()
    )
    project.migrate()
    with project.connect() as connection:
        row = connection.execute("SELECT count(*) FROM credits").fetchone()
    assert row == (0,)

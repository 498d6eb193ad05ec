"""`copier update` brings template changes into a project without touching the user's work.

Two versions of the template are built here: this working tree tagged v1.0.0, and a commit on
top that changes template-owned conventions (a new engine setting, a wider secret check)
tagged v1.1.0.
"""

import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from .support.invoices import add_invoices
from .support.projects import Project, commit_all, project_with_database
from .support.running import assert_suite_passed, parallel_suite, user_environment, uv_run
from .support.servers import served
from .support.updating import NEW, OLD, conflicts, generate, git, update
from .support.variants import PACKAGE

SETTINGS = "template/src/{{ package_name }}/settings.py.jinja"
ENGINE = "template/src/{{ package_name }}/db/engine.py"
PROJECT_ENGINE = f"src/{PACKAGE}/db/engine.py"
CATALOG_CHECKS = "template/src/{{ package_name }}/operations/catalog_checks.py"
# The template change: (file, old text, new text).
IMPROVEMENTS = [
    (
        SETTINGS,
        "    pool_pre_ping: bool = False\n",
        "    pool_pre_ping: bool = False\n"
        "    # Reuse the most recently returned connection: idle ones can time out and close.\n"
        "    pool_use_lifo: bool = True\n",
    ),
    (
        ENGINE,
        "        pool_pre_ping=settings.pool_pre_ping,\n",
        "        pool_pre_ping=settings.pool_pre_ping,\n"
        "        pool_use_lifo=settings.pool_use_lifo,\n",
    ),
    (CATALOG_CHECKS, '|private_?key")', '|private_?key|credential")'),
]


@pytest.fixture(scope="module")
def template_versions(template: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A clone of the template with the old and the new version tagged."""
    repository = tmp_path_factory.mktemp("versions") / "template"
    subprocess.run(["git", "clone", "-q", str(template), str(repository)], check=True)
    git(repository, "tag", OLD)
    for name, before, after in IMPROVEMENTS:
        path = repository / name
        assert before in path.read_text(), f"{name} changed: update IMPROVEMENTS"
        path.write_text(path.read_text().replace(before, after, 1))
    commit_all(repository, "Improve the conventions")
    git(repository, "tag", NEW)
    return repository


INVOICES_ROUTER = """\
from fastapi import APIRouter
from sqlalchemy import func, select

from ..web.dependencies import SessionDep

from .models import Invoice

router = APIRouter(prefix="/invoices", tags=["invoices"])


@router.get("/count")
async def count(session: SessionDep) -> dict[str, int]:
    return {"invoices": await session.scalar(select(func.count()).select_from(Invoice)) or 0}
"""


def add_user_work(project: Project) -> dict[str, bytes]:
    """What a team does in the months after generating: returns the files it owns."""
    root, package = project.root, project.package_dir
    add_invoices(project, INVOICES_ROUTER)
    revision = project.make_revision("add invoices")
    with (root / "README.md").open("a") as readme:
        readme.write("\n## Our team's notes\n\nInvoices are immutable once sent.\n")
    settings = package / "settings.py"
    settings.write_text(
        settings.read_text().replace(
            "pool_size: int = Field(default=10", "pool_size: int = Field(default=25"
        )
    )
    git(root, "add", "-A")
    git(root, "commit", "-qm", "Invoices")
    owned = [
        package / "invoices" / "models.py",
        package / "invoices" / "router.py",
        package / "models.py",
        package / "routes.py",
        revision,
    ]
    return {str(path.relative_to(root)): path.read_bytes() for path in owned}


def count_invoices_through_the_api(project: Project) -> Any:
    """Migrate, serve the project with uvicorn, and ask the user's own endpoint."""
    project.migrate()
    app = project.app_factory()
    with served(app, project.env, str(project.root), python=project.python()) as base:
        response = httpx.get(f"{base}/invoices/count", timeout=10)
    assert response.status_code == 200, response.text
    return response.json()


@pytest.fixture(scope="module")
def updated(
    template_versions: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Project, dict[str, bytes]]]:
    """A v1.0.0 project with months of user work, updated to v1.1.0.

    Without the example: the change is in the database core, and the user's work is their own
    invoices. An update of a project holding the example (its tables, revisions and worker) is
    test_update_database.py's and test_update_layout.py's; this one runs the suite twice.
    """
    root = generate(
        template_versions, tmp_path_factory.mktemp("project") / "my-service", include_example=False
    )
    with project_with_database(root) as project:
        owned = add_user_work(project)
        update(root)
        yield project, owned


def test_update_applies_without_conflicts(updated: tuple[Project, dict[str, bytes]]) -> None:
    project, _ = updated

    assert conflicts(project.root) == []
    assert f"_commit: {NEW}" in (project.root / ".copier-answers.yml").read_text()


def test_update_leaves_every_user_file_byte_identical(
    updated: tuple[Project, dict[str, bytes]],
) -> None:
    project, owned = updated

    changed = [
        name for name, content in owned.items() if (project.root / name).read_bytes() != content
    ]
    assert changed == []


def test_update_brings_the_template_changes_and_keeps_user_edits_beside_them(
    updated: tuple[Project, dict[str, bytes]],
) -> None:
    project, _ = updated
    package = project.package_dir

    settings = (package / "settings.py").read_text()
    assert "pool_use_lifo: bool = True" in settings
    assert "pool_size: int = Field(default=25" in settings  # the user's edit
    assert "pool_use_lifo=settings.pool_use_lifo" in (package / "db" / "engine.py").read_text()
    assert '|credential")' in (package / "operations" / "catalog_checks.py").read_text()
    assert "## Our team's notes" in (project.root / "README.md").read_text()
    changed = git(project.root, "status", "--porcelain").split()
    assert PROJECT_ENGINE in changed
    assert not any("invoices" in name for name in changed)


def test_the_users_model_and_route_work_after_the_update(
    updated: tuple[Project, dict[str, bytes]],
) -> None:
    project, _ = updated
    assert count_invoices_through_the_api(project) == {"invoices": 0}

    with project.connect() as connection:
        connection.execute("INSERT INTO invoices (number, amount_cents) VALUES ('F-1', 1200)")

    assert count_invoices_through_the_api(project) == {"invoices": 1}


def test_the_suite_is_green_after_the_update(updated: tuple[Project, dict[str, bytes]]) -> None:
    project, _ = updated
    assert_suite_passed(parallel_suite(project.root, project.env))


def test_an_answer_can_change_on_update(updated: tuple[Project, dict[str, bytes]]) -> None:
    project, owned = updated
    git(project.root, "add", "-A")
    git(project.root, "commit", "-qm", "Update the template")

    update(project.root, db_driver="asyncpg")

    assert conflicts(project.root) == []
    assert 'DEFAULT_DRIVER = "asyncpg"' in (project.package_dir / "settings.py").read_text()
    assert '"asyncpg>=' in (project.root / "pyproject.toml").read_text()
    assert all((project.root / name).read_bytes() == content for name, content in owned.items())
    assert_suite_passed(parallel_suite(project.root, project.env))


def test_an_edit_on_the_lines_an_update_changes_becomes_an_inline_conflict(
    template_versions: Path, tmp_path: Path
) -> None:
    root = generate(template_versions, tmp_path / "my-service")
    engine = root / PROJECT_ENGINE
    ours = "        pool_pre_ping=False,  # our network drops idle connections anyway\n"
    engine.write_text(
        engine.read_text().replace("        pool_pre_ping=settings.pool_pre_ping,\n", ours)
    )
    git(root, "commit", "-qam", "Our engine tweak")

    update(root)

    text = engine.read_text()
    assert conflicts(root) == [PROJECT_ENGINE]
    assert ours in text, "the user's line survives inside the conflict"
    assert "pool_use_lifo=settings.pool_use_lifo" in text


def test_pre_commit_refuses_conflict_markers_and_rej_files(
    template_versions: Path, tmp_path: Path
) -> None:
    root = generate(template_versions, tmp_path / "my-service")
    engine = root / PROJECT_ENGINE
    engine.write_text(engine.read_text() + "<<<<<<< before updating\n")
    (root / "README.md.rej").write_text("@@ a hunk that did not apply @@\n")
    git(root, "add", "-A")

    env = user_environment()
    markers = uv_run(root, "pre-commit", "run", "no-merge-conflict-markers", "--all-files", env=env)
    rejects = uv_run(root, "pre-commit", "run", "no-rej-files", "--all-files", env=env)

    assert markers.returncode == 1
    assert PROJECT_ENGINE in markers.stdout
    assert rejects.returncode == 1
    assert "README.md.rej" in rejects.stdout

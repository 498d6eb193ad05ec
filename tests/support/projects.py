"""Rendered projects: their files, and a project driven the way its user drives it."""

import os
import subprocess
import textwrap
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import psycopg
from pytest_copie.plugin import Result
from sqlalchemy import URL, make_url

from .running import output, user_environment, uv_run
from .servers import database_server_url, libpq
from .variants import PACKAGE, answers

TEMPLATE_ROOT = Path(__file__).resolve().parents[2]
# A generated suite's migration lock tests: `alembic upgrade` in processes of their own on fresh
# databases, whatever the revisions say.
MIGRATION_LOCK_TESTS = "tests/migrations/test_migration_lock.py"
# The part of a generated suite that judges revisions and the schema they build, less the lock
# tests: half the part's time (7 of 14 s here), and nothing about the user's revision.
REVISION_TESTS = ("tests/migrations", f"--ignore={MIGRATION_LOCK_TESTS}")
# What running a project leaves in it: tool caches, its environment, uv's lock of it and the
# embedded PostgreSQL's data.
TOOL_LEFTOVERS = {
    ".postgres",
    ".hypothesis",
    ".mypy_cache",
    ".pytest_cache",
    ".ruff_cache",
    ".venv",
    "__pycache__",
    "uv.lock",
}


def commit_all(repository: Path, message: str) -> None:
    """Commit everything with a fixed identity and date, so the same tree gives the same commit."""
    env = {
        **os.environ,
        "GIT_AUTHOR_NAME": "Template Tests",
        "GIT_AUTHOR_EMAIL": "tests@example.com",
        "GIT_COMMITTER_NAME": "Template Tests",
        "GIT_COMMITTER_EMAIL": "tests@example.com",
        "GIT_AUTHOR_DATE": "2026-01-01T00:00:00Z",
        "GIT_COMMITTER_DATE": "2026-01-01T00:00:00Z",
    }
    for command in (["git", "init", "-q"], ["git", "add", "-A"], ["git", "commit", "-qm", message]):
        subprocess.run(command, cwd=repository, env=env, check=True)


def rendered_files(project: Path) -> Iterator[Path]:
    """The project's files, less what its tools left there (renders are shared)."""
    for path in project.rglob("*"):
        if path.is_file() and not TOOL_LEFTOVERS & set(path.relative_to(project).parts):
            yield path


def rendered_project(result: Result) -> Path:
    assert result.exit_code == 0, f"copier failed: {result.exception!r}"
    assert result.project_dir is not None
    return result.project_dir


def hand_written_revision(revision: str, down_revision: str, upgrade: str, downgrade: str) -> str:
    body = "\n".join(
        [
            '"""hand-written"""',
            "import sqlalchemy as sa",
            "from alembic import op",
            f"from {PACKAGE}.migration.helpers import squawk_ignore",
            f"revision = {revision!r}",
            f"down_revision = {down_revision!r}",
            "branch_labels = None",
            "depends_on = None",
            "def upgrade() -> None:",
            textwrap.indent(upgrade, "    "),
            "def downgrade() -> None:",
            textwrap.indent(downgrade, "    "),
        ]
    )
    return body + "\n"


class Project:
    """A rendered project, driven the way its user would drive it: `uv run ...` inside it."""

    def __init__(self, root: Path, database_url: str) -> None:
        self.root = root
        (package,) = (root / "src").iterdir()
        self.package = package.name
        self.driver: str = answers(root)["db_driver"]
        self.env = user_environment(
            DATABASE_URL=database_url, TEST_DATABASE_URL=database_server_url()
        )

    @property
    def package_dir(self) -> Path:
        return self.root / "src" / self.package

    def app_factory(self, *options: str) -> list[str]:
        """uvicorn's arguments to serve the project's app factory."""
        return ["--factory", f"{self.package}.main:create_app", *options]

    def connect(self, *, autocommit: bool = False) -> psycopg.Connection[tuple[Any, ...]]:
        """A connection of the test's own to the project's development database."""
        return psycopg.connect(libpq(self.env["DATABASE_URL"]), autocommit=autocommit)

    def service_env(self, url: URL | None = None, **settings: str) -> dict[str, str]:
        """The environment to serve the project on `url` (default: its database)."""
        database = (url or make_url(self.env["DATABASE_URL"])).set(
            drivername=f"postgresql+{self.driver}"
        )
        rendered = database.render_as_string(hide_password=False)
        return {**self.env, "DATABASE_URL": rendered, **settings}

    def command(self, *args: str, env: dict[str, str] | None = None) -> tuple[int, str]:
        """`uv run python <args>` in the project: its Python, its environment."""
        result = uv_run(self.root, "python", *args, env=env or self.env)
        return result.returncode, output(result)

    def python(self) -> str:
        """The project's own interpreter, for a process the test must signal (a server)."""
        where = "import sys; print(sys.executable)"
        result = uv_run(self.root, "python", "-c", where, env=self.env)
        assert result.returncode == 0, output(result)
        return result.stdout.strip()

    def make_revision(self, message: str) -> Path:
        self.migrate()
        code, printed = self.command("-m", f"{self.package}.db", "revision", "-m", message)
        assert code == 0, printed
        slug = message.replace(" ", "_")
        (path,) = (self.root / "migrations" / "versions").glob(f"*{slug}.py")
        return path

    def migrate(self) -> None:
        code, printed = self.command("-m", "alembic", "upgrade", "head")
        assert code == 0, printed

    def head(self) -> str:
        code, printed = self.command("-m", "alembic", "heads")
        assert code == 0, printed
        return printed.split()[0]

    @contextmanager
    def temporary_revision(self, revision: str, upgrade: str, downgrade: str) -> Iterator[None]:
        """A hand-written revision on top of head, removed afterwards."""
        path = self.root / "migrations" / "versions" / f"2026_12_31_2359-{revision}.py"
        path.write_text(hand_written_revision(revision, self.head(), upgrade, downgrade))
        try:
            yield
        finally:
            path.unlink()

    def test_suite(self, *paths: str) -> tuple[int, str]:
        """The generated suite, or the part of it under `paths`."""
        result = uv_run(self.root, "pytest", "-q", "-p", "no:cacheprovider", *paths, env=self.env)
        return result.returncode, output(result)


@contextmanager
def project_with_database(root: Path) -> Iterator[Project]:
    """A rendered project and a development database of its own, dropped afterwards."""
    server = make_url(libpq(database_server_url()))
    # Unique per call: xdist workers render into folders of the same names.
    name = f"dev_{uuid.uuid4().hex[:12]}_{root.name}".replace("-", "_")[:63]
    with psycopg.connect(libpq(server), autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
        try:
            yield Project(root, libpq(server.set(database=name)))
        finally:
            admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')

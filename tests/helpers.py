"""Helpers shared by the template's tests: the variants and how to run tools in a project."""

import os
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import psycopg
from pytest_copie.plugin import Result
from sqlalchemy import URL, make_url

# Answers of the variants the suite renders: an orthogonal array over primary_key x db_driver x
# include_example (every pair of values meets once), spread over every PostgreSQL version, the
# newest Python (the oldest is the end-to-end test's), and the longest names the validators allow.
VARIANTS: dict[str, dict[str, str | bool]] = {
    "defaults": {},  # uuid, psycopg, example, Python 3.12, PostgreSQL 17
    "uuid-asyncpg-bare": {
        "primary_key": "uuid",
        "db_driver": "asyncpg",
        "include_example": False,
        "postgres_version": "16",
    },
    "identity-psycopg-bare": {
        "primary_key": "identity",
        "db_driver": "psycopg",
        "include_example": False,
        "postgres_version": "15",
    },
    "identity-asyncpg-long-names": {
        "primary_key": "identity",
        "db_driver": "asyncpg",
        "include_example": True,
        "python_version": "3.13",
        "postgres_version": "18",
        "project_name": "Acme Enterprise Order Management Service",
    },
}
DEFAULT_TEST_DATABASE_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
TOOL_CACHES = {".hypothesis", ".mypy_cache", ".pytest_cache", ".ruff_cache", ".venv", "__pycache__"}


def database_server_url() -> str:
    return os.environ.get("TEST_DATABASE_URL", DEFAULT_TEST_DATABASE_URL)


def libpq(url: str | URL) -> str:
    """A SQLAlchemy URL (`postgresql+asyncpg://...`) as the plain one psycopg.connect takes."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def run(
    command: list[str], cwd: Path, env: dict[str, str] | None = None, timeout: float = 600
) -> subprocess.CompletedProcess[str]:
    """Run a command in a rendered project; the output is kept for the assertion message."""
    return subprocess.run(
        command,
        cwd=cwd,
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def run_tool(
    tool: str, *args: str, cwd: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Run a Python tool from this (shared) environment: ruff, mypy, pytest."""
    return run([sys.executable, "-m", tool, *args], cwd=cwd, env=env)


def rendered_files(project: Path) -> Iterator[Path]:
    """The project's files, less the caches its tools left there (renders are shared)."""
    for path in project.rglob("*"):
        if path.is_file() and not TOOL_CACHES & set(path.relative_to(project).parts):
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
            "from my_service.db.migration_helpers import squawk_ignore",
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
    """A rendered project, driven the way its user would drive it."""

    def __init__(self, root: Path, database_url: str) -> None:
        self.root = root
        self.env = {
            "DATABASE_URL": database_url,
            "TEST_DATABASE_URL": database_server_url(),
            "PYTHONPATH": str(root / "src"),  # the shared environment does not install it
        }

    def connect(self, *, autocommit: bool = False) -> psycopg.Connection[tuple[Any, ...]]:
        """A connection of the test's own to the project's development database."""
        return psycopg.connect(libpq(self.env["DATABASE_URL"]), autocommit=autocommit)

    def service_env(self, driver: str, url: URL | None = None, **settings: str) -> dict[str, str]:
        """The environment to serve the project with `driver` on `url` (default: its database)."""
        database = (url or make_url(self.env["DATABASE_URL"])).set(
            drivername=f"postgresql+{driver}"
        )
        rendered = database.render_as_string(hide_password=False)
        return {**self.env, "DATABASE_URL": rendered, **settings}

    def add_user(self, email: str) -> str:
        """A user straight into the project's database (no password: nobody signs in as it)."""
        with self.connect() as connection:
            row = connection.execute(
                "INSERT INTO users (email, password_hash) VALUES (%s, 'not-a-hash') RETURNING id",
                [email],
            ).fetchone()
        assert row is not None
        return str(row[0])

    def jobs_of(self, user_id: str) -> int:
        with self.connect() as connection:
            row = connection.execute("SELECT count(*) FROM jobs WHERE user_id = %s", [user_id])
            (count,) = row.fetchone() or (0,)
        return int(count)

    def command(self, *args: str, env: dict[str, str] | None = None) -> tuple[int, str]:
        result = run([sys.executable, *args], cwd=self.root, env=env or self.env)
        return result.returncode, f"{result.stdout}\n{result.stderr}"

    def make_revision(self, message: str) -> Path:
        self.migrate()
        code, output = self.command("-m", "my_service.db", "revision", "-m", message)
        assert code == 0, output
        slug = message.replace(" ", "_")
        (path,) = (self.root / "migrations" / "versions").glob(f"*{slug}.py")
        return path

    def migrate(self) -> None:
        code, output = self.command("-m", "alembic", "upgrade", "head")
        assert code == 0, output

    def head(self) -> str:
        code, output = self.command("-m", "alembic", "heads")
        assert code == 0, output
        return output.split()[0]

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
        result = run_tool(
            "pytest", "-q", "-p", "no:cacheprovider", *paths, cwd=self.root, env=self.env
        )
        return result.returncode, f"{result.stdout}\n{result.stderr}"


@contextmanager
def project_with_database(root: Path) -> Iterator[Project]:
    """A rendered project and a development database of its own, dropped afterwards."""
    server = make_url(libpq(database_server_url()))
    name = f"dev_{root.parent.name}_{root.name}".replace("-", "_")[:63]
    with psycopg.connect(libpq(server), autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
        try:
            yield Project(root, libpq(server.set(database=name)))
        finally:
            admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')

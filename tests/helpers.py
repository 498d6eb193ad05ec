"""Helpers shared by the template's tests: the variants and how to run tools in a project."""

import os
import re
import subprocess
import textwrap
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import psycopg
import yaml
from pytest_copie.plugin import Result
from sqlalchemy import URL, make_url

from bench.user_runs import user_environment, uv_run

# Answers of the variants the suite renders: an orthogonal array over primary_key x db_driver x
# include_example (every pair of values meets once), spread over every Python and PostgreSQL
# version, and the longest names the validators allow. Each variant runs on the Python it
# targets, in an environment of its own (bench/user_runs.py).
VARIANTS: dict[str, dict[str, str | bool]] = {
    "defaults": {},  # uuid, psycopg, example, Python 3.12, PostgreSQL 17
    "uuid-asyncpg-bare": {
        "primary_key": "uuid",
        "db_driver": "asyncpg",
        "include_example": False,
        "python_version": "3.11",
        "postgres_version": "16",
    },
    "identity-psycopg-bare": {
        "primary_key": "identity",
        "db_driver": "psycopg",
        "include_example": False,
        "python_version": "3.13",
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
DRIVERS = ("psycopg", "asyncpg")
DEFAULT_TEST_DATABASE_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
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


def database_server_url() -> str:
    return os.environ.get("TEST_DATABASE_URL", DEFAULT_TEST_DATABASE_URL)


def libpq(url: str | URL) -> str:
    """A SQLAlchemy URL (`postgresql+asyncpg://...`) as the plain one psycopg.connect takes."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def output(result: subprocess.CompletedProcess[str]) -> str:
    return f"{result.stdout}\n{result.stderr}"


def assert_suite_passed(result: subprocess.CompletedProcess[str]) -> None:
    """A generated suite ran tests and all of them passed."""
    assert result.returncode == 0, output(result)
    summary = result.stdout.strip().splitlines()[-1]
    assert re.fullmatch(r"=* ?\d+ passed in [\d.]+s( \(.*\))? ?=*", summary), output(result)


def answers(project: Path) -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((project / ".copier-answers.yml").read_text())
    return loaded


def readme_commands(project: Path) -> list[str]:
    """The commands of the README's first code block, without their comments."""
    block = re.search(r"```sh\n(.*?)```", (project / "README.md").read_text(), re.DOTALL)
    assert block, "the README opens with a ```sh block of commands"
    return [line.split("#")[0].strip() for line in block[1].splitlines() if line.strip()]


def suite_env() -> dict[str, str]:
    """A user's environment for running a generated suite against the tests' server."""
    return user_environment(TEST_DATABASE_URL=database_server_url())


def embedded_env(**variables: str) -> dict[str, str]:
    """A user's environment that names no server: the project uses its embedded PostgreSQL."""
    env = user_environment(**variables)
    for name in ("DATABASE_URL", "TEST_DATABASE_URL"):
        env.pop(name, None)
    return env


def variant_env(project: Path) -> dict[str, str]:
    """The variant answering PostgreSQL 18 runs on the embedded server (18), the others on the
    tests' server: two major versions in every run."""
    return embedded_env() if answers(project)["postgres_version"] == "18" else suite_env()


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
    """A rendered project, driven the way its user would drive it: `uv run ...` inside it."""

    def __init__(self, root: Path, database_url: str) -> None:
        self.root = root
        (package,) = (root / "src").iterdir()
        self.package = package.name
        self.driver: str = answers(root)["db_driver"]
        self.env = user_environment(
            DATABASE_URL=database_url, TEST_DATABASE_URL=database_server_url()
        )

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
    name = f"dev_{root.parent.name}_{root.name}".replace("-", "_")[:63]
    with psycopg.connect(libpq(server), autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
        try:
            yield Project(root, libpq(server.set(database=name)))
        finally:
            admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')

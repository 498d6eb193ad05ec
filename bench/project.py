"""The project the benchmark measures: the working tree's template rendered with its defaults,
with a scratch database migrated to head. The generated package is imported in-process."""

import importlib.util
import os
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

import copier
import psycopg
from sqlalchemy import URL
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.support.projects import TEMPLATE_ROOT
from tests.support.servers import libpq, server_url


@dataclass(frozen=True)
class BenchProject:
    root: Path
    database_url: URL  # postgresql+<driver>://... of the scratch database
    copy_seconds: float

    def env(self, driver: str = "psycopg") -> dict[str, str]:
        url = self.database_url.set(drivername=f"postgresql+{driver}")
        return {
            **os.environ,
            "DATABASE_URL": url.render_as_string(hide_password=False),
            "PYTHONPATH": str(self.root / "src"),
        }


@contextmanager
def scratch_database(server: URL, env: dict[str, str], project_root: Path) -> Iterator[URL]:
    """A database of its own on `server`, migrated to head with the project's Alembic."""
    name = f"bench_{uuid.uuid4().hex[:12]}"
    url = server.set(database=name)
    with psycopg.connect(libpq(server), autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
        try:
            database_url = url.set(drivername="postgresql+psycopg")
            subprocess.run(
                [sys.executable, "-m", "alembic", "upgrade", "head"],
                cwd=project_root,
                env={**env, "DATABASE_URL": database_url.render_as_string(hide_password=False)},
                check=True,
                capture_output=True,
            )
            yield url
        finally:
            admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')


@contextmanager
def rendered_project(directory: Path) -> Iterator[BenchProject]:
    """Render the working tree's template with its defaults, and give it a database."""
    started = time.perf_counter()
    copier.run_copy(
        str(TEMPLATE_ROOT), directory, defaults=True, unsafe=True, vcs_ref="HEAD", quiet=True
    )
    copy_seconds = time.perf_counter() - started
    env = {**os.environ, "PYTHONPATH": str(directory / "src")}
    with scratch_database(server_url(), env, directory) as url:
        sys.path.insert(0, str(directory / "src"))  # the generated package, measured in-process
        yield BenchProject(directory, url, copy_seconds)


@asynccontextmanager
async def scratch_engine(project: BenchProject, **settings: int) -> AsyncIterator[AsyncEngine]:
    """The generated engine on a database of its own, migrated to head, dropped afterwards."""
    from my_service.db.engine import create_engine
    from my_service.settings import DatabaseSettings

    with scratch_database(server_url(), project.env(), project.root) as url:
        rendered = url.set(drivername="postgresql+psycopg").render_as_string(hide_password=False)
        engine = create_engine(DatabaseSettings(url=rendered, **settings))
        try:
            yield engine
        finally:
            await engine.dispose()


def generated_test_support(project: BenchProject) -> ModuleType:
    """The generated suite's `tests/support/database.py`, the fixtures' own code, loaded by path:
    the name `tests` is this repository's."""
    path = project.root / "tests" / "support" / "database.py"
    spec = importlib.util.spec_from_file_location("generated_test_support", path)
    assert spec is not None, path
    assert spec.loader is not None, path
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module

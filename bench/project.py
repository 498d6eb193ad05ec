"""A default project rendered into a scratch directory, with a scratch database migrated to head."""

import os
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from pathlib import Path

import copier
import psycopg
from sqlalchemy import URL, make_url
from sqlalchemy.ext.asyncio import AsyncEngine

TEMPLATE = Path(__file__).resolve().parents[1]
PACKAGE = "my_service"


@dataclass(frozen=True)
class Project:
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


def server_url() -> URL:
    return make_url(
        os.environ.get("TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
    )


def libpq(url: URL) -> str:
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


@contextmanager
def rendered_project(directory: Path) -> Iterator[Project]:
    """Render the working tree's template with its defaults, and give it a database."""
    started = time.perf_counter()
    copier.run_copy(
        str(TEMPLATE), directory, defaults=True, unsafe=True, vcs_ref="HEAD", quiet=True
    )
    copy_seconds = time.perf_counter() - started
    server = server_url()
    name = f"bench_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(libpq(server), autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
        try:
            project = Project(directory, server.set(database=name), copy_seconds)
            subprocess.run(
                [sys.executable, "-m", "alembic", "upgrade", "head"],
                cwd=directory,
                env=project.env(),
                check=True,
                capture_output=True,
            )
            # The generated package, and its tests' support code (fresh databases, fixtures).
            sys.path[:0] = [str(directory / "src"), str(directory)]
            yield project
        finally:
            admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')


@asynccontextmanager
async def scratch_engine(server: URL, **settings: int) -> AsyncIterator[AsyncEngine]:
    """The generated engine on a database of its own, migrated to head, dropped afterwards."""
    from alembic import command
    from my_service.db.engine import create_engine
    from my_service.settings import DatabaseSettings
    from tests.support.database import fresh_database, run_alembic

    async with fresh_database(server) as url:
        await run_alembic(url, lambda config: command.upgrade(config, "head"))
        engine = create_engine(
            DatabaseSettings(url=url.render_as_string(hide_password=False), **settings)
        )
        try:
            yield engine
        finally:
            await engine.dispose()

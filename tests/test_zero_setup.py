"""A machine with uv and nothing else: the README's service command serves the API on a
migrated embedded PostgreSQL, with DATABASE_URL and TEST_DATABASE_URL unset, and the machine's
own server sees none of the project's databases.

The README's test command on such a machine is run by tests/test_generated_projects.py: the
variant on PostgreSQL 18 runs its suite in the same environment (`zero_setup_env`).
"""

import os
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import psycopg
import pytest
from pytest_copie.plugin import Copie
from sqlalchemy import make_url

from .support.projects import rendered_project
from .support.running import embedded_env, output, readme_commands, uv_run, zero_setup_env
from .support.servers import databases_containing, free_port, libpq

PACKAGE = "zero_setup"


@pytest.fixture(scope="module")
def project_root(copie_session: Copie, template: Path) -> Iterator[Path]:
    result = copie_session.copy(extra_answers={"project_name": "Zero Setup"}, template_dir=template)
    root = rendered_project(result)
    yield root
    uv_run(root, "python", "-m", f"{PACKAGE}.db", "embedded", "--stop", env=embedded_env())


@pytest.fixture(scope="module")
def env() -> dict[str, str]:
    return zero_setup_env(UVICORN_PORT=str(free_port()))


def test_the_readme_service_command_serves_a_migrated_embedded_database(
    project_root: Path, env: dict[str, str]
) -> None:
    run_service, _ = readme_commands(project_root)
    service = subprocess.Popen(
        ["bash", "-c", run_service],
        cwd=project_root,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        ready = wait_until_ready(f"http://127.0.0.1:{env['UVICORN_PORT']}/health/ready")
    finally:
        os.killpg(service.pid, signal.SIGTERM)
        service.wait(timeout=30)
    assert ready.status_code == 200, ready.text

    shown = uv_run(project_root, "python", "-m", f"{PACKAGE}.db", "embedded", env=env)
    assert shown.returncode == 0, output(shown)
    (database_url,) = [
        line.removeprefix("DATABASE_URL=")
        for line in shown.stdout.splitlines()
        if line.startswith("DATABASE_URL=")
    ]
    with psycopg.connect(libpq(make_url(database_url))) as connection:
        version = connection.execute("SHOW server_version").fetchone()
        migrated = connection.execute("SELECT version_num FROM alembic_version").fetchone()
    assert version is not None
    assert version[0].startswith("18.")  # the wheel's, not the machine's server
    assert migrated == ("0004",)  # the example's newest revision: the chain's head
    assert databases_containing(PACKAGE) == []


def wait_until_ready(url: str, timeout: float = 180) -> httpx.Response:
    """The first answer of `url` (the first run installs the project and starts PostgreSQL)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            return httpx.get(url, timeout=5)
        except httpx.TransportError:
            time.sleep(0.2)
    raise AssertionError(f"{url} did not answer within {timeout} s")

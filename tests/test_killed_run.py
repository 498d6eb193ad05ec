"""A run of a generated suite killed mid-way (a developer's Ctrl-C, a CI job cancelled) leaves
the next run green: its abandoned database is reaped, never a live one, and so is the throwaway
embedded server of a run that had no TEST_DATABASE_URL.

The project has a name of its own: the databases these tests watch are then its runs' alone,
whatever other generated suites the template suite runs meanwhile (two tests at a time). It has
no example: what a killed run leaves (a run database, an embedded server) is the database core's,
and the first run is killed as soon as its database appears, before any test of the example.
"""

import os
import signal
import subprocess
import time
from pathlib import Path

import psycopg
import pytest
from pytest_copie.plugin import Copie

from .support.projects import rendered_project
from .support.running import assert_suite_passed, embedded_env, parallel_suite, suite_env
from .support.servers import databases_containing
from .support.variants import answers, run_database_prefix


@pytest.fixture(scope="module")
def killed_run_root(copie_session: Copie, template: Path) -> Path:
    result = copie_session.copy(
        extra_answers={"project_name": "Killed Run", "include_example": False},
        template_dir=template,
    )
    return rendered_project(result)


def start_the_suite(project: Path, env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        ["uv", "run", "pytest", "-q", "-p", "no:cacheprovider"],
        cwd=project,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )


def kill(run: subprocess.Popen[bytes]) -> None:
    os.killpg(run.pid, signal.SIGKILL)
    run.wait()


def test_a_run_killed_mid_way_leaves_the_next_run_green(killed_run_root: Path) -> None:
    project = killed_run_root
    prefix = run_database_prefix(answers(project)["package_name"])
    env = suite_env()
    before = set(databases_containing(prefix))
    first = start_the_suite(project, env)
    try:
        abandoned = wait_for_new_database(prefix, before)
    finally:
        kill(first)
    assert abandoned in databases_containing(prefix), "the killed run left its database"

    second = parallel_suite(project, env)

    assert_suite_passed(second)
    assert abandoned not in databases_containing(prefix), (
        "the next run reaps the killed run's database"
    )


def test_a_killed_run_s_embedded_server_is_stopped_and_deleted_by_the_next_run(
    killed_run_root: Path,
) -> None:
    project = killed_run_root
    env = embedded_env()
    first = start_the_suite(project, env)
    try:
        pgdata, postmaster = wait_for_a_test_database_on_the_embedded_server(project)
    finally:
        kill(first)
    assert process_exists(postmaster), "the killed run's server outlives it"

    second = parallel_suite(project, env)

    assert_suite_passed(second)
    assert not pgdata.exists()
    assert not process_exists(postmaster)
    assert list((project / ".postgres" / "test-runs").iterdir()) == []


def process_exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def wait_for_a_test_database_on_the_embedded_server(
    project: Path, timeout: float = 120
) -> tuple[Path, int]:
    """(data folder, server process) of the run's embedded server, once a test database is on it.

    `postmaster.pid`'s lines: pid, data folder, start time, port, socket folder, ..., status.
    """
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for postmaster_file in (project / ".postgres" / "test-runs").glob("*/postmaster.pid"):
            lines = postmaster_file.read_text().splitlines()
            if len(lines) >= 8 and lines[7].strip() == "ready":
                with psycopg.connect(host=lines[4], user="postgres", dbname="postgres") as server:
                    found = server.execute(
                        "SELECT count(*) FROM pg_database WHERE datname LIKE 'test_%'"
                    ).fetchone()
                if found and found[0]:
                    return postmaster_file.parent, int(lines[0])
        time.sleep(0.1)
    raise AssertionError(f"no test database on an embedded server within {timeout} s")


def wait_for_new_database(prefix: str, before: set[str], timeout: float = 60) -> str:
    """The name of the first run database (`prefix…`) that was not there `before`."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if new := set(databases_containing(prefix)) - before:
            return new.pop()
        time.sleep(0.05)
    raise AssertionError(f"no test database appeared within {timeout} s")

"""A run of a generated suite killed mid-way (a developer's Ctrl-C, a CI job cancelled) leaves
the next run green: its abandoned database is reaped, never a live one."""

import os
import signal
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import psycopg

from bench.user_runs import uv_run

from .helpers import assert_suite_passed, database_server_url, libpq, suite_env


def test_a_run_killed_mid_way_leaves_the_next_run_green(render: Callable[[str], Path]) -> None:
    project = render("defaults")
    env = suite_env()
    before = existing_test_databases()
    first = subprocess.Popen(
        ["uv", "run", "pytest", "-q", "-p", "no:cacheprovider"],
        cwd=project,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        abandoned = wait_for_new_database(before)
    finally:
        os.killpg(first.pid, signal.SIGKILL)
        first.wait()
    assert abandoned in existing_test_databases(), "the killed run left its database behind"

    second = uv_run(project, "pytest", "-q", "-p", "no:cacheprovider", env=env)

    assert_suite_passed(second)
    assert abandoned not in existing_test_databases(), (
        "the next run reaps the killed run's database"
    )


def existing_test_databases() -> set[str]:
    with psycopg.connect(libpq(database_server_url()), autocommit=True) as connection:
        rows = connection.execute("SELECT datname FROM pg_database WHERE datname LIKE 'test_%'")
        return {name for (name,) in rows}


def wait_for_new_database(before: set[str], timeout: float = 60) -> str:
    """The name of the first test database that was not there `before`."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if new := existing_test_databases() - before:
            return new.pop()
        time.sleep(0.05)
    raise AssertionError(f"no test database appeared within {timeout} s")

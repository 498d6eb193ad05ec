"""A newcomer's path: render, then run the test command from the project's README as written."""

import os
import re
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import psycopg
import pytest
from pytest_copie.plugin import Copie

from .helpers import database_server_url, libpq, rendered_project, run, run_tool

RUNNING_PYTHON = f"{sys.version_info.major}.{sys.version_info.minor}"


def readme_commands(project: Path) -> list[str]:
    """The commands of the README's first code block, without their comments."""
    block = re.search(r"```sh\n(.*?)```", (project / "README.md").read_text(), re.DOTALL)
    assert block, "the README opens with a ```sh block of commands"
    return [line.split("#")[0].strip() for line in block[1].splitlines() if line.strip()]


@pytest.mark.slow
def test_readme_test_command_installs_and_passes_in_a_fresh_environment(
    copie: Copie, template: Path
) -> None:
    # The README's commands rely on uv finding a Python the project accepts: the running one.
    result = copie.copy(
        extra_answers={"project_name": "Acme Orders", "python_version": RUNNING_PYTHON},
        template_dir=template,
    )
    project = rendered_project(result)
    run_service, run_tests = readme_commands(project)
    assert "uvicorn" in run_service
    assert run_tests == "uv run pytest"

    uv_directory = str(Path(shutil.which("uv") or sys.executable).parent)
    environment = {
        "TEST_DATABASE_URL": database_server_url(),
        "UV_PYTHON_DOWNLOADS": "never",
        "PATH": f"{uv_directory}{os.pathsep}{os.environ['PATH']}",
        "VIRTUAL_ENV": "",  # the project gets its own .venv, not this one
    }
    completed = run(["bash", "-c", run_tests], cwd=project, env=environment, timeout=900)

    assert completed.returncode == 0, f"{completed.stdout}\n{completed.stderr}"
    assert re.search(r"\b\d+ passed\b", completed.stdout)
    assert (project / ".venv").is_dir()

    # The task runner's targets, in the environment the README's command just built.
    for target in ("lint", "typecheck", "test"):
        made = run(["make", target], cwd=project, env=environment, timeout=900)
        assert made.returncode == 0, f"make {target}\n{made.stdout}\n{made.stderr}"


def test_a_run_killed_mid_way_leaves_the_next_run_green(render: Callable[[str], Path]) -> None:
    project = render("defaults")
    env = {**os.environ, "TEST_DATABASE_URL": database_server_url()}
    before = existing_test_databases()
    first = subprocess.Popen(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"],
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

    second = run_tool("pytest", "-q", "-p", "no:cacheprovider", cwd=project, env=env)

    assert second.returncode == 0, f"{second.stdout}\n{second.stderr}"
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

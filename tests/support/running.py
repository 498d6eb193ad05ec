"""Run a generated project the way its user does: `uv run ...` inside it.

uv reads the project's `.python-version` and builds `.venv` from the project's own
`pyproject.toml`, so a run uses the Python the project targets and the libraries it resolves,
never this repository's environment. uv's cache is the user's (shared between projects): after
the first install, making a project's environment costs seconds.
"""

import os
import re
import shutil
import subprocess
from pathlib import Path

from .servers import database_server_url, free_port
from .variants import answers

# The Pythons a project may target (copier.yml's `python_version` choices).
PYTHON_VERSIONS = ("3.11", "3.12", "3.13")
# A single test of a generated suite is given a minute (its pytest-timeout); a whole run less
# than this, so a hang is reported by the generated suite, naming its test, before this fires.
RUN_TIMEOUT = 900.0


def interpreter_directories() -> list[str]:
    """The `bin` folders of pyenv's installed Pythons of PYTHON_VERSIONS, newest patch first.

    pyenv puts only shims on PATH, and a shim for a version that is not pyenv's current one
    fails when uv runs it ("pyenv: python3.12: command not found"); the real folders do not.
    """
    versions = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv")) / "versions"
    directories = []
    for version in PYTHON_VERSIONS:
        installed = sorted(versions.glob(f"{version}.*/bin"), key=patch_number, reverse=True)
        directories += [str(path) for path in installed[:1]]
    return directories


def patch_number(directory: Path) -> int:
    patch = directory.parent.name.split(".")[2]
    return int(patch) if patch.isdigit() else -1


def user_environment(**variables: str) -> dict[str, str]:
    """This process's environment as a user's shell has it: uv and the Pythons on PATH, no
    virtual environment active, no interpreter download (none is possible here)."""
    uv = shutil.which("uv")
    assert uv is not None, "uv is not installed: `uv run pytest` installs it with the tests"
    path = [str(Path(uv).parent), *interpreter_directories(), os.environ.get("PATH", "")]
    inherited = {
        name: value
        for name, value in os.environ.items()
        if name not in {"VIRTUAL_ENV", "PYTHONPATH", "UV_PROJECT_ENVIRONMENT"}
    }
    return {
        **inherited,
        "PATH": os.pathsep.join(path),
        "UV_PYTHON_DOWNLOADS": "never",
        **variables,
    }


def run(
    command: list[str], cwd: Path, env: dict[str, str], timeout: float = RUN_TIMEOUT
) -> subprocess.CompletedProcess[str]:
    """Run a command in `env` (the whole environment); the output is kept for the assertion."""
    return subprocess.run(
        command,
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def uv_run(
    project: Path, *command: str, env: dict[str, str], timeout: float = RUN_TIMEOUT
) -> subprocess.CompletedProcess[str]:
    """`uv run <command>` in `project`.

    `--quiet` keeps uv's own notes (what it installed or compiled) out of the command's output.
    """
    return run(["uv", "run", "--quiet", *command], project, env, timeout)


def output(result: subprocess.CompletedProcess[str]) -> str:
    return f"{result.stdout}\n{result.stderr}"


def assert_suite_passed(result: subprocess.CompletedProcess[str]) -> None:
    """A generated suite ran tests and all of them passed."""
    assert result.returncode == 0, output(result)
    summary = result.stdout.strip().splitlines()[-1]
    assert re.fullmatch(r"=* ?\d+ passed in [\d.]+s( \(.*\))? ?=*", summary), output(result)


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


def zero_setup_env(**variables: str) -> dict[str, str]:
    """A machine with uv and nothing else: no server named, and libpq's own defaults (PGHOST,
    PGPORT) at a closed port, so anything that fell back to "the local server" would fail."""
    closed_port = free_port()  # free: nothing listens there
    return embedded_env(PGHOST="127.0.0.1", PGPORT=str(closed_port), **variables)


def on_embedded_server(project: Path) -> bool:
    """The variant answering PostgreSQL 18 runs on the embedded server (18), the others on the
    tests' server: two major versions in every run."""
    return bool(answers(project)["postgres_version"] == "18")


def variant_env(project: Path) -> dict[str, str]:
    return zero_setup_env() if on_embedded_server(project) else suite_env()


def parallel_suite(project: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """The project's suite under `-n 2`, its quicker documented form: every variant runs it
    beside the README's serial command (tests/test_generated_projects.py), and it alone proves
    a project still works after an update or a killed run."""
    return uv_run(project, "pytest", "-q", "-n", "2", env=env)

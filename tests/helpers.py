"""Helpers shared by the template's tests: the variants and how to run tools in a project."""

import os
import subprocess
import sys
from pathlib import Path

# Answers of the variants the suite renders: every primary_key x db_driver, the example domain
# on and off for each kind of key, the newest Python, the oldest PostgreSQL and the longest names.
VARIANTS: dict[str, dict[str, str | bool]] = {
    "defaults": {},
    "uuid-asyncpg-bare": {"primary_key": "uuid", "db_driver": "asyncpg", "include_example": False},
    "identity-psycopg-long-names": {
        "primary_key": "identity",
        "db_driver": "psycopg",
        "postgres_version": "15",
        "project_name": "Acme Enterprise Order Management Service",
    },
    "identity-asyncpg-bare": {
        "primary_key": "identity",
        "db_driver": "asyncpg",
        "include_example": False,
        "python_version": "3.13",
    },
}
DEFAULT_TEST_DATABASE_URL = "postgresql://postgres@127.0.0.1:5432/postgres"


def database_server_url() -> str:
    return os.environ.get("TEST_DATABASE_URL", DEFAULT_TEST_DATABASE_URL)


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

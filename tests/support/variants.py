"""The answers the template's tests render, and what a rendered project answered."""

from pathlib import Path
from typing import Any

import yaml

# The package every default render is called (copier.yml derives it from the project name).
PACKAGE = "my_service"
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
TEMPLATE_ROOT = Path(__file__).resolve().parents[1]


def run_database_prefix(package: str) -> str:
    """How a generated suite names the databases of its runs (its tests/support/database.py)."""
    return f"test_{package[:24]}_"


def answers(project: Path) -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((project / ".copier-answers.yml").read_text())
    return loaded

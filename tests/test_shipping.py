"""Each variant is ready to push and deploy: container, compose, CI workflow, task runner.

No Docker engine runs on these machines, so the container files are checked as files (parsed,
and what matters in them asserted); the Makefile's lint and typecheck targets really run in
test_generated_projects.py.
"""

import re
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from .helpers import VARIANTS, answers, readme_commands, rendered_files

MAKE_TARGETS = (
    "install",
    "dev",
    "test",
    "lint",
    "fmt",
    "typecheck",
    "migrate",
    "migration",
    "doctor",
)


@pytest.fixture(scope="module", params=list(VARIANTS))
def project(request: pytest.FixtureRequest, render: Callable[[str], Path]) -> Path:
    return render(request.param)


def test_compose_runs_postgres_then_migrations_then_the_api(project: Path) -> None:
    compose = yaml.safe_load((project / "compose.yaml").read_text())
    services = compose["services"]

    assert services["db"]["image"] == f"postgres:{answers(project)['postgres_version']}"
    assert "pg_isready" in " ".join(services["db"]["healthcheck"]["test"])
    assert "db-data" in compose["volumes"]
    assert services["migrate"]["command"] == ["alembic", "upgrade", "head"]
    assert services["migrate"]["depends_on"]["db"]["condition"] == "service_healthy"
    assert services["api"]["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
    assert "DATABASE_URL" in services["api"]["environment"]


def test_ci_workflow_tests_against_a_postgres_service_with_the_readme_command(
    project: Path,
) -> None:
    workflow = yaml.safe_load((project / ".github" / "workflows" / "ci.yml").read_text())
    job = workflow["jobs"]["test"]
    commands = [step.get("run") for step in job["steps"]]

    postgres = job["services"]["postgres"]
    assert postgres["image"] == f"postgres:{answers(project)['postgres_version']}"
    assert "--health-cmd" in postgres["options"]
    assert readme_commands(project)[1] in commands
    assert {"uv run ruff check .", "uv run ruff format --check .", "uv run mypy"} <= set(commands)
    assert "uv sync --locked" in commands


def test_dockerfile_builds_in_stages_and_runs_as_a_non_root_user(project: Path) -> None:
    dockerfile = (project / "Dockerfile").read_text()
    instructions = [
        line.split()[0] for line in dockerfile.splitlines() if re.match(r"^[A-Z]+ ", line)
    ]
    users = re.findall(r"^USER (\S+)$", dockerfile, re.MULTILINE)

    assert instructions.count("FROM") == 2
    assert users
    assert users[-1] not in ("root", "0")
    assert re.search(r"^HEALTHCHECK .*\n.*/health/live", dockerfile, re.MULTILINE)
    assert "python:${PYTHON_VERSION}-slim" in dockerfile
    assert f"ARG PYTHON_VERSION={answers(project)['python_version']}" in dockerfile
    assert ".venv" in (project / ".dockerignore").read_text().split()
    # The image installs what the committed lock pins, nothing resolved on the day.
    assert re.search(r"^COPY pyproject\.toml uv\.lock ", dockerfile, re.MULTILINE)
    syncs = re.findall(r"uv sync [^\n]*", dockerfile)
    assert syncs
    assert all("--locked" in sync for sync in syncs), syncs


def test_makefile_has_every_documented_target(project: Path) -> None:
    makefile = (project / "Makefile").read_text()
    targets = re.findall(r"^([a-z]+):", makefile, re.MULTILINE)

    assert set(MAKE_TARGETS) <= set(targets)
    # Each target is named in the first cell of a row of the README's table, as `name`,
    # `lint` / `fmt` or `migration m="..."`.
    first_cells = re.findall(r"^\| ([^|]+) \|", (project / "README.md").read_text(), re.M)
    documented = {name for cell in first_cells for name in re.findall(r"`([a-z]+)[` ]", cell)}
    assert set(MAKE_TARGETS) <= documented


def test_pre_commit_config_guards_conflicts_and_runs_the_linters(project: Path) -> None:
    config = yaml.safe_load((project / ".pre-commit-config.yaml").read_text())
    hooks = {hook["id"] for repo in config["repos"] for hook in repo["hooks"]}

    assert {
        "no-merge-conflict-markers",
        "no-rej-files",
        "end-of-file-fixer",
        "trailing-whitespace",
        "ruff-check",
        "ruff-format",
        "mypy",
    } <= hooks


def test_files_pass_the_whitespace_hooks_as_rendered(project: Path) -> None:
    """What end-of-file-fixer and trailing-whitespace would change, found without running them."""
    offenders = []
    for path in rendered_files(project):
        if path.stat().st_size:
            text = path.read_text()
            loose_end = not text.endswith("\n") or text.endswith("\n\n")
            if loose_end or re.search(r"[ \t]+$", text, re.MULTILINE):
                offenders.append(str(path.relative_to(project)))
    assert offenders == []


def test_env_files_with_secrets_are_never_committed_or_shipped(project: Path) -> None:
    assert ".env" in (project / ".gitignore").read_text().split()
    assert ".env" in (project / ".dockerignore").read_text().split()
    assert not (project / ".env").exists()

"""Each variant is ready to push and deploy: container, compose, CI workflow, task runner.

No Docker engine runs on these machines, so the container files are checked as files (parsed,
and what matters in them asserted); the Makefile's lint and typecheck targets really run in
test_generated_projects.py.
"""

import re
from pathlib import Path

import yaml

from .support.projects import rendered_files
from .support.running import readme_commands
from .support.variants import answers

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


def test_compose_runs_postgres_then_migrations_then_the_api(variant_root: Path) -> None:
    compose = yaml.safe_load((variant_root / "compose.yaml").read_text())
    services = compose["services"]

    assert services["db"]["image"] == f"postgres:{answers(variant_root)['postgres_version']}"
    assert "pg_isready" in " ".join(services["db"]["healthcheck"]["test"])
    assert "db-data" in compose["volumes"]
    assert services["migrate"]["command"] == ["alembic", "upgrade", "head"]
    assert services["migrate"]["depends_on"]["db"]["condition"] == "service_healthy"
    assert services["api"]["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
    assert "DATABASE_URL" in services["api"]["environment"]


def test_compose_runs_the_example_queues_worker_with_time_to_stop(variant_root: Path) -> None:
    services = yaml.safe_load((variant_root / "compose.yaml").read_text())["services"]
    if not answers(variant_root)["include_example"]:
        assert "worker" not in services
        return
    worker = services["worker"]

    # The command the generated tests run as real processes (tests/work_queue/workers.py).
    package = answers(variant_root)["package_name"]
    assert worker["command"] == ["python", "-m", f"{package}.jobs", "worker"]
    assert worker["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
    # Longer than the worker's own grace period (QUEUE_GRACE_SECONDS, 20 s): Docker's SIGKILL
    # must not cut the graceful stop short.
    assert worker["stop_grace_period"] == "30s"
    assert worker["healthcheck"] == {"disable": True}


def test_ci_workflow_tests_against_a_postgres_service_with_the_readme_command(
    variant_root: Path,
) -> None:
    workflow = yaml.safe_load((variant_root / ".github" / "workflows" / "ci.yml").read_text())
    job = workflow["jobs"]["test"]
    commands = [step.get("run") for step in job["steps"]]

    postgres = job["services"]["postgres"]
    assert postgres["image"] == f"postgres:{answers(variant_root)['postgres_version']}"
    assert "--health-cmd" in postgres["options"]
    assert readme_commands(variant_root)[1] in commands
    assert {"uv run ruff check .", "uv run ruff format --check .", "uv run mypy"} <= set(commands)
    assert "uv sync --locked" in commands


def test_dockerfile_builds_in_stages_and_runs_as_a_non_root_user(variant_root: Path) -> None:
    dockerfile = (variant_root / "Dockerfile").read_text()
    instructions = [
        line.split()[0] for line in dockerfile.splitlines() if re.match(r"^[A-Z]+ ", line)
    ]
    users = re.findall(r"^USER (\S+)$", dockerfile, re.MULTILINE)

    assert instructions.count("FROM") == 2
    assert users
    assert users[-1] not in ("root", "0")
    assert re.search(r"^HEALTHCHECK .*\n.*/health/live", dockerfile, re.MULTILINE)
    assert "python:${PYTHON_VERSION}-slim" in dockerfile
    assert f"ARG PYTHON_VERSION={answers(variant_root)['python_version']}" in dockerfile
    assert ".venv" in (variant_root / ".dockerignore").read_text().split()
    # The image installs what the committed lock pins, nothing resolved on the day.
    assert re.search(r"^COPY pyproject\.toml uv\.lock ", dockerfile, re.MULTILINE)
    syncs = re.findall(r"uv sync [^\n]*", dockerfile)
    assert syncs
    assert all("--locked" in sync for sync in syncs), syncs


def test_makefile_has_every_documented_target(variant_root: Path) -> None:
    makefile = (variant_root / "Makefile").read_text()
    targets = re.findall(r"^([a-z]+):", makefile, re.MULTILINE)

    assert set(MAKE_TARGETS) <= set(targets)
    # Each target is named in the first cell of a row of the README's table, as `name`,
    # `lint` / `fmt` or `migration m="..."`.
    first_cells = re.findall(r"^\| ([^|]+) \|", (variant_root / "README.md").read_text(), re.M)
    documented = {name for cell in first_cells for name in re.findall(r"`([a-z]+)[` ]", cell)}
    assert set(MAKE_TARGETS) <= documented


def test_pre_commit_config_guards_conflicts_and_runs_the_linters(variant_root: Path) -> None:
    config = yaml.safe_load((variant_root / ".pre-commit-config.yaml").read_text())
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


def test_files_pass_the_whitespace_hooks_as_rendered(variant_root: Path) -> None:
    """What end-of-file-fixer and trailing-whitespace would change, found without running them."""
    offenders = []
    for path in rendered_files(variant_root):
        if path.stat().st_size:
            text = path.read_text()
            loose_end = not text.endswith("\n") or text.endswith("\n\n")
            if loose_end or re.search(r"[ \t]+$", text, re.MULTILINE):
                offenders.append(str(path.relative_to(variant_root)))
    assert offenders == []


def test_env_files_with_secrets_are_never_committed_or_shipped(variant_root: Path) -> None:
    assert ".env" in (variant_root / ".gitignore").read_text().split()
    assert ".env" in (variant_root / ".dockerignore").read_text().split()
    assert not (variant_root / ".env").exists()

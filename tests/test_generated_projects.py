"""Each variant renders cleanly, and its own lint, type check and test suite pass as its user
runs them: on the Python it targets, in the environment its pyproject.toml resolves, with the
README's test command (serially) and in parallel. The variant answering PostgreSQL 18 runs
its suite on the embedded PostgreSQL 18, the others on the tests' server (15 here)."""

import re
from collections.abc import Callable
from pathlib import Path

import pytest

from bench.user_runs import run, uv_run

from .helpers import (
    VARIANTS,
    answers,
    assert_suite_passed,
    output,
    readme_commands,
    rendered_files,
    suite_env,
    variant_env,
)

# Jinja's openers as a template writes them: `{{ name`, `{% if`, `{# note`. (A Python dict
# literal may well end in `}}`, so closers prove nothing.)
JINJA_LEFTOVER = re.compile(r"\{\{-?\s*\w|\{%-?\s|\{#-?\s")


@pytest.fixture(scope="module", params=list(VARIANTS))
def project(request: pytest.FixtureRequest, render: Callable[[str], Path]) -> Path:
    return render(request.param)


def test_no_template_syntax_is_left_in_the_project(project: Path) -> None:
    leftovers = [
        str(path.relative_to(project))
        for path in rendered_files(project)
        if path.suffix == ".jinja" or JINJA_LEFTOVER.search(path.read_text())
    ]
    assert leftovers == []


def test_it_targets_the_python_of_its_answers(project: Path) -> None:
    """`uv run` picks the interpreter the answers name, the one its CI and image use."""
    wanted = answers(project)["python_version"]
    result = uv_run(project, "python", "--version", env=suite_env())

    assert result.returncode == 0, output(result)
    assert result.stdout.startswith(f"Python {wanted}."), output(result)


def test_make_lint_is_clean(project: Path) -> None:
    """`ruff check` and `ruff format --check`, as the Makefile and the CI workflow run them."""
    result = run(["make", "lint"], cwd=project, env=suite_env())
    assert result.returncode == 0, output(result)


def test_make_typecheck_is_strict_clean(project: Path) -> None:
    """`mypy --strict` over the package, the tests, the migration env and every revision."""
    result = run(["make", "typecheck"], cwd=project, env=suite_env())
    assert result.returncode == 0, output(result)
    assert re.search(r"Success: no issues found in \d+ source files", result.stdout)


def test_the_readme_test_command_passes_serially(project: Path) -> None:
    _, run_tests = readme_commands(project)
    result = run(["bash", "-c", run_tests], cwd=project, env=variant_env(project))
    assert_suite_passed(result)


def test_the_suite_passes_in_parallel(project: Path) -> None:
    result = uv_run(project, "pytest", "-n", "2", env=variant_env(project))
    assert_suite_passed(result)


def test_the_lock_its_first_run_wrote_installs_as_ci_and_the_image_do(project: Path) -> None:
    """`uv sync --locked`, as the CI workflow and the Dockerfile run it, accepts the lock."""
    assert (project / "uv.lock").is_file()
    # The image's install, then CI's (which also brings the development tools back).
    for command in (["uv", "sync", "--locked", "--no-dev"], ["uv", "sync", "--locked"]):
        result = run(command, cwd=project, env=suite_env())
        assert result.returncode == 0, output(result)


def test_a_project_without_the_example_has_no_trace_of_it(render: Callable[[str], Path]) -> None:
    project = render("uuid-asyncpg-bare")
    package = project / "src" / "my_service"

    assert not (package / "users").exists()
    assert not (package / "jobs").exists()
    assert not (project / "tests" / "work_queue").exists()
    assert [path.name for path in (project / "migrations" / "versions").iterdir()] == [
        "2026_01_01_0000-0001_install_touch_updated_at.py"
    ]
    python = "\n".join(path.read_text() for path in rendered_files(project) if path.suffix == ".py")
    example_imports = re.findall(
        r"^\s*(?:from|import) \S*\b(?:users|jobs|pwdlib)\b.*$", python, re.M
    )
    assert example_imports == []
    assert (package / "routes.py").read_text().rstrip().endswith("router = APIRouter()")
    assert "pwdlib" not in (project / "pyproject.toml").read_text()

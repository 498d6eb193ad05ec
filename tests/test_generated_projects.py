"""Each variant renders cleanly and its own lint, type check and test suite pass."""

import re
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from .helpers import VARIANTS, database_server_url, rendered_files, run_tool

# Jinja's openers as a template writes them: `{{ name`, `{% if`, `{# note`. (A Python dict
# literal may well end in `}}`, so closers prove nothing.)
JINJA_LEFTOVER = re.compile(r"\{\{-?\s*\w|\{%-?\s|\{#-?\s")


@pytest.fixture(scope="module", params=list(VARIANTS))
def project(request: pytest.FixtureRequest, render: Callable[[str], Path]) -> Path:
    return render(request.param)


def output(result: subprocess.CompletedProcess[str]) -> str:
    return f"{result.stdout}\n{result.stderr}"


def test_no_template_syntax_is_left_in_the_project(project: Path) -> None:
    leftovers = [
        str(path.relative_to(project))
        for path in rendered_files(project)
        if path.suffix == ".jinja" or JINJA_LEFTOVER.search(path.read_text())
    ]
    assert leftovers == []


def test_ruff_check_is_clean(project: Path) -> None:
    result = run_tool("ruff", "check", "--no-cache", ".", cwd=project)
    assert result.returncode == 0, output(result)


def test_ruff_format_is_clean(project: Path) -> None:
    result = run_tool("ruff", "format", "--check", "--no-cache", ".", cwd=project)
    assert result.returncode == 0, output(result)


@pytest.fixture(scope="session")
def mypy_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One cache for all variants: the libraries' stubs are analysed once, not per variant.

    mypy keys its cache on each file's content, so a variant never reuses another's results.
    """
    return tmp_path_factory.mktemp("mypy-cache")


def test_mypy_strict_is_clean(project: Path, mypy_cache: Path) -> None:
    # The project's pyproject.toml sets `strict = true` and the packages to check.
    result = run_tool("mypy", "--cache-dir", str(mypy_cache), cwd=project)
    assert result.returncode == 0, output(result)


def test_generated_suite_passes_in_parallel_against_postgresql(project: Path) -> None:
    result = run_tool(
        "pytest",
        "-q",
        "-p",
        "no:cacheprovider",
        "-n",
        "2",
        cwd=project,
        env={"TEST_DATABASE_URL": database_server_url()},
    )
    assert result.returncode == 0, output(result)
    assert re.search(r"\b\d+ passed\b", result.stdout), output(result)


def test_a_project_without_the_example_has_no_trace_of_it(render: Callable[[str], Path]) -> None:
    project = render("uuid-asyncpg-bare")
    package = project / "src" / "my_service"

    assert not (package / "users").exists()
    assert not (package / "jobs").exists()
    assert not (project / "tests" / "work_queue").exists()
    assert [path.name for path in (project / "migrations" / "versions").iterdir()] == [
        "2026_01_01_0000-0001_install_touch_updated_at.py"
    ]
    python = "\n".join(path.read_text() for path in project.rglob("*.py"))
    example_imports = re.findall(
        r"^\s*(?:from|import) \S*\b(?:users|jobs|pwdlib)\b.*$", python, re.M
    )
    assert example_imports == []
    assert (package / "routes.py").read_text().rstrip().endswith("router = APIRouter()")
    assert "pwdlib" not in (project / "pyproject.toml").read_text()

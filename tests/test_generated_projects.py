"""Each variant renders cleanly, and its own lint, type check and test suite pass as its user
runs them: on the Python it targets, in the environment its pyproject.toml resolves, with the
README's test command (serially) and in parallel. The variant answering PostgreSQL 18 runs
its suite on the embedded PostgreSQL 18 of a machine with uv and nothing else
(`zero_setup_env`), the others on the tests' server (15 here)."""

import ast
import re
from collections.abc import Callable
from pathlib import Path

from .support.projects import rendered_files
from .support.running import (
    assert_suite_passed,
    on_embedded_server,
    output,
    parallel_suite,
    readme_commands,
    run,
    suite_env,
    uv_run,
    variant_env,
)
from .support.servers import RUN_DATABASE_OWNER_DIGITS, abandoned_run_databases
from .support.variants import PACKAGE, answers, run_database_prefix

# Jinja's openers as a template writes them: `{{ name`, `{% if`, `{# note`. (A Python dict
# literal may well end in `}}`, so closers prove nothing.)
JINJA_LEFTOVER = re.compile(r"\{\{-?\s*\w|\{%-?\s|\{#-?\s")


def test_no_template_syntax_is_left_in_the_project(variant_root: Path) -> None:
    leftovers = [
        str(path.relative_to(variant_root))
        for path in rendered_files(variant_root)
        if path.suffix == ".jinja" or JINJA_LEFTOVER.search(path.read_text())
    ]
    assert leftovers == []


def test_it_targets_the_python_of_its_answers(variant_root: Path) -> None:
    """`uv run` picks the interpreter the answers name, the one its CI and image use."""
    wanted = answers(variant_root)["python_version"]
    result = uv_run(variant_root, "python", "--version", env=suite_env())

    assert result.returncode == 0, output(result)
    assert result.stdout.startswith(f"Python {wanted}."), output(result)


def test_make_lint_is_clean(variant_root: Path) -> None:
    """`ruff check` and `ruff format --check`, as the Makefile and the CI workflow run them."""
    result = run(["make", "lint"], cwd=variant_root, env=suite_env())
    assert result.returncode == 0, output(result)


def test_make_typecheck_is_strict_clean(variant_root: Path) -> None:
    """`mypy --strict` over the package, the tests, the migration env and every revision."""
    result = run(["make", "typecheck"], cwd=variant_root, env=suite_env())
    assert result.returncode == 0, output(result)
    assert re.search(r"Success: no issues found in \d+ source files", result.stdout)


def test_the_readme_test_command_passes_serially(variant_root: Path) -> None:
    _, run_tests = readme_commands(variant_root)
    result = run(["bash", "-c", run_tests], cwd=variant_root, env=variant_env(variant_root))
    assert_suite_passed(result)
    assert_the_run_left_nothing_behind(variant_root)


def test_the_suite_passes_in_parallel(variant_root: Path) -> None:
    result = parallel_suite(variant_root, variant_env(variant_root))
    assert_suite_passed(result)
    assert_the_run_left_nothing_behind(variant_root)


def assert_the_run_left_nothing_behind(project: Path) -> None:
    """A finished run has dropped its databases, and deleted its throwaway embedded server."""
    package = answers(project)["package_name"]
    assert abandoned_run_databases(run_database_prefix(package)) == []
    if on_embedded_server(project):
        assert list((project / ".postgres" / "test-runs").iterdir()) == []


def test_the_leftover_check_looks_for_the_names_the_suite_gives(variant_root: Path) -> None:
    """`abandoned_run_databases` must look for the run databases the generated suite makes
    (its tests/support/database.py), or "the run left nothing behind" would hold for anything."""
    support = ast.parse((variant_root / "tests" / "support" / "database.py").read_text())
    constants = {
        node.targets[0].id: node.value
        for node in support.body
        if isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name)
    }
    package = answers(variant_root)["package_name"]

    prefix = ast.literal_eval(constants["DATABASE_PREFIX"])
    assert f"{prefix}_" == run_database_prefix(package)
    assert ast.literal_eval(constants["OWNER_HEX_DIGITS"]) == RUN_DATABASE_OWNER_DIGITS


def test_the_lock_its_first_run_wrote_installs_as_ci_and_the_image_do(variant_root: Path) -> None:
    """`uv sync --locked`, as the CI workflow and the Dockerfile run it, accepts the lock."""
    # The first `uv run` writes the lock; under xdist this test may come first for its variant.
    first_use = run(["uv", "run", "python", "--version"], cwd=variant_root, env=suite_env())
    assert first_use.returncode == 0, output(first_use)
    assert (variant_root / "uv.lock").is_file()
    # The image's install, then CI's (which also brings the development tools back).
    for command in (["uv", "sync", "--locked", "--no-dev"], ["uv", "sync", "--locked"]):
        result = run(command, cwd=variant_root, env=suite_env())
        assert result.returncode == 0, output(result)


def test_a_project_without_the_example_has_no_trace_of_it(render: Callable[[str], Path]) -> None:
    variant_root = render("uuid-asyncpg-bare")
    package = variant_root / "src" / PACKAGE

    assert not (package / "users").exists()
    assert not (package / "jobs").exists()
    assert not (variant_root / "tests" / "work_queue").exists()
    assert [path.name for path in (variant_root / "migrations" / "versions").iterdir()] == [
        "2026_01_01_0000-0001_install_touch_updated_at.py"
    ]
    python = "\n".join(
        path.read_text() for path in rendered_files(variant_root) if path.suffix == ".py"
    )
    example_imports = re.findall(
        r"^\s*(?:from|import) \S*\b(?:users|jobs|pwdlib)\b.*$", python, re.M
    )
    assert example_imports == []
    assert (package / "routes.py").read_text().rstrip().endswith("router = APIRouter()")
    assert "pwdlib" not in (variant_root / "pyproject.toml").read_text()

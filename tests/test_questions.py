"""Bad answers fail with a message that names the problem, and write nothing."""

from pathlib import Path

import pytest
from pytest_copie.plugin import Copie

from .support.running import assert_suite_passed, suite_env, uv_run


@pytest.mark.parametrize(
    ("answers", "message"),
    [
        ({"project_name": "   "}, "project_name must not be empty"),
        ({"project_name": "x" * 81}, "project_name must be at most 80 characters"),
        ({"project_name": 'Say "hi"'}, "project_name must not contain control characters"),
        ({"project_slug": "Orders_API"}, "project_slug must be lowercase letters and digits"),
        ({"project_slug": "orders--api"}, "project_slug must be lowercase letters and digits"),
        ({"project_slug": "-orders"}, "project_slug must be lowercase letters and digits"),
        ({"package_name": "9lives"}, "package_name must be a lowercase Python identifier"),
        ({"package_name": "Orders"}, "package_name must be a lowercase Python identifier"),
        ({"package_name": "class"}, "package_name 'class' is a Python keyword"),
        ({"package_name": "match"}, "package_name 'match' is a Python keyword"),
        ({"package_name": "psycopg"}, "would shadow the module 'psycopg'"),
        ({"package_name": "json"}, "would shadow the module 'json'"),
        ({"package_name": "fastapi"}, "would shadow the module 'fastapi'"),
        ({"package_name": "tests"}, "would shadow the module 'tests'"),
        ({"package_name": "sqlalchemy"}, "would shadow the module 'sqlalchemy'"),
        ({"description": "a `backtick`"}, "description must be one line"),
        ({"author_name": ""}, "author_name must not be empty"),
        ({"author_email": "not-an-address"}, "author_email must be an address"),
        ({"author_email": "a@b"}, "author_email must be an address"),
        # Hostile values: path separators, parent directories, shell, look-alikes, length.
        ({"project_slug": "../evil"}, "project_slug must be lowercase letters and digits"),
        ({"project_slug": "a/b"}, "project_slug must be lowercase letters and digits"),
        ({"project_slug": "x; rm -rf ~"}, "project_slug must be lowercase letters and digits"),
        ({"project_slug": "\u0430cme"}, "project_slug must be lowercase letters and digits"),
        ({"project_slug": "a" * 300}, "project_slug must be at most 50 characters"),
        ({"package_name": "..evil"}, "package_name must be a lowercase Python identifier"),
        ({"package_name": "os/path"}, "package_name must be a lowercase Python identifier"),
        ({"package_name": "\u0430cme"}, "package_name must be a lowercase Python identifier"),
        ({"package_name": "a" * 300}, "package_name must be at most 40 characters"),
        ({"project_name": "$(whoami)"}, "project_name must not contain control characters"),
        ({"project_name": "`id`"}, "project_name must not contain control characters"),
        ({"project_name": "a\nb"}, "project_name must not contain control characters"),
        ({"project_name": "x" * 300}, "project_name must be at most 80 characters"),
        ({"description": "line\nbreak"}, "description must be one line"),
        ({"author_email": "a@b.com; rm -rf ~"}, "author_email must be an address"),
    ],
    ids=lambda value: "-".join(value) if isinstance(value, dict) else None,
)
def test_rejects_a_bad_answer_with_its_message(
    copie: Copie, template: Path, answers: dict[str, str], message: str
) -> None:
    result = copie.copy(extra_answers=answers, template_dir=template)

    assert result.exit_code != 0
    question = next(iter(answers))
    assert f"Validation error for question '{question}'" in str(result.exception)
    assert message in str(result.exception)
    assert written_files(copie) == []


@pytest.mark.parametrize(
    ("question", "answer"),
    [("python_version", "3.10"), ("primary_key", "serial"), ("db_driver", "mysqlclient")],
)
def test_rejects_an_answer_outside_the_choices(
    copie: Copie, template: Path, question: str, answer: str
) -> None:
    result = copie.copy(extra_answers={question: answer}, template_dir=template)

    assert result.exit_code != 0
    assert question in str(result.exception)
    assert answer in str(result.exception)
    assert written_files(copie) == []


def test_derives_slug_and_package_from_the_project_name(copie: Copie, template: Path) -> None:
    result = copie.copy(
        extra_answers={"project_name": "  Acme Orders: API v2! "}, template_dir=template
    )

    assert result.exit_code == 0, result.exception
    assert result.answers["project_slug"] == "acme-orders-api-v2"
    assert result.answers["package_name"] == "acme_orders_api_v2"
    assert result.project_dir is not None
    assert (result.project_dir / "src" / "acme_orders_api_v2" / "main.py").is_file()


def written_files(copie: Copie) -> list[Path]:
    """Files under the test's directory: the destination and everything beside it."""
    return [path for path in copie.test_dir.parent.rglob("*") if path.is_file()]


def test_rendering_twice_gives_identical_trees(copie: Copie, template: Path) -> None:
    first = copie.copy(template_dir=template)
    second = copie.copy(template_dir=template)

    assert first.project_dir is not None
    assert second.project_dir is not None
    assert tree(first.project_dir) == tree(second.project_dir)
    assert len(tree(first.project_dir)) > 20


def tree(root: Path) -> dict[str, bytes]:
    return {
        str(path.relative_to(root)): path.read_bytes() for path in root.rglob("*") if path.is_file()
    }


def test_sql_keywords_make_working_names(copie: Copie, template: Path) -> None:
    """`user` and `order` are reserved in SQL, not in Python: the project quotes what it must."""
    result = copie.copy(
        extra_answers={"project_slug": "order", "package_name": "user"}, template_dir=template
    )
    assert result.exit_code == 0, result.exception
    assert result.project_dir is not None

    # Its database names (`test_user_...`) and application_name (`order`), for real.
    suite = uv_run(
        result.project_dir,
        "pytest",
        "-q",
        "-p",
        "no:cacheprovider",
        "tests/migrations",
        "tests/db/test_engine.py",
        env=suite_env(),
    )
    assert_suite_passed(suite)

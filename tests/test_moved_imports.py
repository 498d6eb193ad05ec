"""hooks/moved_imports.py: the `copier update` migration that follows modules the template moved."""

import subprocess
import sys
from pathlib import Path

import pytest

from hooks.moved_imports import main, migrate, rewrite

PACKAGE = "my_service"


def rewritten(text: str, file_package: str = "my_service.orders") -> str:
    result = rewrite(text, PACKAGE, file_package)
    assert result.by_hand == []
    return result.text


def test_a_moved_module_is_imported_from_its_new_home() -> None:
    before = "from my_service.db.migration_helpers import (\n    attach,\n    detach,\n)\n"
    assert rewritten(before) == "from my_service.migration.helpers import attach, detach\n"


def test_the_names_of_a_split_module_go_each_to_its_own_home() -> None:
    before = "from my_service.db.pagination import CursorCodecDep, after as after_key\n"
    assert rewritten(before) == (
        "from my_service.web.dependencies import CursorCodecDep\n"
        "from my_service.pagination import after as after_key\n"
    )


def test_a_name_that_stayed_keeps_its_import() -> None:
    before = "from my_service.db.errors import sqlstate, DATABASE_UNAVAILABLE\n"
    assert rewritten(before) == (
        "from my_service.db.errors import sqlstate\n"
        "from my_service.web.errors import DATABASE_UNAVAILABLE\n"
    )


def test_relative_imports_stay_relative() -> None:
    before = "from ..db.dependencies import SessionDep, unit_of_work\nfrom . import service\n"
    assert rewritten(before, "my_service.orders") == (
        "from ..web.dependencies import SessionDep\nfrom ..db.session import unit_of_work\n"
        "from . import service\n"
    )
    top_level = "from . import health, models\n"
    assert rewritten(top_level, "my_service") == ("from .web import health\nfrom . import models\n")


def test_a_moved_module_bound_as_a_name_keeps_its_name() -> None:
    before = (
        "from my_service.db import migration_helpers as mh\nfrom my_service.db import embedded\n"
    )
    assert rewritten(before, "migrations.versions") == (
        "from my_service.migration import helpers as mh\n"
        "from my_service.operations import embedded\n"
    )
    assert rewritten("from my_service.db import migration_helpers\n") == (
        "from my_service.migration import helpers as migration_helpers\n"
    )


def test_indentation_and_a_trailing_comment_survive() -> None:
    before = "def f():\n    from ..db.doctor import run  # lazily: slow import\n    return run\n"
    assert rewritten(before) == (
        "def f():\n    from ..operations.doctor import run  # lazily: slow import\n    return run\n"
    )


def test_a_long_import_is_wrapped_the_way_ruff_formats_it() -> None:
    before = (
        "from my_service.db.conventions import check_conventions, load_exceptions, "
        "apply_exceptions, ConventionException\n"
    )
    assert rewritten(before) == (
        "from my_service.operations.conventions import (\n"
        "    check_conventions,\n    load_exceptions,\n    apply_exceptions,\n"
        "    ConventionException,\n)\n"
    )


@pytest.mark.parametrize(
    "untouched",
    [
        "from my_service.db.base import Base\nfrom my_service.db.mixins import Timestamps\n",
        "from my_service_extra.db.pagination import after\n",  # another package
        "from other.db.dependencies import SessionDep\n",
        "from .models import Invoice\n",
    ],
)
def test_what_did_not_move_is_left_byte_for_byte(untouched: str) -> None:
    result = rewrite(untouched, PACKAGE, "my_service.orders")
    assert (result.text, result.changed, result.by_hand) == (untouched, False, [])


def test_a_second_run_changes_nothing() -> None:
    once = rewritten("from ..db.pagination import CursorCodec, CursorCodecDep\n")
    assert rewrite(once, PACKAGE, "my_service.orders").changed is False


@pytest.mark.parametrize(
    ("code", "problem"),
    [
        ("from my_service.db import dependencies\n", "`dependencies` is a module whose names"),
        ("import my_service.db.doctor\n", "`import my_service.db.doctor` moved"),
        ("import os; from my_service.health import router\n", "shares its line"),
        ("def broken(:\n", "not valid Python"),
    ],
)
def test_what_cannot_be_rewritten_safely_is_named_for_a_person(code: str, problem: str) -> None:
    result = rewrite(code, PACKAGE, "my_service.orders")
    assert result.text == code
    assert len(result.by_hand) == 1
    assert problem in result.by_hand[0]


def test_a_project_is_rewritten_under_src_tests_and_migrations_only(tmp_path: Path) -> None:
    files = {
        "src/my_service/orders/router.py": "from ..db.dependencies import SessionDep\n",
        "tests/test_orders.py": "from my_service.db.pagination import CursorCodec\n",
        "migrations/versions/0003_orders.py": "from my_service.db import migration_helpers as mh\n",
        "scripts/seed.py": "from my_service.db.dependencies import unit_of_work\n",
    }
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)

    changed, by_hand = migrate(tmp_path, PACKAGE)

    assert sorted(str(path.relative_to(tmp_path)) for path in changed) == sorted(
        name for name in files if not name.startswith("scripts/")
    )
    assert by_hand == []
    assert (tmp_path / "src/my_service/orders/router.py").read_text() == (
        "from ..web.dependencies import SessionDep\n"
    )
    assert (tmp_path / "scripts/seed.py").read_text() == files["scripts/seed.py"]


def test_the_command_runs_in_the_project_and_refuses_a_bad_package_name(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["not-a-package"]) == 2
    assert "usage: moved_imports.py <package>" in capsys.readouterr().err

    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "test_x.py").write_text("from my_service.openapi import Responses\n")
    script = Path(__file__).parents[1] / "hooks" / "moved_imports.py"
    run = subprocess.run(
        [sys.executable, str(script), PACKAGE],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    assert "moved imports rewritten: tests/test_x.py" in run.stdout
    assert (tmp_path / "tests" / "test_x.py").read_text() == (
        "from my_service.web.openapi import Responses\n"
    )

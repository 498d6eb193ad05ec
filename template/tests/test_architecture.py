"""The package keeps its layers: the contracts under `[tool.importlinter]` in pyproject.toml."""

from importlinter.cli import EXIT_STATUS_SUCCESS, lint_imports

from .support.database import PROJECT_ROOT


def test_each_layer_imports_only_what_it_may() -> None:
    status = lint_imports(
        config_filename=str(PROJECT_ROOT / "pyproject.toml"), no_cache=True, no_logo=True
    )
    assert status == EXIT_STATUS_SUCCESS, "a contract is broken: its report is printed above"

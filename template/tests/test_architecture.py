"""The package keeps its layers: the contracts under `[tool.importlinter]` in pyproject.toml."""

import subprocess
import sys
from pathlib import Path

from .support.database import PROJECT_ROOT

# In a process of its own, as CI runs it: import-linter's logging set-up would otherwise
# disable every logger this test process has made.
LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"


def test_each_layer_imports_only_what_it_may() -> None:
    checked = subprocess.run(  # noqa: S603 - the project's own tool, fixed arguments
        [LINT_IMPORTS, "--no-cache"],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert checked.returncode == 0, f"a contract is broken:\n{checked.stdout}{checked.stderr}"
    assert "0 broken" in checked.stdout

"""What a generated project's package may be called, from the language and the template.

Copier loads this file as a Jinja extension (copier.yml `_jinja_extensions`, through
copier-template-extensions), which gives the `package_name` validator one function:
`{{ package_name_problem(package_name) }}`, the problem with a name or nothing.
"""

import ast
import keyword
import re
import sys
from functools import cache
from pathlib import Path

from jinja2 import Environment
from jinja2.ext import Extension

TEMPLATE = Path(__file__).resolve().parents[1] / "template"
MAX_LENGTH = 40  # the longest name whose generated lines the tests prove fit 100 columns
IDENTIFIER = re.compile(r"[a-z][a-z0-9_]*")
# A dependency string's distribution name: `"psycopg[binary]>=3.2"` -> `psycopg`.
DEPENDENCY = re.compile(r'^\s*"([A-Za-z0-9][A-Za-z0-9._-]*)(?=[\[<>=~!;])', re.MULTILINE)
# Modules the dependencies import in turn (SQLAlchemy's asyncio layer, Starlette's): these
# cannot be derived without resolving the project, so they are named.
TRANSITIVE = frozenset({"anyio", "greenlet"})


def problem(name: str) -> str:
    """Why `name` cannot be the package's name, or "" when it can."""
    if not IDENTIFIER.fullmatch(name):
        return (
            "package_name must be a lowercase Python identifier: a letter, then letters, "
            "digits or underscores"
        )
    if len(name) > MAX_LENGTH:
        return f"package_name must be at most {MAX_LENGTH} characters"
    if keyword.iskeyword(name) or keyword.issoftkeyword(name):
        return f"package_name '{name}' is a Python keyword"
    if name in taken_module_names():
        return (
            f"package_name '{name}' would shadow the module '{name}' that the project "
            "imports; pick another name"
        )
    return ""


@cache
def taken_module_names() -> frozenset[str]:
    """Names a package of the project must not take: the standard library, what the
    template's code imports, its dependencies, and its own top-level folders."""
    derived = imported_modules() | dependencies() | folders()
    return frozenset(sys.stdlib_module_names) | derived | TRANSITIVE


def imported_modules() -> frozenset[str]:
    """Top-level modules the template's Python imports (absolute imports only)."""
    names: set[str] = set()
    for path in (*TEMPLATE.rglob("*.py"), *TEMPLATE.rglob("*.py.jinja")):
        for node in ast.walk(ast.parse(as_python(path.read_text()))):
            if isinstance(node, ast.Import):
                names.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names.add(node.module.split(".")[0])
    return frozenset(names - {"package"})


def as_python(source: str) -> str:
    """A template file's Python: every `{{ value }}` as the name `package`, Jinja's tag and
    comment lines gone."""
    source = re.sub(r"\{\{.*?\}\}", "package", source)
    return "\n".join(line for line in source.splitlines() if not re.search(r"\{[%#]", line))


def dependencies() -> frozenset[str]:
    """The distributions pyproject.toml lists, as the modules they install are usually named."""
    pyproject = (TEMPLATE / "pyproject.toml.jinja").read_text()
    return frozenset(name.lower().replace("-", "_") for name in DEPENDENCY.findall(pyproject))


def folders() -> frozenset[str]:
    """The project's top-level folders (src, tests, migrations): importable from its root."""
    return frozenset(
        path.name for path in TEMPLATE.iterdir() if path.is_dir() and path.name.isidentifier()
    )


class PackageNameRules(Extension):
    """Gives Copier's templates `package_name_problem(name)`."""

    def __init__(self, environment: Environment) -> None:
        super().__init__(environment)
        environment.globals["package_name_problem"] = problem

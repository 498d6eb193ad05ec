"""`copier update` migration: point the project's imports at the modules' new homes.

When the template moves a module of the generated package (0.2 split `db/` into `db/`,
`migration/`, `operations/` and `web/`), the template-owned files move with the update, but the
user's own code still imports the old paths. Copier runs this after every update (copier.yml
`_migrations`), in the project's folder:

    python hooks/moved_imports.py <package>

It rewrites `from <package>.db.pagination import CursorCodec` and its relative forms in every
Python file under src/, tests/ and migrations/, and prints what it changed. What it cannot
rewrite safely (a split module bound as a name, `import <package>.db.doctor`) it names, file
and line, for the user to fix. A project with nothing to rewrite is left untouched.
"""

import ast
import sys
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

# Old module (relative to the package) -> its new module, or, for a module whose names went to
# different places, name -> new module with "*" for the rest.
MOVED: dict[str, str | dict[str, str]] = {
    "db.autogenerate": "migration.autogenerate",
    "db.migration_helpers": "migration.helpers",
    "db.migration_lint": "migration.lint",
    "db.doctor": "operations.doctor",
    "db.embedded": "operations.embedded",
    "db.conventions": {
        "RULES": "operations.findings",
        "Finding": "operations.findings",
        "IGNORED_TABLES": "operations.catalog_queries",
        "SECRET_NAME": "operations.catalog_checks",
        "HASHED_SUFFIX": "operations.catalog_checks",
        "*": "operations.conventions",
    },
    "db.dependencies": {"unit_of_work": "db.session", "*": "web.dependencies"},
    "db.pagination": {
        "get_cursor_codec": "web.dependencies",
        "CursorCodecDep": "web.dependencies",
        "*": "pagination",
    },
    "db.errors": {
        "sqlstate": "db.errors",
        "diagnostic": "db.errors",
        "constraint_fields": "db.errors",
        "QUERY_CANCELED": "db.errors",
        "DATA_EXCEPTION_CLASS": "db.errors",
        "CONNECTION_EXCEPTION_CLASS": "db.errors",
        "*": "web.errors",
    },
    "health": "web.health",
    "method_not_allowed": "web.method_not_allowed",
    "openapi": "web.openapi",
}
FOLDERS = ("src", "tests", "migrations")
LINE_LENGTH = 100


@dataclass
class Rewrite:
    """What became of one file: its new text, and what is left for a person."""

    text: str
    changed: bool = False
    by_hand: list[str] = field(default_factory=list)


def new_home(package: str, module: str, name: str) -> str | None:
    """The absolute module `name` now lives in, if `module` moved; None if it did not."""
    relative = module.removeprefix(f"{package}.")
    if relative == module or relative not in MOVED:
        return None
    destination = MOVED[relative]
    if isinstance(destination, dict):
        destination = destination.get(name, destination["*"])
    return f"{package}.{destination}"


def resolve(node: ast.ImportFrom, file_package: str) -> str:
    """The absolute module of `from <module> import ...`, relative forms included."""
    if not node.level:
        return node.module or ""
    parts = file_package.split(".")
    base = parts[: len(parts) - node.level + 1] if node.level <= len(parts) else []
    return ".".join([*base, node.module] if node.module else base)


def spelled_like(original: ast.ImportFrom, file_package: str, target: str) -> str:
    """`target` written the way the original import was: relative stays relative."""
    if not original.level:
        return target
    ours, theirs = file_package.split("."), target.split(".")
    common = 0
    while common < min(len(ours), len(theirs)) and ours[common] == theirs[common]:
        common += 1
    return "." * (len(ours) - common + 1) + ".".join(theirs[common:])


def import_statement(module: str, aliases: list[ast.alias], indent: str) -> str:
    names = [f"{a.name} as {a.asname}" if a.asname else a.name for a in aliases]
    line = f"{indent}from {module} import {', '.join(names)}"
    if len(line) < LINE_LENGTH:
        return line
    inner = "".join(f"{indent}    {name},\n" for name in names)
    return f"{indent}from {module} import (\n{inner}{indent})"


def replacement(
    node: ast.ImportFrom, package: str, file_package: str, indent: str
) -> tuple[list[str], list[str]]:
    """The statements that replace `node` (empty: nothing moved), and what needs a person."""
    module = resolve(node, file_package)
    if not (module == package or module.startswith(f"{package}.")):
        return [], []
    groups: dict[str, list[ast.alias]] = defaultdict(list)
    by_hand: list[str] = []
    moved = False
    for alias in node.names:
        home = new_home(package, module, alias.name)
        bound = MOVED.get(f"{module}.{alias.name}".removeprefix(f"{package}."))
        if home is not None:
            moved = moved or home != module
            groups[home].append(alias)
        elif isinstance(bound, str):  # `from <package>.db import migration_helpers as mh`
            parent, _, leaf = f"{package}.{bound}".rpartition(".")
            asname = alias.asname or alias.name
            groups[parent].append(ast.alias(leaf, None if asname == leaf else asname))
            moved = True
        elif isinstance(bound, dict):
            by_hand.append(f"`{alias.name}` is a module whose names moved to different places")
            groups[module].append(alias)
        else:
            groups[module].append(alias)
    if not moved:
        return [], by_hand
    statements = [
        import_statement(spelled_like(node, file_package, target), aliases, indent)
        for target, aliases in groups.items()
    ]
    return statements, by_hand


def rewrite(text: str, package: str, file_package: str) -> Rewrite:
    """`text` (one Python file of package `file_package`) with its moved imports rewritten."""
    result = Rewrite(text)
    try:
        tree = ast.parse(text)
    except SyntaxError as error:
        result.by_hand.append(f"line {error.lineno}: not valid Python, not read")
        return result
    lines = text.splitlines(keepends=True)
    nodes = sorted(
        (node for node in ast.walk(tree) if isinstance(node, ast.Import | ast.ImportFrom)),
        key=lambda node: node.lineno,
        reverse=True,  # edit from the bottom so that earlier line numbers stay right
    )
    for node in nodes:
        if isinstance(node, ast.Import):
            for alias in node.names:
                if new_home(package, alias.name, "*") is not None:
                    result.by_hand.append(f"line {node.lineno}: `import {alias.name}` moved")
            continue
        first, last = node.lineno - 1, (node.end_lineno or node.lineno) - 1
        indent = lines[first][: node.col_offset]
        tail = lines[last][node.end_col_offset or 0 :]
        statements, by_hand = replacement(node, package, file_package, indent)
        result.by_hand += [f"line {node.lineno}: {problem}" for problem in by_hand]
        if not statements:
            continue
        if indent.strip() or not (tail.strip() == "" or tail.lstrip().startswith("#")):
            result.by_hand.append(f"line {node.lineno}: shares its line with other code")
            continue
        comment = f"  {tail.strip()}" if tail.strip() else ""
        lines[first : last + 1] = ["\n".join(statements) + comment + "\n"]
        result.changed = True
    result.text = "".join(lines)
    return result


def package_of(path: Path, root: Path) -> str:
    """The dotted package a file belongs to: src/pkg/users/router.py -> pkg.users."""
    parts = path.relative_to(root).with_suffix("").parts
    if parts[0] == "src":
        parts = parts[1:]
    return ".".join(parts[:-1])


def migrate(root: Path, package: str) -> tuple[list[Path], list[str]]:
    """Rewrite every file under `root`'s source folders; the files changed, what is left."""
    changed: list[Path] = []
    by_hand: list[str] = []
    for folder in FOLDERS:
        for path in sorted((root / folder).rglob("*.py")):
            result = rewrite(path.read_text(), package, package_of(path, root))
            name = path.relative_to(root)
            by_hand += [f"{name}: {problem}" for problem in result.by_hand]
            if result.changed:
                path.write_text(result.text)
                changed.append(path)
    return changed, by_hand


def main(argv: list[str]) -> int:
    if len(argv) != 1 or not argv[0].isidentifier():
        print("usage: moved_imports.py <package>", file=sys.stderr)
        return 2
    changed, by_hand = migrate(Path.cwd(), argv[0])
    for path in changed:
        print(f"moved imports rewritten: {path.relative_to(Path.cwd())}")
    if changed:
        print("  sort them: uv run ruff check --select I --fix . && uv run ruff format .")
    for problem in by_hand:
        print(f"fix by hand: {problem}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

"""`copier update` migration: the example's new revisions go after the project's own.

The example domain (`include_example`) is the project's from the day it is generated, yet its
schema grows with the template: 0.3 adds revisions 0003 and 0004 after the example's 0002. In a
project that has written revisions of its own since, an update would leave two heads, and
`alembic upgrade head` would refuse to run. Copier runs this after every update (copier.yml
`_migrations`), in the project's folder:

    python hooks/example_revisions.py <package>

With one head there is nothing to do. With two, one of the project's and one of the example's
(revisions whose docstring's first line says "(include_example)"), the example's branch
is moved on top of the project's head: its first revision's `down_revision` is rewritten, so the
chain stays a line and the project's database, at its own head, applies just the new
revisions. A project that deleted the example (no `src/<package>/jobs/`) gets the branch
removed instead: it would alter tables that are gone. Anything else is left as it is, with the
command that merges heads.
"""

import ast
import sys
from dataclasses import dataclass
from pathlib import Path

VERSIONS = Path("migrations") / "versions"
EXAMPLE_MARKER = "(include_example)"


@dataclass(frozen=True)
class Revision:
    id: str
    parents: tuple[str, ...]
    path: Path
    example: bool


def _assignment(tree: ast.Module, name: str) -> ast.expr | None:
    """The value assigned to a module-level `name` (annotated or not)."""
    for node in tree.body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1:
            target, value = node.targets[0], node.value
        elif isinstance(node, ast.AnnAssign) and node.value is not None:
            target, value = node.target, node.value
        else:
            continue
        if isinstance(target, ast.Name) and target.id == name:
            return value
    return None


def _string(tree: ast.Module, name: str) -> tuple[str, ast.Constant] | None:
    """The string assigned to `name`, and the node that holds it."""
    value = _assignment(tree, name)
    if isinstance(value, ast.Constant) and isinstance(value.value, str):
        return value.value, value
    return None


def _parents(tree: ast.Module) -> tuple[str, ...]:
    value = _assignment(tree, "down_revision")
    parents = None if value is None else ast.literal_eval(value)
    if parents is None:
        return ()
    return (parents,) if isinstance(parents, str) else tuple(parents)


def read_revisions(project: Path) -> dict[str, Revision]:
    revisions = {}
    for path in sorted((project / VERSIONS).glob("*.py")):
        tree = ast.parse(path.read_text())
        found = _string(tree, "revision")
        if found is None:
            continue
        revision = found[0]
        docstring = (ast.get_docstring(tree) or "").splitlines()
        example = bool(docstring) and EXAMPLE_MARKER in docstring[0]
        revisions[revision] = Revision(revision, _parents(tree), path, example)
    return revisions


def heads(revisions: dict[str, Revision]) -> list[str]:
    parents = {parent for revision in revisions.values() for parent in revision.parents}
    return sorted(set(revisions) - parents)


def ancestors(revisions: dict[str, Revision], head: str) -> set[str]:
    """`head` and every revision below it."""
    seen: set[str] = set()
    todo = [head]
    while todo:
        current = todo.pop()
        if current in seen or current not in revisions:
            continue
        seen.add(current)
        todo.extend(revisions[current].parents)
    return seen


def rebase(revision: Revision, old_parent: str, new_parent: str) -> None:
    """Rewrite the revision's `down_revision` (and its docstring's `Revises:`) in place."""
    text = revision.path.read_text()
    found = _string(ast.parse(text), "down_revision")
    if found is None or found[0] != old_parent:
        raise ValueError(f"{revision.path}: down_revision is not the string {old_parent!r}")
    value = found[1]
    lines = text.splitlines(keepends=True)
    line = lines[value.lineno - 1]
    start, end = value.col_offset, value.end_col_offset
    lines[value.lineno - 1] = f'{line[:start]}"{new_parent}"{line[end:]}'
    text = "".join(lines).replace(f"Revises: {old_parent}\n", f"Revises: {new_parent}\n", 1)
    revision.path.write_text(text)


def place_example_revisions(project: Path, package: str) -> list[str]:
    """Do what the module docstring says; return what was done, line by line."""
    revisions = read_revisions(project)
    tips = heads(revisions)
    if len(tips) < 2:
        return []
    ours = [head for head in tips if not revisions[head].example]
    examples = [head for head in tips if revisions[head].example]
    if len(ours) != 1 or len(examples) != 1:
        return [f"several heads ({', '.join(tips)}): merge them with `alembic merge heads`"]
    (our_head,), (example_head,) = ours, examples
    below_ours = ancestors(revisions, our_head)
    branch = ancestors(revisions, example_head) - below_ours
    if not all(revisions[revision].example for revision in branch):
        return [f"heads {our_head} and {example_head}: merge them with `alembic merge heads`"]
    if not (project / "src" / package / "jobs").is_dir():
        for revision in sorted(branch):
            revisions[revision].path.unlink()
        return [f"removed the example's revisions {', '.join(sorted(branch))}: the example is gone"]
    (root,) = [r for r in branch if set(revisions[r].parents) <= below_ours]
    (old_parent,) = revisions[root].parents
    rebase(revisions[root], old_parent, our_head)
    return [f"moved the example's revisions {', '.join(sorted(branch))} after yours ({our_head})"]


def main(arguments: list[str]) -> int:
    (package,) = arguments
    for line in place_example_revisions(Path.cwd(), package):
        print(f"example revisions: {line}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

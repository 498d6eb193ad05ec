"""Servers the tests and the benchmark talk to: the PostgreSQL under test, and a project served
by uvicorn on a free loopback port."""

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import IO

import httpx
import psycopg
from sqlalchemy import URL, make_url

DEFAULT_TEST_DATABASE_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
# The process behind each base URL `served` is serving, for `cpu_seconds`.
_SERVING: dict[str, int] = {}


def database_server_url() -> str:
    """The PostgreSQL server under test: TEST_DATABASE_URL's, or the local default."""
    return os.environ.get("TEST_DATABASE_URL", DEFAULT_TEST_DATABASE_URL)


def server_url() -> URL:
    return make_url(database_server_url())


def libpq(url: str | URL) -> str:
    """A SQLAlchemy URL (`postgresql+asyncpg://...`) as the plain one psycopg.connect takes."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def databases_containing(fragment: str) -> list[str]:
    """The databases on the server under test (the machine's own) whose name holds `fragment`."""
    with psycopg.connect(libpq(database_server_url())) as connection:
        rows = connection.execute(
            "SELECT datname FROM pg_database WHERE strpos(datname, %s) > 0", [fragment]
        )
        return [name for (name,) in rows]


# A generated suite's run database is `<prefix><12 hex digits>` (and its scratch copies that
# name plus a suffix); the run holds an advisory lock on hashtext(<that name>) while it uses it.
RUN_DATABASE_OWNER_DIGITS = 12
ABANDONED_RUN_DATABASES = """
    SELECT datname FROM pg_database
    WHERE starts_with(datname, %(prefix)s)
      AND NOT EXISTS (SELECT FROM pg_locks
                      WHERE locktype = 'advisory' AND objsubid = 1 AND granted
                        AND (classid::bigint << 32 | objid::bigint)
                            = hashtext(left(datname, %(owner_length)s))::bigint)
"""


def abandoned_run_databases(prefix: str) -> list[str]:
    """The run databases of a generated suite (`prefix`) that no live run holds: left behind.

    Another project's suite running meanwhile (the template suite runs two tests at a time) holds
    its own, so its databases are not counted against this one. A run that drops its database
    and lets go of its lock between the query's reading of the two is not counted either: the
    database is looked for again afterwards.
    """
    with psycopg.connect(libpq(database_server_url()), autocommit=True) as connection:
        unheld = connection.execute(
            ABANDONED_RUN_DATABASES,
            {"prefix": prefix, "owner_length": len(prefix) + RUN_DATABASE_OWNER_DIGITS},
        )
        names = [name for (name,) in unheld]
        still_there = connection.execute(
            "SELECT datname FROM pg_database WHERE datname = ANY(%s)", [names]
        )
        return [name for (name,) in still_there]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


@contextmanager
def served(
    app: list[str],
    env: dict[str, str],
    cwd: str,
    *,
    log: IO[bytes] | None = None,
    output: IO[bytes] | None = None,
    log_level: str = "warning",
    python: str = sys.executable,
) -> Iterator[str]:
    """Serve an ASGI app with uvicorn (of `python`'s environment) on a free loopback port; its
    stderr goes to `log`, its stdout (the service's own logs) to `output`."""
    port = free_port()
    server = subprocess.Popen(
        [
            python,
            "-m",
            "uvicorn",
            *app,
            "--port",
            str(port),
            "--log-level",
            log_level,
            "--no-access-log",
        ],
        cwd=cwd,
        env=env,
        stdout=output,
        stderr=log,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                httpx.get(f"{base}/health/live", timeout=1)
                break
            except httpx.TransportError:
                time.sleep(0.1)
        _SERVING[base] = server.pid
        yield base
    finally:
        _SERVING.pop(base, None)
        server.terminate()
        server.wait(timeout=10)


def cpu_seconds(base: str) -> float:
    """CPU time (user + system) the server `served` at `base` has used so far. Linux (/proc):
    a rate moves with whatever else runs on the machine, the CPU a request costs far less."""
    with open(f"/proc/{_SERVING[base]}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

"""A real PgBouncer (1.21 or newer) in transaction mode, in front of a local server.

Used by the benchmark and by the template's scale-out tests. PgBouncer refuses to run as root,
so as root it drops to the `postgres` user, which owns nothing here but a scratch directory.
`.ci/run` builds 1.24.1 from Debian's source into its cache and puts it first on PATH (bookworm's
own 1.18 cannot carry prepared statements).
"""

import os
import re
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import URL

from .servers import free_port

# What the service sends at startup with DATABASE_POOLER=none: PgBouncer refuses a connection
# that carries a parameter it neither tracks nor is told to ignore. Ignoring them lets the
# `none` mode connect, and shows what it then breaks on (prepared statements) and loses (the
# timeouts, silently).
POOLER_NONE_PARAMETERS = (
    "options",
    "statement_timeout",
    "lock_timeout",
    "idle_in_transaction_session_timeout",
)


# `max_prepared_statements` came in 1.21.
OLDEST_VERSION = (1, 21)


def pgbouncer_binary() -> str:
    """The first `pgbouncer` on PATH (or Debian's), if it is recent enough."""
    binary = shutil.which("pgbouncer") or "/usr/sbin/pgbouncer"
    if not os.access(binary, os.X_OK):
        raise RuntimeError("pgbouncer is not installed: `bash .ci/run` builds one")
    said = subprocess.run([binary, "--version"], capture_output=True, text=True, check=False)
    found = re.search(r"PgBouncer (\d+)\.(\d+)", said.stdout)
    if found is None or (int(found[1]), int(found[2])) < OLDEST_VERSION:
        version = found[0] if found else f"`--version` said {said.stdout + said.stderr!r}"
        raise RuntimeError(
            f"{binary} is too old ({version}): the tests need PgBouncer 1.21 or newer; "
            "`bash .ci/run` builds 1.24.1"
        )
    return binary


def configuration(
    server: URL, port: int, directory: Path, users: list[str], max_prepared_statements: int
) -> Path:
    (directory / "userlist.txt").write_text("".join(f'"{user}" ""\n' for user in users))
    ignored = ", ".join(("extra_float_digits", *POOLER_NONE_PARAMETERS))
    ini = directory / "pgbouncer.ini"
    ini.write_text(
        "[databases]\n"
        f"* = host={server.host or '127.0.0.1'} port={server.port or 5432}\n"
        "[pgbouncer]\n"
        "listen_addr = 127.0.0.1\n"
        f"listen_port = {port}\n"
        "unix_socket_dir =\n"
        "auth_type = trust\n"
        f"auth_file = {directory / 'userlist.txt'}\n"
        "pool_mode = transaction\n"
        "max_client_conn = 1000\n"
        "default_pool_size = 20\n"
        f"ignore_startup_parameters = {ignored}\n"
        f"max_prepared_statements = {max_prepared_statements}\n"
        # Idle server connections go after a second, not ten minutes: the scale-out tests'
        # two PgBouncers would otherwise keep up to 40 of the server's 100 connections.
        "server_idle_timeout = 1\n"
        f"logfile = {directory / 'pgbouncer.log'}\n"
    )
    return ini


def accepts(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) == 0


@contextmanager
def pgbouncer(
    server: URL, *, users: tuple[str, ...] = ("postgres",), max_prepared_statements: int = 0
) -> Iterator[URL]:
    """PgBouncer on a free loopback port; yields `server` re-pointed at it.

    `max_prepared_statements=0` (the default before 1.24) carries no prepared statement from
    one server connection to another, as every PgBouncer before 1.21 does.
    """
    binary = pgbouncer_binary()
    port = free_port()
    with tempfile.TemporaryDirectory(prefix="pgbouncer-") as scratch:
        directory = Path(scratch)
        directory.chmod(0o777)  # the `postgres` user writes its log here
        ini = configuration(
            server,
            port,
            directory,
            [server.username or "postgres", *users],
            max_prepared_statements,
        )
        as_user = ["-u", "postgres"] if os.geteuid() == 0 else []
        # `-q`: it logs every login to its logfile; on stderr too, a full pipe would stall it.
        process = subprocess.Popen([binary, "-q", *as_user, str(ini)])
        try:
            deadline = time.monotonic() + 10
            while not accepts(port):
                if process.poll() is not None or time.monotonic() > deadline:
                    log = directory / "pgbouncer.log"
                    said = log.read_text(errors="replace") if log.exists() else "(no log)"
                    raise RuntimeError(f"pgbouncer did not start:\n{said}")
                time.sleep(0.05)
            yield server.set(host="127.0.0.1", port=port)
        finally:
            process.terminate()
            process.wait(timeout=10)

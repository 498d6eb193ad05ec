"""One migration run at a time per database: a session-level advisory lock around every run.

Two processes that start `alembic upgrade head` together (two replicas' init jobs, a deploy and
a developer) would otherwise both read the same version and both apply the next revision. With
the lock, the second waits for the first (polling, so that `lock_timeout` does not cut the wait
short), then reads the version the first left and finds nothing to do. Past
DATABASE_MIGRATION_WAIT_SECONDS it stops with an error that names the session holding the lock.
"""

import contextlib
import time
import zlib
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Connection, text
from sqlalchemy.exc import DBAPIError

# Any constant works: advisory locks are per database. CRC32 keeps it readable in pg_locks
# (objid) and inside the bigint the functions take.
MIGRATION_LOCK_KEY = zlib.crc32(b"alembic migrations")
POLL_SECONDS = 0.2


class MigrationLockTimeoutError(SystemExit):
    """Another migration run held the lock for longer than we were told to wait."""


@contextmanager
def migration_lock(connection: Connection, *, wait_seconds: float) -> Iterator[None]:
    """Hold the migration lock while the block runs.

    A connection handed in inside a transaction belongs to its caller (a test tool, say): it is
    used as it is, unlocked, rather than committed under the caller's feet.
    """
    if connection.in_transaction():
        yield
        return
    deadline = time.monotonic() + wait_seconds
    while not _try_lock(connection):
        if time.monotonic() >= deadline:
            raise MigrationLockTimeoutError(
                f"another migration run has held the migration lock for over {wait_seconds:g} s "
                f"({_holder(connection)}); wait for it, or raise DATABASE_MIGRATION_WAIT_SECONDS"
            )
        time.sleep(POLL_SECONDS)
    try:
        yield
    finally:
        _unlock(connection)


def _unlock(connection: Connection) -> None:
    """Release the lock. After a failed revision the transaction is aborted: roll it back first.

    If the connection itself is gone, so is the lock (it is the session's): the error that
    broke it is the one to report, not a second one from here.
    """
    unlock = text("SELECT pg_advisory_unlock(:key)")
    try:
        connection.execute(unlock, {"key": MIGRATION_LOCK_KEY})
    except DBAPIError:
        with contextlib.suppress(DBAPIError):
            connection.rollback()
            connection.execute(unlock, {"key": MIGRATION_LOCK_KEY})
    with contextlib.suppress(DBAPIError):
        connection.commit()


def _try_lock(connection: Connection) -> bool:
    locked = connection.scalar(
        text("SELECT pg_try_advisory_lock(:key)"), {"key": MIGRATION_LOCK_KEY}
    )
    connection.commit()  # the lock is the session's: it outlives this transaction
    return bool(locked)


def _holder(connection: Connection) -> str:
    row = connection.execute(
        text(
            "SELECT a.pid, a.application_name, now() - a.backend_start"
            " FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid"
            " WHERE l.locktype = 'advisory' AND l.granted AND l.objid::bigint = :key"
            " AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())"
        ),
        {"key": MIGRATION_LOCK_KEY},
    ).first()
    connection.commit()
    if row is None:
        return "it has just been released"
    pid, application, age = row
    return f"PostgreSQL backend pid {pid}, application_name {application!r}, connected {age} ago"

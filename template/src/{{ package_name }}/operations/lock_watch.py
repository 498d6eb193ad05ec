"""Watch a database while something else changes it: which tables it locks, in which mode and
for how long, and how long ordinary reads and writes of those tables had to wait meanwhile.

`LockSampler` reads `pg_locks` every few milliseconds for every session of the database but its
own and the probes', and notes which probe it sees waiting for a lock. `Probes` keeps one reader
and one writer busy on every table, one small transaction at a time: the reader selects a row,
the writer updates one to itself (or, for a table with no updatable column, takes the lock an
UPDATE takes) and rolls back. A probe seen waiting for a lock was blocked for as long as it
took: that is what an application would have felt. A probe slow for other reasons (a busy
machine) counts for nothing.
"""

import asyncio
import time
from collections import defaultdict
from dataclasses import dataclass, field

from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection

from .inventory import QUALIFIED_VERSION_TABLES, TABLES

SAMPLE_SECONDS = 0.005
PROBE_PAUSE_SECONDS = 0.01  # between two probes of one kind: a small load, not a benchmark

# Weakest to strongest (PostgreSQL's table of conflicting lock modes).
MODES = (
    "AccessShareLock",
    "RowShareLock",
    "RowExclusiveLock",
    "ShareUpdateExclusiveLock",
    "ShareLock",
    "ShareRowExclusiveLock",
    "ExclusiveLock",
    "AccessExclusiveLock",
)
# Relation locks granted to sessions of this database other than ours, an index's counted as
# its table's, named like `inventory.TABLES` names them; PostgreSQL's own catalogs left out.
GRANTED_LOCKS = text("""
    SELECT format('%I.%I', n.nspname, t.relname), l.mode
    FROM pg_locks AS l
    LEFT JOIN pg_index AS i ON i.indexrelid = l.relation
    JOIN pg_class AS t ON t.oid = coalesce(i.indrelid, l.relation)
    JOIN pg_namespace AS n ON n.oid = t.relnamespace
    WHERE l.locktype = 'relation' AND l.granted
      AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
      AND n.nspname <> 'information_schema' AND n.nspname NOT LIKE 'pg\\_%'
      AND l.pid <> ALL(CAST(:ours AS int[]))
""")
WAITING_FOR_A_LOCK = text("""
    SELECT pid FROM pg_stat_activity
    WHERE pid = ANY(CAST(:probes AS int[])) AND wait_event_type = 'Lock'
""")
UPDATABLE_COLUMN = text("""
    SELECT quote_ident(attname) FROM pg_attribute
    WHERE attrelid = CAST(:table AS regclass) AND attnum > 0 AND NOT attisdropped
      AND attgenerated = '' AND attidentity <> 'a'
    ORDER BY attnum LIMIT 1
""")


@dataclass
class Held:
    """A table's strongest lock mode so far, and how long it was seen held: the sum of the
    stretches of consecutive samples that saw it (gaps between two sightings do not count)."""

    mode: str
    last_seen: float
    total: float = 0.0

    @property
    def seconds(self) -> float:
        return self.total + SAMPLE_SECONDS  # a lock seen once was held for up to one sample


@dataclass
class LockSampler:
    """The strongest lock each table was seen under, and for how long; and which probes (by
    backend pid) were seen waiting for a lock."""

    probe_pids: list[int]
    lock_waits: set[int]
    strongest: dict[str, Held] = field(default_factory=dict)
    previous_sample: float = -1.0

    async def run(self, connection: AsyncConnection, stop: asyncio.Event) -> None:
        probes = {"probes": self.probe_pids}
        ours = {"ours": [*self.probe_pids, await backend_pid(connection)]}
        while not stop.is_set():
            now = time.monotonic()
            for table, mode in (await connection.execute(GRANTED_LOCKS, ours)).all():
                self.saw(str(table), str(mode), now)
            self.lock_waits.update((await connection.scalars(WAITING_FOR_A_LOCK, probes)).all())
            await connection.rollback()  # fresh statistics each time (they are per transaction)
            self.previous_sample = now
            await asyncio.sleep(SAMPLE_SECONDS)

    def saw(self, table: str, mode: str, now: float) -> None:
        held = self.strongest.get(table)
        if held is None or MODES.index(mode) > MODES.index(held.mode):
            self.strongest[table] = Held(mode, now)
        elif mode == held.mode and held.last_seen < now:
            if held.last_seen == self.previous_sample:  # seen at the sample before too
                held.total += now - held.last_seen
            held.last_seen = now


@dataclass
class Probes:
    """The longest read and write of each table that waited for a lock, in seconds."""

    tables: list[str]
    lock_waits: set[int]  # filled by the LockSampler
    reads: dict[str, float] = field(default_factory=lambda: defaultdict(float))
    writes: dict[str, float] = field(default_factory=lambda: defaultdict(float))
    failed: set[str] = field(default_factory=set)

    async def read(self, connection: AsyncConnection, stop: asyncio.Event) -> None:
        pid = await backend_pid(connection)
        while not stop.is_set():
            for table in self.tables:
                # The names come from the catalog, quoted by PostgreSQL (inventory.TABLES).
                read = f"SELECT FROM {table} LIMIT 1"
                await self._probe(connection, pid, table, self.reads, read)
            await asyncio.sleep(PROBE_PAUSE_SECONDS)

    async def write(self, connection: AsyncConnection, stop: asyncio.Event) -> None:
        pid = await backend_pid(connection)
        statements = {}
        for table in self.tables:
            column = await connection.scalar(UPDATABLE_COLUMN, {"table": table})
            statements[table] = (
                f"UPDATE {table} SET {column} = {column} "  # noqa: S608 (catalog names, quoted)
                f"WHERE ctid = (SELECT ctid FROM {table} LIMIT 1)"
                if column
                else f"LOCK TABLE {table} IN ROW EXCLUSIVE MODE"
            )
        await connection.rollback()
        while not stop.is_set():
            for table in self.tables:
                await self._probe(connection, pid, table, self.writes, statements[table])
            await asyncio.sleep(PROBE_PAUSE_SECONDS)

    async def _probe(
        self,
        connection: AsyncConnection,
        pid: int,
        table: str,
        longest: dict[str, float],
        statement: str,
    ) -> None:
        if table in self.failed:
            return
        self.lock_waits.discard(pid)
        started = time.monotonic()
        try:
            await connection.execute(text(statement))
        except DBAPIError:  # the table went away or changed under the probe: stop probing it
            self.failed.add(table)
        finally:
            await connection.rollback()
        blocked = time.monotonic() - started if pid in self.lock_waits else 0.0
        longest[table] = max(longest[table], blocked)


async def probe_tables(connection: AsyncConnection) -> list[str]:
    return [
        t for t in (await connection.scalars(TABLES)).all() if t not in QUALIFIED_VERSION_TABLES
    ]


async def backend_pid(connection: AsyncConnection) -> int:
    return int(await connection.scalar(text("SELECT pg_backend_pid()")) or 0)

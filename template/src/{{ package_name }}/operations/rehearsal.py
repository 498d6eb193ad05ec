"""`python -m <package>.db rehearse`: apply the pending revisions to a clone and measure what they
would block.

The clone (`operations.clone`) gets the revisions one at a time, as `alembic upgrade` would apply
them: the template's chain first, then the project's, each under the migration lock and
timeouts. Meanwhile `operations.lock_watch` samples the locks the migration holds and keeps a
small read/write load on every table. Per revision the report gives its duration, each table's
strongest lock and how long it was held, and how long reads and writes of it waited. A revision
that makes writes wait longer than the limit fails the rehearsal; one that fails on the clone
does too, and ends it. The source database is only read; the clone is always dropped.
"""

import asyncio
import time
from dataclasses import dataclass
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import URL, Connection
from sqlalchemy.ext.asyncio import AsyncConnection, create_async_engine
from sqlalchemy.pool import NullPool

from ..migration import template_revisions
from ..migration.lock import migration_lock
from ..settings import get_settings
from .clone import cloned
from .inventory import QUALIFIED_VERSION_TABLES
from .lock_watch import Held, LockSampler, Probes, backend_pid, probe_tables

# Seconds a revision may block writes to a table. Changes to the catalog alone take
# milliseconds; a write-blocking lock held longer means work under it that grows with the table
# (a scan, a rewrite, an index build), and the clone's tables are production's size.
DEFAULT_WRITE_LIMIT = 0.1


@dataclass(frozen=True)
class Step:
    chain: str  # "template" (migrations/template/) or "project" (migrations/versions/)
    revision: str
    description: str


@dataclass(frozen=True)
class StepReport:
    step: Step
    seconds: float
    locks: dict[str, Held]
    longest_reads: dict[str, float]
    longest_writes: dict[str, float]
    error: str | None

    def blocked_writes(self, limit: float) -> dict[str, float]:
        return {t: s for t, s in self.longest_writes.items() if s > limit}


@dataclass(frozen=True)
class Rehearsal:
    clone: str  # how the clone was made
    steps: list[StepReport]


def pending_steps(connection: Connection, project_root: Path) -> list[Step]:
    """The revisions `alembic upgrade head` would apply to this database, in order."""

    def after(script: ScriptDirectory, current: tuple[str, ...], chain: str) -> list[Step]:
        newer = script.iterate_revisions("heads", current or "base")
        return [Step(chain, s.revision, s.doc) for s in reversed(list(newer))]

    template = template_revisions.scripts(project_root)
    yours = ScriptDirectory.from_config(Config(project_root / "alembic.ini"))
    applied = MigrationContext.configure(connection).get_current_heads()
    return [
        *after(template, template_revisions.current(connection), "template"),
        *after(yours, applied, "project"),
    ]


async def pending_on(url: URL, project_root: Path) -> list[Step]:
    """The revisions pending on `url`, read without writing anything."""
    engine = create_async_engine(url, poolclass=NullPool)
    try:
        async with engine.connect() as connection:
            return await connection.run_sync(pending_steps, project_root)
    finally:
        await engine.dispose()


def upgrade(connection: Connection, project_root: Path, step: Step) -> None:
    if step.chain == "template":
        wait_seconds = get_settings().database.migration_wait_seconds
        with migration_lock(connection, wait_seconds=wait_seconds):
            template_revisions.upgrade(connection, project_root, step.revision)
        return
    config = Config(project_root / "alembic.ini")
    config.attributes.update(connection=connection, configure_logger=False)
    command.upgrade(config, step.revision)
    connection.commit()


def apply_step(url: URL, project_root: Path, step: Step) -> None:
    """Run in a thread of its own, with its own event loop: the watchers keep the main one."""

    async def run() -> None:
        engine = create_async_engine(url, poolclass=NullPool)
        try:
            async with engine.connect() as connection:
                await connection.run_sync(upgrade, project_root, step)
        finally:
            await engine.dispose()

    asyncio.run(run())


async def rehearse_step(
    url: URL, project_root: Path, step: Step, watchers: tuple[AsyncConnection, ...]
) -> StepReport:
    watcher, reader, writer = watchers
    lock_waits: set[int] = set()
    probes = Probes(await probe_tables(watcher), lock_waits)
    await watcher.rollback()
    sampler = LockSampler([await backend_pid(reader), await backend_pid(writer)], lock_waits)
    stop = asyncio.Event()
    watching = [
        asyncio.create_task(sampler.run(watcher, stop)),
        asyncio.create_task(probes.read(reader, stop)),
        asyncio.create_task(probes.write(writer, stop)),
    ]
    error = None
    started = time.monotonic()
    try:
        await asyncio.to_thread(apply_step, url, project_root, step)
    except (Exception, SystemExit) as failure:  # env.py ends some failures with SystemExit
        error = f"{failure.__class__.__name__}: {failure}"
    finally:
        seconds = time.monotonic() - started
        stop.set()
        await asyncio.gather(*watching)
    return StepReport(
        step, seconds, sampler.strongest, dict(probes.reads), dict(probes.writes), error
    )


async def rehearse(
    source: URL, *, server: URL, project_root: Path, pg_bin: Path | None = None
) -> Rehearsal:
    async with cloned(source, server, pg_bin=pg_bin) as clone:
        engine = create_async_engine(clone.url, poolclass=NullPool)
        try:
            async with (
                engine.connect() as watcher,
                engine.connect() as reader,
                engine.connect() as writer,
            ):
                steps = await watcher.run_sync(pending_steps, project_root)
                await watcher.rollback()
                reports: list[StepReport] = []
                for step in steps:
                    reports.append(
                        await rehearse_step(
                            clone.url, project_root, step, (watcher, reader, writer)
                        )
                    )
                    if reports[-1].error is not None:
                        break
        finally:
            await engine.dispose()
    return Rehearsal(clone.how, reports)


def render(rehearsal: Rehearsal, *, write_limit: float) -> tuple[list[str], list[str]]:
    """The report's lines, and the failures among them."""
    lines = [f"rehearsed on a clone ({rehearsal.clone}): {len(rehearsal.steps)} revision(s)"]
    failures = []
    for report in rehearsal.steps:
        step = report.step
        lines.append(f"{step.chain} {step.revision} ({step.description}): {report.seconds:.2f} s")
        for table, held in sorted(report.locks.items()):
            if table in QUALIFIED_VERSION_TABLES:  # Alembic's bookkeeping
                continue
            read = report.longest_reads.get(table)
            write = report.longest_writes.get(table)
            waited = (
                "created by this revision, not probed"
                if read is None or write is None
                else f"writes blocked {write:.2f} s, reads {read:.2f} s"
            )
            lines.append(f"    {table}: {held.mode} held {held.seconds:.2f} s; {waited}")
        for table, seconds in sorted(report.blocked_writes(write_limit).items()):
            lock = report.locks.get(table)
            behind = f" behind its {lock.mode}" if lock else ""
            failures.append(
                f"{step.revision}: writes to {table} blocked {seconds:.2f} s{behind} "
                f"(limit {write_limit:.2f} s): build indexes concurrently, validate "
                "constraints separately, backfill in batches (migration.helpers)"
            )
        if report.error is not None:
            failures.append(f"{step.revision} failed on the clone: {report.error}")
    return lines, failures

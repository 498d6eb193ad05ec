"""Figure 5, retention: the queue's tables after `jobs` jobs, finished jobs purged or kept.

The jobs' lifecycle is played in SQL, a hundredth of them a round: one INSERT enqueues the
round's jobs, the worker's own claim statement (`queue.claim`) leases them, one UPDATE
finishes them and stores their results. A worker does the same job by job; the row versions
left behind (the insert, the claim's and the finish's updates, the result row and, purged, the
delete) are the same, in seconds where 100,000 jobs through worker processes take minutes.
With retention on, the worker's own purge (`retention.purge`, QUEUE_PURGE_BATCH=1000 rows a
transaction) runs after each round with a retention of 0: every finished job goes.

Only VACUUM makes dead tuples' space reusable. Autovacuum is off on this machine's server, and
where it is on it comes by once every autovacuum_naptime (a minute), during a run or not: it is
turned off for the two tables, and a VACUUM after every tenth round, in both modes, stands in
for it. The figures are taken after the last round: the dead tuples are those of the ten
rounds since the last VACUUM (2 a job kept, 4 a job purged, its result's included). Most are
no longer tuples but dead line pointers: the UPDATEs prune the pages they pass through, and
pgstattuple finds only 2 to 20% of them still tuples.

n_dead_tup comes from the cumulative statistics, which a busy backend updates at most once a
second and an idle one may hold back for 10 s (PGSTAT_IDLE_INTERVAL). Counts that land after
the VACUUM that reset them are counted again: here 2,000 dead tuples at 10,000 jobs were
reported as 3,900 and as 11,000. A backend flushes its counts as it exits, so before each
VACUUM, and before the figures are read, the engine is disposed and its backends waited out.
"""

import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

import psycopg
from sqlalchemy import URL, text
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.support.servers import libpq

from .measure import Row, ratio

ROUNDS = 100
VACUUM_EVERY = 10  # rounds


async def retention(database: URL, user: object, *, jobs: int) -> list[Row]:
    from my_service.db.engine import create_engine
    from my_service.settings import DatabaseSettings

    url = database.set(drivername="postgresql+psycopg").render_as_string(hide_password=False)
    results = {}
    for purged in (False, True):
        engine = create_engine(DatabaseSettings(url=url))
        try:
            await run_jobs(engine, database, user, jobs=jobs, purged=purged)
        finally:
            await engine.dispose()
        results[purged] = table_state(database)
    baseline = results[False][0]
    return [
        (
            f"retention {'on' if purged else 'off'}: jobs + job_results after {jobs:,} jobs",
            f"{size / 2**20:.1f} MiB, {kept:,} jobs kept, {dead:,} dead tuples",
            ratio(size, baseline),
        )
        for purged, (size, kept, dead) in results.items()
    ]


async def run_jobs(
    engine: AsyncEngine, database: URL, user: object, *, jobs: int, purged: bool
) -> None:
    from my_service.db.session import make_sessionmaker, unit_of_work
    from my_service.jobs import queue
    from my_service.jobs import retention as queue_retention

    sessions = make_sessionmaker(engine)
    async with engine.begin() as connection:
        await connection.execute(text("TRUNCATE jobs CASCADE"))
        for table in ("jobs", "job_results"):
            await connection.execute(text(f"ALTER TABLE {table} SET (autovacuum_enabled = off)"))
    per_round = jobs // ROUNDS
    for round_number in range(ROUNDS):
        if round_number and round_number % VACUUM_EVERY == 0:
            await engine.dispose()
            with settled(database) as connection:
                connection.execute("VACUUM jobs, job_results")
        async with engine.begin() as connection:
            await connection.execute(
                text(
                    "INSERT INTO jobs (user_id, payload)"
                    " SELECT :user, jsonb_build_object('kind', 'echo', 'n', n)"
                    " FROM generate_series(1, :jobs) AS n"
                ),
                {"user": user, "jobs": per_round},
            )
        async with sessions() as session, unit_of_work(session):
            await queue.claim(session, owner="bench", lease=timedelta(seconds=30), limit=per_round)
        async with engine.begin() as connection:
            await connection.execute(
                text(
                    "WITH finished AS ("
                    "  UPDATE jobs SET status = 'done', lease_expires_at = NULL,"
                    "                  result = jsonb_build_object('echo', payload)"
                    "  WHERE status = 'running' RETURNING id, result)"
                    " INSERT INTO job_results (job_id, output, duration)"
                    " SELECT id, result, interval '1 millisecond' FROM finished"
                )
            )
        if purged:
            await queue_retention.purge(sessions, older_than=timedelta(0), batch=1000)


@contextmanager
def settled(database: URL) -> Iterator[psycopg.Connection]:
    """A connection to `database` once every other one has closed: their backends have exited,
    and flushed their statistics as they did."""
    with psycopg.connect(libpq(database), autocommit=True) as connection:
        deadline = time.monotonic() + 10
        while connection.execute(
            "SELECT count(*) FROM pg_stat_activity"
            " WHERE datname = current_database() AND pid <> pg_backend_pid()"
        ).fetchone() != (0,):
            if time.monotonic() > deadline:
                raise TimeoutError("other connections to the database are still open after 10 s")
            time.sleep(0.01)
        yield connection


def table_state(database: URL) -> tuple[int, int, int]:
    """Bytes (indexes and TOAST included) of jobs and job_results, jobs kept, and the two tables'
    dead tuples. Jobs are counted: n_live_tup is VACUUM's estimate, 77,000 for 100,000 here."""
    with settled(database) as connection:
        row = connection.execute(
            "SELECT sum(pg_total_relation_size(relid))::bigint, (SELECT count(*) FROM jobs),"
            " sum(n_dead_tup)::bigint"
            " FROM pg_stat_user_tables WHERE relname IN ('jobs', 'job_results')"
        ).fetchone()
    assert row is not None
    return row

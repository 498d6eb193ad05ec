"""Figure 5: the work queue, run by real worker processes (`python -m my_service.jobs worker`).

- Throughput: `queued` echo jobs enqueued at once (one INSERT, one NOTIFY) to 1, 2 and 4 idle
  worker processes (QUEUE_CONCURRENCY=10 each, the default). Jobs/s from the enqueue's commit
  (the client's clock when COMMIT returns) to the last job's finish (its `updated_at`, by the
  server's clock: the same host's); and the jobs claimed more than once (`attempts > 1`),
  which must be none. A job re-run after its lease expired counts too (its worker could not
  store the outcome: "too many clients" on a shared server did it once here); the workers'
  warnings, on stderr, say which.
- Latency: with one worker idle and waiting, jobs are enqueued one at a time, 20 to 50 ms
  apart (at random, so the arrivals fall anywhere in a poll interval), each INSERT with its
  NOTIFY in one transaction, as the service does. A job's latency runs from its enqueue's
  commit (the client's `time.time()` when COMMIT returns: the job was visible up to a loopback
  round trip earlier) to the start of its handler, a bench handler that returns its own
  `time.time()`. Woken by NOTIFY (a direct connection, QUEUE_POLL_SECONDS=5), then polling
  only: DATABASE_POOLER=pgbouncer through a real PgBouncer (the deployment where a worker
  cannot LISTEN), QUEUE_POLL_SECONDS=1. One warm-up job first, not counted.
- Retention: see `retention.py`.
"""

import os
import random
import re
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import psycopg
from sqlalchemy import URL

from tests.support.pgbouncer import pgbouncer
from tests.support.servers import libpq, server_url

from .measure import Row, percentile, ratio
from .project import BenchProject, scratch_database
from .retention import retention

# What a worker logs once it waits for jobs (LISTEN established, or polling behind PgBouncer).
READY = ("listening for new jobs on channel", "polling for jobs, no LISTEN")
# The latency's handler registry, on the workers' PYTHONPATH (`--handlers bench_handlers:...`).
STARTED_HANDLERS = """\
import time


async def started(payload):
    return {"started": time.time()}


HANDLERS = {"started": started}
"""


async def work_queue(
    project: BenchProject, *, queued: int, latency_jobs: int, retained: int
) -> list[Row]:
    with scratch_database(server_url(), project.env(), project.root) as database:
        with psycopg.connect(libpq(database), autocommit=True) as connection:
            user = bench_user(connection)
        return [
            *throughput(project, database, user, jobs=queued, processes=[1, 2, 4]),
            *latency(project, database, user, jobs=latency_jobs),
            *await retention(database, user, jobs=retained),
        ]


def throughput(
    project: BenchProject, database: URL, user: object, *, jobs: int, processes: list[int]
) -> list[Row]:
    results = []
    with psycopg.connect(libpq(database), autocommit=True) as connection:
        for count in processes:
            connection.execute("TRUNCATE jobs CASCADE")
            with workers(project, count, worker_env(project, database)):
                with connection.transaction():
                    connection.execute(
                        "INSERT INTO jobs (user_id, payload)"
                        " SELECT %s, jsonb_build_object('kind', 'echo', 'n', n)"
                        " FROM generate_series(1, %s) AS n",
                        [user, jobs],
                    )
                    connection.execute("SELECT pg_notify('jobs', '')")
                committed = time.time()
                wait_until_finished(connection, timeout=60 + jobs / 20)
            finished, done, twice = one(
                connection,
                "SELECT extract(epoch FROM max(updated_at))::float8,"
                " count(*) FILTER (WHERE status = 'done'), count(*) FILTER (WHERE attempts > 1)"
                " FROM jobs",
            )
            if done != jobs:
                raise RuntimeError(f"{count} worker(s): {done} of {jobs} jobs done")
            results.append((count, jobs / (finished - committed), twice))
    baseline = results[0][1]
    return [
        (
            f"{count} worker process(es), {jobs:,} jobs",
            f"{rate:.0f} jobs/s, {twice} claimed twice",
            ratio(rate, baseline),
        )
        for count, rate, twice in results
    ]


def latency(project: BenchProject, database: URL, user: object, *, jobs: int) -> list[Row]:
    with (
        tempfile.TemporaryDirectory(prefix="bench-handlers-") as handlers,
        pgbouncer(server_url()) as bouncer,
        psycopg.connect(libpq(database), autocommit=True) as connection,
    ):
        (Path(handlers) / "bench_handlers.py").write_text(STARTED_HANDLERS)
        direct = worker_env(project, database)
        direct["PYTHONPATH"] = os.pathsep.join([direct["PYTHONPATH"], handlers])
        bounced = bouncer.set(drivername="postgresql+psycopg", database=database.database)
        modes = {
            "NOTIFY (direct, QUEUE_POLL_SECONDS=5)": {
                **direct,
                "QUEUE_POLL_SECONDS": "5",
            },
            "polling only (PgBouncer, QUEUE_POLL_SECONDS=1)": {
                **direct,
                "DATABASE_URL": bounced.render_as_string(hide_password=False),
                "DATABASE_POOLER": "pgbouncer",
                "QUEUE_POLL_SECONDS": "1",
            },
        }
        results = {}
        for label, env in modes.items():
            connection.execute("TRUNCATE jobs CASCADE")
            with workers(project, 1, env, "--handlers", "bench_handlers:HANDLERS"):
                results[label] = start_latencies(connection, user, jobs=jobs)
    baseline = percentile(next(iter(results.values())), 0.5)
    return [
        (
            f"enqueue to start, {label}, {jobs} jobs",
            f"p50 {percentile(samples, 0.5):.1f} ms, p99 {percentile(samples, 0.99):.1f} ms",
            ratio(percentile(samples, 0.5), baseline),
        )
        for label, samples in results.items()
    ]


def start_latencies(connection: psycopg.Connection, user: object, *, jobs: int) -> list[float]:
    """Milliseconds from each job's enqueue commit to its handler's start."""

    def enqueue() -> object:
        with connection.transaction():
            job = one(
                connection,
                'INSERT INTO jobs (user_id, payload) VALUES (%s, \'{"kind": "started"}\')'
                " RETURNING id",
                [user],
            )[0]
            connection.execute("SELECT pg_notify('jobs', '')")
        return job

    enqueue()  # warm-up: the worker's first claim and handler run, not counted
    wait_until_finished(connection, timeout=30)
    spacing = random.Random(5)  # noqa: S311 (arrival times, not secrets)
    committed = {}
    for _ in range(jobs):
        job = enqueue()
        committed[job] = time.time()
        time.sleep(spacing.uniform(0.02, 0.05))
    wait_until_finished(connection, timeout=30)
    started = connection.execute(
        "SELECT job_id, (output ->> 'started')::float8 FROM job_results WHERE job_id = ANY(%s)",
        [list(committed)],
    ).fetchall()
    if len(started) != jobs:
        raise RuntimeError(f"{len(started)} of {jobs} jobs ran")
    return [(at - committed[job]) * 1000 for job, at in started]


def worker_env(project: BenchProject, database: URL) -> dict[str, str]:
    url = database.set(drivername="postgresql+psycopg").render_as_string(hide_password=False)
    return {**project.env(), "DATABASE_URL": url}


@contextmanager
def workers(
    project: BenchProject, count: int, env: dict[str, str], *arguments: str
) -> Iterator[None]:
    """`count` worker processes, waiting for jobs; SIGTERM at the end (their graceful stop),
    SIGKILL for any still running 30 s later. What they logged beyond INFO goes to stderr: a
    job that ran twice says why there (a lease that expired after a lost connection, say)."""
    command = [sys.executable, "-m", "my_service.jobs", "worker", *arguments]
    with tempfile.TemporaryDirectory(prefix="bench-workers-") as directory:
        logs = [Path(directory) / f"worker-{n}.log" for n in range(count)]
        processes: list[subprocess.Popen[bytes]] = []
        try:
            for log in logs:
                with log.open("wb") as output:
                    processes.append(
                        subprocess.Popen(
                            command,
                            cwd=project.root,
                            env=env,
                            stdout=output,
                            stderr=subprocess.STDOUT,
                        )
                    )
            for process, log in zip(processes, logs, strict=True):
                wait_until_ready(process, log, timeout=60)
            yield
        finally:
            stop(processes)
            for log in logs:
                report_trouble(log)


def wait_until_ready(process: subprocess.Popen[bytes], log: Path, *, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not any(marker in log.read_text(errors="replace") for marker in READY):
        if process.poll() is not None:
            raise RuntimeError(f"a worker exited with {process.returncode} before waiting for jobs")
        if time.monotonic() > deadline:
            raise RuntimeError(f"a worker is not waiting for jobs after {timeout:.0f} s")
        time.sleep(0.05)


def stop(processes: list[subprocess.Popen[bytes]]) -> None:
    for process in processes:
        process.terminate()
    for process in processes:
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


def report_trouble(log: Path, *, lines: int = 20) -> None:
    """The log's records above INFO and the exceptions they name, tracebacks left out."""
    if not log.exists():
        return
    trouble = [
        line
        for line in log.read_text(errors="replace").splitlines()
        if re.match(r"\S+ \S+ (WARNING|ERROR|CRITICAL) ", line)
        or re.match(r"[\w.]+(Error|Exception)\b", line)
    ]
    for line in trouble[:lines]:
        print(f"{log.stem}: {line}", file=sys.stderr)


def wait_until_finished(connection: psycopg.Connection, *, timeout: float) -> None:
    """Until no job is pending or running. Seen late by up to a poll: the figures' times are the
    ones recorded by the client and the database, not when this notices."""
    deadline = time.monotonic() + timeout
    while unfinished := one(
        connection, "SELECT count(*) FROM jobs WHERE status IN ('pending', 'running')"
    )[0]:
        if time.monotonic() > deadline:
            raise TimeoutError(f"{unfinished} job(s) unfinished after {timeout:.0f} s")
        time.sleep(0.2)


def bench_user(connection: psycopg.Connection) -> object:
    """The user every job belongs to (jobs.user_id is a NOT NULL foreign key)."""
    return one(
        connection,
        "INSERT INTO users (email, password_hash)"
        " VALUES ('bench@example.com', '$argon2id$bench') RETURNING id",
    )[0]


def one(connection: psycopg.Connection, query: str, parameters: list[object] | None = None) -> Any:
    row = connection.execute(query, parameters).fetchone()
    assert row is not None, query
    return row

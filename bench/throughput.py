"""Figure 4: requests per second of the generated app under uvicorn (one worker) against the
bare driver serving the same SQL (bench/raw_app.py), per driver and per endpoint:

- `GET /jobs?limit=50`, a page of the listing;
- `GET /jobs/<id>`, one job by key (ids drawn from 1,000 live jobs in turn);
- `POST /jobs`, a job enqueued for a user (the owner locked, their pending jobs counted).

Both servers run side by side on the same database and are loaded in turn, round after round
(A B, B A, ...), so a neighbour's load on a shared machine falls on both alike; each rate is the
median of the rounds. Load stays on loopback, bounded by a request count and a timeout.
"""

import asyncio
import itertools
import os
import statistics
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import AsyncExitStack, ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

import httpx
import psycopg

from tests.support.servers import cpu_seconds, libpq, served

from .measure import Row, percentile
from .project import BenchProject

Call = Callable[[httpx.AsyncClient], Awaitable[httpx.Response]]


class Result(NamedTuple):
    rate: float  # requests per second
    latencies: list[float]  # ms
    cpu_ms: float  # the server's CPU time per request


APP = ["--factory", "my_service.main:create_app"]
BARE = ["bench.raw_app:app"]
BENCH_ROOT = Path(__file__).resolve().parents[1]
# As production ships it (JSON lines, stdout to a file: here /dev/null), except that
# enqueueing, refused past a user's pending limit, is unlimited: every POST inserts a job.
SETTINGS = {"LOG_FORMAT": "json", "QUEUE_MAX_PENDING_PER_USER": "100000000"}


@dataclass(frozen=True)
class Endpoint:
    label: str
    call: Call
    status: int


async def load(
    http: httpx.AsyncClient, endpoint: Endpoint, *, clients: int, requests: int
) -> Result:
    """`requests` calls of `endpoint` from `clients` concurrent clients, and the CPU time the
    server behind `http` spent on them."""
    latencies: list[float] = []
    remaining = requests

    async def client() -> None:
        nonlocal remaining
        while remaining > 0:
            remaining -= 1
            started = time.perf_counter()
            response = await endpoint.call(http)
            latencies.append((time.perf_counter() - started) * 1000)
            assert response.status_code == endpoint.status, response.text

    base = str(http.base_url).rstrip("/")
    cpu_before, started = cpu_seconds(base), time.perf_counter()
    await asyncio.wait_for(asyncio.gather(*(client() for _ in range(clients))), 300)
    rate = len(latencies) / (time.perf_counter() - started)
    return Result(rate, latencies, (cpu_seconds(base) - cpu_before) * 1000 / len(latencies))


async def in_turns(
    bases: dict[str, str], endpoint: Endpoint, *, clients: int, requests: int, rounds: int
) -> dict[str, Result]:
    """Load each server `rounds` times, in rotating order; the median rate and CPU time per
    request of each, and its latencies over all rounds. A warm-up round first opens every
    pool's connections."""
    limits = httpx.Limits(max_connections=clients)
    results: dict[str, list[Result]] = {label: [] for label in bases}
    async with AsyncExitStack() as stack:
        https = {
            label: await stack.enter_async_context(
                httpx.AsyncClient(base_url=base, limits=limits, timeout=30)
            )
            for label, base in bases.items()
        }
        for http in https.values():
            await load(http, endpoint, clients=clients, requests=4 * clients)
        labels = list(https)
        for turn in range(rounds):
            for label in labels[turn % len(labels) :] + labels[: turn % len(labels)]:
                results[label].append(
                    await load(https[label], endpoint, clients=clients, requests=requests)
                )
    return {
        label: Result(
            statistics.median(run.rate for run in runs),
            [latency for run in runs for latency in run.latencies],
            statistics.median(run.cpu_ms for run in runs),
        )
        for label, runs in results.items()
    }


LISTING = Endpoint("GET /jobs?limit=50", lambda http: http.get("/jobs", params={"limit": 50}), 200)


def endpoints(project: BenchProject) -> list[Endpoint]:
    """The listing, one job by key and an enqueue, with ids from the project's database."""
    with psycopg.connect(libpq(project.database_url)) as connection:
        job_ids = [
            str(row[0])
            for row in connection.execute(
                "SELECT id FROM jobs WHERE deleted_at IS NULL ORDER BY created_at LIMIT 1000"
            )
        ]
        user_ids = [str(row[0]) for row in connection.execute("SELECT id FROM users")]
    jobs: Iterator[str] = itertools.cycle(job_ids)
    users: Iterator[str] = itertools.cycle(user_ids)
    new_job = {"kind": "email", "to": "someone@example.com"}
    return [
        LISTING,
        Endpoint("GET /jobs/<id>", lambda http: http.get(f"/jobs/{next(jobs)}"), 200),
        Endpoint(
            "POST /jobs",
            lambda http: http.post("/jobs", json={"user_id": next(users), "payload": new_job}),
            201,
        ),
    ]


@contextmanager
def side_by_side(
    servers: dict[str, tuple[list[str], dict[str, str], str]],
) -> Iterator[dict[str, str]]:
    """Serve each (uvicorn arguments, environment, folder) at once, their logs to /dev/null;
    the base URLs by label. Stopped on leaving."""
    with ExitStack() as stack:
        output = stack.enter_context(open(os.devnull, "wb"))
        yield {
            label: stack.enter_context(served(app, env, cwd, output=output))
            for label, (app, env, cwd) in servers.items()
        }


async def throughput(
    project: BenchProject, *, clients: int, requests: int, rounds: int
) -> list[Row]:
    rows: list[Row] = []
    measured = endpoints(project)
    for driver in ("psycopg", "asyncpg"):
        env = {**project.env(driver), **SETTINGS}
        servers = {
            "generated app": (APP, env, str(project.root)),
            "bare driver": (BARE, env, str(BENCH_ROOT)),
        }
        with side_by_side(servers) as bases:
            for endpoint in measured:
                results = await in_turns(
                    bases, endpoint, clients=clients, requests=requests, rounds=rounds
                )
                rows += rate_rows(
                    f"{driver}, {endpoint.label}: ",
                    results,
                    baseline="bare driver",
                    clients=clients,
                )
    return rows


def rate_rows(prefix: str, results: dict[str, Result], *, baseline: str, clients: int) -> list[Row]:
    """One row per result: rate, latencies and CPU time per request; the rate's ratio to
    `baseline`'s."""
    baseline_rate = results[baseline].rate
    return [
        (
            f"{prefix}{label}, {clients} clients",
            f"{result.rate:.0f} req/s (p50 {percentile(result.latencies, 0.5):.1f} ms, "
            f"p99 {percentile(result.latencies, 0.99):.1f} ms; "
            f"server CPU {result.cpu_ms:.2f} ms/request)",
            f"{result.rate / baseline_rate:.2f}x",
        )
        for label, result in results.items()
    ]

"""The generated service under a bounded loopback load, served by uvicorn as in production.

Twice as many concurrent clients as the pool has connections create jobs and list them: every
request must succeed (waiting for a connection is fine, failing is not), and the database must
hold exactly as many new jobs as requests that answered 201: nothing lost, nothing doubled.
"""

import asyncio
import statistics
import time
from collections import Counter

import httpx
import pytest

from .support.example import add_user, jobs_of
from .support.projects import Project
from .support.servers import served
from .support.variants import DRIVERS

POOL_SIZE, MAX_OVERFLOW = 2, 2
CLIENTS = 2 * (POOL_SIZE + MAX_OVERFLOW)
REQUESTS = 600  # half writes, half reads


async def hammer(base: str, user_id: str) -> tuple[Counter[int], int, list[float], float]:
    """(status counts, jobs created, latencies in ms, seconds) for REQUESTS over CLIENTS."""
    statuses: Counter[int] = Counter()
    latencies: list[float] = []
    created = 0
    remaining = REQUESTS

    async def client(http: httpx.AsyncClient) -> None:
        nonlocal created, remaining
        while remaining > 0:
            remaining -= 1
            started = time.perf_counter()
            if remaining % 2:
                response = await http.post("/jobs", json={"user_id": user_id, "payload": {}})
                created += response.status_code == 201
            else:
                response = await http.get("/jobs", params={"user_id": user_id, "limit": 20})
            latencies.append((time.perf_counter() - started) * 1000)
            statuses[response.status_code] += 1

    limits = httpx.Limits(max_connections=CLIENTS)
    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=60) as http:
        started = time.perf_counter()
        await asyncio.wait_for(asyncio.gather(*(client(http) for _ in range(CLIENTS))), 240)
        elapsed = time.perf_counter() - started
    return statuses, created, latencies, elapsed


@pytest.mark.parametrize("project", DRIVERS, indirect=True)
def test_twice_the_pool_in_clients_gets_no_errors_and_loses_no_write(project: Project) -> None:
    project.migrate()
    env = project.service_env(
        DATABASE_POOL_SIZE=str(POOL_SIZE), DATABASE_MAX_OVERFLOW=str(MAX_OVERFLOW)
    )
    user_id = add_user(project, f"load-{project.driver}@example.com")
    app = project.app_factory()
    with served(app, env, str(project.root), python=project.python()) as base:
        statuses, created, latencies, elapsed = asyncio.run(hammer(base, user_id))

    print(
        f"\n{project.driver}: {REQUESTS} requests, {CLIENTS} clients, "
        f"pool {POOL_SIZE}+{MAX_OVERFLOW}: "
        f"{REQUESTS / elapsed:.0f} req/s, p50 {statistics.median(latencies):.1f} ms, "
        f"p99 {statistics.quantiles(latencies, n=100)[98]:.1f} ms, statuses {dict(statuses)}"
    )
    assert statuses == Counter({201: REQUESTS // 2, 200: REQUESTS // 2})
    assert jobs_of(project, user_id) == created

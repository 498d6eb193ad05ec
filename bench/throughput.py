"""Figure 4: requests per second of `GET /jobs?limit=50` under uvicorn (one worker), the
generated app against the bare driver serving the same SQL (bench/raw_app.py), per driver.

Load stays on loopback, bounded by a request count and a timeout.
"""

import asyncio
import os
import time

import httpx

from tests.support.servers import served

from .measure import Row, percentile
from .project import BenchProject


async def load(base: str, *, clients: int, requests: int) -> tuple[float, list[float]]:
    """`requests` GETs from `clients` concurrent clients: (requests per second, latencies ms)."""
    latencies: list[float] = []
    remaining = requests

    async def client(http: httpx.AsyncClient) -> None:
        nonlocal remaining
        while remaining > 0:
            remaining -= 1
            started = time.perf_counter()
            response = await http.get("/jobs", params={"limit": 50})
            latencies.append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200, response.text

    limits = httpx.Limits(max_connections=clients)
    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=30) as http:
        await client(http)  # warm-up: opens the pool's connections
        remaining, latencies = requests, []
        started = time.perf_counter()
        await asyncio.wait_for(asyncio.gather(*(client(http) for _ in range(clients))), 300)
        elapsed = time.perf_counter() - started
    return len(latencies) / elapsed, latencies


async def throughput(project: BenchProject, *, clients: int, requests: int) -> list[Row]:
    rows: list[Row] = []
    bench_root = os.path.dirname(os.path.dirname(__file__))
    for driver in ("psycopg", "asyncpg"):
        env = project.env(driver)
        apps = {
            "generated app": (["--factory", "my_service.main:create_app"], str(project.root)),
            "bare driver": (["bench.raw_app:app"], bench_root),
        }
        results = {}
        for label, (app, cwd) in apps.items():
            with served(app, env, cwd) as base:
                results[label] = await load(base, clients=clients, requests=requests)
        rows += rate_rows(f"{driver}: ", results, baseline="bare driver", clients=clients)
    return rows


def rate_rows(
    prefix: str, results: dict[str, tuple[float, list[float]]], *, baseline: str, clients: int
) -> list[Row]:
    """One row per `load` result: rate and latencies, and the rate's ratio to `baseline`'s."""
    baseline_rate = results[baseline][0]
    return [
        (
            f"{prefix}{label}, {clients} clients",
            f"{rate:.0f} req/s (p50 {percentile(latencies, 0.5):.1f} ms, "
            f"p99 {percentile(latencies, 0.99):.1f} ms)",
            f"{rate / baseline_rate:.2f}x",
        )
        for label, (rate, latencies) in results.items()
    ]

"""Figure 10: the cost of observability. Requests per second and latency of one user's first
page, `GET /jobs?user_id=...&limit=20`, under uvicorn (one worker), for:

- the project as shipped, `LOG_FORMAT=json LOG_LEVEL=INFO`, its stdout to a file as production
  ships it: a JSON access line per request, request metrics, the slow-statement listener;
- the same project with its observability as quiet as settings make it (the baseline):
  `LOG_LEVEL=WARNING METRICS_ENABLED=false DATABASE_SLOW_STATEMENT_MS=0`, nothing logged per
  request. The request middleware still runs: it binds a request id and counts the request in
  the in-process registry, which no setting turns off;
- the template before observability (commit `BEFORE`), rendered with its defaults.

The three servers run side by side on the same database and are loaded in turn, round after
round (A B C, B C A, C A B, ...), so a neighbour's load on a shared machine falls on all of
them alike; each figure is the median of the rounds. What the difference buys (a request id on
every line, per-route latency histograms) is not measured here: this is the price.
"""

import asyncio
import statistics
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path

import copier
import httpx
import psycopg

from tests.support.projects import TEMPLATE_ROOT
from tests.support.servers import libpq, served

from .measure import Row, percentile
from .project import BenchProject

BEFORE = "59ba1f8"  # the last commit before src/<pkg>/observability/
APP = ["--factory", "my_service.main:create_app"]
LIMIT = 20
SHIPPED = {"LOG_FORMAT": "json", "LOG_LEVEL": "INFO"}
QUIETEST = {
    "LOG_FORMAT": "json",
    "LOG_LEVEL": "WARNING",
    "METRICS_ENABLED": "false",
    "DATABASE_SLOW_STATEMENT_MS": "0",
}
SHIPPED_LABEL = "HEAD as shipped (LOG_FORMAT=json, LOG_LEVEL=INFO, stdout to a file)"
BASELINE = "HEAD, quietest (LOG_LEVEL=WARNING, METRICS_ENABLED=false, DATABASE_SLOW_STATEMENT_MS=0)"


def render_before(directory: Path) -> Path:
    """The template as of `BEFORE`, rendered with its defaults: the same schema and migrations
    as HEAD's, so it serves the same database."""
    copier.run_copy(
        str(TEMPLATE_ROOT), directory, defaults=True, unsafe=True, vcs_ref=BEFORE, quiet=True
    )
    return directory


def busiest_user(project: BenchProject) -> str:
    """The user with the most jobs (bench.data spreads them evenly): a full first page."""
    with psycopg.connect(libpq(project.database_url)) as connection:
        found = connection.execute(
            "SELECT user_id FROM jobs GROUP BY user_id ORDER BY count(*) DESC LIMIT 1"
        ).fetchone()
    assert found is not None, "no jobs: load them first (bench.data.load_jobs)"
    return str(found[0])


async def load(
    http: httpx.AsyncClient, params: dict[str, str | int], *, clients: int, requests: int
) -> tuple[float, list[float]]:
    """`requests` GETs of /jobs from `clients` concurrent clients: (requests/s, latencies ms)."""
    latencies: list[float] = []
    remaining = requests

    async def client() -> None:
        nonlocal remaining
        while remaining > 0:
            remaining -= 1
            started = time.perf_counter()
            response = await http.get("/jobs", params=params)
            latencies.append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200, response.text
            assert len(response.json()["items"]) == LIMIT, response.text

    started = time.perf_counter()
    await asyncio.wait_for(asyncio.gather(*(client() for _ in range(clients))), 300)
    return len(latencies) / (time.perf_counter() - started), latencies


async def observability_cost(
    project: BenchProject, *, clients: int, requests: int, rounds: int
) -> list[Row]:
    params: dict[str, str | int] = {"user_id": busiest_user(project), "limit": LIMIT}
    warm_up = 4 * clients
    with tempfile.TemporaryDirectory() as temporary:
        directory = Path(temporary)
        before = render_before(directory / "before-observability")
        servers = {
            BASELINE: (project.root, QUIETEST),
            SHIPPED_LABEL: (project.root, SHIPPED),
            f"{BEFORE}, before observability": (before, {}),
        }
        logs = {label: directory / f"{n}.log" for n, label in enumerate(servers)}
        with ExitStack() as stack:  # the servers, stopped (their logs flushed) on leaving
            https = {}
            for label, (root, settings) in servers.items():
                env = {**project.env(), **settings, "PYTHONPATH": str(root / "src")}
                output = stack.enter_context(logs[label].open("wb"))
                base = stack.enter_context(served(APP, env, str(root), output=output))
                https[label] = httpx.AsyncClient(
                    base_url=base, limits=httpx.Limits(max_connections=clients), timeout=30
                )
            results: dict[str, list[tuple[float, list[float]]]] = {label: [] for label in https}
            try:
                for http in https.values():  # opens each pool's connections
                    await load(http, params, clients=clients, requests=warm_up)
                labels = list(https)
                for turn in range(rounds):  # A B C, B C A, ...: none always follows another
                    for label in labels[turn % 3 :] + labels[: turn % 3]:
                        results[label].append(
                            await load(https[label], params, clients=clients, requests=requests)
                        )
            finally:
                for http in https.values():
                    await http.aclose()
        logged = logs[SHIPPED_LABEL].stat().st_size / (warm_up + rounds * requests)
    return rows(results, clients=clients, rounds=rounds, logged_per_request=logged)


def rows(
    results: dict[str, list[tuple[float, list[float]]]],
    *,
    clients: int,
    rounds: int,
    logged_per_request: float,
) -> list[Row]:
    """Per configuration, the medians over the rounds; the rate's ratio to the baseline's."""
    medians = {
        label: (
            statistics.median(rate for rate, _ in runs),
            statistics.median(percentile(latencies, 0.5) for _, latencies in runs),
            statistics.median(percentile(latencies, 0.99) for _, latencies in runs),
        )
        for label, runs in results.items()
    }
    baseline_rate = medians[BASELINE][0]
    return [
        (
            f"{label}, {clients} clients, median of {rounds} rounds"
            + (
                f" ({logged_per_request:.0f} bytes logged/request)"
                if label == SHIPPED_LABEL
                else ""
            ),
            f"{rate:.0f} req/s (p50 {p50:.1f} ms, p99 {p99:.1f} ms)",
            f"{rate / baseline_rate:.2f}x",
        )
        for label, (rate, p50, p99) in medians.items()
    ]

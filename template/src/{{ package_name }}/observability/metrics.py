"""Metrics: Prometheus text at GET /metrics, from a registry of the app's own.

Counted as they happen: requests by route template and status, their latency, checkouts'
waits for a pooled connection, and the 503s the database caused, by code. Read at each scrape:
the pools' size, checked-out and overflow connections, and whatever the app's `MetricSource`s
report (the example's queue depth). Under several uvicorn workers, PROMETHEUS_MULTIPROC_DIR
makes every worker's scrape add up the counts of all of them (prometheus-client's multiprocess
mode; README, "Logs, metrics and traces").
"""

import asyncio
import logging
import os
from collections.abc import Awaitable, Callable, Iterable, Iterator
from dataclasses import dataclass

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.metrics_core import GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.pool import ConnectionPoolEntry, QueuePool

from ..db.engine import POOL_WAIT_KEY

logger = logging.getLogger(__name__)

# Reads the database at scrape time, through the app's engines, and reports what it found.
MetricSource = Callable[[AsyncEngine], Awaitable[Iterable[Metric]]]
# A scrape must answer even when the database does not (that is when it matters most).
SOURCE_TIMEOUT_SECONDS = 1.0
# Seconds; from a fast primary-key read to the statement timeout's 15 s.
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 15, 30)
WAIT_BUCKETS = (0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30)


@dataclass(frozen=True, eq=False)  # registered as a dict key: hashed by identity
class Pools:
    """The pools of the app's engines by role, read at scrape time."""

    engines: dict[str, AsyncEngine]

    def collect(self) -> Iterator[Metric]:
        size = GaugeMetricFamily("db_pool_size", "Connections the pool keeps", labels=["pool"])
        out = GaugeMetricFamily(
            "db_pool_checked_out", "Connections in use by a request", labels=["pool"]
        )
        overflow = GaugeMetricFamily(
            "db_pool_overflow", "Connections open beyond the pool's size", labels=["pool"]
        )
        for role, engine in self.engines.items():
            pool = engine.pool
            if isinstance(pool, QueuePool):
                size.add_metric([role], pool.size())
                out.add_metric([role], pool.checkedout())
                overflow.add_metric([role], max(pool.overflow(), 0))
        yield from (size, out, overflow)


@dataclass(frozen=True, eq=False)  # registered as a dict key: hashed by identity
class Found:
    """Metrics a source already read, handed to one scrape."""

    metrics: list[Metric]

    def collect(self) -> Iterator[Metric]:
        yield from self.metrics


class ServiceMetrics:
    """The app's metrics. Counters live in the app's registry, or in the multiprocess files."""

    def __init__(self, sources: Iterable[MetricSource] = ()) -> None:
        self.sources = list(sources)
        # Role ("primary", "read") -> engine, while the app's lifespan runs.
        self.engines: dict[str, AsyncEngine] = {}
        self.multiprocess_dir = os.environ.get("PROMETHEUS_MULTIPROC_DIR") or None
        # In multiprocess mode the counters write to files that every worker's scrape reads:
        # registered nowhere, or each would also be reported on its own.
        self.registry = CollectorRegistry()
        counted_in = None if self.multiprocess_dir else self.registry
        self.requests = Counter(
            "http_requests_total",
            "Requests answered, by method, route template and status",
            ["method", "route", "status"],
            registry=counted_in,
        )
        self.latency = Histogram(
            "http_request_duration_seconds",
            "Time to answer a request, by method and route template",
            ["method", "route"],
            buckets=LATENCY_BUCKETS,
            registry=counted_in,
        )
        self.pool_wait = Histogram(
            "db_pool_wait_seconds",
            "Time a checkout waited for a pooled connection (or for a new one to open)",
            buckets=WAIT_BUCKETS,
            registry=counted_in,
        )
        self.database_errors = Counter(
            "db_errors_total",
            "Requests answered 503 because of the database, by error code",
            ["code"],
            registry=counted_in,
        )

    def observe_request(self, method: str, route: str, status: int, seconds: float) -> None:
        self.requests.labels(method, route, str(status)).inc()
        self.latency.labels(method, route).observe(seconds)

    def watch_pool(self, role: str, engine: AsyncEngine) -> None:
        """Report the pool of `engine` and each checkout's wait, as `db.engine.TimedQueuePool`
        noted it; `forget_pools` when the engines are disposed."""
        self.engines[role] = engine

        @event.listens_for(engine.sync_engine.pool, "checkout")
        def _observe_wait(_: object, record: ConnectionPoolEntry, __: object) -> None:
            waited = record.info.pop(POOL_WAIT_KEY, None)
            if isinstance(waited, float):
                self.pool_wait.observe(waited)

    def forget_pools(self) -> None:
        self.engines.clear()

    async def scrape(self) -> bytes:
        """The Prometheus text of everything above, sources read within a second each."""
        registry = CollectorRegistry(auto_describe=False)
        if self.multiprocess_dir:
            MultiProcessCollector(registry, path=self.multiprocess_dir)  # type: ignore[no-untyped-call]
        else:
            registry.register(self.registry)
        registry.register(Pools(dict(self.engines)))
        primary = self.engines.get("primary")
        if primary is not None:  # the lifespan runs
            for source in self.sources:
                registry.register(Found(await self._read(source, primary)))
        return generate_latest(registry)

    async def _read(self, source: MetricSource, engine: AsyncEngine) -> list[Metric]:
        try:
            async with asyncio.timeout(SOURCE_TIMEOUT_SECONDS):
                return list(await source(engine))
        except Exception:
            # The rest of the scrape still answers: a pool exhausted for a while is exactly
            # when the request and pool metrics must be read.
            logger.warning("metric source %s failed", getattr(source, "__name__", source))
            return []

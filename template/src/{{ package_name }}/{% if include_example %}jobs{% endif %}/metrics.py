"""The queue in the app's metrics: jobs by state and how long the oldest ready one has waited.

A `MetricSource` (`observability.metrics`): read with one query at each scrape, the one
`python -m <package>.jobs status` runs, so a worker fleet that falls behind shows on a graph.
"""

from collections.abc import Iterable

from prometheus_client.metrics_core import GaugeMetricFamily, Metric
from sqlalchemy.ext.asyncio import AsyncEngine

from ..db.session import make_sessionmaker
from .retention import queue_status


async def queue_metrics(engine: AsyncEngine) -> Iterable[Metric]:
    async with make_sessionmaker(engine)() as session:
        status = await queue_status(session)
    jobs = GaugeMetricFamily("jobs", "Jobs in the queue, by state", labels=["state"])
    for state, count in (
        ("ready", status.ready),
        ("backing_off", status.waiting),
        ("running", status.running),
        ("expired_lease", status.expired_leases),
        ("failed", status.failed),
    ):
        jobs.add_metric([state], count)
    oldest = GaugeMetricFamily(
        "jobs_oldest_ready_seconds",
        "How long the oldest ready job has waited for a worker (0: none waits)",
        value=status.oldest_ready_seconds,
    )
    return [jobs, oldest]

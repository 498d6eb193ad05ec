"""Figure 5: jobs claimed per second by 1, 2 and 4 concurrent workers (SKIP LOCKED), and how
many jobs were claimed twice (must be 0)."""

import asyncio
import time
from datetime import timedelta

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from .data import load_jobs
from .measure import Row, ratio
from .project import BenchProject, scratch_engine


async def claims(project: BenchProject, *, pending: int, worker_counts: list[int]) -> list[Row]:
    async with scratch_engine(project) as engine:
        await load_jobs(engine, jobs=pending)
        results = [(workers, *await claim_all(engine, workers)) for workers in worker_counts]
    baseline = results[0][1]
    return [
        (
            f"{workers} worker(s), {claimed:,} pending jobs",
            f"{rate:.0f} claims/s, {duplicates} claimed twice",
            ratio(rate, baseline),
        )
        for workers, rate, claimed, duplicates in results
    ]


async def claim_all(engine: AsyncEngine, workers: int) -> tuple[float, int, int]:
    """Every job pending again, then `workers` workers claim until none is left.

    Returns (claims per second, jobs claimed, jobs claimed more than once).
    """
    from my_service.db.session import make_sessionmaker, unit_of_work
    from my_service.jobs.service import claim_next

    sessions = make_sessionmaker(engine)
    async with engine.begin() as connection:
        await connection.execute(
            text("UPDATE jobs SET status = 'pending', attempts = 0, lease_expires_at = NULL")
        )
    claimed: list[str] = []

    async def worker() -> None:
        while True:
            async with sessions() as session, unit_of_work(session):
                job = await claim_next(session, lease=timedelta(seconds=30))
            if job is None:
                return
            claimed.append(str(job.id))

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(workers)))
    rate = len(claimed) / (time.perf_counter() - started)
    return rate, len(claimed), len(claimed) - len(set(claimed))

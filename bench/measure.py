"""Timing helpers and the shape of a benchmark row."""

import statistics
import time
from collections.abc import Awaitable, Callable

# (what was measured, the absolute figure, its ratio to the figure's baseline)
Row = tuple[str, str, str]


def ratio(value: float, baseline: float) -> str:
    return f"{value / baseline:.2f}x" if baseline else "n/a"


def percentile(samples: list[float], fraction: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


async def median_ms(run: Callable[[], Awaitable[object]], repeat: int) -> float:
    """Median wall time of `repeat` runs, after one warm-up run."""
    await run()
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        await run()
        samples.append((time.perf_counter() - started) * 1000)
    return statistics.median(samples)

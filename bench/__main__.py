"""`uv run python -m bench [--quick] [--output FILE]`: render a default project, load data into
scratch databases on TEST_DATABASE_URL's server, and print one table of figures, each beside its
ratio to a baseline measured in the same run. Full: about 15 minutes here, half of it the
template's own suite; --quick: every figure once on small data, without the suite timings.
"""

import argparse
import asyncio
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from tests.support.projects import TEMPLATE_ROOT
from tests.support.running import user_environment
from tests.support.servers import server_url

from .contention import contention
from .data import load_jobs
from .isolation import isolation_cost
from .measure import Row
from .observability import observability_cost
from .pages import deep_pages, statements_per_request
from .pooling import through_pgbouncer
from .project import BenchProject, rendered_project
from .rehearsal import write_blocking
from .report import report
from .throughput import throughput
from .worker import work_queue


@dataclass(frozen=True)
class Size:
    jobs: int
    depths: list[int]
    isolation_tests: int
    page_repeat: int
    clients: int
    requests: int
    queued: int  # jobs run by 1, 2 and 4 worker processes
    latency_jobs: int  # enqueued one at a time, with NOTIFY and with polling
    retained: int  # jobs through the queue table, retention on and off
    contenders: int  # concurrent enqueuing clients, each with a connection of its own
    contention_rounds: int  # rounds from no jobs to every user's limit reached, per guard
    rehearsed: int  # rows of the table the rehearsed revisions change
    observed_rounds: int  # A B C rounds of `requests` each, observability on, quiet and absent
    throughput_rounds: int  # A B rounds of `requests` each, generated app and its baseline


FULL = Size(
    1_000_000,
    [0, 100_000, 500_000],
    200,
    9,
    16,
    2000,
    20_000,
    200,
    100_000,
    16,
    20,
    1_000_000,
    5,
    3,
)
# Every figure once, on data just big enough to show its shape: the template suite's smoke test.
QUICK = Size(20_000, [0, 5_000, 10_000], 20, 3, 8, 100, 300, 5, 2_000, 16, 1, 20_000, 1, 1)


def wall_seconds(command: list[str], cwd: Path, env: dict[str, str]) -> float:
    started = time.perf_counter()
    subprocess.run(command, cwd=cwd, env=env, check=True, capture_output=True)
    return time.perf_counter() - started


PYTEST = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"]
# The generated suite as its user runs it (README): its Python, its own environment.
USER_PYTEST = ["uv", "run", "pytest", "-q", "-p", "no:cacheprovider"]


def suites_env(project: BenchProject) -> dict[str, str]:
    server = server_url().render_as_string(hide_password=False)
    return {**project.env(), "TEST_DATABASE_URL": server}


def suite_timings(project: BenchProject) -> list[Row]:
    env = user_environment(TEST_DATABASE_URL=server_url().render_as_string(hide_password=False))
    subprocess.run(["uv", "sync"], cwd=project.root, env=env, check=True, capture_output=True)
    serial = wall_seconds(USER_PYTEST, project.root, env)
    parallel = wall_seconds([*USER_PYTEST, "-n", "2"], project.root, env)
    return [
        ("generated suite, serial", f"{serial:.1f} s", f"{serial / project.copy_seconds:.2f}x"),
        ("generated suite, -n 2", f"{parallel:.1f} s", f"{parallel / project.copy_seconds:.2f}x"),
    ]


def template_timing(project: BenchProject) -> list[Row]:
    # Less the benchmark's own smoke test, which would run a benchmark inside the benchmark.
    not_itself = [*PYTEST, "--deselect", "tests/test_benchmark.py"]
    seconds = wall_seconds(not_itself, TEMPLATE_ROOT, suites_env(project))
    return [
        (
            "template suite (less the benchmark's smoke test)",
            f"{seconds:.0f} s",
            f"{seconds / project.copy_seconds:.0f}x",
        )
    ]


def not_run(what: str) -> list[Row]:
    return [(what, "not run (--quick)", "n/a")]


async def measure(project: BenchProject, size: Size, *, suites: bool) -> dict[str, list[Row]]:
    from my_service.db.engine import create_engine
    from my_service.main import create_app, lifespan
    from my_service.settings import DatabaseSettings, Settings
    from my_service.state import state_of

    figures: dict[str, list[Row]] = {}
    figures["1. Per-test isolation (ratio to SAVEPOINT)"] = await isolation_cost(
        project, tests=size.isolation_tests
    )
    settings = Settings(
        database=DatabaseSettings(url=project.database_url.render_as_string(hide_password=False))
    )
    engine = create_engine(settings.database)
    try:
        await load_jobs(engine, jobs=size.jobs)
        figures[f"2. Deep pages over {size.jobs:,} jobs (ratio to page 1)"] = await deep_pages(
            engine, depths=size.depths, repeat=size.page_repeat
        )
        app = create_app(settings)
        async with lifespan(app):
            app_engine = state_of(app).running_database().engine
            figures[
                "3. Statements per list request (ratio to limit=10)"
            ] = await statements_per_request(app, app_engine, limits=[10, 50, 100])
    finally:
        await engine.dispose()
    figures[
        "4. Throughput, generated app against the bare driver (ratio to the bare driver)"
    ] = await throughput(
        project, clients=size.clients, requests=size.requests, rounds=size.throughput_rounds
    )
    work_queue_figure = "5. Work queue (ratio to 1 process; to NOTIFY, p50; to retention off)"
    figures[work_queue_figure] = await work_queue(
        project, queued=size.queued, latency_jobs=size.latency_jobs, retained=size.retained
    )
    figures["6. Template (ratio to copier copy)"] = [
        ("copier copy (defaults)", f"{project.copy_seconds:.1f} s", "1.00x"),
        *(suite_timings(project) if suites else not_run("generated suite, serial and -n 2")),
        *(template_timing(project) if suites else not_run("template suite")),
    ]
    figures["7. Through PgBouncer (ratio to direct)"] = await through_pgbouncer(
        project, clients=size.clients, requests=size.requests, rounds=size.throughput_rounds
    )
    contention_figure = "8. Race-free enqueue under contention (ratio to the unprotected insert)"
    figures[contention_figure] = await contention(
        project, clients=size.contenders, rounds=size.contention_rounds
    )
    figures["9. Migration rehearsal: write-blocked time, naive vs helper (ratio to naive)"] = (
        write_blocking(project, rows=size.rehearsed)
    )
    figures[
        "10. Cost of observability, GET /jobs?user_id=...&limit=20 (ratio to HEAD, quietest)"
    ] = await observability_cost(
        project, clients=size.clients, requests=size.requests, rounds=size.observed_rounds
    )
    return figures


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument(
        "--quick",
        action="store_true",
        help="small data, no suite timings: under two minutes",
    )
    parser.add_argument("--output", type=Path, help="also write the table to this file")
    arguments = parser.parse_args()
    size = QUICK if arguments.quick else FULL
    with (
        tempfile.TemporaryDirectory() as directory,
        rendered_project(Path(directory) / "bench-service") as project,
    ):
        figures = asyncio.run(measure(project, size, suites=not arguments.quick))
    table = report(figures, quick=arguments.quick)
    print(table)
    if arguments.output:
        arguments.output.write_text(table)
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""The generated service behind a real PgBouncer and with a read replica, by configuration alone.

PgBouncer runs in transaction mode in front of the local server (support/pgbouncer.py). Several
uvicorn worker processes, each with its own engine, serve a mixed workload through it: with
DATABASE_POOLER=pgbouncer it is served without an error and the timeouts hold; with the
default (`none`) the same run breaks on prepared statements, which is what the mode is for.
DATABASE_POOLER_PREPARED_STATEMENTS keeps asyncpg's statement caches on: served without an
error by a PgBouncer that carries prepared statements (`max_prepared_statements`), and broken by
one that does not, which is why it is a setting of its own.
"""

import asyncio
import json
import signal
import subprocess
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any, NamedTuple

import httpx
import psycopg
import pytest
from sqlalchemy import URL, make_url

from .support.example import add_echo_jobs, add_user, job_states, jobs_of
from .support.pgbouncer import pgbouncer
from .support.projects import Project
from .support.servers import database_server_url, libpq, served
from .support.variants import DRIVERS, PACKAGE

WORKERS, CLIENTS, ROUNDS = 3, 12, 10  # each round: create, list two pages, claim, finish


@pytest.fixture(scope="module")
def bouncer() -> Iterator[URL]:
    """A PgBouncer that carries no prepared statement between server connections (any
    version before 1.21, and 1.21 to 1.23 by default)."""
    with pgbouncer(make_url(database_server_url())) as url:
        yield url


@pytest.fixture(scope="module")
def preparing_bouncer() -> Iterator[URL]:
    """A PgBouncer that carries prepared statements (1.24's default)."""
    with pgbouncer(make_url(database_server_url()), max_prepared_statements=200) as url:
        yield url


# The settings of each way through PgBouncer, and the PgBouncer fixture it needs.
MODES = {
    "pgbouncer": ({"DATABASE_POOLER": "pgbouncer"}, "bouncer"),
    "pgbouncer-prepared-statements": (
        {"DATABASE_POOLER": "pgbouncer", "DATABASE_POOLER_PREPARED_STATEMENTS": "true"},
        "preparing_bouncer",
    ),
}


class Way(NamedTuple):
    mode: str  # a key of MODES
    settings: dict[str, str]
    bouncer: URL


@pytest.fixture(params=MODES)
def way(request: pytest.FixtureRequest) -> Way:
    """Each way through PgBouncer in turn: its settings, and a PgBouncer that serves it."""
    settings, bouncer_fixture = MODES[request.param]
    return Way(request.param, settings, request.getfixturevalue(bouncer_fixture))


def through(bouncer: URL, project: Project) -> URL:
    """The project's development database, reached through PgBouncer."""
    return bouncer.set(database=make_url(project.env["DATABASE_URL"]).database)


DROPPED = 0  # the status counted for a request whose connection closed without an answer


async def workload(base: str, user_id: str) -> Counter[int]:
    """CLIENTS clients, ROUNDS rounds each: the statuses of every answer."""
    statuses: Counter[int] = Counter()

    async def send(http: httpx.AsyncClient, method: str, path: str, **kwargs: Any) -> Any:
        try:
            response = await http.request(method, path, **kwargs)
        except httpx.TransportError:
            statuses[DROPPED] += 1
            return None
        statuses[response.status_code] += 1
        return response.json() if response.status_code in (200, 201) else None

    async def client(http: httpx.AsyncClient) -> None:
        for _ in range(ROUNDS):
            await send(http, "POST", "/jobs", json={"user_id": user_id})
            page = await send(http, "GET", "/jobs", params={"user_id": user_id, "limit": 5})
            if page and page["next_cursor"]:
                await send(http, "GET", "/jobs", params={"limit": 5, "cursor": page["next_cursor"]})
            claimed = await send(http, "POST", "/jobs/claim")
            if claimed:
                token = claimed["lease_token"]
                result = {"status": "done", "duration_seconds": 0.1, "lease_token": token}
                await send(http, "PUT", f"/jobs/{claimed['id']}/result", json=result)

    async with httpx.AsyncClient(base_url=base, timeout=60) as http:
        await asyncio.wait_for(asyncio.gather(*(client(http) for _ in range(CLIENTS))), 240)
    return statuses


def serve_workload(project: Project, env: dict[str, str], log: Path) -> tuple[str, Counter[int]]:
    """Serve the app with WORKERS processes, run the workload: (its user's id, statuses)."""
    app = project.app_factory("--workers", str(WORKERS))
    user_id = add_user(project, f"{log.name}@example.com")
    python = project.python()
    root = str(project.root)
    # stdout too: the service logs there (a 500's traceback included), uvicorn on stderr.
    with (
        log.open("wb") as printed,
        served(app, env, root, log=printed, output=printed, python=python) as base,
    ):
        return user_id, asyncio.run(workload(base, user_id))


@pytest.mark.parametrize("project", DRIVERS, indirect=True)
def test_pgbouncer_mode_serves_many_processes_through_pgbouncer(
    project: Project, way: Way, tmp_path: Path
) -> None:
    project.migrate()  # migrations go to the server itself, never through PgBouncer
    env = project.service_env(through(way.bouncer, project), **way.settings)

    user_id, statuses = serve_workload(project, env, tmp_path / f"{way.mode}-{project.driver}")

    assert set(statuses) <= {200, 201, 204}, statuses
    assert statuses[201] == CLIENTS * ROUNDS
    assert jobs_of(project, user_id) == CLIENTS * ROUNDS


@pytest.mark.parametrize("project", DRIVERS, indirect=True)
def test_timeouts_hold_through_pgbouncer(project: Project, way: Way) -> None:
    env = project.service_env(
        through(way.bouncer, project), **way.settings, DATABASE_STATEMENT_TIMEOUT_MS="200"
    )
    code, output = project.command("-c", SLOW_QUERY, env=env)

    assert code == 0, output
    assert json.loads(output.strip().splitlines()[-1]) == {
        "statement_timeout": "200ms",
        "slow_query": "57014",  # query_canceled
    }


@pytest.mark.parametrize("project", DRIVERS, indirect=True)
def test_the_worker_runs_jobs_by_polling_through_pgbouncer(
    project: Project, way: Way, tmp_path: Path
) -> None:
    """LISTEN cannot work through transaction pooling: the worker polls, and that is enough."""
    project.migrate()
    user_id = add_user(project, f"worker-{way.mode}-{project.driver}@example.com")
    add_echo_jobs(project, user_id, 200)
    env = project.service_env(
        through(way.bouncer, project), **way.settings, QUEUE_POLL_SECONDS="0.2"
    )
    log = tmp_path / f"worker-{project.driver}.log"
    command = [project.python(), "-m", f"{PACKAGE}.jobs", "worker"]
    with log.open("wb") as output:
        worker = subprocess.Popen(command, cwd=project.root, env=env, stdout=output, stderr=output)
    try:
        deadline = time.monotonic() + 60
        while job_states(project, user_id) != {("done", 1): 200}:
            assert time.monotonic() < deadline, (job_states(project, user_id), log.read_text())
            time.sleep(0.2)
        worker.send_signal(signal.SIGTERM)
        assert worker.wait(timeout=20) == 0, log.read_text()
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.wait(timeout=10)
    printed = log.read_text()
    assert "DATABASE_POOLER=pgbouncer: polling for jobs, no LISTEN" in printed
    assert "Traceback" not in printed, printed


# Run in the project: the service's own engine, from its own settings, through PgBouncer.
SLOW_QUERY = f"""
import asyncio, json
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from {PACKAGE}.db.engine import create_engine
from {PACKAGE}.settings import DatabaseSettings

async def main():
    engine = create_engine(DatabaseSettings())
    async with engine.connect() as connection:
        shown = await connection.scalar(text("SHOW statement_timeout"))
        try:
            await connection.execute(text("SELECT pg_sleep(3)"))
            state = None
        except DBAPIError as error:
            state = getattr(error.orig, "sqlstate", None)
    await engine.dispose()
    print(json.dumps({{"statement_timeout": shown, "slow_query": state}}))

asyncio.run(main())
"""


@pytest.mark.parametrize("project", DRIVERS, indirect=True)
def test_the_default_mode_breaks_on_prepared_statements_behind_pgbouncer(
    project: Project, bouncer: URL, tmp_path: Path
) -> None:
    project.migrate()
    env = project.service_env(through(bouncer, project))  # DATABASE_POOLER=none
    log = tmp_path / f"none-{project.driver}"

    _, statuses = serve_workload(project, env, log)

    assert statuses[500] + statuses[DROPPED] > 0, statuses
    assert "prepared statement" in log.read_text()


@pytest.mark.parametrize("project", ["asyncpg"], indirect=True)  # psycopg prepares nothing there
def test_prepared_statements_break_behind_a_pgbouncer_that_does_not_carry_them(
    project: Project, bouncer: URL, tmp_path: Path
) -> None:
    project.migrate()
    settings, _ = MODES["pgbouncer-prepared-statements"]
    env = project.service_env(through(bouncer, project), **settings)
    log = tmp_path / f"prepared-{project.driver}"

    _, statuses = serve_workload(project, env, log)

    assert statuses[500] + statuses[DROPPED] > 0, statuses
    assert "prepared statement" in log.read_text()


@pytest.fixture
def replica(project: Project) -> Iterator[tuple[URL, str]]:
    """A read-only copy of the development database, standing in for a hot standby, and the
    user whose three jobs were copied."""
    project.migrate()
    primary = make_url(project.env["DATABASE_URL"])
    name = f"{primary.database}_replica"
    owner = add_user(project, f"{uuid.uuid4().hex}@example.com")
    with project.connect() as connection:
        three_jobs = "INSERT INTO jobs (user_id) SELECT %s FROM generate_series(1, 3)"
        connection.execute(three_jobs, [owner])
    with psycopg.connect(libpq(database_server_url()), autocommit=True) as admin:
        # A template must have no other session: PgBouncer's pooled ones go.
        admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s",
            [primary.database],
        )
        admin.execute(f'CREATE DATABASE "{name}" TEMPLATE "{primary.database}"')
        admin.execute(f'ALTER DATABASE "{name}" SET default_transaction_read_only = on')
        try:
            yield primary.set(database=name), owner
        finally:
            admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')


@pytest.mark.parametrize("project", DRIVERS, indirect=True)
def test_listing_reads_from_the_read_url_and_a_write_there_is_refused(
    project: Project, replica: tuple[URL, str]
) -> None:
    replica_url, owner = replica
    read_url = replica_url.set(drivername=f"postgresql+{project.driver}")
    env = project.service_env(DATABASE_READ_URL=read_url.render_as_string(hide_password=False))
    app = project.app_factory()
    with served(app, env, str(project.root), python=project.python()) as base:
        # Written to the primary after the copy: a lagging replica does not show it yet.
        created = httpx.post(f"{base}/jobs", json={"user_id": owner})
        listed = httpx.get(f"{base}/jobs", params={"user_id": owner}).json()["items"]

    assert created.status_code == 201
    assert len(listed) == 3
    assert created.json()["id"] not in {job["id"] for job in listed}
    code, output = project.command("-c", WRITE_THROUGH_A_READ_SESSION, env=env)
    assert code == 0, output
    assert output.split()[-1] == "25006"  # read_only_sql_transaction


WRITE_THROUGH_A_READ_SESSION = f"""
import asyncio
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from {PACKAGE}.main import create_app, lifespan
from {PACKAGE}.state import state_of

async def main():
    app = create_app()
    async with lifespan(app):
        read_sessionmaker = state_of(app).running_database().read_sessionmaker
        async with read_sessionmaker() as session:
            try:
                await session.execute(text("DELETE FROM jobs"))
            except DBAPIError as error:
                print(getattr(error.orig, "sqlstate", None))

asyncio.run(main())
"""  # noqa: S608 (only the package's name is put in)


def test_migrations_refuse_to_run_through_a_transaction_pooler(project: Project) -> None:
    env = {**project.env, "DATABASE_POOLER": "pgbouncer"}

    code, output = project.command("-m", "alembic", "upgrade", "head", env=env)

    assert code != 0
    assert "run migrations against PostgreSQL itself" in output

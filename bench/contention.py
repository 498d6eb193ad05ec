"""Figure 8: race-free enqueue under contention, the pending-jobs limit kept three ways.

`clients` asyncio tasks, each with a session of its own on one engine (a pool of `clients`
connections, no overflow), enqueue jobs with the service's own `create_job` for USERS users,
at most LIMIT pending jobs each. A client picks one of the users at random, again and again,
until each has refused it a job; then the round is over, the jobs are truncated, and the next
round starts from none. Four clients a user on average: the last slots of a user are fought
over. Every enqueue runs in `run_transaction`, as the SERIALIZABLE guard does in the service,
so that the three differ in the guard alone:

- unprotected: READ COMMITTED, the owner's row read without a lock (`lock_owner=False`). Check,
  then insert: clients that count the last free slot at once all take it (write skew).
- FOR UPDATE: READ COMMITTED, the owner's row locked first (the service's default): enqueues
  for one user queue on the lock, the next counts the previous one's job.
- SERIALIZABLE: `lock_owner=False` at SERIALIZABLE; PostgreSQL aborts one of two enqueues that
  read what the other wrote (40001) and `run_transaction` re-runs it, after a backoff.

Enqueues/s counts the attempts that ended in a commit or in a clean refusal (the limit
reached), over the rounds' time (the truncations left out). Retries per success: the growth of
`run_transaction`'s own counter (`retries_by_sqlstate`, 40001 and 40P01) over the rounds, per
committed enqueue. An enqueue still failing after the policy's 10 attempts is counted as given
up, neither a success nor a refusal. The most pending jobs any user had at a round's end is
the correctness figure: exactly the limit with either guard, more without one.

SERIALIZABLE's conflicts are between enqueues for one user (4 clients a user here). They were
between all of them while the pending count was read through `ix_jobs_ready` (the claim's
index, user_id a filter on it): each enqueue's SIRead locks covered every user's pending jobs,
and 16 users for 16 clients retried as often as 4 (1.5 a success). The count now reads
`ix_jobs_user_id_pending`, which leads with user_id.
"""

import asyncio
import logging
import random
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Literal

from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from .measure import Row, ratio
from .project import BenchProject, scratch_engine

USERS = 4
LIMIT = 50  # pending jobs a user
ROUND_TIMEOUT = 120.0  # seconds: a round takes well under a second here
Isolation = Literal["READ COMMITTED", "SERIALIZABLE"]  # the levels of run_transaction used here
# label: (isolation, lock the owner's row)
MODES: dict[str, tuple[Isolation, bool]] = {
    "unprotected check-then-insert (READ COMMITTED)": ("READ COMMITTED", False),
    "owner's row FOR UPDATE (READ COMMITTED)": ("READ COMMITTED", True),
    "SERIALIZABLE, re-run on 40001 by run_transaction": ("SERIALIZABLE", False),
}


@dataclass
class Outcome:
    committed: int = 0
    refused: int = 0
    gave_up: int = 0
    seconds: float = 0.0
    retries: Counter[str] = field(default_factory=Counter)
    most: int = 0  # pending jobs of the fullest user at a round's end, over the rounds


async def contention(project: BenchProject, *, clients: int, rounds: int) -> list[Row]:
    from my_service.db.session import make_sessionmaker

    results = {}
    async with scratch_engine(project, pool_size=clients, max_overflow=0) as engine:
        owners = await add_users(engine, USERS)
        sessions = make_sessionmaker(engine)
        with quiet("my_service.db.transactions"):  # a warning a retry: counted here instead
            for isolation, lock_owner in MODES.values():  # warm-up: connections, caches
                await enqueue_round(
                    engine,
                    sessions,
                    owners,
                    Outcome(),
                    clients=clients,
                    limit=2,
                    seed=0,
                    isolation=isolation,
                    lock_owner=lock_owner,
                )
            for label, (isolation, lock_owner) in MODES.items():
                outcome = Outcome()
                for number in range(rounds):
                    await enqueue_round(
                        engine,
                        sessions,
                        owners,
                        outcome,
                        clients=clients,
                        limit=LIMIT,
                        seed=number + 1,
                        isolation=isolation,
                        lock_owner=lock_owner,
                    )
                results[label] = outcome
    baseline = rate(next(iter(results.values())))
    return [
        (
            f"{label}, {clients} clients on {USERS} users, {rounds} round(s)",
            describe(outcome),
            ratio(rate(outcome), baseline),
        )
        for label, outcome in results.items()
    ]


def rate(outcome: Outcome) -> float:
    return (outcome.committed + outcome.refused) / outcome.seconds


def describe(outcome: Outcome) -> str:
    retries = outcome.retries.total() / outcome.committed if outcome.committed else 0.0
    deadlocks = outcome.retries["40P01"]
    return (
        f"{rate(outcome):,.0f} enqueues/s, {retries:.2f} retries/success"
        + (f" ({deadlocks} after deadlocks)" if deadlocks else "")
        + (f", {outcome.gave_up} gave up" if outcome.gave_up else "")
        + f", limit {LIMIT}: max {outcome.most} per user"
    )


async def enqueue_round(
    engine: AsyncEngine,
    sessions: async_sessionmaker[AsyncSession],
    owners: list[object],
    outcome: Outcome,
    *,
    clients: int,
    limit: int,
    seed: int,
    isolation: Isolation,
    lock_owner: bool,
) -> None:
    """From no jobs, `clients` clients enqueue until every user has refused each one a job."""
    from my_service.db.transactions import retries_by_sqlstate

    async with engine.begin() as connection:
        await connection.execute(text("TRUNCATE jobs CASCADE"))
    before = retries_by_sqlstate.copy()
    started = time.perf_counter()
    await asyncio.wait_for(
        asyncio.gather(
            *(
                client(
                    sessions,
                    owners,
                    outcome,
                    limit=limit,
                    chooser=random.Random(seed * 1000 + number),  # noqa: S311 (not a secret)
                    isolation=isolation,
                    lock_owner=lock_owner,
                )
                for number in range(clients)
            )
        ),
        timeout=ROUND_TIMEOUT,
    )
    outcome.seconds += time.perf_counter() - started
    outcome.retries += retries_by_sqlstate - before
    async with engine.connect() as connection:
        most = await connection.scalar(
            text(
                "SELECT coalesce(max(n), 0) FROM (SELECT count(*) AS n FROM jobs"
                " WHERE status = 'pending' AND deleted_at IS NULL GROUP BY user_id) AS per_user"
            )
        )
    outcome.most = max(outcome.most, int(most or 0))


async def client(
    sessions: async_sessionmaker[AsyncSession],
    owners: list[object],
    outcome: Outcome,
    *,
    limit: int,
    chooser: random.Random,
    isolation: Isolation,
    lock_owner: bool,
) -> None:
    from my_service.db.errors import sqlstate
    from my_service.db.transactions import RETRIED, run_transaction
    from my_service.jobs import service
    from my_service.jobs.schemas import JobCreate

    open_owners = list(owners)
    async with sessions() as session:
        while open_owners:
            owner = chooser.choice(open_owners)
            job = JobCreate.model_validate({"user_id": owner, "payload": {"kind": "echo"}})

            async def enqueue(session: AsyncSession, job: JobCreate = job) -> None:
                await service.create_job(
                    session, job=job, pending_limit=limit, lock_owner=lock_owner
                )

            try:
                await run_transaction(session, enqueue, isolation=isolation)
            except service.PendingLimitError:
                outcome.refused += 1
                open_owners.remove(owner)
            except DBAPIError as error:
                if sqlstate(error) not in RETRIED:
                    raise
                outcome.gave_up += 1
            else:
                outcome.committed += 1


async def add_users(engine: AsyncEngine, count: int) -> list[object]:
    async with engine.begin() as connection:
        result = await connection.execute(
            text(
                "INSERT INTO users (email, password_hash)"
                " SELECT 'contender' || n || '@example.com', '$argon2id$bench'"
                " FROM generate_series(1, :count) AS n RETURNING id"
            ),
            {"count": count},
        )
        return list(result.scalars())


@contextmanager
def quiet(logger_name: str) -> Iterator[None]:
    """The logger's warnings silenced for the block."""
    logger = logging.getLogger(logger_name)
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        logger.setLevel(level)

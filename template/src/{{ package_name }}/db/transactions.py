"""Units of work that PostgreSQL may ask to run again: serialization failures and deadlocks.

Under SERIALIZABLE (or REPEATABLE READ) PostgreSQL aborts a transaction whose outcome could
differ from some serial order (SQLSTATE 40001), and at any level it aborts one side of a
deadlock (40P01). Its documentation says what to do: run the *whole* transaction again, reads
and decisions included, since what it read may have changed. No driver can do that for you;
`run_transaction` does, with a unit of work you hand it as a function:

    async def transfer(session: AsyncSession) -> None:
        ...  # reads, decisions and writes; no e-mail, no HTTP call: it may run twice

    await run_transaction(session, transfer, isolation="SERIALIZABLE")

It begins the transaction itself (so the COMMIT, where a serializable conflict often shows,
is inside what it retries), and refuses a session that already has one: that transaction's
earlier work could not be re-run. Anything but 40001 and 40P01 is raised at once; so is the
last failure once the attempts run out, which the API answers 503 with Retry-After.
"""

import asyncio
import logging
import random
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Literal, TypeVar

from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession

from .errors import sqlstate

logger = logging.getLogger(__name__)
T = TypeVar("T")

Isolation = Literal["READ COMMITTED", "REPEATABLE READ", "SERIALIZABLE"]
SERIALIZATION_FAILURE = "40001"
DEADLOCK_DETECTED = "40P01"
RETRIED = (SERIALIZATION_FAILURE, DEADLOCK_DETECTED)
# Retries in this process by SQLSTATE: how often units of work collide (logged as well).
retries_by_sqlstate: Counter[str] = Counter()


@dataclass(frozen=True)
class RetryPolicy:
    """`attempts` runs at most; before the n-th retry a pause of base * 2^(n - 1) seconds, at
    most `max_seconds`, times a random factor in [0.5, 1): colliding units spread out."""

    attempts: int = 10
    base_seconds: float = 0.01
    max_seconds: float = 0.5

    def pause(self, retry: int) -> float:
        full = min(self.max_seconds, self.base_seconds * 2.0 ** (retry - 1))
        return full * (0.5 + random.random() / 2)  # noqa: S311 - jitter, not a secret


class OuterTransactionError(RuntimeError):
    """The session had a transaction already: its earlier statements could not run again."""


async def run_transaction(
    session: AsyncSession,
    unit: Callable[[AsyncSession], Awaitable[T]],
    *,
    isolation: Isolation = "READ COMMITTED",
    policy: RetryPolicy = RetryPolicy(),  # frozen: one shared default is safe
) -> T:
    """Run `unit` in a transaction of its own at `isolation`, committed; run it again, whole,
    after a serialization failure or a deadlock, up to `policy.attempts` times."""
    if session.in_transaction():
        raise OuterTransactionError(
            "run_transaction begins the transaction it may re-run: call it before the session "
            "runs any statement (not inside unit_of_work's or another transaction)"
        )
    for attempt in range(1, policy.attempts + 1):
        try:
            async with session.begin():
                # Before the first statement: the level of this transaction only.
                await session.connection(execution_options={"isolation_level": isolation})
                return await unit(session)
        except DBAPIError as error:
            state = sqlstate(error)
            if state not in RETRIED or attempt == policy.attempts:
                raise
            retries_by_sqlstate[state] += 1
            pause = policy.pause(attempt)
            logger.warning(
                "%s (SQLSTATE %s), attempt %d of %d: running the unit of work again in %.0f ms",
                "serialization failure" if state == SERIALIZATION_FAILURE else "deadlock",
                state,
                attempt,
                policy.attempts,
                pause * 1000,
            )
            await asyncio.sleep(pause)
    raise AssertionError("unreachable: the last attempt returns or raises")

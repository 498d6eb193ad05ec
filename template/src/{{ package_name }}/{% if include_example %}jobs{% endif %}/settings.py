"""`QUEUE_*` variables: how workers hold, retry, wait for and clean up jobs."""

from datetime import timedelta
from functools import lru_cache
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class QueueSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="QUEUE_", env_file=".env", extra="ignore")

    # A claimed job is the worker's for this long; a live worker renews it every third of it.
    # A job whose worker died (SIGKILL, lost machine) is claimable again once it has expired.
    lease_seconds: float = Field(default=30, gt=0)
    # Jobs one worker process runs at once; its connection pool is sized to match.
    concurrency: int = Field(default=10, ge=1, le=100)
    # The longest a worker waits before looking for jobs again. With a direct connection,
    # NOTIFY wakes it at once; behind PgBouncer polling is all there is.
    poll_seconds: float = Field(default=5, gt=0)
    # On SIGTERM, running jobs get this long to finish before they go back to the queue. Keep
    # it below the orchestrator's own grace period (compose: stop_grace_period).
    grace_seconds: float = Field(default=20, ge=0)
    # A failed attempt waits base * 2^(attempt - 1) seconds, at most `retry_max_seconds`,
    # then a random half of that again (jitter), before it may run again.
    retry_base_seconds: float = Field(default=2, gt=0)
    retry_max_seconds: float = Field(default=600, gt=0)
    # Finished jobs (done or failed) are deleted this long after they ended...
    retention_hours: float = Field(default=168, gt=0)
    # ...by every worker this often (0: never; run `python -m <package>.jobs purge` instead),
    # `purge_batch` rows per transaction, so no lock is held for long.
    purge_every_seconds: float = Field(default=300, ge=0)
    purge_batch: int = Field(default=1000, ge=1)
    # Pending jobs a user may have at once; one more is refused (409).
    max_pending_per_user: int = Field(default=1000, ge=1)
    # How concurrent enqueues are kept from both taking the last slot (a write-skew race under
    # READ COMMITTED): `lock` the owner's row FOR UPDATE, or run the check and the insert
    # SERIALIZABLE, re-run on a serialization failure (db.transactions.run_transaction).
    pending_limit_guard: Literal["lock", "serializable"] = "lock"

    @property
    def lease(self) -> timedelta:
        return timedelta(seconds=self.lease_seconds)

    @property
    def retention(self) -> timedelta:
        return timedelta(hours=self.retention_hours)


@lru_cache
def load_queue_settings() -> QueueSettings:
    return QueueSettings()


async def get_queue_settings() -> QueueSettings:
    """FastAPI dependency; tests override it. `async` though it never waits: FastAPI runs a
    plain `def` dependency in a worker thread, a thread hop on every request."""
    return load_queue_settings()

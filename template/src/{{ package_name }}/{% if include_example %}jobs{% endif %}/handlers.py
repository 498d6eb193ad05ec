"""What each kind of job does: `payload["kind"]` names the handler that runs it.

A handler takes the job's payload and returns its output, which is stored in `job_results`.
Raising fails the attempt: it is retried with backoff until the job's `max_attempts`. Make
handlers idempotent, because a job whose worker died half-way through runs again from the
start; and async, because they share the worker's event loop with its other jobs (run
blocking code with `asyncio.to_thread`).

Register yours here, or run a worker with another registry: `--handlers module:NAME`.
"""

from collections.abc import Awaitable, Callable, Mapping
from typing import Any

Handler = Callable[[dict[str, Any]], Awaitable[dict[str, Any]]]


async def echo(payload: dict[str, Any]) -> dict[str, Any]:
    """Return the payload: a stand-in for a real job (send an e-mail, render a report...)."""
    return {"echo": payload}


HANDLERS: Mapping[str, Handler] = {"echo": echo}

"""Logs: one JSON object per line in production, readable lines in development.

structlog renders every record, ours and the libraries' (uvicorn, SQLAlchemy, Alembic), through
one handler on the root logger, so every line carries the same fields, the request id included
(bound by `observability.requests` for the life of a request; see `structlog.contextvars`).
"""

import logging
import sys
from typing import TextIO

import structlog
from structlog.typing import EventDict, Processor, WrappedLogger

from ..db.engine import TimedQueuePool
from ..settings import Settings

# A field whose name contains one of these never reaches a log line with its value.
SECRET_WORDS = ("password", "secret", "token", "cursor", "authorization", "parameters")
REDACTED = "[redacted]"
# Loggers that say too much at INFO: httpx logs whole URLs (tokens in query strings), and
# SQLAlchemy logs every statement at INFO whatever the engine's `echo` says.
# Our pool class logs under its own module's name, as SQLAlchemy names a pool's logger.
TOO_CHATTY = (
    "httpx",
    "httpcore",
    "sqlalchemy",
    f"{TimedQueuePool.__module__}.{TimedQueuePool.__qualname__}",
)
# uvicorn's own access line has no route template, duration or request id: ours replaces it.
REPLACED = "uvicorn.access"


def redact_secrets(_: WrappedLogger, __: str, event: EventDict) -> EventDict:
    for key in event:
        if any(word in key.lower() for word in SECRET_WORDS):
            event[key] = REDACTED
    return event


class StandardOutput(logging.StreamHandler[TextIO]):
    """Writes to whatever `sys.stdout` is when a record comes, like the standard library's
    last-resort handler does for stderr: a test that captures output replaces it."""

    def __init__(self) -> None:
        super().__init__(sys.stdout)

    @property
    def stream(self) -> TextIO:
        return sys.stdout

    @stream.setter
    def stream(self, _: TextIO) -> None:
        """The stream is always the current `sys.stdout`."""


def configure_logging(settings: Settings) -> None:
    """Send every log record through structlog to stdout; safe to call again (tests do)."""
    shared: list[Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        redact_secrets,
    ]
    renderer: list[Processor] = (
        [structlog.processors.format_exc_info, structlog.processors.JSONRenderer()]
        if settings.json_logs
        else [
            structlog.dev.ConsoleRenderer(
                colors=sys.stdout.isatty(),  # no escape codes in a file or a CI log
                # Plain tracebacks: rich's, with locals, take long enough to stall the loop.
                exception_formatter=structlog.dev.plain_traceback,
            )
        ]
    )
    handler = StandardOutput()
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=shared,
            processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, *renderer],
        )
    )
    root = logging.getLogger()
    for previous in [h for h in root.handlers if isinstance(h, StandardOutput)]:
        root.removeHandler(previous)
    root.addHandler(handler)
    root.setLevel(settings.log_level)
    for name in TOO_CHATTY:
        logging.getLogger(name).setLevel(logging.WARNING)
    statements = logging.INFO if settings.database.echo else logging.NOTSET
    logging.getLogger("sqlalchemy.engine").setLevel(statements)
    for name in ("uvicorn", "uvicorn.error"):
        logging.getLogger(name).handlers.clear()  # uvicorn's own handlers: ours render them
        logging.getLogger(name).propagate = True
    logging.getLogger(REPLACED).disabled = True
    structlog.configure(
        processors=[
            structlog.stdlib.filter_by_level,
            *shared,
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )

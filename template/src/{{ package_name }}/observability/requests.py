"""Per request: an id on every log line, one access line, and the request metrics.

A pure ASGI middleware, the outermost of ours: it sees every answer (a 503 or a 500 too), and
the context variables it binds reach every line logged while the request is served, by the
handler, by SQLAlchemy (its greenlets share the task's context) or by uvicorn.
"""

import re
import time
import uuid
from collections.abc import Callable

import structlog
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .metrics import ServiceMetrics

HEADER = b"x-request-id"
# A request id from a client or a proxy is kept when it is short and plain: anything else
# (a log line injected with a newline, a megabyte, control characters) is replaced.
WELL_FORMED = re.compile(r"[A-Za-z0-9._:-]{1,64}")
UNMATCHED = "<unmatched>"  # a 404's path is the client's to choose: it is not a label

access_log = structlog.stdlib.get_logger("access")


def request_id_from(scope: Scope) -> str:
    for name, value in scope["headers"]:
        if name == HEADER:
            sent = value.decode("latin-1")
            return sent if WELL_FORMED.fullmatch(sent) else uuid.uuid4().hex
    return uuid.uuid4().hex


def route_template(scope: Scope) -> str:
    """The matched route's path template (`/users/{user_id}`): a bounded set of labels."""
    route = scope.get("route")
    template = getattr(route, "path_format", None) or getattr(route, "path", None)
    return template if isinstance(template, str) else UNMATCHED


class RequestContext:
    def __init__(
        self,
        app: ASGIApp,
        metrics: ServiceMetrics,
        tag_span: Callable[[str], None] | None = None,
    ) -> None:
        self.app = app
        self.metrics = metrics
        self.tag_span = tag_span  # set when tracing is on: the request id on the server span

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = request_id_from(scope)
        if self.tag_span is not None:
            self.tag_span(request_id)
        status = 500  # unless the app answers: an exception that escapes becomes a 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", []), (HEADER, request_id.encode())]
            await send(message)

        started = time.perf_counter()
        with structlog.contextvars.bound_contextvars(request_id=request_id):
            try:
                await self.app(scope, receive, send_with_id)
            finally:
                seconds = time.perf_counter() - started
                route = route_template(scope)
                self.metrics.observe_request(scope["method"], route, status, seconds)
                client = scope.get("client")
                access_log.info(
                    "request",
                    method=scope["method"],
                    route=route,
                    status=status,
                    duration_ms=round(seconds * 1000, 1),
                    client=client[0] if client else None,
                )

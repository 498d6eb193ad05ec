"""GET /metrics, for Prometheus: not in the OpenAPI schema, and with METRICS_TOKEN set (always,
in production) only for `Authorization: Bearer <METRICS_TOKEN>`."""

import hmac

from fastapi import APIRouter, Request, Response, status
from prometheus_client import CONTENT_TYPE_LATEST

from ..state import state_of
from .errors import problem

router = APIRouter(include_in_schema=False)


@router.get("/metrics")
async def metrics(request: Request) -> Response:
    state = state_of(request.app)
    token = state.settings.metrics_token
    if token is not None:
        scheme, _, sent = request.headers.get("authorization", "").partition(" ")
        # Constant time: how much of a guess matched must not show in the answer's timing.
        expected = token.get_secret_value().encode()
        if scheme.lower() != "bearer" or not hmac.compare_digest(sent.encode(), expected):
            answer = problem(status.HTTP_401_UNAUTHORIZED, "unauthorized", "send the token")
            answer.headers["WWW-Authenticate"] = "Bearer"
            return answer
    return Response(await state.metrics.scrape(), media_type=CONTENT_TYPE_LATEST)

"""Liveness and readiness probes for load balancers and orchestrators."""

import asyncio
from typing import Literal

from fastapi import APIRouter, Request, Response, status
from pydantic import BaseModel
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from ..state import state_of

router = APIRouter(prefix="/health", tags=["health"])


class HealthStatus(BaseModel):
    status: Literal["ok", "unavailable"]
    detail: str | None = None


@router.get("/live")
async def live() -> HealthStatus:
    """The process answers. Touches no database, so a database outage never restarts it."""
    return HealthStatus(status="ok")


@router.get(
    "/ready",
    responses={status.HTTP_503_SERVICE_UNAVAILABLE: {"model": HealthStatus}},
)
async def ready(request: Request, response: Response) -> HealthStatus:
    """The service can reach PostgreSQL: take traffic. 503 otherwise, within the connect timeout."""
    state = state_of(request.app)
    engine = state.running_database().engine
    timeout = state.settings.database.connect_timeout
    try:
        async with asyncio.timeout(timeout):
            async with engine.connect() as connection:
                await connection.execute(text("SELECT 1"))
    except (OSError, SQLAlchemyError, TimeoutError) as error:
        response.status_code = status.HTTP_503_SERVICE_UNAVAILABLE
        return HealthStatus(
            status="unavailable", detail=f"database unreachable: {type(error).__name__}"
        )
    return HealthStatus(status="ok")

"""What the app holds for its life, typed: read through `state_of(app)`, never `app.state.x`.

The factory attaches it with the settings and the metrics; the error handlers fill in which
column each constraint guards; the lifespan sets `database` while the app runs and clears it after.
"""

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from starlette.applications import Starlette

from .observability.metrics import ServiceMetrics
from .settings import Settings

if TYPE_CHECKING:
    from opentelemetry.sdk.trace import TracerProvider


@dataclass(frozen=True)
class Database:
    engine: AsyncEngine
    sessionmaker: async_sessionmaker[AsyncSession]
    # BEGIN READ ONLY sessions, on DATABASE_READ_URL or the primary (see `web.dependencies`).
    read_sessionmaker: async_sessionmaker[AsyncSession]


@dataclass
class ServiceState:
    settings: Settings
    metrics: ServiceMetrics
    # Constraint or index name -> the column it guards: the `field` of an error answer.
    constraint_fields: dict[str, str] = field(default_factory=dict)
    database: Database | None = None
    # Set when the app is traced (`observability.tracing`).
    tracer_provider: "TracerProvider | None" = None

    def running_database(self) -> Database:
        if self.database is None:
            raise RuntimeError("the database is there while the app's lifespan runs")
        return self.database


def attach_state(app: Starlette, settings: Settings, metrics: ServiceMetrics) -> None:
    app.state.service = ServiceState(settings=settings, metrics=metrics)


def state_of(app: Starlette) -> ServiceState:
    """The app's state; the one place that reads Starlette's untyped `app.state`."""
    state = app.state.service
    if not isinstance(state, ServiceState):
        raise TypeError("the app was not made by create_app(): it has no ServiceState")
    return state

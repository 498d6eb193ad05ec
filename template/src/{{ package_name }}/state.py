"""What the app holds for its life, typed: read through `state_of(app)`, never `app.state.x`.

The factory attaches it with the settings; the error handlers fill in which column each
constraint guards; the lifespan sets `database` while the app runs and clears it after.
"""

from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from starlette.applications import Starlette

from .settings import Settings


@dataclass(frozen=True)
class Database:
    engine: AsyncEngine
    sessionmaker: async_sessionmaker[AsyncSession]
    # BEGIN READ ONLY sessions, on DATABASE_READ_URL or the primary (see `web.dependencies`).
    read_sessionmaker: async_sessionmaker[AsyncSession]


@dataclass
class ServiceState:
    settings: Settings
    # Constraint or index name -> the column it guards: the `field` of an error answer.
    constraint_fields: dict[str, str] = field(default_factory=dict)
    database: Database | None = None

    def running_database(self) -> Database:
        if self.database is None:
            raise RuntimeError("the database is there while the app's lifespan runs")
        return self.database


def attach_state(app: Starlette, settings: Settings) -> None:
    app.state.service = ServiceState(settings=settings)


def state_of(app: Starlette) -> ServiceState:
    """The app's state; the one place that reads Starlette's untyped `app.state`."""
    state = app.state.service
    if not isinstance(state, ServiceState):
        raise TypeError("the app was not made by create_app(): it has no ServiceState")
    return state

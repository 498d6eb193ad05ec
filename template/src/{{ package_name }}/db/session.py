"""Sessions: one per request (or per unit of work), hiding soft-deleted rows by default."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy import event, orm
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession, async_sessionmaker
from sqlalchemy.orm.session import JoinTransactionMode

from .mixins import SoftDelete


class Session(orm.Session):
    """The project's ORM session class; the soft-delete filter below is registered on it alone."""


@event.listens_for(Session, "do_orm_execute")
def _hide_soft_deleted(execute_state: orm.ORMExecuteState) -> None:
    """Add `deleted_at IS NULL` for every `SoftDelete` entity in an ORM SELECT.

    The recipe from https://docs.sqlalchemy.org/en/20/orm/session_events.html
    ("Adding global WHERE / ON criteria"); it also covers joins, counts and relationship loads.
    Opt out per statement with `.execution_options(include_deleted=True)`.
    """
    if (
        execute_state.is_select
        and not execute_state.is_column_load
        and not execute_state.is_relationship_load
        and not execute_state.execution_options.get("include_deleted", False)
    ):
        execute_state.statement = execute_state.statement.options(
            orm.with_loader_criteria(
                SoftDelete,
                lambda cls: cls.deleted_at.is_(None),
                include_aliases=True,
            )
        )


def make_sessionmaker(
    bind: AsyncEngine | AsyncConnection,
    *,
    join_transaction_mode: JoinTransactionMode = "conditional_savepoint",
) -> async_sessionmaker[AsyncSession]:
    """Sessions of the project's `Session` class.

    `expire_on_commit=False`: objects stay readable after commit without a lazy refresh,
    which asyncio cannot do implicitly. Tests bind to a connection with
    `join_transaction_mode="create_savepoint"` so that application commits stay inside the
    test's outer transaction.
    """
    return async_sessionmaker(
        bind,
        sync_session_class=Session,
        expire_on_commit=False,
        join_transaction_mode=join_transaction_mode,
    )


@asynccontextmanager
async def unit_of_work(session: AsyncSession) -> AsyncIterator[AsyncSession]:
    """Commit when the block succeeds, roll back when it raises (an HTTPException included)."""
    try:
        yield session
        await session.commit()
    except BaseException:
        await session.rollback()
        raise

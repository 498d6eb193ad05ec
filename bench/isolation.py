"""Figure 1: what per-test isolation costs, the generated SAVEPOINT fixture against the usual
alternatives, on the same small test (insert a user, commit, count)."""

from collections.abc import Awaitable, Callable

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from .measure import Row, median_ms, ratio
from .project import BenchProject, generated_test_support, scratch_engine


async def a_small_test(session: AsyncSession) -> None:
    from my_service.users.models import User

    session.add(User(email="isolation@example.com", password_hash="$argon2id$not-checked"))  # noqa: S106
    await session.commit()
    await session.scalar(select(func.count()).select_from(User))


async def isolation_cost(project: BenchProject, *, tests: int) -> list[Row]:
    from my_service.db.session import make_sessionmaker
    from my_service.models import Base

    rolled_back_session = generated_test_support(project).rolled_back_session
    async with scratch_engine(project) as engine:
        sessions = make_sessionmaker(engine)

        async def savepoint() -> None:
            async with rolled_back_session(engine) as session:
                await a_small_test(session)

        async def truncate() -> None:
            async with sessions() as session:
                await a_small_test(session)
            async with engine.begin() as connection:
                await connection.exec_driver_sql("TRUNCATE users, jobs, job_results CASCADE")

        async def drop_create() -> None:
            async with engine.begin() as connection:
                await connection.run_sync(Base.metadata.drop_all)
                await connection.run_sync(Base.metadata.create_all)
            async with sessions() as session:
                await a_small_test(session)

        strategies: dict[str, Callable[[], Awaitable[None]]] = {
            "SAVEPOINT rolled back (the generated fixture)": savepoint,
            "TRUNCATE ... CASCADE after each test": truncate,
            "drop_all + create_all before each test": drop_create,
        }
        medians = {label: await median_ms(run, tests) for label, run in strategies.items()}
    baseline = next(iter(medians.values()))
    return [(label, f"{ms:.2f} ms/test", ratio(ms, baseline)) for label, ms in medians.items()]

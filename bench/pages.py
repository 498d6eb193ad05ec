"""Figures 2 and 3: a deep page by keyset against the same page by OFFSET, and how many
statements one listing request sends."""

from httpx import ASGITransport, AsyncClient
from sqlalchemy import event, text
from sqlalchemy.ext.asyncio import AsyncEngine

from .measure import Row, median_ms, ratio

PAGE = 50


async def deep_pages(engine: AsyncEngine, *, depths: list[int], repeat: int) -> list[Row]:
    """Latency of the listing's query at row N: keyset from the key of row N, or OFFSET N."""
    from my_service.db.session import make_sessionmaker
    from my_service.jobs.service import JobFilters, listing_query

    sessions = make_sessionmaker(engine)
    rows: list[Row] = []
    first: dict[str, float] = {}
    for depth in depths:
        async with sessions() as session:
            key = None
            if depth:
                found = await session.execute(
                    text(
                        "SELECT created_at, id FROM jobs WHERE deleted_at IS NULL"
                        " ORDER BY created_at DESC, id DESC OFFSET :n LIMIT 1"
                    ),
                    {"n": depth - 1},
                )
                key = tuple(found.one())
            queries = {
                "keyset": listing_query(JobFilters(), limit=PAGE, after_key=key),
                "OFFSET": listing_query(JobFilters(), limit=PAGE, after_key=None).offset(depth),
            }
            for method, query in queries.items():

                async def page(query: object = query) -> None:
                    (await session.execute(query)).all()

                ms = await median_ms(page, repeat)
                first.setdefault(method, ms)
                rows.append(
                    (f"{method}, page at row {depth:,}", f"{ms:.2f} ms", ratio(ms, first[method]))
                )
    return rows


async def statements_per_request(
    app: object, engine: AsyncEngine, *, limits: list[int]
) -> list[Row]:
    """Statements sent to PostgreSQL by one `GET /jobs?limit=N`."""
    statements: list[str] = []

    def count(*args: object) -> None:
        statements.append(str(args[2]))

    event.listen(engine.sync_engine, "before_cursor_execute", count)
    rows: list[Row] = []
    try:
        async with AsyncClient(transport=ASGITransport(app=app), base_url="http://bench") as client:
            first = None
            for limit in limits:
                statements.clear()
                response = await client.get("/jobs", params={"limit": limit})
                assert response.status_code == 200, response.text
                first = first or len(statements)
                rows.append(
                    (
                        f"GET /jobs?limit={limit}",
                        f"{len(statements)} statement(s)",
                        ratio(len(statements), first),
                    )
                )
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", count)
    return rows

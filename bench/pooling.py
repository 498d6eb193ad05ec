"""Figure 7: `GET /jobs?limit=50` served through PgBouncer (DATABASE_POOLER=pgbouncer) against
the same service connected straight to PostgreSQL, per driver; both servers side by side,
loaded in turns (bench/throughput.py).

PgBouncer costs a hop and a `SET LOCAL` round trip per transaction; what it buys is many
processes on few server connections, which one process on loopback cannot show. This is the
price, not the benefit. With DATABASE_POOLER_PREPARED_STATEMENTS (PgBouncer 1.21+ carrying
prepared statements across its server connections) asyncpg keeps its statement caches.
"""

from tests.support.pgbouncer import pgbouncer
from tests.support.servers import server_url

from .measure import Row
from .project import BenchProject
from .throughput import APP, LISTING, SETTINGS, in_turns, rate_rows, side_by_side


async def through_pgbouncer(
    project: BenchProject, *, clients: int, requests: int, rounds: int
) -> list[Row]:
    rows: list[Row] = []
    with pgbouncer(server_url(), max_prepared_statements=200) as bouncer:  # 1.24's default
        for driver in ("psycopg", "asyncpg"):
            direct = {**project.env(driver), **SETTINGS}
            bounced_url = bouncer.set(
                drivername=f"postgresql+{driver}", database=project.database_url.database
            )
            bounced = {
                **direct,
                "DATABASE_URL": bounced_url.render_as_string(hide_password=False),
                "DATABASE_POOLER": "pgbouncer",
            }
            servers = {
                "direct": (APP, direct, str(project.root)),
                "through PgBouncer": (APP, bounced, str(project.root)),
            }
            if driver == "asyncpg":  # psycopg prepares nothing behind PgBouncer either way
                prepared = {**bounced, "DATABASE_POOLER_PREPARED_STATEMENTS": "true"}
                servers["through PgBouncer, prepared statements"] = (
                    APP,
                    prepared,
                    str(project.root),
                )
            with side_by_side(servers) as bases:
                results = await in_turns(
                    bases, LISTING, clients=clients, requests=requests, rounds=rounds
                )
            rows += rate_rows(f"{driver}: ", results, baseline="direct", clients=clients)
    return rows

"""Figure 7: `GET /jobs?limit=50` served through PgBouncer (DATABASE_POOLER=pgbouncer) against
the same service connected straight to PostgreSQL (its own pool), per driver.

PgBouncer costs a hop, a connection per request (the engine keeps no pool behind it) and a
`SET LOCAL` round trip per transaction; what it buys is many processes on few server
connections, which one process on loopback cannot show. This is the price, not the benefit.
"""

from tests.support.pgbouncer import pgbouncer
from tests.support.servers import served, server_url

from .measure import Row
from .project import BenchProject
from .throughput import load, rate_rows

APP = ["--factory", "my_service.main:create_app"]


async def through_pgbouncer(project: BenchProject, *, clients: int, requests: int) -> list[Row]:
    rows: list[Row] = []
    with pgbouncer(server_url()) as bouncer:
        for driver in ("psycopg", "asyncpg"):
            direct = project.env(driver)
            bounced_url = bouncer.set(
                drivername=f"postgresql+{driver}", database=project.database_url.database
            )
            bounced = {
                **direct,
                "DATABASE_URL": bounced_url.render_as_string(hide_password=False),
                "DATABASE_POOLER": "pgbouncer",
            }
            results = {}
            for label, env in (("direct, own pool", direct), ("through PgBouncer", bounced)):
                with served(APP, env, str(project.root)) as base:
                    results[label] = await load(base, clients=clients, requests=requests)
            rows += rate_rows(f"{driver}: ", results, baseline="direct, own pool", clients=clients)
    return rows

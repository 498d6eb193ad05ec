"""Realistic rows, made by the database itself (generate_series) so loading stays fast."""

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine


async def load_jobs(engine: AsyncEngine, *, jobs: int, users: int = 100) -> None:
    """`users` users, then `jobs` jobs spread over them, one second apart, a quarter pending."""
    async with engine.begin() as connection:
        # A bulk load outlasts the service's statement_timeout: lift it for this transaction.
        await connection.execute(text("SET LOCAL statement_timeout = 0"))
        await connection.execute(
            text(
                "INSERT INTO users (email, password_hash)"
                " SELECT 'user' || n || '@example.com', '$argon2id$bench'"
                " FROM generate_series(1, :users) AS n"
            ),
            {"users": users},
        )
        await connection.execute(
            text(
                "INSERT INTO jobs (user_id, status, payload, created_at, run_after,"
                "                  lease_expires_at)"
                " SELECT u.id, job.status, jsonb_build_object('kind', 'email', 'n', n),"
                "        job.created_at, job.created_at,"
                "        CASE job.status WHEN 'running' THEN now() + interval '1 hour' END"
                " FROM generate_series(1, :jobs) AS n"
                " CROSS JOIN LATERAL"
                "   (SELECT (ARRAY['pending', 'running', 'done', 'failed'])[1 + n % 4] AS status,"
                "           now() - n * interval '1 second' AS created_at) AS job"
                " JOIN (SELECT id, row_number() OVER (ORDER BY id) - 1 AS k FROM users) AS u"
                "   ON u.k = n % :users"
            ),
            {"jobs": jobs, "users": users},
        )
    async with engine.connect() as connection:
        await connection.execution_options(isolation_level="AUTOCOMMIT")
        await connection.execute(text("SET statement_timeout = 0"))
        await connection.execute(text("VACUUM ANALYZE users, jobs"))
        await connection.execute(text("RESET statement_timeout"))

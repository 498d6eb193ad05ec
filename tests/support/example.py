"""The example domain's rows, written and counted straight in a project's database."""

from .projects import Project


def add_user(project: Project, email: str) -> str:
    """A user straight into the project's database (no password: nobody signs in as it)."""
    with project.connect() as connection:
        row = connection.execute(
            "INSERT INTO users (email, password_hash) VALUES (%s, 'not-a-hash') RETURNING id",
            [email],
        ).fetchone()
    assert row is not None
    return str(row[0])


def jobs_of(project: Project, user_id: str) -> int:
    with project.connect() as connection:
        row = connection.execute("SELECT count(*) FROM jobs WHERE user_id = %s", [user_id])
        (count,) = row.fetchone() or (0,)
    return int(count)


def add_echo_jobs(project: Project, user_id: str, count: int) -> None:
    """Pending jobs of the project's own `echo` kind, committed without a NOTIFY."""
    with project.connect() as connection:
        connection.execute(
            "INSERT INTO jobs (user_id, payload)"
            " SELECT %s, jsonb_build_object('kind', 'echo', 'n', n) FROM generate_series(1, %s) n",
            [user_id, count],
        )


def job_states(project: Project, user_id: str) -> dict[tuple[str, int], int]:
    """How many of the user's jobs are in each (status, attempts)."""
    with project.connect() as connection:
        rows = connection.execute(
            "SELECT status, attempts, count(*) FROM jobs WHERE user_id = %s GROUP BY 1, 2",
            [user_id],
        ).fetchall()
    return {(status, attempts): count for status, attempts, count in rows}

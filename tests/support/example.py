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

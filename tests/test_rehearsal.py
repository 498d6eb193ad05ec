"""`db rehearse` in a generated project, on a table of 200,000 rows: a revision with a plain
CREATE INDEX fails, naming the table and the lock that blocked its writes; the same index built
with `create_index_concurrently` passes, writes never blocked beyond the limit. The project's
database is never changed, and the clone is dropped. Both drivers, real processes.
"""

from collections.abc import Iterator

import psycopg
import pytest

from .support.projects import Project
from .support.variants import DRIVERS

ROWS = 200_000
PLAIN = 'op.create_index("ix_readings_sensor", "readings", ["sensor"])'
CONCURRENT = (
    "from {package}.migration.helpers import create_index_concurrently\n"
    'create_index_concurrently("ix_readings_sensor", "readings", ["sensor"])'
)
DROP = 'op.drop_index("ix_readings_sensor", table_name="readings")'
# The plain build holds its lock ~0.15 s here: a limit well below the time it takes on a fast
# machine (the default, 0.1 s, is for production's table sizes).
LIMIT = 0.05


@pytest.fixture(scope="module")
def readings(project: Project) -> Iterator[Project]:
    """The project at head, plus a table of sensor readings nobody has indexed yet."""
    project.migrate()
    with project.connect(autocommit=True) as connection:
        connection.execute(
            "CREATE TABLE readings (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,"
            " sensor text NOT NULL, value double precision NOT NULL)"
        )
        connection.execute(
            "INSERT INTO readings (sensor, value)"
            " SELECT md5(g::text) || md5((g * 7)::text), g / 7.0"
            " FROM generate_series(1, %s) AS g",
            (ROWS,),
        )
        connection.execute("ANALYZE readings")
    yield project
    with project.connect(autocommit=True) as connection:
        connection.execute("DROP TABLE readings")


def state_of(project: Project) -> tuple[object, ...]:
    """What a rehearsal must leave as it was: the revision applied, the indexes, the rows, and
    the clones on the server (none)."""
    with project.connect() as connection:
        version = connection.execute("SELECT version_num FROM alembic_version").fetchall()
        indexes = connection.execute(
            "SELECT indexname FROM pg_indexes WHERE tablename = 'readings' ORDER BY 1"
        ).fetchall()
        rows = connection.execute("SELECT count(*), sum(value::numeric) FROM readings").fetchone()
        clones = connection.execute(
            "SELECT datname FROM pg_database WHERE datname LIKE '%\\_rehearsal\\_%'"
            " AND datname LIKE current_database() || '%'"
        ).fetchall()
    return version, indexes, rows, clones


def rehearse(project: Project, upgrade: str) -> tuple[int, str]:
    """Rehearse a revision with `upgrade`, failing it beyond LIMIT seconds of blocked writes."""
    with project.temporary_revision("r1", upgrade.format(package=project.package), DROP):
        return project.command(
            "-m", f"{project.package}.db", "rehearse", "--max-write-block", str(LIMIT)
        )


@pytest.mark.parametrize("project", DRIVERS, indirect=True)
def test_a_plain_index_build_fails_naming_table_and_lock(readings: Project) -> None:
    before = state_of(readings)

    code, output = rehearse(readings, PLAIN)

    assert code == 1, output
    assert "rehearsed on a clone (template copy)" in output
    assert "public.readings: ShareLock held" in output
    assert "r1: writes to public.readings blocked" in output
    assert "behind its ShareLock (limit 0.05 s)" in output
    assert state_of(readings) == before


@pytest.mark.parametrize("project", DRIVERS, indirect=True)
def test_a_concurrent_index_build_passes(readings: Project) -> None:
    before = state_of(readings)

    code, output = rehearse(readings, CONCURRENT)

    assert code == 0, output
    assert "public.readings: ShareUpdateExclusiveLock held" in output
    assert "writes blocked 0.00 s" in output
    assert "no revision blocked writes longer than 0.05 s" in output
    assert state_of(readings) == before


def test_a_database_in_use_is_cloned_from_a_fresh_backup(readings: Project) -> None:
    """PostgreSQL copies no database someone is connected to: the rehearsal restores a backup."""
    before = state_of(readings)

    with psycopg.connect(readings.connect().info.dsn) as someone:
        someone.execute("SELECT 1")
        code, output = rehearse(readings, PLAIN)

    assert code == 1, output
    assert "rehearsed on a clone (backup and restore)" in output
    assert "r1: writes to public.readings blocked" in output
    assert state_of(readings) == before


def test_a_revision_that_fails_on_the_clone_fails_the_rehearsal(readings: Project) -> None:
    before = state_of(readings)

    code, output = rehearse(readings, 'op.execute("ALTER TABLE readings ADD CHECK (value < 0)")')

    assert code == 1, output
    assert "r1 failed on the clone: IntegrityError" in output
    assert "violated by some row" in output
    assert state_of(readings) == before

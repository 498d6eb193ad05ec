"""Figure 9: how long a revision blocks writes to a big table, written naively and with the
`migration.helpers` helper that does the same job, as the project's own `db rehearse` measures it.

A scratch database at head gets a table of `rows` sensor readings (an identity key, a distinct
64-character label, a nullable `note` with no NULL in it, a few more columns), ANALYZEd. Then, for
each pair, a hand-written revision on top of head (`tests.support.projects`, as the template's
tests write them) is rehearsed with `uv run python -m my_service.db rehearse` in the project, as
its user runs it, with a write limit no revision reaches, so that it reports and never fails:

- plain `op.create_index` (ShareLock for the whole build: no INSERT, UPDATE or DELETE until it
  ends) against `create_index_concurrently` (SHARE UPDATE EXCLUSIVE: writes go on);
- `op.alter_column(nullable=False)` (SET NOT NULL scans the table under ACCESS EXCLUSIVE)
  against `set_not_null_safely` (a NOT VALID check, validated under SHARE UPDATE EXCLUSIVE, then
  SET NOT NULL without the scan);
- a NOT NULL column with a volatile default, `gen_random_uuid()` (the table rewritten under
  ACCESS EXCLUSIVE) against `add_not_null_column_safely` (a nullable column, backfilled in
  batches, each committed, then `set_not_null_safely`): row locks held for one batch at a time.

`db rehearse` copies the database (a template copy: nobody is connected to it meanwhile), applies
the revision to the copy while it samples pg_locks every 5 ms and keeps one reader and one writer
busy on every table, one short transaction at a time. "writes blocked" is the longest single
write probe of `readings` that the sampler saw waiting for a lock: what an application's UPDATE
would have felt, not a probe merely slowed by a busy machine. A wait shorter than a sample, or
between two probes of the table (10 ms apart and more), goes unseen: SET NOT NULL scans 50,000
rows in ~3 ms, and at --quick its row is mostly 0.00 s and its helper's ratio n/a. "<mode> held"
names the strongest lock seen on the table and the time it was seen held, summed over stretches
of consecutive samples: a helper that takes ACCESS EXCLUSIVE twice for a moment (ADD COLUMN, then
SET NOT NULL) shows two moments, not the backfill between. Which mode a helper's row names varies
from run to run, as the sampler catches those moments or not. A table on which no lock was
sampled is not in the report: its row says so, and its writes were not seen blocked.

The write probe updates the first row of a sequential scan. A batched backfill goes by physical
position and moves the rows it fills to the table's end, so the first live row is always in the
batch under way: the helper's figure is about one batch's time (BACKFILL_BATCH_PAGES pages),
where the naive rewrite's is the whole table's. The ratio is the helper's blocked writes to the
naive revision's (n/a where the naive one was seen blocking none).

The rehearsal never writes to the database it copies: no downgrade between runs, and its
alembic_version, columns and indexes are checked unchanged after each.
"""

import re
from dataclasses import dataclass
from pathlib import Path

import psycopg
from sqlalchemy import URL

from tests.support.projects import hand_written_revision
from tests.support.running import output, user_environment, uv_run
from tests.support.servers import libpq, server_url

from .measure import Row, ratio
from .project import BenchProject, scratch_database

# Distinct 64-character labels (two md5s), a nullable note with no NULL in it.
TABLE = """
    CREATE TABLE readings (
        id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        sensor_id integer NOT NULL,
        label text NOT NULL,
        value double precision NOT NULL,
        recorded_at timestamptz NOT NULL,
        note text
    )
"""
FILL = """
    INSERT INTO readings (sensor_id, label, value, recorded_at, note)
    SELECT n %% 1000, md5(n::text) || md5((n * 7)::text), n / 7.0,
           now() - n * interval '1 second', 'calibrated ' || n %% 97
    FROM generate_series(1, %s) AS n
"""
HELPERS = "from my_service.migration import helpers as mh\n"
REVISION = "bench_rehearsed"  # the temporary revision's id, and its file's name
# The table's line of the rehearsal's report (operations.rehearsal.render).
REPORTED = re.compile(
    r"^    public\.readings: (?P<mode>\w+) held (?P<held>[\d.]+) s; "
    r"writes blocked (?P<writes>[\d.]+) s, reads [\d.]+ s$",
    re.MULTILINE,
)
CLONED = re.compile(r"^rehearsed on a clone \(.*\): (?P<steps>\d+) revision\(s\)$", re.MULTILINE)


@dataclass(frozen=True)
class Revision:
    label: str
    upgrade: str
    downgrade: str


# (naive, helper): the same change, each undone by the same downgrade (never run here).
PAIRS: list[tuple[Revision, Revision]] = [
    (
        Revision(
            "plain CREATE INDEX",
            'op.create_index("ix_readings_label", "readings", ["label"])',
            'op.drop_index("ix_readings_label", table_name="readings")',
        ),
        Revision(
            "create_index_concurrently",
            HELPERS + 'mh.create_index_concurrently("ix_readings_label", "readings", ["label"])',
            'op.drop_index("ix_readings_label", table_name="readings")',
        ),
    ),
    (
        Revision(
            "plain SET NOT NULL",
            'op.alter_column("readings", "note", nullable=False)',
            'op.alter_column("readings", "note", nullable=True)',
        ),
        Revision(
            "set_not_null_safely",
            HELPERS + 'mh.set_not_null_safely("readings", "note")',
            'op.alter_column("readings", "note", nullable=True)',
        ),
    ),
    (
        Revision(
            "ADD COLUMN ... DEFAULT gen_random_uuid() NOT NULL",
            'op.add_column("readings", sa.Column("token", sa.Uuid(),'
            ' server_default=sa.text("gen_random_uuid()"), nullable=False))',
            'op.drop_column("readings", "token")',
        ),
        Revision(
            "add_not_null_column_safely, batched backfill",
            HELPERS + 'mh.add_not_null_column_safely("readings", sa.Column("token", sa.Uuid()),'
            ' backfill="gen_random_uuid()")',
            'op.drop_column("readings", "token")',
        ),
    ),
]


@dataclass(frozen=True)
class Blocked:
    mode: str | None  # the strongest lock seen on readings; None: no lock seen on it
    held: float  # seconds it was seen held
    writes: float  # the longest write of readings seen waiting for a lock, seconds

    def lock(self) -> str:
        if self.mode is None:
            return "no lock on readings sampled"
        return f"{self.mode} held {self.held:.2f} s"


def write_blocking(project: BenchProject, *, rows: int) -> list[Row]:
    result: list[Row] = []
    with scratch_database(server_url(), project.env(), project.root) as database:
        with psycopg.connect(libpq(database), autocommit=True) as connection:
            connection.execute(TABLE)
            connection.execute(FILL, (rows,))
            connection.execute("ANALYZE readings")
        # The project's own environment, as its user runs it (`uv run`), on this database.
        env = user_environment(DATABASE_URL=libpq(database))
        for naive, helper in PAIRS:
            baseline = rehearse(project.root, env, database, naive)
            blocked = rehearse(project.root, env, database, helper)
            for revision, outcome in ((naive, baseline), (helper, blocked)):
                result.append(
                    (
                        f"{revision.label}, {rows:,} rows ({outcome.lock()})",
                        f"writes blocked {outcome.writes:.2f} s",
                        ratio(outcome.writes, baseline.writes),
                    )
                )
    return result


def rehearse(root: Path, env: dict[str, str], database: URL, revision: Revision) -> Blocked:
    """Rehearse `revision`, written on top of head, and read what it did to `readings`."""
    before = source_state(database)
    (head,), _, _ = before  # the scratch database is at head
    path = root / "migrations" / "versions" / f"2026_12_31_2359-{REVISION}.py"
    path.write_text(hand_written_revision(REVISION, head[0], revision.upgrade, revision.downgrade))
    try:
        result = uv_run(
            root,
            "python",
            "-m",
            "my_service.db",
            "rehearse",
            "--max-write-block",
            "100000",
            env=env,
        )
    finally:
        path.unlink()
    printed = output(result)
    assert result.returncode == 0, printed
    assert source_state(database) == before, f"the rehearsal changed its source\n{printed}"
    cloned = CLONED.search(printed)
    assert cloned, printed
    assert cloned["steps"] == "1", printed  # the revision alone
    reported = REPORTED.search(printed)
    if reported is None:  # the report names the tables a lock was seen on, and only those
        return Blocked(None, 0.0, 0.0)
    return Blocked(reported["mode"], float(reported["held"]), float(reported["writes"]))


def source_state(database: URL) -> tuple[list[tuple[str]], list[tuple[str, str]], list[tuple[str]]]:
    """What a rehearsal must leave as it was in the database it copies; the connection is closed
    before the rehearsal starts (a template copy needs the source to itself)."""
    with psycopg.connect(libpq(database)) as connection:
        version = connection.execute("SELECT version_num FROM alembic_version").fetchall()
        columns = connection.execute(
            "SELECT column_name, is_nullable FROM information_schema.columns"
            " WHERE table_name = 'readings' ORDER BY 1"
        ).fetchall()
        indexes = connection.execute(
            "SELECT indexname FROM pg_indexes WHERE tablename = 'readings' ORDER BY 1"
        ).fetchall()
    return version, columns, indexes

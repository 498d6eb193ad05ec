"""The benchmark runs and prints its table (`python -m bench --quick`). Timings are not
asserted here: they are the benchmark's to report, not the suite's to judge."""

import os
import re
import sys
from pathlib import Path

import pytest

from .support.running import run
from .support.servers import database_server_url

TEMPLATE_ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_quick_benchmark_prints_a_well_formed_table(tmp_path: Path) -> None:
    output = tmp_path / "results.md"

    result = run(
        [sys.executable, "-m", "bench", "--quick", "--output", str(output)],
        cwd=TEMPLATE_ROOT,
        env={**os.environ, "TEST_DATABASE_URL": database_server_url()},
        timeout=300,
    )

    assert result.returncode == 0, f"{result.stdout}\n{result.stderr}"
    table = output.read_text()
    assert table in result.stdout
    rows = [line for line in table.splitlines() if line.startswith("| ") and "---" not in line]
    assert rows[0] == "| Figure | Measured | Value | Ratio |"
    cells = [[cell.strip() for cell in row.strip("|").split("|")] for row in rows[1:]]
    assert all(len(row) == 4 for row in cells)
    assert {row[0].split(".")[0] for row in cells} == {"1", "2", "3", "4", "5", "6", "7", "8"}
    assert all(re.fullmatch(r"\d+\.\d\dx|n/a", row[3]) for row in cells), cells
    statements = [row[2] for row in cells if row[0].startswith("3.")]
    assert statements == ["1 statement(s)"] * 3
    runs = [row[2] for row in cells if row[0].startswith("5.") and "jobs/s" in row[2]]
    assert len(runs) == 3, cells
    assert all(run.endswith(", 0 claimed twice") for run in runs), runs
    # Figure 8: the lock and SERIALIZABLE guards end exactly at the limit, and only SERIALIZABLE
    # re-runs enqueues. The unprotected check-then-insert overshoots it as a rule (write skew:
    # 53-58 for 50 in every run here), but a race may be lost: not asserted, only reported.
    contention = [row for row in cells if row[0].startswith("8.")]
    guards = [re.split(r"[ ,]", row[1])[0] for row in contention]
    assert guards == ["unprotected", "owner's", "SERIALIZABLE"], contention
    reached = [re.search(r"limit (\d+): max (\d+) per user$", row[2]) for row in contention]
    assert all(reached), contention
    (limit, unprotected), *guarded = [(int(m[1]), int(m[2])) for m in reached if m]
    assert unprotected >= limit, contention
    assert guarded == [(limit, limit), (limit, limit)], contention
    assert all(", 0.00 retries/success" in row[2] for row in contention[:2]), contention

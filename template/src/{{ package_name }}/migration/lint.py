"""Lint revisions with squawk: the SQL each revision would run, checked for unsafe operations.

squawk (https://squawkhq.com) reads SQL, so each revision is rendered offline
(`alembic upgrade <down>:<rev> --sql`, which never touches a database) and linted alone.
Rules and the PostgreSQL version come from `.squawk.toml`; a revision declares a deliberate
exception itself with `squawk_ignore(rule, reason=...)` from `migration.helpers`.
"""

import io
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.script import Script

from . import template_revisions

# Alembic's own bookkeeping tables are not ours to lint (their VARCHAR trips prefer-text-field).
_VERSION_TABLE_DDL = re.compile(r"CREATE TABLE alembic_version(_template)? \(.*?\);\n", re.DOTALL)
# squawk's gcc reporter: `<file>:<line>:<column>: warning: <rule> <message>`, 0-based.
_FINDING = re.compile(r"^[^:]+:(?P<line>\d+):\d+: \w+: (?P<rule>[a-z0-9-]+) (?P<message>.*)$")


@dataclass(frozen=True)
class Finding:
    revision: str
    path: str
    rule: str
    message: str
    line: int
    statement: str

    def __str__(self) -> str:
        return (
            f"revision {self.revision} ({self.path}), SQL line {self.line}: {self.rule}: "
            f"{self.message}\n    {self.statement}\n    https://squawkhq.com/docs/{self.rule}"
        )


def offline_sql(config: Config, script: Script) -> str:
    """The SQL `alembic upgrade <down>:<rev> --sql` prints for this revision alone."""
    buffer = io.StringIO()
    offline = Config(config.config_file_name, output_buffer=buffer)
    offline.attributes["configure_logger"] = False
    down = script.down_revision or "base"
    assert isinstance(down, str), f"merge revision {script.revision}: lint its parents"
    command.upgrade(offline, f"{down}:{script.revision}", sql=True)
    return buffer.getvalue()


def squawk_executable() -> str:
    """squawk from the environment running us (a venv's bin/), else from PATH."""
    beside = Path(sys.executable).with_name("squawk")
    found = str(beside) if beside.exists() else shutil.which("squawk")
    if found is None:
        raise RuntimeError("squawk is not installed: it comes with the dev dependencies")
    return found


def lint_revision(config: Config, script: Script, project_root: Path) -> list[Finding]:
    return lint_sql(offline_sql(config, script), script, project_root)


def lint_template_revision(script: Script, project_root: Path) -> list[Finding]:
    return lint_sql(template_revisions.offline_sql(project_root, script), script, project_root)


def lint_sql(sql: str, script: Script, project_root: Path) -> list[Finding]:
    """squawk's findings in `sql`, the SQL of `script`."""
    sql = _VERSION_TABLE_DDL.sub("", sql)
    with tempfile.TemporaryDirectory() as directory:
        sql_file = Path(directory) / f"{script.revision}.sql"
        sql_file.write_text(sql)
        result = subprocess.run(  # noqa: S603 - a fixed executable and our own file
            [
                squawk_executable(),
                "--reporter",
                "gcc",
                "--no-error-on-unmatched-pattern",
                str(sql_file),
            ],
            cwd=project_root,
            capture_output=True,
            text=True,
            check=False,
        )
    lines = sql.splitlines()
    findings = []
    for match in map(_FINDING.match, result.stdout.splitlines()):
        if match:
            line = int(match["line"]) + 1
            findings.append(
                Finding(
                    revision=script.revision,
                    path=Path(script.path).name,
                    rule=match["rule"],
                    message=match["message"],
                    line=line,
                    statement=lines[line - 1].strip() if line <= len(lines) else "",
                )
            )
    if result.returncode not in (0, 1) or (result.returncode == 1 and not findings):
        raise RuntimeError(f"squawk failed on revision {script.revision}: {result.stderr}")
    return findings

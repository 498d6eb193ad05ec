"""Convention checks: read PostgreSQL's catalog and report what breaks the project's rules.

Each check is one catalog query (`catalog_checks`); a finding (`findings`) says which table
(and column, index or constraint) breaks which rule, and how to fix it. The generated test suite
runs them after `alembic upgrade head` (tests/migrations/test_conventions.py) and
`python -m <package>.db doctor` runs them against any database. Deliberate exceptions are
declared, with a reason, in pyproject.toml.
"""

import tomllib
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncConnection

from . import catalog_checks as checks
from .findings import Finding


@dataclass(frozen=True)
class ConventionException:
    """`[[tool.<package>.convention-exceptions]]` in pyproject.toml: rule, target, reason."""

    rule: str
    target: str
    reason: str


def load_exceptions(pyproject: Path) -> list[ConventionException]:
    """The exceptions declared under `[tool.<package>]` in the project's pyproject.toml."""
    package = __package__.split(".")[0]
    tool = tomllib.loads(pyproject.read_text()).get("tool", {}).get(package, {})
    declared = tool.get("convention-exceptions", [])
    exceptions = []
    for entry in declared:
        if not {"rule", "target", "reason"} <= entry.keys() or not str(entry["reason"]).strip():
            raise ValueError(f"a convention exception needs rule, target and a reason: {entry}")
        exceptions.append(ConventionException(entry["rule"], entry["target"], entry["reason"]))
    return exceptions


async def check_conventions(
    connection: AsyncConnection,
    *,
    schema: str = "public",
    exceptions: list[ConventionException] | None = None,
) -> list[Finding]:
    """Every finding in `schema`, less the declared exceptions (stale ones become findings)."""
    findings = [finding for check in checks.ALL for finding in await check(connection, schema)]
    return apply_exceptions(findings, exceptions or [])


def apply_exceptions(
    findings: list[Finding], exceptions: list[ConventionException]
) -> list[Finding]:
    excepted = {(e.rule, e.target) for e in exceptions}
    found = {(f.rule, f.target) for f in findings}
    kept = [f for f in findings if (f.rule, f.target) not in excepted]
    stale = [
        Finding(
            "stale-exception",
            e.target.split(".")[0],
            e.target.partition(".")[2],
            f"the exception for {e.rule} matches nothing (fixed, renamed or dropped)",
            "remove it from pyproject.toml",
        )
        for e in exceptions
        if (e.rule, e.target) not in found
    ]
    return kept + stale

"""The convention guard: a user's schema that breaks a rule fails the generated suite and
`db doctor`, naming the table and the rule; a declared exception silences exactly its finding.

Each test passes alone and in any order: the breaking schema is a module fixture, the clean
project a render of its own.
"""

import json
import time
from collections.abc import Callable
from pathlib import Path

import psycopg
import pytest

from .support.projects import REVISION_TESTS, Project, project_with_database

VIOLATIONS = """\
from sqlalchemy import Column, DateTime, ForeignKey, Index, Table, Text
from sqlalchemy.orm import Mapped, mapped_column

from .db.base import Base
from .db.mixins import EntityId, PrimaryKey, Timestamps

audit_log = Table(
    "audit_log",
    Base.metadata,
    Column("message", Text, nullable=False),
    Column("logged_at", DateTime(timezone=False), nullable=False),
)


class ApiClient(Base, PrimaryKey, Timestamps):
    __tablename__ = "api_clients"

    api_token: Mapped[str]


class Invoice(Base, PrimaryKey, Timestamps):
    __tablename__ = "invoices"
    __table_args__ = (Index("ix_invoices_number_again", "number"),)

    client_id: Mapped[EntityId] = mapped_column(ForeignKey("api_clients.id"))
    number: Mapped[str] = mapped_column(index=True)
"""
EXPECTED = {
    ("no-primary-key", "audit_log"),
    ("timestamps", "audit_log.created_at"),
    ("timestamps", "audit_log.updated_at"),
    ("naive-timestamp", "audit_log.logged_at"),
    ("clear-text-secret", "api_clients.api_token"),
    ("fk-not-indexed", "invoices.fk_invoices_client_id_api_clients"),
    ("fk-on-delete-undecided", "invoices.fk_invoices_client_id_api_clients"),
    ("duplicate-index", "invoices.ix_invoices_number_again"),
}


def doctor(project: Project, *args: str) -> tuple[int, dict[str, list[dict[str, str]]]]:
    code, output = project.command("-m", f"{project.package}.db", "doctor", "--json", *args)
    assert code in (0, 1), output
    assert output.startswith("{"), output
    return code, json.loads(output.split("\n", 1)[0])


def found(
    report: dict[str, list[dict[str, str]]], kind: str = "conventions"
) -> set[tuple[str, str]]:
    return {(finding["rule"], finding["target"]) for finding in report[kind]}


@pytest.fixture(scope="module")
def violating(project: Project) -> Project:
    """The module's project with a model that breaks every rule, its revision applied."""
    project.migrate()  # autogenerate compares the models with a database at head
    package = project.package_dir
    (package / "violations.py").write_text(VIOLATIONS)
    with (package / "models.py").open("a") as models:
        models.write("from . import violations  # noqa: F401\n")
    # squawk objects to the revision (a non-zero exit), but it is written
    project.command("-m", f"{project.package}.db", "revision", "-m", "violations")
    assert list((project.root / "migrations" / "versions").glob("*_violations.py"))
    project.migrate()
    return project


def test_a_clean_project_passes_doctor(render: Callable[[str], Path]) -> None:
    with project_with_database(render("defaults")) as clean:
        clean.migrate()

        code, report = doctor(clean)

    assert (code, report["conventions"]) == (0, [])


def test_each_broken_rule_fails_the_suite_and_doctor_naming_table_and_rule(
    violating: Project,
) -> None:
    project = violating

    code, output = project.test_suite(*REVISION_TESTS)
    doctor_code, report = doctor(project)

    assert code != 0
    assert "test_schema_conventions" in output
    for rule, target in EXPECTED:
        assert f"[{rule}] {target}:" in output, (rule, target)
    assert doctor_code == 1
    assert found(report) == EXPECTED


def test_a_declared_exception_silences_exactly_its_finding(violating: Project) -> None:
    project = violating
    pyproject = project.root / "pyproject.toml"
    original = pyproject.read_text()
    pyproject.write_text(
        original.replace(
            "convention-exceptions = []",
            "convention-exceptions = [\n"
            '  { rule = "fk-on-delete-undecided", '
            'target = "invoices.fk_invoices_client_id_api_clients", '
            'reason = "invoices outlive nothing: NO ACTION on purpose" },\n'
            '  { rule = "clear-text-secret", target = "gone.api_token", reason = "old" },\n'
            "]",
        )
    )
    try:
        code, report = doctor(project)
    finally:
        pyproject.write_text(original)

    assert code == 1
    assert found(report) == (
        EXPECTED - {("fk-on-delete-undecided", "invoices.fk_invoices_client_id_api_clients")}
    ) | {("stale-exception", "gone.api_token")}


def test_doctor_reports_an_invalid_index(violating: Project) -> None:
    project = violating
    with project.connect(autocommit=True) as db:
        db.execute("INSERT INTO api_clients (api_token) VALUES ('same'), ('same')")
        with pytest.raises(psycopg.errors.UniqueViolation):
            db.execute(
                "CREATE UNIQUE INDEX CONCURRENTLY ix_api_clients_token ON api_clients (api_token)"
            )
        try:
            _, report = doctor(project)
        finally:
            db.execute("DROP INDEX ix_api_clients_token")

    assert ("invalid-index", "api_clients.ix_api_clients_token") in found(report)


def test_doctor_reports_a_session_idle_in_transaction(project: Project) -> None:
    with project.connect() as idle:
        idle.execute("SELECT 1")  # opens the transaction, then does nothing
        pid = idle.info.backend_pid
        time.sleep(1.5)
        _, report = doctor(project, "--threshold", "1")

    assert ("idle-in-transaction", f"pid {pid}") in found(report, "operations")


def test_doctor_says_in_one_line_when_the_database_is_unreachable(project: Project) -> None:
    code, output = project.command(
        "-m",
        f"{project.package}.db",
        "doctor",
        "--database-url",
        "postgresql://postgres@127.0.0.1:1/x",
    )

    assert code == 2
    assert output.strip().startswith("db doctor: cannot examine")
    assert "Traceback" not in output

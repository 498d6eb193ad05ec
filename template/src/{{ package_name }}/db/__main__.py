"""Database commands: `python -m <package>.db revision -m "add invoices"`, `lint`, `doctor`,
`embedded`.

`revision` autogenerates a revision from the models (with the rules of
`migration.autogenerate`), formats it with ruff (alembic.ini's post-write hook) and lints its
SQL with squawk. `doctor` checks the conventions and the sessions of a live database
(`operations.doctor`). `embedded` says how to reach the embedded development PostgreSQL with
psql, or stops it (`operations.embedded`). `template` says where the template's own revisions
stand (`migration.template_revisions`) and can revert them.
"""

import argparse
import asyncio
import shlex
import sys
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import Connection
from sqlalchemy.exc import ArgumentError
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from ..migration import template_revisions
from ..migration.lint import Finding, lint_revision, lint_template_revision
from ..migration.lock import migration_lock
from ..operations import doctor, embedded
from ..settings import async_database_url, get_settings


def alembic_config() -> Config:
    ini = Path.cwd() / "alembic.ini"
    if not ini.is_file():
        sys.exit(f"no alembic.ini in {Path.cwd()}: run this from the project's root")
    return Config(ini)


def report(findings: list[Finding], revisions: int) -> int:
    """Print squawk's findings; 1 if there are any."""
    for finding in findings:
        print(finding, file=sys.stderr)
    if findings:
        print(
            f"\n{len(findings)} finding(s). Make the revision safe (see migration.helpers), or "
            "declare the exception in it: squawk_ignore(rule, reason=...).",
            file=sys.stderr,
        )
        return 1
    print(f"squawk: {revisions} revision(s), no findings.")
    return 0


def revision(message: str) -> int:
    config = alembic_config()
    written = command.revision(config, message=message, autogenerate=True)
    scripts = [s for s in (written if isinstance(written, list) else [written]) if s is not None]
    if not scripts:
        print("The models match the migrations: no revision written.")
        return 0
    for script in scripts:
        print(f"Wrote {script.path}")
    findings = [f for script in scripts for f in lint_revision(config, script, Path.cwd())]
    return report(findings, len(scripts))


def lint() -> int:
    """Your revisions and the template's."""
    config = alembic_config()
    yours = list(ScriptDirectory.from_config(config).walk_revisions())
    templates = template_revisions.revisions(Path.cwd())
    findings = [
        *(f for script in yours for f in lint_revision(config, script, Path.cwd())),
        *(f for script in templates for f in lint_template_revision(script, Path.cwd())),
    ]
    return report(findings, len(yours) + len(templates))


async def template_chain(downgrade_to: str | None) -> int:
    """Where the template's own revisions stand; `downgrade_to` moves them back first."""
    database = get_settings().database
    engine = create_async_engine(database.sqlalchemy_url, poolclass=NullPool)

    def move_then_read(connection: Connection) -> tuple[str, ...]:
        with migration_lock(connection, wait_seconds=database.migration_wait_seconds):
            if downgrade_to is not None:
                template_revisions.downgrade(connection, Path.cwd(), downgrade_to)
            applied = template_revisions.current(connection)
        connection.commit()
        return applied

    try:
        async with engine.connect() as connection:
            applied = await connection.run_sync(move_then_read)
    finally:
        await engine.dispose()
    latest = template_revisions.scripts(Path.cwd()).get_heads()
    applied_list = ", ".join(applied) or "none"
    print(f"template revisions applied: {applied_list}; latest: {', '.join(latest)}")
    return 0


def embedded_server(*, stop: bool) -> int:
    if stop:
        print("stopped" if embedded.stop_development_server() else "not running")
        return 0
    database = get_settings().database
    if database.url is not None:
        print("DATABASE_URL is set: the service does not use the embedded PostgreSQL")
        return 1
    url = database.sqlalchemy_url
    print(f"running, data in {embedded.DEVELOPMENT}")
    print(f"DATABASE_URL={url.render_as_string(hide_password=False)}")
    print(f"psql: {shlex.join(embedded.psql_command(url))}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog=f"python -m {__package__}")
    commands = parser.add_subparsers(dest="command", required=True)
    new = commands.add_parser("revision", help="autogenerate, format and lint a revision")
    new.add_argument("-m", "--message", required=True, help="what the revision does")
    commands.add_parser("lint", help="lint every revision's SQL with squawk")
    examine = commands.add_parser("doctor", help="check a database's conventions and sessions")
    examine.add_argument("--database-url", help="default: DATABASE_URL (the settings)")
    examine.add_argument("--json", action="store_true", help="machine-readable output")
    examine.add_argument(
        "--threshold",
        type=float,
        default=60.0,
        help="seconds a query may run, or a session idle in a transaction, before it is reported",
    )
    chain = commands.add_parser(
        "template", help="where the template's own revisions (migrations/template/) stand"
    )
    chain.add_argument("--downgrade", metavar="REVISION", help="revert them to REVISION first")
    server = commands.add_parser(
        "embedded", help="start the embedded development PostgreSQL and say how to reach it"
    )
    server.add_argument("--stop", action="store_true", help="stop it instead (its data stays)")
    arguments = parser.parse_args(argv)
    if arguments.command == "embedded":
        return embedded_server(stop=arguments.stop)
    if arguments.command == "revision":
        return revision(arguments.message)
    if arguments.command == "template":
        return asyncio.run(template_chain(arguments.downgrade))
    if arguments.command == "doctor":
        try:
            database = get_settings().database
            url = async_database_url(arguments.database_url or database.sqlalchemy_url)
        except (ValueError, ArgumentError) as error:
            print(f"db doctor: bad database URL: {error}", file=sys.stderr)
            return 2
        return asyncio.run(
            doctor.run(url, as_json=arguments.json, threshold_seconds=arguments.threshold)
        )
    return lint()


if __name__ == "__main__":
    sys.exit(main())

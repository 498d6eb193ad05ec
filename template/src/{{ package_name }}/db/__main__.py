"""Database commands: `python -m <package>.db revision -m "add invoices"`, `lint`, `doctor`,
`embedded`, `template`, `backup`, `restore`, `rehearse`.

`revision` autogenerates a revision from the models (with the rules of
`migration.autogenerate`), formats it with ruff (alembic.ini's post-write hook) and lints its
SQL with squawk. `doctor` checks the conventions and the sessions of a live database
(`operations.doctor`). `embedded` says how to reach the embedded development PostgreSQL with
psql, or stops it (`operations.embedded`). `template` says where the template's own revisions
stand (`migration.template_revisions`) and can revert them. `backup` and `restore` write and
check logical backups (`operations.backup`, `operations.restore`); `rehearse` runs the pending
revisions on a clone and measures what they block (`operations.rehearsal`).

Exit status of the operations commands: 0 done, 1 a named failure (a mismatch, a revision that
blocks writes too long), 2 could not run.
"""

import argparse
import asyncio
import shlex
import sys
from collections.abc import Coroutine
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import URL, Connection
from sqlalchemy.exc import ArgumentError, SQLAlchemyError
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from ..migration import template_revisions
from ..migration.lint import Finding, lint_revision, lint_template_revision
from ..migration.lock import migration_lock
from ..operations import doctor, embedded
from ..operations.backup import backup
from ..operations.outcomes import CannotRunError, VerificationError
from ..operations.rehearsal import DEFAULT_WRITE_LIMIT, pending_on, rehearse, render
from ..operations.restore import restore
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


def run_operation(name: str, operation: Coroutine[Any, Any, int]) -> int:
    """Run an operations command, its failures told in one line (or one per mismatch)."""
    try:
        return asyncio.run(operation)
    except VerificationError as failure:
        print(f"db {name}: FAILED\n{failure}", file=sys.stderr)
        return 1
    except CannotRunError as error:
        print(f"db {name}: could not run: {error}", file=sys.stderr)
        return 2
    except (SQLAlchemyError, OSError) as error:
        print(f"db {name}: could not run: {error.__class__.__name__}: {error}", file=sys.stderr)
        return 2


async def backup_command(url: URL, destination: Path, pg_bin: Path | None) -> int:
    manifest = await backup(url, destination, pg_bin=pg_bin)
    rows = sum(manifest.row_counts.values())
    print(
        f"backed up {manifest.database} ({len(manifest.row_counts)} tables, {rows} rows, "
        f"{manifest.size} bytes) to {destination}, with pg_dump {manifest.pg_dump_version}"
    )
    return 0


async def restore_command(
    url: URL, source: Path, into: URL | None, *, verify: bool, keep: bool, pg_bin: Path | None
) -> int:
    restored = await restore(
        source,
        source=url,
        into=into,
        verify=verify,
        keep=keep,
        project_root=Path.cwd(),
        pg_bin=pg_bin,
    )
    where = f"into {restored.database}" + ("" if restored.kept else " (dropped since)")
    print(f"restored {source} {where}")
    if restored.verified is not None:
        counts = restored.verified.row_counts
        print(
            f"verified: {len(counts)} tables, {sum(counts.values())} rows, "
            f"{len(restored.verified.definitions)} schema objects and the migration heads match "
            "the manifest; the convention checks pass"
        )
    return 0


async def rehearse_command(
    url: URL, server: URL | None, *, write_limit: float, pg_bin: Path | None
) -> int:
    pending = await pending_on(url, Path.cwd())
    if not pending:
        print(f"{url.database}: no pending revision to rehearse")
        return 0
    rehearsal = await rehearse(url, server=server or url, project_root=Path.cwd(), pg_bin=pg_bin)
    lines, failures = render(rehearsal, write_limit=write_limit)
    print("\n".join(lines))
    if failures:
        raise VerificationError("\n".join(failures))
    print(f"no revision blocked writes longer than {write_limit:.2f} s")
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
    save = commands.add_parser("backup", help="pg_dump the database, with a manifest beside")
    save.add_argument("path", type=Path, help="the file to write (never overwritten)")
    load = commands.add_parser(
        "restore", help="restore a backup into an empty or scratch database, and check it"
    )
    load.add_argument("backup", type=Path)
    load.add_argument("--verify", action="store_true", help="check it against its manifest")
    load.add_argument("--into", help="an empty database's URL (default: a scratch database)")
    load.add_argument("--keep", action="store_true", help="keep the scratch database")
    trial = commands.add_parser(
        "rehearse", help="apply the pending revisions to a clone, measuring what they block"
    )
    trial.add_argument(
        "--max-write-block",
        type=float,
        default=DEFAULT_WRITE_LIMIT,
        metavar="SECONDS",
        help="fail if a revision makes writes to a table wait longer (default: %(default)s)",
    )
    trial.add_argument("--server-url", help="the server to clone on (default: the database's own)")
    for operation in (save, load, trial):
        operation.add_argument("--database-url", help="default: DATABASE_URL (the settings)")
        operation.add_argument("--pg-bin", type=Path, help="where pg_dump/pg_restore are")
    arguments = parser.parse_args(argv)
    if arguments.command == "restore" and not (
        arguments.verify or arguments.keep or arguments.into
    ):
        parser.error("restore: say --verify, --keep or --into (a scratch restore is dropped)")
    if arguments.command == "embedded":
        return embedded_server(stop=arguments.stop)
    if arguments.command == "revision":
        return revision(arguments.message)
    if arguments.command == "template":
        return asyncio.run(template_chain(arguments.downgrade))
    if arguments.command == "lint":
        return lint()
    try:
        url = async_database_url(arguments.database_url or get_settings().database.sqlalchemy_url)
        into = async_database_url(arguments.into) if getattr(arguments, "into", None) else None
        clone_server = (
            async_database_url(arguments.server_url)
            if getattr(arguments, "server_url", None)
            else None
        )
    except (ValueError, ArgumentError) as error:
        print(f"db {arguments.command}: bad database URL: {error}", file=sys.stderr)
        return 2
    if arguments.command == "doctor":
        return asyncio.run(
            doctor.run(url, as_json=arguments.json, threshold_seconds=arguments.threshold)
        )
    if arguments.command == "backup":
        return run_operation("backup", backup_command(url, arguments.path, arguments.pg_bin))
    if arguments.command == "rehearse":
        limit, pg_bin = arguments.max_write_block, arguments.pg_bin
        return run_operation(
            "rehearse", rehearse_command(url, clone_server, write_limit=limit, pg_bin=pg_bin)
        )
    return run_operation(
        "restore",
        restore_command(
            url,
            arguments.backup,
            into,
            verify=arguments.verify,
            keep=arguments.keep,
            pg_bin=arguments.pg_bin,
        ),
    )


if __name__ == "__main__":
    sys.exit(main())

"""`python -m <package>.db restore BACKUP`: restore a backup into an empty database, and with
`--verify` prove that it holds what the manifest says.

A restore never goes into the source database nor over a non-empty one. Without `--into`, it goes
into a scratch database on the source's server, dropped afterwards unless `--keep`. Verification
checks, in order: the file against the manifest (size, SHA-256), the archive's table of contents
(`pg_restore --list`), the restore itself (`--exit-on-error`, one transaction), then the restored
database: each migration chain's heads, each table's rows, and the convention checks. A checksum
that matches proves only that the file is the one written; the restore proves it is usable.
"""

from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import URL
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from .client_tools import find_program, libpq_command_environment, run_program
from .conventions import check_conventions, load_exceptions
from .inventory import Inventory, differences, take_inventory, user_relations
from .manifest import Manifest, check_file, read_manifest
from .outcomes import CannotRunError, VerificationError
from .scratch import scratch_database, scratch_name


@dataclass(frozen=True)
class Restored:
    database: str
    kept: bool
    verified: Inventory | None  # what was checked, when --verify


def same_server(a: URL, b: URL) -> bool:
    def address(url: URL) -> tuple[object, ...]:
        return (url.host, url.port or 5432, url.query.get("host"))

    return address(a) == address(b)


def same_database(a: URL, b: URL) -> bool:
    return same_server(a, b) and a.database == b.database


async def _relations_in(url: URL) -> int:
    engine = create_async_engine(url, poolclass=NullPool)
    try:
        async with engine.connect() as connection:
            return await user_relations(connection)
    finally:
        await engine.dispose()


async def verify_restored(target: URL, manifest: Manifest, *, project_root: Path) -> Inventory:
    """The restored database against the manifest, and the convention checks on it."""
    engine = create_async_engine(target, poolclass=NullPool)
    try:
        async with engine.connect() as connection:
            restored = await take_inventory(connection)
            exceptions = load_exceptions(project_root / "pyproject.toml")
            findings = await check_conventions(connection, exceptions=exceptions)
    finally:
        await engine.dispose()
    problems = differences(restored, manifest.inventory) + [f"convention: {f}" for f in findings]
    if problems:
        raise VerificationError("\n".join(problems))
    return restored


async def pg_restore(target: URL, backup: Path, manifest: Manifest, pg_bin: Path | None) -> None:
    program = find_program(
        "pg_restore",
        at_least=manifest.pg_dump_major,
        serving=f"the backup (written by pg_dump {manifest.pg_dump_version})",
        pg_bin=pg_bin,
    )
    uri, environment = libpq_command_environment(target)
    # A broken archive fails here, before anything is written anywhere.
    await run_program(
        [str(program.path), "--list", str(backup)], environment, failure=VerificationError
    )
    await run_program(
        [
            str(program.path),
            "--exit-on-error",
            "--single-transaction",  # a failed restore leaves the database as empty as it was
            "--no-owner",  # objects belong to whoever restores: the roles may not exist here
            "--no-acl",
            f"--dbname={uri}",
            str(backup),
        ],
        environment,
        failure=VerificationError,
    )


async def restore(
    backup: Path,
    *,
    source: URL,
    into: URL | None,
    verify: bool,
    keep: bool,
    project_root: Path,
    pg_bin: Path | None = None,
) -> Restored:
    manifest = read_manifest(backup)
    check_file(backup, manifest)

    async def restore_and_verify(target: URL) -> Inventory | None:
        await pg_restore(target, backup, manifest, pg_bin)
        return (
            await verify_restored(target, manifest, project_root=project_root) if verify else None
        )

    if into is not None:
        if same_database(into, source):
            raise CannotRunError(f"refusing to restore into the source database {source.database}")
        if (relations := await _relations_in(into)) > 0:
            raise CannotRunError(
                f"refusing to restore over {into.database}: it is not empty ({relations} "
                "relations); restore into an empty database"
            )
        return Restored(str(into.database), kept=True, verified=await restore_and_verify(into))
    name = scratch_name(str(source.database), "restore")
    async with scratch_database(source, name, keep=keep) as scratch:
        return Restored(name, kept=keep, verified=await restore_and_verify(scratch))

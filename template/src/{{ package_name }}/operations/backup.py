"""`python -m <package>.db backup PATH`: a logical backup of a database, with its manifest.

pg_dump (custom format) reads a snapshot this module exports from a REPEATABLE READ, READ ONLY
transaction, and the rows are counted in that same snapshot: the manifest's counts are the
dump's, however busy the database is. Nothing is written to the source database. The dump is
written under a temporary name and renamed once whole; the manifest comes last.
"""

import datetime as dt
from dataclasses import replace
from pathlib import Path

from sqlalchemy import URL, text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from .client_tools import find_program, libpq_command_environment, run_program
from .inventory import take_inventory
from .manifest import Manifest, sha256_of, write_manifest
from .outcomes import CannotRunError


def partial_path(destination: Path) -> Path:
    """Where pg_dump writes until the dump is whole; refuses a destination that exists."""
    if destination.exists():
        raise CannotRunError(f"{destination} exists: a backup never overwrites a file")
    if not destination.parent.is_dir():
        raise CannotRunError(f"no directory {destination.parent} to write the backup in")
    return destination.with_name(destination.name + ".partial")


def seal(partial: Path, destination: Path, manifest: Manifest) -> Manifest:
    """Name the whole dump, then write its manifest with its size and checksum."""
    manifest = replace(manifest, size=partial.stat().st_size, sha256=sha256_of(partial))
    partial.rename(destination)
    write_manifest(destination, manifest)
    return manifest


async def backup(url: URL, destination: Path, *, pg_bin: Path | None = None) -> Manifest:
    partial = partial_path(destination)
    engine = create_async_engine(url, poolclass=NullPool)
    try:
        async with engine.connect() as connection:
            await connection.execute(
                text("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            )
            server_version = str(await connection.scalar(text("SHOW server_version")))
            server_major = int(await connection.scalar(text("SHOW server_version_num")) or 0)
            snapshot = str(await connection.scalar(text("SELECT pg_export_snapshot()")))
            inventory = await take_inventory(connection)
            pg_dump = find_program(
                "pg_dump",
                at_least=server_major // 10000,
                serving=f"the server ({server_version.split()[0]})",
                pg_bin=pg_bin,
            )
            uri, environment = libpq_command_environment(url)
            # The transaction stays open while pg_dump runs: its snapshot lives as long.
            await run_program(
                [
                    str(pg_dump.path),
                    "--format=custom",
                    f"--snapshot={snapshot}",
                    f"--file={partial}",
                    f"--dbname={uri}",
                ],
                environment,
            )
            await connection.rollback()
    except BaseException as error:
        partial.unlink(missing_ok=True)
        if isinstance(error, SQLAlchemyError):
            raise CannotRunError(f"could not read the database: {error}") from None
        raise
    finally:
        await engine.dispose()
    unsealed = Manifest(
        database=str(url.database),
        created_at=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        server_version=server_version.split()[0],
        pg_dump_version=pg_dump.version,
        heads=inventory.heads,
        row_counts=inventory.row_counts,
        content=inventory.content,
        definitions=inventory.definitions,
        size=0,
        sha256="",
    )
    return seal(partial, destination, unsealed)

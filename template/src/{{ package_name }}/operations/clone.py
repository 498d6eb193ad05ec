"""A private copy of a database, for rehearsing what would be done to the original.

On the source's own server, with nobody connected to the source, the copy is a template copy
(`CREATE DATABASE … TEMPLATE`: a file copy, no dump). Otherwise — the usual case for a database
in service, which PostgreSQL will not copy while anyone is connected — it is restored from a
fresh backup (`operations.backup`), the source read in one snapshot and never written to.
"""

import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import URL, text
from sqlalchemy.exc import DBAPIError

from ..db.errors import sqlstate
from .backup import backup
from .restore import pg_restore, same_server
from .scratch import administration, quoted, scratch_database, scratch_name

OBJECT_IN_USE = "55006"  # CREATE DATABASE … TEMPLATE while someone is connected to it


@dataclass(frozen=True)
class Clone:
    url: URL
    how: str  # "template copy" or "backup and restore"


async def _template_copy(server: URL, name: str, source: str) -> bool:
    """Copy `source` into a new database `name`; False if someone is connected to it."""
    async with administration(server) as admin:
        try:
            await admin.execute(
                text(f"CREATE DATABASE {quoted(admin, name)} TEMPLATE {quoted(admin, source)}")
            )
        except DBAPIError as error:
            if sqlstate(error) == OBJECT_IN_USE:
                return False
            raise
    return True


@asynccontextmanager
async def cloned(source: URL, server: URL, *, pg_bin: Path | None = None) -> AsyncIterator[Clone]:
    """A clone of `source` on `server`, dropped when the block ends."""
    name = scratch_name(str(source.database), "rehearsal")
    if same_server(source, server) and await _template_copy(server, name, str(source.database)):
        async with scratch_database(server, name, existing=True) as url:
            yield Clone(url, "template copy")
        return
    async with scratch_database(server, name) as url:
        with tempfile.TemporaryDirectory(prefix="rehearsal-") as directory:
            dump = Path(directory) / "source.dump"
            manifest = await backup(source, dump, pg_bin=pg_bin)
            await pg_restore(url, dump, manifest, pg_bin)
        yield Clone(url, "backup and restore")

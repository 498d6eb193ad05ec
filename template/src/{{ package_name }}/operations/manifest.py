"""The manifest written beside a backup: what the dump held, to check a restore against.

`<backup>.manifest.json` records the server's and pg_dump's versions, the database's inventory in
the snapshot pg_dump read (`inventory`: heads, rows and a content fingerprint per table, each
object's definition), and the file's size and SHA-256. A checksum proves only that the file did
not change since it was written; the inventory lets a trial restore prove it held the database.
"""

import hashlib
import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from .inventory import Inventory
from .outcomes import CannotRunError, VerificationError

FORMAT = 1
CHUNK = 1 << 20


@dataclass(frozen=True)
class Manifest:
    database: str
    created_at: str
    server_version: str
    pg_dump_version: str
    heads: dict[str, list[str]]
    row_counts: dict[str, int]
    content: dict[str, str]
    definitions: dict[str, str]
    size: int
    sha256: str

    @property
    def inventory(self) -> Inventory:
        return Inventory(self.heads, self.row_counts, self.content, self.definitions)

    @property
    def pg_dump_major(self) -> int:
        return int(self.pg_dump_version.split(".")[0])


def manifest_path(backup: Path) -> Path:
    return backup.with_name(backup.name + ".manifest.json")


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as file:
        while chunk := file.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def write_manifest(backup: Path, manifest: Manifest) -> Path:
    """Written to a temporary name, then renamed: a manifest is whole or absent."""
    path = manifest_path(backup)
    partial = path.with_name(path.name + ".partial")
    partial.write_text(json.dumps({"format": FORMAT, **asdict(manifest)}, indent=2) + "\n")
    partial.rename(path)
    return path


def read_manifest(backup: Path) -> Manifest:
    path = manifest_path(backup)
    try:
        fields: dict[str, Any] = json.loads(path.read_text())
    except FileNotFoundError:
        raise CannotRunError(f"no manifest beside the backup (expected {path})") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise CannotRunError(f"the manifest {path} is not readable: {error}") from None
    if not isinstance(fields, dict) or fields.pop("format", None) != FORMAT:
        raise CannotRunError(f"the manifest {path} is not a format-{FORMAT} backup manifest")
    try:
        return Manifest(**fields)
    except TypeError as error:
        raise CannotRunError(
            f"the manifest {path} is incomplete or has unknown fields: {error}"
        ) from None


def check_file(backup: Path, manifest: Manifest) -> None:
    """The file is the one the manifest describes: same size, same SHA-256."""
    try:
        size = backup.stat().st_size
    except FileNotFoundError:
        raise CannotRunError(f"no backup at {backup}") from None
    if size != manifest.size:
        shorter = "cut short" if size < manifest.size else "longer than written"
        raise VerificationError(
            f"the backup is {shorter}: {size} bytes, the manifest says {manifest.size}"
        )
    if (digest := sha256_of(backup)) != manifest.sha256:
        raise VerificationError(
            f"checksum mismatch: the backup's SHA-256 is {digest}, the manifest says "
            f"{manifest.sha256} (the file changed after it was written)"
        )

"""What a database holds, in terms a backup can be checked against: each table's rows and a
fingerprint of their content, each schema object's definition, and where each migration chain
stands. Computed the same way at dump time and after a restore, the two must be equal."""

import hashlib
from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from ..migration.template_revisions import VERSION_TABLE as TEMPLATE_VERSION_TABLE

VERSION_TABLES = ("alembic_version", TEMPLATE_VERSION_TABLE)
# As TABLES names them: Alembic keeps them in the public schema.
QUALIFIED_VERSION_TABLES = frozenset(f"public.{table}" for table in VERSION_TABLES)
# Every table outside PostgreSQL's own schemas, schema-qualified and quoted by format('%I').
# A partitioned table's count covers its partitions, which are not listed themselves.
TABLES = text("""
    WITH n AS (  -- the schemas that are not PostgreSQL's own
        SELECT oid, nspname FROM pg_namespace
        WHERE nspname <> 'information_schema' AND nspname NOT LIKE 'pg\\_%'
    )
    SELECT format('%I.%I', n.nspname, c.relname)
    FROM pg_class AS c JOIN n ON n.oid = c.relnamespace
    WHERE c.relkind IN ('r', 'p') AND NOT c.relispartition
    ORDER BY 1
""")
RELATIONS = text("""
    WITH n AS (  -- the schemas that are not PostgreSQL's own
        SELECT oid, nspname FROM pg_namespace
        WHERE nspname <> 'information_schema' AND nspname NOT LIKE 'pg\\_%'
    )
    SELECT count(*) FROM pg_class AS c JOIN n ON n.oid = c.relnamespace
""")
# Each object's definition as PostgreSQL prints it, named without OIDs (a restore renumbers them).
DEFINITIONS = text("""
    WITH n AS (  -- the schemas that are not PostgreSQL's own
        SELECT oid, nspname FROM pg_namespace
        WHERE nspname <> 'information_schema' AND nspname NOT LIKE 'pg\\_%'
    )
    SELECT format('column %I.%I.%I', n.nspname, c.relname, a.attname),
           concat_ws(' ', format_type(a.atttypid, a.atttypmod),
                     CASE WHEN a.attnotnull THEN 'NOT NULL' END,
                     pg_get_expr(d.adbin, d.adrelid), a.attidentity, a.attgenerated)
    FROM pg_attribute AS a
    JOIN pg_class AS c ON c.oid = a.attrelid JOIN n ON n.oid = c.relnamespace
    LEFT JOIN pg_attrdef AS d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
    WHERE c.relkind IN ('r', 'p', 'v', 'm') AND a.attnum > 0 AND NOT a.attisdropped
    UNION ALL
    SELECT format('constraint %I.%I.%I', n.nspname, c.relname, k.conname),
           pg_get_constraintdef(k.oid)
    FROM pg_constraint AS k
    JOIN pg_class AS c ON c.oid = k.conrelid JOIN n ON n.oid = c.relnamespace
    UNION ALL
    SELECT format('index %I.%I', n.nspname, c.relname), pg_get_indexdef(c.oid)
    FROM pg_class AS c JOIN n ON n.oid = c.relnamespace
    WHERE c.relkind IN ('i', 'I')
    UNION ALL
    SELECT format('trigger %I.%I.%I', n.nspname, c.relname, t.tgname), pg_get_triggerdef(t.oid)
    FROM pg_trigger AS t
    JOIN pg_class AS c ON c.oid = t.tgrelid JOIN n ON n.oid = c.relnamespace
    WHERE NOT t.tgisinternal
    UNION ALL
    SELECT format('function %I.%s', n.nspname, p.oid::regprocedure), pg_get_functiondef(p.oid)
    FROM pg_proc AS p JOIN n ON n.oid = p.pronamespace
    WHERE p.prokind IN ('f', 'p')
      AND NOT EXISTS (SELECT FROM pg_depend AS e WHERE e.objid = p.oid AND e.deptype = 'e')
    UNION ALL
    SELECT format('view %I.%I', n.nspname, c.relname), pg_get_viewdef(c.oid)
    FROM pg_class AS c JOIN n ON n.oid = c.relnamespace
    WHERE c.relkind IN ('v', 'm')
""")
# Row text depends on these settings: fixed, so that dump time and restore time agree.
CANONICAL_OUTPUT = (
    "SET LOCAL TimeZone = 'UTC'",
    "SET LOCAL DateStyle = 'ISO, YMD'",
    "SET LOCAL IntervalStyle = 'postgres'",
    "SET LOCAL extra_float_digits = 1",
    "SET LOCAL bytea_output = 'hex'",
)


@dataclass(frozen=True)
class Inventory:
    heads: dict[str, list[str]]
    row_counts: dict[str, int]
    content: dict[str, str]  # table -> order-independent fingerprint of its rows
    definitions: dict[str, str]  # object -> SHA-256 of its definition (first 16 hex digits)


async def take_inventory(connection: AsyncConnection) -> Inventory:
    """One full scan per table (a dump reads every row anyway), in the caller's transaction."""
    for setting in CANONICAL_OUTPUT:
        await connection.execute(text(setting))
    counts, content = {}, {}
    for table in (await connection.scalars(TABLES)).all():
        # The name comes from the catalog, quoted by PostgreSQL itself. The fingerprint sums
        # each row's 64-bit hash: the same rows give the same sum, in whatever physical order.
        scan = text(
            f"SELECT count(*), coalesce(sum(hashtextextended(t::text, 0)::numeric), 0)::text "  # noqa: S608
            f"FROM {table} AS t"
        )
        rows, fingerprint = (await connection.execute(scan)).one()
        counts[table], content[table] = int(rows), str(fingerprint)
    definitions = {
        name: hashlib.sha256(str(definition).encode()).hexdigest()[:16]
        for name, definition in (await connection.execute(DEFINITIONS)).all()
    }
    return Inventory(await migration_heads(connection), counts, content, definitions)


async def migration_heads(connection: AsyncConnection) -> dict[str, list[str]]:
    """The revisions each version table records; a chain never applied is absent."""
    heads = {}
    for table in VERSION_TABLES:
        if await connection.scalar(text("SELECT to_regclass(:t) IS NOT NULL"), {"t": table}):
            rows = await connection.scalars(text(f"SELECT version_num FROM {table} ORDER BY 1"))  # noqa: S608
            heads[table] = list(rows.all())
    return heads


async def user_relations(connection: AsyncConnection) -> int:
    """How many tables, views, sequences… live outside PostgreSQL's own schemas."""
    return int(await connection.scalar(RELATIONS) or 0)


def differences(restored: Inventory, expected: Inventory) -> list[str]:
    """What the restored database holds that the backup's manifest does not, one line each."""
    problems = []
    if restored.heads != expected.heads:
        problems.append(
            f"migration heads differ: restored {restored.heads}, the manifest says {expected.heads}"
        )
    for table in sorted(restored.row_counts.keys() | expected.row_counts.keys()):
        got, wanted = restored.row_counts.get(table), expected.row_counts.get(table)
        if got != wanted:
            said = "no such table" if got is None else f"{got} rows"
            says = "no such table" if wanted is None else f"{wanted} rows"
            problems.append(f"{table}: {said} restored, the manifest says {says}")
        elif restored.content.get(table) != expected.content.get(table):
            problems.append(f"{table}: the rows' content differs from the dumped rows")
    for name in sorted(restored.definitions.keys() | expected.definitions.keys()):
        now, then = restored.definitions.get(name), expected.definitions.get(name)
        if now is None:
            problems.append(f"{name}: missing after the restore")
        elif then is None:
            problems.append(f"{name}: restored, but not in the manifest")
        elif now != then:
            problems.append(f"{name}: its definition differs from the dumped one")
    return problems

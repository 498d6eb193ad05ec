"""The catalog queries behind the convention checks, one per check (see `catalog_checks`)."""

from ..db.triggers import TOUCH_UPDATED_AT_FUNCTION

# Alembic's bookkeeping tables (yours and the template's chain) follow Alembic's conventions.
IGNORED_TABLES = ("alembic_version", "alembic_version_template")

# The tables checked: ordinary and partitioned tables of the schema, but Alembic's. The queries
# below are assembled from these constant fragments only; every value is a bound parameter.
OUR_TABLES = """
    ns.nspname = :schema AND rel.relkind IN ('r', 'p')
    AND rel.relname <> ALL(CAST(:ignored AS text[]))
"""

FOREIGN_KEYS = f"""
    SELECT rel.relname, con.conname, con.confdeltype,
           ARRAY(SELECT att.attname FROM unnest(con.conkey) WITH ORDINALITY AS k(attnum, n)
                 JOIN pg_attribute att ON att.attrelid = con.conrelid AND att.attnum = k.attnum
                 ORDER BY k.n) AS columns,
           EXISTS (
               SELECT 1 FROM pg_index ix
               WHERE ix.indrelid = con.conrelid AND ix.indisvalid AND ix.indpred IS NULL
                 AND (ix.indkey::int2[])[0:cardinality(con.conkey) - 1] @> con.conkey
                 AND (ix.indkey::int2[])[0:cardinality(con.conkey) - 1] <@ con.conkey
           ) AS indexed
    FROM pg_constraint con
    JOIN pg_class rel ON rel.oid = con.conrelid
    JOIN pg_namespace ns ON ns.oid = rel.relnamespace
    WHERE con.contype = 'f' AND {OUR_TABLES}
    ORDER BY 1, 2
"""  # noqa: S608

TABLES_WITHOUT_PRIMARY_KEY = f"""
    SELECT rel.relname
    FROM pg_class rel JOIN pg_namespace ns ON ns.oid = rel.relnamespace
    WHERE {OUR_TABLES} AND NOT EXISTS (
        SELECT 1 FROM pg_constraint con WHERE con.conrelid = rel.oid AND con.contype = 'p'
    )
    ORDER BY 1
"""  # noqa: S608

TIMESTAMP_COLUMNS = f"""
    SELECT rel.relname, att.attname, format_type(att.atttypid, att.atttypmod), att.attnotnull,
           EXISTS (
               SELECT 1 FROM pg_trigger tg JOIN pg_proc fn ON fn.oid = tg.tgfoid
               WHERE tg.tgrelid = rel.oid AND NOT tg.tgisinternal
                 AND fn.proname = '{TOUCH_UPDATED_AT_FUNCTION}'
           ) AS touched
    FROM pg_class rel
    JOIN pg_namespace ns ON ns.oid = rel.relnamespace
    LEFT JOIN pg_attribute att ON att.attrelid = rel.oid AND NOT att.attisdropped
         AND att.attname IN ('created_at', 'updated_at')
    WHERE {OUR_TABLES}
    ORDER BY 1, 2
"""  # noqa: S608

COLUMNS = f"""
    SELECT rel.relname, att.attname, format_type(att.atttypid, att.atttypmod)
    FROM pg_class rel
    JOIN pg_namespace ns ON ns.oid = rel.relnamespace
    JOIN pg_attribute att ON att.attrelid = rel.oid AND att.attnum > 0 AND NOT att.attisdropped
    WHERE {OUR_TABLES}
    ORDER BY 1, 2
"""  # noqa: S608

INDEXES = f"""
    SELECT rel.relname, idx.relname, ix.indisvalid, pg_get_indexdef(ix.indexrelid)
    FROM pg_index ix
    JOIN pg_class rel ON rel.oid = ix.indrelid
    JOIN pg_class idx ON idx.oid = ix.indexrelid
    JOIN pg_namespace ns ON ns.oid = rel.relnamespace
    WHERE {OUR_TABLES}
    ORDER BY 1, 2
"""  # noqa: S608

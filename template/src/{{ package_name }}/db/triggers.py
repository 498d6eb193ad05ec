"""SQL for the `touch_updated_at()` trigger that keeps `updated_at` true on every UPDATE."""

from sqlalchemy import Dialect

TOUCH_UPDATED_AT_FUNCTION = "touch_updated_at"

CREATE_TOUCH_UPDATED_AT_FUNCTION = f"""\
CREATE OR REPLACE FUNCTION {TOUCH_UPDATED_AT_FUNCTION}() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    NEW.updated_at = now();
    RETURN NEW;
END;
$$"""

DROP_TOUCH_UPDATED_AT_FUNCTION = f"DROP FUNCTION IF EXISTS {TOUCH_UPDATED_AT_FUNCTION}()"


def trigger_name(table: str) -> str:
    return f"{table}_touch_updated_at"


def create_trigger_sql(table: str, dialect: Dialect) -> str:
    quote = dialect.identifier_preparer.quote
    return (
        f"CREATE TRIGGER {quote(trigger_name(table))} BEFORE UPDATE ON {quote(table)} "
        f"FOR EACH ROW EXECUTE FUNCTION {TOUCH_UPDATED_AT_FUNCTION}()"
    )


def drop_trigger_sql(table: str, dialect: Dialect) -> str:
    quote = dialect.identifier_preparer.quote
    return f"DROP TRIGGER IF EXISTS {quote(trigger_name(table))} ON {quote(table)}"

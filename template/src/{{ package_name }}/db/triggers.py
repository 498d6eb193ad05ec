"""SQL for the triggers that call `touch_updated_at()`, which keeps `updated_at` true.

The function itself belongs to the template's own revisions (migrations/template/).
"""

from sqlalchemy import Dialect

TOUCH_UPDATED_AT_FUNCTION = "touch_updated_at"


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

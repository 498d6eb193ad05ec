"""The declarative base: deterministic constraint names and PostgreSQL-native column types."""

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, DateTime, MetaData, Text, Uuid
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, declared_attr

# Predictable names (`uq_users_email`, `fk_jobs_user_id_users`) let migrations drop what they
# created and let the error handlers tell which constraint a request violated.
# https://alembic.sqlalchemy.org/en/latest/naming.html
NAMING_CONVENTION = {
    "pk": "pk_%(table_name)s",
    "fk": "fk_%(table_name)s_%(column_0_N_name)s_%(referred_table_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
}

# What a plain annotation becomes in PostgreSQL: `Mapped[datetime]` is TIMESTAMPTZ (never a
# naive timestamp), `Mapped[dict[str, Any]]` is JSONB, `Mapped[str]` is TEXT, `Mapped[int]` is
# BIGINT (no 2**31 ceiling to hit years later, and it matches BIGINT identity keys).
TYPE_ANNOTATION_MAP: dict[Any, Any] = {
    datetime: DateTime(timezone=True),
    int: BigInteger,
    dict[str, Any]: JSONB,
    list[Any]: JSONB,
    uuid.UUID: Uuid(as_uuid=True),
    str: Text,
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = TYPE_ANNOTATION_MAP

    @declared_attr.directive
    def __mapper_args__(cls) -> dict[str, Any]:
        # Read server-generated values (ids, timestamps, the trigger's `updated_at`) with
        # RETURNING at flush; refreshing them lazily later needs I/O asyncio cannot do implicitly.
        return {"eager_defaults": True}

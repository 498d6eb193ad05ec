"""Every model module, imported so Alembic's autogenerate sees all tables. This file is yours.

from .invoices import models as invoices  # noqa: F401
"""

from .db.base import Base

__all__ = ["Base"]

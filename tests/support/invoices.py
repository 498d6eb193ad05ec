"""A user's own domain, added to a project the way a team adds one: a package with a model and
a router, registered in `models.py` and `routes.py`."""

from .projects import Project

INVOICE_MODELS = """\
from sqlalchemy import BigInteger
from sqlalchemy.orm import Mapped, mapped_column

from ..db.base import Base
from ..db.mixins import PrimaryKey, Timestamps


class Invoice(Base, PrimaryKey, Timestamps):
    __tablename__ = "invoices"

    number: Mapped[str] = mapped_column(unique=True)
    amount_cents: Mapped[int] = mapped_column(BigInteger)
"""
TEMPLATE_ROUTES = "\nrouter = APIRouter()\n"
USER_ROUTES = (
    "\nfrom .invoices.router import router as invoices_router\n\n"
    "router = APIRouter()\nrouter.include_router(invoices_router)\n"
)


def add_invoices(project: Project, router: str) -> None:
    """`src/<package>/invoices/` with INVOICE_MODELS and `router`, registered."""
    package = project.package_dir
    (package / "invoices").mkdir()
    (package / "invoices" / "__init__.py").write_text("")
    (package / "invoices" / "models.py").write_text(INVOICE_MODELS)
    (package / "invoices" / "router.py").write_text(router)
    with (package / "models.py").open("a") as models:
        models.write("from .invoices import models as invoices  # noqa: F401\n")
    routes = (package / "routes.py").read_text()
    assert routes.count(TEMPLATE_ROUTES) == 1, routes
    (package / "routes.py").write_text(routes.replace(TEMPLATE_ROUTES, USER_ROUTES))

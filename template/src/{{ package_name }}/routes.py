"""Your API. Include your domain routers here; this file is yours and `copier update` leaves it be.

from .invoices.router import router as invoices_router

router.include_router(invoices_router)
"""

from fastapi import APIRouter

router = APIRouter()

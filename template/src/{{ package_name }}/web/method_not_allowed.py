"""405 answers whose `Allow` header lists every method the path supports.

Starlette answers 405 with the methods of the first route whose path matched, so `OPTIONS /jobs`
said `Allow: POST` although `GET /jobs` exists too. RFC 9110 (15.5.6) wants all of them: a
client, or a fuzzer checking the API against its schema, relies on that list.
"""

from fastapi import FastAPI, Request, status
from fastapi.exception_handlers import http_exception_handler
from starlette.exceptions import HTTPException
from starlette.responses import Response
from starlette.routing import Match, Route


def allowed_methods(app: FastAPI, request: Request) -> list[str]:
    methods = {
        method
        for route in app.routes
        if isinstance(route, Route) and route.matches(request.scope)[0] is not Match.NONE
        for method in route.methods or ()
    }
    return sorted(methods)


async def method_not_allowed(request: Request, error: Exception) -> Response:
    assert isinstance(error, HTTPException)
    allow = ", ".join(allowed_methods(request.app, request))
    error.headers = {**(error.headers or {}), "Allow": allow}
    return await http_exception_handler(request, error)


def register_method_not_allowed(app: FastAPI) -> None:
    app.add_exception_handler(status.HTTP_405_METHOD_NOT_ALLOWED, method_not_allowed)

"""OpenAPI descriptions of answers that many operations share: `responses={**MALFORMED_BODY}`."""

from typing import Any

from fastapi import status

Responses = dict[int | str, dict[str, Any]]

# FastAPI answers 400 itself when a body cannot even be decoded (not UTF-8, say), before any
# validation: every operation that reads a body can give it.
MALFORMED_BODY: Responses = {
    status.HTTP_400_BAD_REQUEST: {"description": "The body could not be read as JSON"}
}

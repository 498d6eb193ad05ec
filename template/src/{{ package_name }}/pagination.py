"""Keyset pagination with opaque, tamper-evident cursors.

A page ends with the sort key of its last row, e.g. `(created_at, id)`; the next page asks for
rows strictly after it. Unlike OFFSET, the database never reads and discards the rows of earlier
pages, so page 5,000 costs what page 1 costs, and rows inserted meanwhile neither repeat nor
vanish. https://use-the-index-luke.com/no-offset
"""

import base64
import binascii
import hashlib
import hmac
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, ColumnExpressionArgument, tuple_


class InvalidCursorError(ValueError):
    """The cursor was not issued by this service (malformed, truncated or tampered with)."""


@dataclass(frozen=True)
class CursorCodec:
    """Encode a sort key as `<base64 JSON>.<HMAC>`; decoding checks the HMAC first."""

    secret: bytes

    def _signature(self, payload: bytes) -> str:
        digest = hmac.new(self.secret, payload, hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest[:16]).decode().rstrip("=")

    def encode(self, key: Sequence[str | int]) -> str:
        payload = base64.urlsafe_b64encode(json.dumps(list(key)).encode()).decode().rstrip("=")
        return f"{payload}.{self._signature(payload.encode())}"

    def decode(self, cursor: str) -> list[Any]:
        payload, _, signature = cursor.partition(".")
        if not hmac.compare_digest(signature, self._signature(payload.encode())):
            raise InvalidCursorError("the cursor is malformed or was altered")
        try:
            key = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        except (binascii.Error, ValueError) as error:
            raise InvalidCursorError("the cursor is malformed") from error
        if not isinstance(key, list):
            raise InvalidCursorError("the cursor is malformed")
        return key


def after(
    order: Sequence[ColumnExpressionArgument[Any]], key: Sequence[Any]
) -> ColumnElement[bool]:
    """Rows after `key` in descending `order`: `(created_at, id) < (:created_at, :id)`.

    A row-value comparison, which PostgreSQL answers from an index on the same columns.
    """
    return tuple_(*order) < tuple_(*key)

"""Keyset pagination: opaque cursors that carry the sort key and the key that breaks its ties.

A cursor names the listing and order it came from, so one from another listing is refused instead of silently
paging from the wrong place; there is no OFFSET anywhere, so the millionth page costs what the first does.
"""

import base64
import binascii
import json
from dataclasses import dataclass
from typing import Any

from .errors import bad_input

MAX_FIRST = 100
DEFAULT_FIRST = 20


@dataclass(frozen=True)
class Position:
    """Where a page starts after: the sort value and tie-breaking key of the last row seen."""

    sort: str
    tie: str


def check_first(first: int | None) -> int:
    if first is None:
        return DEFAULT_FIRST
    # SQLite reads LIMIT -1 as "no limit", so a negative `first` must never reach SQL.
    if not 0 <= first <= MAX_FIRST:
        raise bad_input(f"`first` must be between 0 and {MAX_FIRST}, got {first}")
    return first


def encode_cursor(listing: str, order: str, position: Position) -> str:
    # Listings sorted by key have sort == tie; writing it once keeps every cursor under the string-length limit.
    values = [position.tie] if position.sort == position.tie else [position.sort, position.tie]
    raw = json.dumps([listing, order, *values], ensure_ascii=False, separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(cursor: str, listing: str, order: str) -> Position:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        value: Any = json.loads(raw)
    except (binascii.Error, ValueError, RecursionError):
        raise bad_input("`after` is not a cursor returned by this API") from None
    if not (isinstance(value, list) and len(value) in (3, 4) and all(isinstance(v, str) for v in value)):
        raise bad_input("`after` is not a cursor returned by this API")
    if value[0] != listing or value[1] != order:
        raise bad_input(f"`after` is a cursor of another listing ({value[0]} {value[1]}), not of {listing} {order}")
    return Position(value[2], value[-1])

"""Keyset pagination: opaque cursors that carry the sort key and the key that breaks its ties.

A cursor names the listing and order it came from, so one from another listing is refused instead of silently
paging from the wrong place; there is no OFFSET anywhere, so the millionth page costs what the first does,
forwards or backwards.
"""

import base64
import binascii
import json
from collections.abc import Mapping
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


def check_first(first: int | None, name: str = "first") -> int:
    if first is None:
        return DEFAULT_FIRST
    # SQLite reads LIMIT -1 as "no limit", so a negative `first` must never reach SQL.
    if not 0 <= first <= MAX_FIRST:
        raise bad_input(f"`{name}` must be between 0 and {MAX_FIRST}, got {first}")
    return first


@dataclass(frozen=True)
class Paging:
    """A page as the Relay cursor connections spec asks for it: `size` rows from the start of the window (`first`)
    or from its end (`last`, `backward`), the window being the rows past `cursor` (`after`) or before it (`before`,
    `before` true)."""

    size: int
    backward: bool = False
    cursor: Position | None = None
    before: bool = False

    @property
    def cursor_behind(self) -> bool:
        """The cursor is behind the rows read (`first` after it, `last` before it): rows at or past it on its other
        side come before the page (forward) or after it (backward)."""
        return self.cursor is not None and self.before == self.backward


def paging(arguments: Mapping[str, Any], listing: str, order: str) -> Paging:
    """The paging arguments of a connection field (`first`, `after`, `last`, `before`), checked: with `last` set a
    null `first` is ignored; `first` with `last`, or `after` with `before`, is refused."""
    first, last = arguments.get("first"), arguments.get("last")
    after, before = arguments.get("after"), arguments.get("before")
    if first is not None and last is not None:
        raise bad_input(
            "`first` and `last` cannot be used together: page forwards with `first` or backwards with `last`"
        )
    if after is not None and before is not None:
        raise bad_input("`after` and `before` cannot be used together: give one cursor")
    backward = last is not None
    size = check_first(last, "last") if backward else check_first(first)
    if before is not None:
        return Paging(size, backward, decode_cursor(before, listing, order, "before"), before=True)
    if after is not None:
        return Paging(size, backward, decode_cursor(after, listing, order))
    return Paging(size, backward)


def encode_cursor(listing: str, order: str, position: Position) -> str:
    # Listings sorted by key have sort == tie; writing it once keeps every cursor under the string-length limit.
    values = [position.tie] if position.sort == position.tie else [position.sort, position.tie]
    raw = json.dumps([listing, order, *values], ensure_ascii=False, separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(cursor: str, listing: str, order: str, name: str = "after") -> Position:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        value: Any = json.loads(raw)
    except (binascii.Error, ValueError, RecursionError):
        raise bad_input(f"`{name}` is not a cursor returned by this API") from None
    if not (isinstance(value, list) and len(value) in (3, 4) and all(isinstance(v, str) for v in value)):
        raise bad_input(f"`{name}` is not a cursor returned by this API")
    if value[0] != listing or value[1] != order:
        raise bad_input(f"`{name}` is a cursor of another listing ({value[0]} {value[1]}), not of {listing} {order}")
    return Position(value[2], value[-1])

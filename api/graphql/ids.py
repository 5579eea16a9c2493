"""Global ids: `base64url("Type:key")`, where a key of several columns is their values joined by `/` (a path such
as `meeting/country`). Both executors encode and read ids here, and find the row of a path by the same condition."""

import base64
import binascii
from collections.abc import Sequence

import strawberry

from .errors import bad_input


def global_id(type_name: str, key: str) -> strawberry.ID:
    return strawberry.ID(base64.urlsafe_b64encode(f"{type_name}:{key}".encode()).decode())


def parse_global_id(value: str) -> tuple[str, str]:
    """The type name and key of an id; BAD_USER_INPUT for anything this API did not return."""
    try:
        type_name, _, key = base64.urlsafe_b64decode(value.encode("ascii")).decode().partition(":")
    except (UnicodeError, binascii.Error, ValueError):
        raise bad_input("`id` is not an id returned by this API") from None
    if not key:
        raise bad_input("`id` is not an id returned by this API")
    return type_name, key


def path_of(values: Sequence[str]) -> str:
    """The key of a row whose key is several columns."""
    return "/".join(values)


def path_parts(path: str, columns: Sequence[str]) -> list[str] | None:
    """The values of a key's `columns` in `path`; None when it has another number of parts (no such row)."""
    parts = path.split("/")
    return parts if len(parts) == len(columns) else None


def path_sql(columns: Sequence[str], alias: str) -> str:
    """SQL for the path of the row aliased `alias`."""
    return " || '/' || ".join(f"{alias}.{column}" for column in columns)


def path_condition(columns: Sequence[str], alias: str, values: Sequence[str]) -> str:
    """SQL that the row aliased `alias` has the key whose parts are `values` (SQL: parameters or placeholders)."""
    return " AND ".join(f"{alias}.{column} = {value}" for column, value in zip(columns, values, strict=True))

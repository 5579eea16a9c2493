"""What the compiled read path needs from its SQL engine, spelled for SQLite: the JSON builders, the encodings of
global ids, cursors, countries and timestamps, and the functions a connection must have for them.

Everything SQLite-specific in the generated SQL is written here, so another engine (PostgreSQL's
`json_build_object`, `json_agg`) is a second module of the same functions, not a rewrite of the compiler.
"""

import sqlite3
import weakref
from collections.abc import Callable, Sequence
from contextlib import suppress

from .ids import global_id
from .pagination import Position, encode_cursor

# SQLite functions take at most 127 arguments: an object of more keys is built by the resolver path instead.
MAX_OBJECT_KEYS = 63


def quote(text: str) -> str:
    """A string literal."""
    return "'" + text.replace("'", "''") + "'"


def json_object(pairs: Sequence[tuple[str, str]]) -> str:
    """An object of `(key, SQL expression)` pairs, keys in the given order."""
    return "json_object(" + ", ".join(f"{quote(key)}, {value}" for key, value in pairs) + ")"


def json_array(element: str, where: str | None = None) -> str:
    """The aggregate array of `element` over the rows of the enclosing query, in their order."""
    return f"json_group_array({element})" + (f" FILTER (WHERE {where})" if where else "")


def nested(subquery: str) -> str:
    """JSON built by a scalar subquery, in the object around it. SQLite keeps the JSON subtype of a subquery's
    result, so it nests as JSON rather than as a string, without being parsed again (the differential tests
    would see a string)."""
    return f"({subquery})"


def boolean(condition: str) -> str:
    return f"json(CASE WHEN {condition} THEN 'true' ELSE 'false' END)"


def node_id(type_name: str, key: str) -> str:
    return f"diplo_id({quote(type_name)}, {key})"


def cursor(listing: str, order: str, sort: str, tie: str) -> str:
    return f"diplo_cursor({quote(listing)}, {quote(order)}, {sort}, {tie})"


def country_name(code: str) -> str:
    """From the table the store writes (a code it does not know is its own name, as on the resolver path)."""
    return f"coalesce((SELECT name FROM country_names WHERE code = {code}), {code})"


def timestamp(value: str) -> str:
    """A stored date-time as the API writes it: the store holds `datetime.isoformat()`'s text (`reports.py`), which
    is what the `DateTime` scalar writes, so the column goes out as it is (a Python function here cost a listing of
    50 statements a quarter of its SQL time)."""
    return value


def enum(value: str) -> str:
    """A stored enum value (`in_person`) as the API spells it (`IN_PERSON`)."""
    return f"upper({value})"


def json_text(value: str) -> str:
    """A column that holds JSON text, embedded as JSON."""
    return f"json({value})"


def json_member(value: str, key: str) -> str:
    """The string under `key` (a bound parameter) of a JSON object column, NULL when absent."""
    return f"(SELECT j.value FROM json_each({value}) j WHERE j.key = {key})"


# How a column of each encoding (`catalog.Encoding.kind`) is written into a response.
ENCODERS: dict[str, Callable[[str], str]] = {
    "plain": lambda value: value,
    "date": lambda value: value,  # stored as the RFC 3339 full-date the `Date` scalar writes
    "timestamp": timestamp,
    "json": json_text,
    "enum": enum,
    "boolean": boolean,
    "country_name": country_name,
}


def _cursor(listing: str, order: str, sort: str, tie: str) -> str:
    return encode_cursor(listing, order, Position(sort, tie))


# Connections that have the functions: defining them again would expire the connection's prepared statements, and
# re-preparing them cost a reused connection 0.1 ms a request. (A plain `sqlite3.Connection` cannot be weakly held,
# so it is given them every time; the server's `TimedConnection` can.)
_registered: "weakref.WeakSet[sqlite3.Connection]" = weakref.WeakSet()


def register(conn: sqlite3.Connection) -> None:
    """The encodings as SQL functions: the same Python code the resolver path calls, so the bytes are the same."""
    if conn in _registered:
        return
    conn.create_function("diplo_id", 2, global_id, deterministic=True)
    conn.create_function("diplo_cursor", 4, _cursor, deterministic=True)
    with suppress(TypeError):
        _registered.add(conn)

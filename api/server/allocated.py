"""How much memory SQLite holds in this process now, and at most since asked: what the compiled path's answer
costs while SQLite builds it, before any of it reaches Python.

Read through the sqlite3 module's own library (the symbols its extension module resolves), so the counts are those
of the SQLite that serves; None where that SQLite does not count (built without memory statistics) or its symbols
cannot be found, and then no bound is kept by them.
"""

import _sqlite3
import ctypes
from collections.abc import Callable


def _function(name: str, *argtypes: type) -> Callable[..., int] | None:
    try:
        function = getattr(ctypes.CDLL(_sqlite3.__file__), name)
    except (OSError, AttributeError):
        return None
    function.restype = ctypes.c_int64
    function.argtypes = list(argtypes)
    return function  # type: ignore[no-any-return]


_used = _function("sqlite3_memory_used")
_highwater = _function("sqlite3_memory_highwater", ctypes.c_int)
_hard_limit = _function("sqlite3_hard_heap_limit64", ctypes.c_int64)


def used() -> int | None:
    """Bytes SQLite holds now, all connections of the process together."""
    return _used() if _used is not None else None


def peak(reset: bool = False) -> int | None:
    """The most bytes SQLite held at once since the last reset; `reset` starts a new count from now."""
    return _highwater(int(reset)) if _highwater is not None else None


def hard_limit(limit: int) -> int | None:
    """Bound what SQLite may hold, all connections of the process together (0: no bound): past it an allocation
    fails and the statement with it, with `MemoryError`. The bound before, or None where it cannot be set."""
    return _hard_limit(limit) if _hard_limit is not None else None

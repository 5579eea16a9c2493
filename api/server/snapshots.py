"""Read snapshots of the served file: one read-only connection per operation thread, reused request after request.

A new connection per request cost more than a typical compiled answer (1 ms against 0.5 ms for the statements
listing on 200k statements): SQLite re-reads the schema on its first statement, starts with an empty page cache and
prepares every statement again. A reused connection keeps all three, and loses none of the guarantees:

- each request reads one snapshot: `BEGIN` at its start, the transaction ended at its end;
- its time limits are its own: the progress handler reads the current request's budget and statement start;
- a file published over the served path (a rename, a new symlink target, a change in place) is seen by `os.stat`
  before the next request, which then opens it anew, as a missing or damaged file fails as it did per request;
- a file in WAL mode (a load into the served file is under way) gets a connection per request, as before: one
  held open would keep the loader from folding the WAL back into the file.
"""

import os
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from ..graphql.limits import Limits
from ..store import connect_readonly
from . import allocated
from .metrics import TimedConnection
from .worker import Budget

Identity = tuple[int, int, int, int, int]
# How often (in SQLite's VM steps) a statement's time is checked. Memory is bounded by SQLite itself
# (`bound_sqlite_memory`): a check here every 1,000 steps cost the statements listing 5 %, every 100 steps 40 %, and
# a statement copying large texts still grew by tens of MB between two of them.
CHECK_STEPS = 10_000
# The page cache's growth on a fresh connection, and the sorter's, may come on top of the answer being built.
CACHE_BYTES = 8 * 2**20


def answer_memory(limits: Limits) -> int:
    """What SQLite may hold for one request's answer: a JSON text grows by doubling, and a nested one is copied into
    the one around it, so an answer within `max_response_bytes` takes up to about three times its size."""
    return 4 * limits.max_response_bytes + CACHE_BYTES


def bound_sqlite_memory(limits: Limits, threads: int = 2) -> None:
    """Bound what SQLite may hold in this serving process: what it holds now, and one answer for each thread that
    runs SQL (the event loop's slice and the operation thread). A statement that would go past it fails with
    `MemoryError`, which the app answers as an answer too large (`QUERY_TOO_COMPLEX`): the compiled path builds an
    answer in SQLite, and without the bound one far over `max_response_bytes` was built whole before it was
    refused."""
    held = allocated.used()
    if held is not None:
        allocated.hard_limit(held + threads * answer_memory(limits))


def identity(path: Path) -> Identity | None:
    """What changes when the file at `path` is replaced or written to; None when it cannot be read."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    return st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns


class Reader:
    """A read-only connection whose statements stop past the limits of the request it is reading for."""

    def __init__(self, db_path: Path, limits: Limits) -> None:
        self.identity = identity(db_path)  # before opening: a file replaced in between is opened again next time
        self.wal = Path(f"{Path(db_path).resolve()}-wal")  # beside the file itself, as SQLite puts it
        self.conn = connect_readonly(db_path, factory=TimedConnection)
        self.conn.row_factory = sqlite3.Row
        self.limits = limits
        self.budget = Budget.start(limits.operation_seconds, limits.max_response_bytes)
        self.conn.set_progress_handler(self._over_time, CHECK_STEPS)

    def _over_time(self) -> int:
        now = time.monotonic()
        return int(now > self.budget.deadline or now - self.conn.statement_started > self.limits.sql_statement_seconds)

    def begin(self, budget: Budget) -> TimedConnection:
        """The connection in a new read transaction, timed against `budget` and counting its SQL time afresh. A
        lock held on the file (a load writing to it) is waited for no longer than the budget has left: the event
        loop's slice is not held for SQLite's default 5 s, and a thread gives up at the deadline."""
        self.budget = budget
        self.conn.execute(f"PRAGMA busy_timeout = {max(int(budget.remaining() * 1000), 0)}")
        self.conn.sql_seconds = 0.0
        self.conn.execute("BEGIN")
        return self.conn


def open_snapshot(db_path: Path, limits: Limits, budget: Budget | None = None) -> TimedConnection:
    """A connection of its own in a read transaction, its statements stopped past their time limits (the
    operation's from `budget`, when it has one already). The caller closes it."""
    budget = budget or Budget.start(limits.operation_seconds, limits.max_response_bytes)
    return Reader(db_path, limits).begin(budget)


class Snapshots:
    """The served file's snapshots, one reused connection per thread that asks."""

    def __init__(self, db_path: Path, limits: Limits) -> None:
        self.db_path = db_path
        self.limits = limits
        self.local = threading.local()

    @contextmanager
    def snapshot(self, budget: Budget) -> Iterator[TimedConnection]:
        """A read transaction on the file now at the path, ended (and the connection kept, if it may be) after."""
        reader: Reader | None = getattr(self.local, "reader", None)
        if reader is None or reader.identity is None or reader.identity != identity(self.db_path):
            self.local.reader = None
            if reader is not None:
                reader.conn.close()
            reader = Reader(self.db_path, self.limits)
        try:
            yield reader.begin(budget)
        finally:
            if reader.wal.exists():
                reader.conn.close()
            else:
                reader.conn.rollback()
                self.local.reader = reader

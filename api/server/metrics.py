"""Prometheus metrics of one worker process: requests by operation and outcome, latency, SQL time, response size,
and which database file is served. Clients choose operation names, so which of them are labels is bounded
(`OperationLabels`), and the exposition is built in a thread."""

import re
import sqlite3
import time
from collections import OrderedDict
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from ..store import build_id
from .health import probe

SECONDS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)
T = TypeVar("T")
BYTES = (256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304)


class TimedCursor(sqlite3.Cursor):
    """A cursor that adds the time spent stepping its statement to its connection's `sql_seconds`, and notes when
    its statement started (for the per-statement time limit: a trace callback would also fire for every statement
    that full-text search runs inside one, dozens a search, each restarting the clock and costing a Python call)."""

    connection: "TimedConnection"

    def _timed(self, step: Callable[[], T]) -> T:
        started = time.perf_counter()
        try:
            return step()
        finally:
            self.connection.sql_seconds += time.perf_counter() - started

    def execute(self, sql: str, parameters: Any = (), /) -> "TimedCursor":
        self.connection.statement_started = time.monotonic()
        self._timed(lambda: super(TimedCursor, self).execute(sql, parameters))
        return self

    def fetchone(self) -> Any:
        return self._timed(super().fetchone)

    def fetchall(self) -> list[Any]:
        return self._timed(super().fetchall)

    def __next__(self) -> Any:
        return self._timed(super().__next__)


class TimedConnection(sqlite3.Connection):
    """A connection that sums the time its statements take (`sql_seconds`), for the SQL time metric."""

    sql_seconds = 0.0
    statement_started = 0.0  # time.monotonic() when the latest statement was executed

    def cursor(self, factory: Any = TimedCursor) -> Any:
        return super().cursor(factory)

    def execute(self, sql: str, parameters: Any = (), /) -> TimedCursor:
        cursor: TimedCursor = self.cursor()
        return cursor.execute(sql, parameters)


NAME = re.compile(r"[_A-Za-z][_0-9A-Za-z]*")  # a GraphQL name
# Ignored tokens, then the first operation's keyword and name. The group is atomic: a comment (`#` to the end of
# the line) could otherwise also end early at every `#` or space in it, and a failed match try each split of each.
_NAMED = re.compile(r"(?>(?:[\s,]+|#[^\n]*)*)(?:query|mutation|subscription)\s+(" + NAME.pattern + ")")


def operation_name(query: str, requested: str | None) -> str | None:
    """The operation's name: the one requested, else the name of a document's first operation (no parse needed)."""
    if requested is not None:
        return requested
    found = _NAMED.match(query)
    return found.group(1) if found else None


ANONYMOUS, OTHER = "anonymous", "other"  # the labels of an operation without a name, and of one not labelled
LABELLED = 100  # names that are labels at once
NAME_CHARS = 64  # the longest name that may be one
SIGHTINGS = 3  # requests with a name before it is one
CANDIDATES = 1000  # names counted towards SIGHTINGS at once
IDLE_SECONDS = 600.0  # a label no request has used for this long gives its place to a name that needs one


class OperationLabels:
    """Which operation names are labels. A name is one once SIGHTINGS requests have used it, if it is a GraphQL
    name of at most NAME_CHARS characters; at most LABELLED are at once, and when all places are taken the label
    least recently used gives its place once it has gone IDLE_SECONDS unused (`dropped` is told, so that its series
    leave the exposition). Sightings are counted in a table of at most CANDIDATES names: when it is full every count
    is halved and the names down to zero leave it, so names seen once (a flood of made-up ones) never take a place
    and never crowd out a name in use."""

    def __init__(self, dropped: Callable[[str], None], clock: Callable[[], float] = time.monotonic) -> None:
        self.dropped = dropped
        self.clock = clock
        self.labels: OrderedDict[str, float] = OrderedDict()  # name: when last used, least recently used first
        self.candidates: dict[str, int] = {}  # name: requests that used it

    def label(self, name: str | None) -> str:
        if name is None:
            return ANONYMOUS
        now = self.clock()
        if name in self.labels:
            self.labels[name] = now
            self.labels.move_to_end(name)
            return name
        if len(name) > NAME_CHARS or not NAME.fullmatch(name) or name in (ANONYMOUS, OTHER):
            return OTHER
        seen = self.candidates.get(name, 0) + 1
        if seen >= SIGHTINGS and len(self.labels) >= LABELLED:
            oldest, used = next(iter(self.labels.items()))
            if now - used >= IDLE_SECONDS:
                del self.labels[oldest]
                self.dropped(oldest)
        if seen < SIGHTINGS or len(self.labels) >= LABELLED:
            self.count(name, seen)
            return OTHER
        self.candidates.pop(name, None)
        self.labels[name] = now
        return name

    def count(self, name: str, seen: int) -> None:
        if name not in self.candidates:
            while len(self.candidates) >= CANDIDATES:
                self.candidates = {n: count // 2 for n, count in self.candidates.items() if count > 1}
        self.candidates[name] = seen


def served_build(path: Path) -> str:
    """The build id that `diplo load` recorded in the database served at `path` (it changes when a database with
    other content is renamed in); "unrecorded" for a file without one, "unavailable" when it cannot be read (or
    a load holds it locked)."""
    try:
        conn = probe(path)
        try:
            # A locked file raises here; build_id would answer None, as for a file without one.
            conn.execute("SELECT 1 FROM sqlite_master LIMIT 1").fetchall()
            return build_id(conn) or "unrecorded"
        finally:
            conn.close()
    except sqlite3.Error:
        return "unavailable"


class _Database(Collector):
    def __init__(self, path: Path) -> None:
        self.path = path

    def collect(self) -> Any:
        info = GaugeMetricFamily("diplo_database_info", "The database file served, by build id.", labels=["build_id"])
        info.add_metric([served_build(self.path)], 1)
        yield info


class Metrics:
    """The metrics of one app, in their own registry (several apps in one process do not collide)."""

    def __init__(self, db_path: Path) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter("diplo_requests", "GraphQL requests answered, by operation name and outcome code.",
                                ["operation", "outcome"], registry=self.registry)  # fmt: skip
        self.seconds = Histogram("diplo_request_seconds", "Time to answer a GraphQL request, by operation name.",
                                 ["operation"], buckets=SECONDS, registry=self.registry)  # fmt: skip
        self.sql_seconds = Histogram("diplo_sql_seconds", "Time spent in SQLite per GraphQL request.",
                                     buckets=SECONDS, registry=self.registry)  # fmt: skip
        self.response_bytes = Histogram("diplo_response_bytes", "Size of GraphQL response bodies (before gzip).",
                                        buckets=BYTES, registry=self.registry)  # fmt: skip
        self.registry.register(_Database(db_path))
        self.labels = OperationLabels(self.drop)
        self.outcomes: dict[str, set[str]] = {}  # the outcomes counted under each label

    def drop(self, name: str) -> None:
        """Take a label's series out of the exposition: it no longer names an operation in use."""
        for outcome in self.outcomes.pop(name, ()):
            self.requests.remove(name, outcome)
        self.seconds.remove(name)

    def observe(self, operation: str | None, outcome: str, seconds: float, sql_seconds: float, size: int) -> None:
        name = self.labels.label(operation)
        self.outcomes.setdefault(name, set()).add(outcome)
        self.requests.labels(name, outcome).inc()
        self.seconds.labels(name).observe(seconds)
        self.sql_seconds.observe(sql_seconds)
        self.response_bytes.observe(size)

    def exposition(self) -> bytes:
        """The text format; it reads the database (for the build id), so it is called in a thread."""
        return generate_latest(self.registry)

"""Prometheus metrics of one worker process: requests by operation and outcome, latency, SQL time, response size,
and which database file is served."""

import re
import sqlite3
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from ..store import build_id, connect_readonly

OPERATION_NAMES = 100  # distinct operation names labelled; clients choose names, so later ones count as "other"
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


_NAMED = re.compile(r"(?:\s|,|#[^\n]*)*(?:query|mutation|subscription)\s+([_A-Za-z][_0-9A-Za-z]*)")


def operation_name(query: str, requested: str | None) -> str | None:
    """The operation's name: the one requested, else the name of a document's first operation (no parse needed)."""
    if requested is not None:
        return requested
    found = _NAMED.match(query)
    return found.group(1) if found else None


def served_build(path: Path) -> str:
    """The build id that `diplo load` recorded in the database served at `path` (it changes when a database with
    other content is renamed in); "unrecorded" for a file without one, "unavailable" when it cannot be read."""
    try:
        conn = connect_readonly(path)
        try:
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
        self.names: set[str] = set()

    def label(self, operation: str | None) -> str:
        name = operation or "anonymous"
        if name in self.names:
            return name
        if len(self.names) < OPERATION_NAMES:
            self.names.add(name)
            return name
        return "other"

    def observe(self, operation: str | None, outcome: str, seconds: float, sql_seconds: float, size: int) -> None:
        name = self.label(operation)
        self.requests.labels(name, outcome).inc()
        self.seconds.labels(name).observe(seconds)
        self.sql_seconds.observe(sql_seconds)
        self.response_bytes.observe(size)

    def exposition(self) -> bytes:
        return generate_latest(self.registry)

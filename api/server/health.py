"""Kubernetes' two questions: is the process alive (`/healthz`), and can it answer from its database (`/readyz`)."""

import sqlite3
from pathlib import Path

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from ..store import connect_readonly

# How long a probe of the served file waits for a lock a load holds on it (SQLite's default is 5 s): a probe
# answers well within a readiness probe's timeout, and a file locked past this is not ready.
PROBE_BUSY_SECONDS = 0.25


def probe(db_path: Path) -> sqlite3.Connection:
    """A read-only connection to the served file that waits at most PROBE_BUSY_SECONDS for a lock."""
    conn = connect_readonly(db_path)
    conn.execute(f"PRAGMA busy_timeout = {int(PROBE_BUSY_SECONDS * 1000)}")
    return conn


async def healthz(request: Request) -> Response:
    """Alive: the event loop answers. No database work, so it answers at once even while heavy queries run."""
    return JSONResponse({"status": "ok"})


def database_answers(db_path: Path) -> bool:
    try:
        conn = probe(db_path)
        try:
            conn.execute("SELECT key FROM meetings ORDER BY key LIMIT 1").fetchall()
        finally:
            conn.close()
    except sqlite3.Error:
        return False
    return True


async def readyz(request: Request) -> Response:
    """Ready: the database file at the served path answers a real query (503 while it does not, or while a load
    holds it locked). Asked in a thread: opening and reading the file never holds up the event loop."""
    if await run_in_threadpool(database_answers, request.app.state.settings.db_path):
        return JSONResponse({"status": "ok"})
    return JSONResponse({"status": "unavailable"}, status_code=503)

"""Kubernetes' two questions: is the process alive (`/healthz`), and can it answer from its database (`/readyz`)."""

import sqlite3
from pathlib import Path

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from ..store import connect_readonly


async def healthz(request: Request) -> Response:
    """Alive: the event loop answers. No database work, so it answers at once even while heavy queries run."""
    return JSONResponse({"status": "ok"})


def database_answers(db_path: Path) -> bool:
    try:
        conn = connect_readonly(db_path)
        try:
            conn.execute("SELECT key FROM meetings ORDER BY key LIMIT 1").fetchall()
        finally:
            conn.close()
    except sqlite3.Error:
        return False
    return True


async def readyz(request: Request) -> Response:
    """Ready: the database file at the served path answers a real query (503 while it does not)."""
    if database_answers(request.app.state.settings.db_path):
        return JSONResponse({"status": "ok"})
    return JSONResponse({"status": "unavailable"}, status_code=503)

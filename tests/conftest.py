import asyncio
import json
import os
import shutil
import sqlite3
import subprocess
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from diplo import store
from diplo.ingest.session import load_seeds
from diplo.ingest.synth import write_synthetic
from diplo.server.app import Settings, create_app
from hypothesis import HealthCheck, settings
from starlette.types import ASGIApp

settings.register_profile("default", deadline=None, max_examples=40, suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("ci", parent=settings.get_profile("default"), derandomize=True)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci" if os.environ.get("CI") else "default"))

SEEDS = Path(__file__).resolve().parent.parent / "seeds"


@contextmanager
def tmpfs(mount: Path, size: str) -> Iterator[Path]:
    """A small file system of its own at `mount` (root only; the test is skipped where it cannot be mounted), to run
    out of space or be remounted read-only: read-only even to root, as a replica's volume is."""
    mount.mkdir()
    if os.geteuid() != 0 or shutil.which("mount") is None:
        pytest.skip("needs root to mount a tmpfs")
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(mount)], capture_output=True)
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.decode().strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


@pytest.fixture(scope="session")
def article_db() -> Iterator[Path]:
    """The bundled seeds, built once for the whole session."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "article.db"
        load_seeds(path, [SEEDS])
        yield path


class Client:
    """Requests through the ASGI app in-process, no server or thread needed."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    def request(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        async def send() -> httpx.Response:
            transport = httpx.ASGITransport(app=self.app)
            async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
                return await http.request(method, url, **kwargs)

        return asyncio.run(send())

    def get(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.request("GET", url, **kwargs)

    def post(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.request("POST", url, **kwargs)

    def query(self, query: str, **variables: Any) -> dict[str, Any]:
        """POST an operation; the JSON body, asserting a 200."""
        # json.dumps escapes non-ASCII, so lone surrogates travel as `\ud800`, as any JSON client may send them.
        payload = json.dumps({"query": query, "variables": variables})
        response = self.post("/graphql", content=payload, headers={"content-type": "application/json"})
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body


@pytest.fixture(scope="session")
def empty_db() -> Iterator[sqlite3.Connection]:
    """A database with the schema and one source (`s`), for probing its CHECK constraints row by row."""
    with tempfile.TemporaryDirectory() as tmp:
        db = store.open_database(Path(tmp) / "e.db")
        store.create_schema(db)
        db.execute(
            "INSERT INTO sources (key, outlet, title, published_at, language) "
            "VALUES ('s', 'o', 't', '2025-01-01T00:00:00+00:00', 'en')"
        )
        yield db.conn
        db.close()


def sql_accepts(conn: sqlite3.Connection, sql: str, params: tuple[object, ...]) -> bool:
    """Whether the store's constraints accept a row (the probe is rolled back either way)."""
    conn.execute("SAVEPOINT probe")
    try:
        conn.execute(sql, params)
    except sqlite3.IntegrityError:
        return False
    finally:
        conn.execute("ROLLBACK TO probe")
        conn.execute("RELEASE probe")
    return True


def model_accepts(check: Callable[[str], str], value: str) -> bool:
    """Whether a model's rule accepts a value."""
    try:
        check(value)
    except ValueError:
        return False
    return True


@pytest.fixture(scope="session")
def synthetic_db() -> Iterator[Path]:
    """A small synthetic database: 40 meetings, 120 statements."""
    with tempfile.TemporaryDirectory() as tmp:
        write_synthetic(Path(tmp) / "seeds", meetings=40, statements_per_meeting=3, seed=3)
        load_seeds(Path(tmp) / "synthetic.db", [Path(tmp) / "seeds"])
        yield Path(tmp) / "synthetic.db"


@pytest.fixture(scope="session")
def client(article_db: Path) -> Client:
    return Client(create_app(Settings(db_path=article_db)))


def count_statements(db: Path, query: str, **variables: Any) -> int:
    """How many SQL statements the resolver path runs for `query` on `db`."""
    from diplo.graphql.batching import Context
    from diplo.graphql.limits import Limits
    from diplo.graphql.schema import build_schema
    from diplo.server.snapshots import open_snapshot

    conn = open_snapshot(db, Limits())
    executed: list[str] = []
    conn.set_trace_callback(executed.append)
    try:
        result = asyncio.run(build_schema().execute(query, variable_values=variables, context_value=Context(conn)))
    finally:
        conn.close()
    assert result.errors is None, result.errors
    return len(executed)


def pages(db: Path) -> bytes:
    """A database file's bytes but for the two counters in its header that SQLite moves whenever a load switches
    the file to WAL and back (offsets 24 and 92): what must stay as it was after a failed or idempotent load."""
    data = bytearray(db.read_bytes())
    data[24:28] = data[92:96] = bytes(4)
    return bytes(data)

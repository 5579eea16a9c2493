"""`diplo serve` for real: uvicorn on 127.0.0.1, the bundled seeds built on first use, one and two workers."""

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from conftest import SEEDS
from diplo.ingest.bundled import bundled_database, seeds_fingerprint


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextmanager
def running(tmp_path: Path, *args: str) -> Iterator[str]:
    env = os.environ | {"XDG_CACHE_HOME": str(tmp_path / "cache")}
    with serving([sys.executable, "-m", "diplo", "serve", *args], env) as url:
        yield url


@contextmanager
def serving(command: list[Any], env: dict[str, str], cwd: Path | None = None) -> Iterator[str]:
    """`diplo serve` (`command`, given a free port) until it is healthy; on exit, SIGTERM must stop it cleanly."""
    port = free_port()
    process = subprocess.Popen(
        [*command, "--port", str(port)], env=env, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.1)
        else:
            pytest.fail("the server did not come up in 30 s")
        yield url
    finally:
        process.terminate()
        assert process.wait(timeout=10) == 0  # SIGTERM is a clean stop
        assert process.stderr is not None
        process.stderr.close()


QUERY = '{ meeting(key: "us-russia-talks-istanbul-2025-02-27") { city delegations { head { name } } } }'


def test_serve_bundled_seeds_with_graphiql(tmp_path: Path) -> None:
    with running(tmp_path) as url:
        page = httpx.get(f"{url}/graphql", headers={"accept": "text/html"})
        assert page.status_code == 200
        assert "graphiql" in page.text.lower()
        body = httpx.post(f"{url}/graphql", json={"query": QUERY}).json()
        assert body["data"]["meeting"]["city"] == "Istanbul"
        got = httpx.get(f"{url}/graphql", params={"query": QUERY}).json()
        assert got == body
        # a long URL reaches the app (uvicorn's own head limit is raised to fit the URL limit)
        long = httpx.get(f"{url}/graphql", params={"query": QUERY + " " * 30_000})
        assert long.json()["errors"][0]["extensions"]["code"] == "QUERY_TOO_COMPLEX"
    assert len(list((tmp_path / "cache" / "diplo").glob("seeds-*.db"))) == 1


def test_serve_without_graphiql_on_two_workers(tmp_path: Path) -> None:
    flags = ("--no-graphiql", "--cors-origin", "https://app.example", "--limit", "max_body_bytes=20000")
    with running(tmp_path, "--workers", "2", *flags) as url:
        assert httpx.get(f"{url}/graphql", params={"query": QUERY + " " * 25_000}).status_code == 414
        page = httpx.get(f"{url}/graphql", headers={"accept": "text/html"})
        assert page.status_code == 406  # no GraphiQL: HTML is not a media type the endpoint answers in
        for _ in range(4):
            response = httpx.post(f"{url}/graphql", json={"query": QUERY},
                                  headers={"origin": "https://app.example"})  # fmt: skip
            assert response.json()["data"]["meeting"]["city"] == "Istanbul"
            assert response.headers["access-control-allow-origin"] == "https://app.example"
        other = httpx.post(f"{url}/graphql", json={"query": QUERY}, headers={"origin": "https://evil.example"})
        assert "access-control-allow-origin" not in other.headers


def test_bundled_database_is_rebuilt_when_the_seeds_change(tmp_path: Path) -> None:
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    article = (SEEDS / "koran-jakarta-2025-03-01-as-russia.yaml").read_text(encoding="utf-8")
    (seeds / "a.yaml").write_text(article, encoding="utf-8")
    first = bundled_database(seeds, tmp_path / "cache")
    assert bundled_database(seeds, tmp_path / "cache") == first
    before = seeds_fingerprint(seeds)
    (seeds / "a.yaml").write_text(article + "\n", encoding="utf-8")
    assert seeds_fingerprint(seeds) != before
    second = bundled_database(seeds, tmp_path / "cache")
    assert second != first
    assert second.exists()


def test_a_cache_that_cannot_be_written_is_a_message(tmp_path: Path) -> None:
    blocked = tmp_path / "a-file"
    blocked.write_text("not a folder")
    result = subprocess.run(
        [sys.executable, "-m", "diplo", "serve", "--port", "0"],
        env={**os.environ, "XDG_CACHE_HOME": str(blocked)}, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode == 3
    assert "cannot build the bundled seeds' database in" in result.stderr
    assert "pass --db, or set XDG_CACHE_HOME to a writable folder" in result.stderr
    assert "Traceback" not in result.stderr

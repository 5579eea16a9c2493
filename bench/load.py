"""Bounded load test: concurrent clients against `diplo serve` on 127.0.0.1, normal and hostile queries mixed.

Every normal answer must equal the one served when the server was idle, every hostile request must get its
expected status and code, nothing may time out, and the server's memory must stay flat. Stops by itself after
--seconds or --max-requests, whichever comes first.

    python bench/load.py --clients 8 --seconds 10
"""

import argparse
import asyncio
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

NORMAL = [
    '{ meeting(key: "us-russia-talks-istanbul-2025-02-27") { title delegations { country { code } head { name } '
    "headRole } topics { label } statements(first: 5) { nodes { text speaker { name } } } } }",
    '{ statements(filter: {search: "dialog"}) { totalCount nodes { key translation(language: "en") } } }',
    "{ meetings(first: 2, orderBy: DATE_DESC) { edges { cursor node { key date } } pageInfo { endCursor } } }",
]
# (body, expected status, expected error code)
HOSTILE: list[tuple[Any, int, str]] = [
    ({"query": '{ meeting(key: "x") { ' + "previous { " * 12 + "key" + " }" * 12 + " } }"}, 200, "QUERY_TOO_COMPLEX"),
    ({"query": "{ " + " ".join(f"a{i}: countries {{ code }}" for i in range(30)) + " }"}, 200, "QUERY_TOO_COMPLEX"),
    ({"query": "{ meetings(first: 100) { nodes { statements(first: 100) { totalCount } } } }"}, 200,
     "QUERY_TOO_COMPLEX"),
    ({"query": '{ meetings(after: "garbage") { totalCount } }'}, 200, "BAD_USER_INPUT"),
    ({"query": "{ meetings(first: -1) { totalCount } }"}, 200, "BAD_USER_INPUT"),
    ({"query": "query ($s: String) { statements(filter: {search: $s}) { totalCount } }",
      "variables": {"s": "' OR 1=1 -- NEAR( \" *"}}, 200, ""),
    ("[" * 5000 + "]" * 5000, 400, "BAD_USER_INPUT"),
    ({"query": "{ countries { code } }", "variables": {"pad": "x" * 70_000}}, 413, "BAD_USER_INPUT"),
]  # fmt: skip


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def tree_rss_mb(pid: int) -> float:
    """RSS of the server and its worker processes."""
    total = rss_mb(pid)
    children = Path(f"/proc/{pid}/task/{pid}/children")
    if children.exists():
        total += sum(rss_mb(int(child)) for child in children.read_text().split())
    return total


def encode(body: Any) -> bytes:
    return body.encode() if isinstance(body, str) else json.dumps(body).encode()


async def client_loop(
    http: httpx.AsyncClient, expected: list[Any], deadline: float, budget: list[int], stats: dict[str, Any]
) -> None:
    rng = random.Random(len(stats["latencies"]))
    while time.monotonic() < deadline and budget[0] > 0:
        budget[0] -= 1
        hostile = rng.random() < 0.2
        if hostile:
            body, status, code = rng.choice(HOSTILE)
        else:
            index = rng.randrange(len(NORMAL))
            body = {"query": NORMAL[index]}
        started = time.perf_counter()
        try:
            response = await http.post("/graphql", content=encode(body), headers={"content-type": "application/json"})
        except httpx.TimeoutException:
            stats["failures"].append("timeout")
            continue
        elapsed = time.perf_counter() - started
        if hostile:
            codes = [e["extensions"]["code"] for e in response.json().get("errors", [])]
            if response.status_code != status or (code and codes != [code]) or (not code and codes):
                stats["failures"].append(f"hostile {body!s:.60}: {response.status_code} {codes}")
            stats["hostile"] += 1
        else:
            if response.status_code != 200 or response.json() != expected[index]:
                stats["failures"].append(f"normal query {index}: {response.status_code} {response.text[:200]}")
            stats["latencies"].append(elapsed)


async def run(url: str, clients: int, seconds: float, max_requests: int, pid: int) -> dict[str, Any]:
    async with httpx.AsyncClient(base_url=url, timeout=5) as http:
        expected = [(await http.post("/graphql", json={"query": q})).json() for q in NORMAL]
        for answer in expected:
            assert "errors" not in answer, answer
        stats: dict[str, Any] = {"latencies": [], "failures": [], "hostile": 0, "rss": []}
        started = time.monotonic()
        deadline = started + seconds
        budget = [max_requests]

        async def sample_memory() -> None:
            while time.monotonic() < deadline:
                stats["rss"].append(tree_rss_mb(pid))
                await asyncio.sleep(min(0.5, seconds / 8))

        await asyncio.gather(
            sample_memory(), *(client_loop(http, expected, deadline, budget, stats) for _ in range(clients))
        )
        stats["elapsed"] = time.monotonic() - started
        return stats


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", type=Path, help="database to serve (default: the bundled seeds)")
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--max-requests", type=int, default=200_000)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--max-rss-growth-mb", type=float, default=30.0)
    args = parser.parse_args()

    port = free_port()
    with tempfile.TemporaryDirectory() as cache:
        command = [sys.executable, "-m", "diplo", "serve", "--port", str(port), "--no-graphiql",
                   "--workers", str(args.workers)]  # fmt: skip
        if args.db:
            command += ["--db", str(args.db)]
        server = subprocess.Popen(
            command, env=os.environ | {"XDG_CACHE_HOME": cache}, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        url = f"http://127.0.0.1:{port}"
        try:
            for _ in range(300):
                try:
                    if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                        break
                except httpx.TransportError:
                    time.sleep(0.1)
            else:
                print("server did not start", file=sys.stderr)
                return 1
            stats = asyncio.run(run(url, args.clients, args.seconds, args.max_requests, server.pid))
        finally:
            server.terminate()
            server.wait(timeout=10)

    latencies = sorted(stats["latencies"])
    total = len(latencies) + stats["hostile"]
    rss = stats["rss"]
    warm = rss[len(rss) // 4] if rss else 0.0
    growth = (rss[-1] - warm) if rss else 0.0
    p50 = statistics.median(latencies) * 1000 if latencies else 0.0
    p99 = (
        latencies[int(len(latencies) * 0.99) - 1] * 1000
        if len(latencies) >= 100
        else (latencies[-1] * 1000 if latencies else 0.0)
    )
    print(f"clients {args.clients}, workers {args.workers}, {stats['elapsed']:.1f} s: {total} requests "
          f"({stats['hostile']} hostile), {total / stats['elapsed']:.0f} requests/s")  # fmt: skip
    print(f"normal queries: p50 {p50:.1f} ms, p99 {p99:.1f} ms")
    print(f"server RSS: {warm:.0f} MB after warm-up, {rss[-1] if rss else 0:.0f} MB at the end ({growth:+.1f} MB)")
    for failure in stats["failures"][:20]:
        print("FAILED:", failure)
    ok = not stats["failures"] and latencies and growth <= args.max_rss_growth_mb
    print("ok" if ok else f"FAILED: {len(stats['failures'])} failures, RSS growth {growth:+.1f} MB")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

"""The benchmark: Diplo against the physical floor on the same machine, in one run, on one database.

    python bench/run.py                  # 100,000 meetings, 1,000,000 statements (a few minutes)
    python bench/run.py --smoke          # a small run that checks the harness, not the timings

It synthesizes the dataset, loads it with `diplo load` and with plain sqlite-utils `insert_all` (the bulk-load
floor), serves it with `diplo serve` on 1 and N workers and with `bench/floor.py` (the same nested query as
hand-written SQL and json.dumps), and prints every figure with its ratio to its floor. HTTP load comes from wrk
when it is installed (Debian package `wrk`), else from a Python client, which is slower than the servers.
"""

import argparse
import asyncio
import json
import os
import re
import resource
import shutil
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager, suppress
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from floor import LISTING_QUERY, NESTED_QUERY
from floor import SEARCH_QUERY as SEARCH_SHAPE_QUERY

SEARCH_QUERY = '{ statements(first: 20, filter: {search: "ref4242"}) { totalCount nodes { key } } }'
# Two of the synthetic vocabulary's forty-odd words: matches a large share of all statements.
BROAD_SEARCH_QUERY = '{ statements(first: 20, filter: {search: "embassy dialogue"}) { totalCount nodes { key } } }'
PAGE_QUERY = "query ($after: String) { statements(first: 20, after: $after) { nodes { key text date } } }"
# The same listing backwards: the 20 statements before a cursor.
PAGE_BACK_QUERY = "query ($before: String) { statements(last: 20, before: $before) { nodes { key text date } } }"


# --- child processes: each measures its own peak memory ----------------------------------------------------


def child_load(seeds: Path, db: Path) -> dict[str, Any]:
    from diplo.ingest.session import load_seeds

    started = time.perf_counter()
    result = load_seeds(db, [seeds])
    return {"seconds": time.perf_counter() - started, "records": result.added}


def floor_rows(seeds: Path) -> Iterator[tuple[str, list[dict[str, Any]]]]:
    """The rows `diplo load` writes (reports, statements and the records merged from them), straight from the
    JSON, with no validation and no merging: a record reported again is written once, as first seen."""
    seen: set[tuple[str, str]] = set()

    def first(kind: str, records: list[dict[str, Any]]) -> list[dict[str, Any]]:
        fresh = [r for r in records if (kind, r["key"]) not in seen]
        seen.update((kind, r["key"]) for r in fresh)
        return fresh

    for path in sorted(seeds.glob("*.json")):
        content = json.loads(path.read_text(encoding="utf-8"))
        source = content["source"]
        src = source["key"]
        yield "sources", [{**source, "via": json.dumps(source.get("via", []))}]
        for kind, table in (("persons", "person"), ("organizations", "organization")):
            records = content.get(kind, [])
            yield f"{table}_reports", [{**{k: v for k, v in r.items() if k != "key"}, table: r["key"], "source": src}
                                       for r in records]  # fmt: skip
            yield kind, [{**r, "aliases": "[]"} for r in first(kind, records)]
        topics = [{**t, "labels": json.dumps(t.get("labels", {}))} for t in content.get("topics", [])]
        yield "topic_reports", [{**{k: v for k, v in t.items() if k != "key"}, "topic": t["key"], "source": src}
                                for t in topics]  # fmt: skip
        yield "topics", first("topics", topics)
        meetings = content.get("meetings", [])
        plain = [{k: v for k, v in m.items() if k not in ("topics", "sources", "delegations")} for m in meetings]
        yield "meeting_reports", [{**{k: v for k, v in m.items() if k != "key"}, "meeting": m["key"], "source": src}
                                  for m in plain]  # fmt: skip
        yield "meeting_report_topics", [
            {"meeting": m["key"], "source": src, "position": i, "topic": t}
            for m in meetings for i, t in enumerate(m.get("topics", []))
        ]  # fmt: skip
        yield "delegation_reports", [
            {"meeting": m["key"], "source": src, "position": i, **{k: v for k, v in d.items() if k != "members"}}
            for m in meetings for i, d in enumerate(m["delegations"])
        ]  # fmt: skip
        yield "delegation_report_members", [
            {"meeting": m["key"], "source": src, "country": d["country"], "position": i, "person": p}
            for m in meetings for d in m["delegations"] for i, p in enumerate(d.get("members", []))
        ]  # fmt: skip
        fresh = {m["key"] for m in first("meetings", meetings)}
        merged = [m for m in meetings if m["key"] in fresh]
        yield "meetings", [m for m in plain if m["key"] in fresh]
        yield "meeting_sources", [{"meeting": m["key"], "position": 0, "source": src} for m in merged]
        yield "delegations", [
            {"meeting": m["key"], "position": i, **{k: v for k, v in d.items() if k != "members"}}
            for m in merged for i, d in enumerate(m["delegations"])
        ]  # fmt: skip
        yield "delegation_sources", [
            {"meeting": m["key"], "country": d["country"], "position": 0, "source": src}
            for m in merged for d in m["delegations"]
        ]  # fmt: skip
        yield "delegation_members", [
            {"meeting": m["key"], "country": d["country"], "position": i, "person": p}
            for m in merged for d in m["delegations"] for i, p in enumerate(d.get("members", []))
        ]  # fmt: skip
        yield "meeting_topics", [
            {"meeting": m["key"], "position": i, "topic": t} for m in merged for i, t in enumerate(m["topics"])
        ]  # fmt: skip
        statements = content.get("statements", [])
        yield "statement_reports", [
            {**{k: v for k, v in s.items() if k not in ("key", "topics")}, "statement": s["key"], "source": src,
             "translations": json.dumps(s.get("translations", {}))}
            for s in statements
        ]  # fmt: skip
        yield "statement_report_topics", [
            {"statement": s["key"], "source": src, "position": i, "topic": t}
            for s in statements for i, t in enumerate(s["topics"])
        ]  # fmt: skip
        yield "statement_sources", [{"statement": s["key"], "position": 0, "source": src} for s in statements]
        yield "statements", [
            {**{k: v for k, v in s.items() if k != "topics"}, "translations": json.dumps(s.get("translations", {}))}
            for s in statements
        ]  # fmt: skip
        yield "statement_topics", [
            {"statement": s["key"], "position": i, "topic": t} for s in statements for i, t in enumerate(s["topics"])
        ]  # fmt: skip


def child_floor_load(seeds: Path, db: Path) -> dict[str, Any]:
    from sqlite_utils import Database

    started = time.perf_counter()
    database = Database(db)
    rows = 0
    with database.atomic():
        for table, batch in floor_rows(seeds):
            database.table(table).insert_all(batch, batch_size=500, alter=True)
            rows += len(batch)
        # The full-text index, as diplo load keeps it: the text and its translations, by statement rowid.
        database.execute("CREATE VIRTUAL TABLE statements_fts USING fts5(text, translations)")
        database.execute(
            "INSERT INTO statements_fts (rowid, text, translations) SELECT rowid, text, "
            "(SELECT group_concat(value, char(10)) FROM json_each(statements.translations)) FROM statements"
        )
        rows += database.execute("SELECT count(*) FROM statements").fetchone()[0]
    database.close()
    return {"seconds": time.perf_counter() - started, "rows": rows}


def child_small_load(seeds: Path, db: Path) -> dict[str, Any]:
    """`diplo load` of one small file (a new source reporting a known meeting again, with two statements) into
    the big database, timed as a user sees it: the whole command, interpreter start included."""
    meeting = json.loads(sorted(seeds.glob("*.json"))[1].read_text())["meetings"][-1]  # [0] is the registry
    small = seeds.parent / "small" / "late-wire.json"
    small.parent.mkdir(exist_ok=True)
    statement = {"text": "More talks", "language": "en", "kind": "paraphrase", "meeting": meeting["key"],
                 "speaker": meeting["delegations"][0]["head"]}  # fmt: skip
    small.write_text(json.dumps({
        "source": {"key": "late-wire", "outlet": "Wire", "title": "Late", "published_at": "2031-01-01T00:00:00+00:00",
                   "language": "en"},
        "meetings": [{"key": meeting["key"], "status": meeting["status"],
                      "delegations": [{"country": d["country"]} for d in meeting["delegations"][:2]]}],
        "statements": [{**statement, "key": "late-wire-1"}, {**statement, "key": "late-wire-2"}],
    }))  # fmt: skip
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "diplo", "load", str(small), "--db", str(db)], check=True,
                   capture_output=True)  # fmt: skip
    return {"seconds": time.perf_counter() - started}


class TreeMemory:
    """The peak of this process's RSS and its descendants' together, sampled every 0.1 s: a large load reads its
    files in worker processes (diplo.ingest.workers), whose memory getrusage cannot tell (a child's maxrss counts
    the parent's pages it was forked with)."""

    def __init__(self) -> None:
        self.peak_mb = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def __enter__(self) -> "TreeMemory":
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()

    def _sample(self) -> None:
        while not self._stop.wait(0.1):
            self.peak_mb = max(self.peak_mb, sum(_rss_mb(pid) for pid in _tree(os.getpid())))


def _tree(pid: int) -> list[int]:
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        for task in Path(f"/proc/{current}/task").glob("*"):
            with suppress(OSError):  # a process that ended meanwhile
                todo += [int(child) for child in (task / "children").read_text().split()]
    return found


def _rss_mb(pid: int) -> float:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0.0
    return next((int(line.split()[1]) / 1024 for line in status.splitlines() if line.startswith("VmRSS:")), 0.0)


def run_child(name: str, *args: Path) -> dict[str, Any]:
    output = subprocess.run(
        [sys.executable, __file__, "--child", name, *map(str, args)], capture_output=True, text=True, check=True
    ).stdout
    result: dict[str, Any] = json.loads(output.strip().splitlines()[-1])
    return result


# --- servers and HTTP load -----------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextmanager
def server(command: list[str], health: str) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    port = free_port()
    process = subprocess.Popen([*command, "--port", str(port)] if "diplo" in command else [*command, str(port)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(600):
            try:
                httpx.request("POST" if health == "/graphql" else "GET", url + health,
                              json={"query": "{ __typename }"}, timeout=2)  # fmt: skip
                break
            except httpx.TransportError:
                time.sleep(0.1)
        yield url, process
    finally:
        process.terminate()
        process.wait(timeout=20)


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def wrk(url: str, body: dict[str, Any], seconds: float, connections: int) -> tuple[float, float]:
    """(requests/s, p50 ms) from wrk."""
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(
            f'wrk.method = "POST"\nwrk.body = {json.dumps(json.dumps(body))}\n'
            'wrk.headers["Content-Type"] = "application/json"\n'
        )
    out = subprocess.run(
        ["wrk", "-t1", f"-c{connections}", f"-d{max(1, int(seconds))}s", "--latency", "-s", script.name, url],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    os.unlink(script.name)
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    value, unit = re.search(r"50%\s+([\d.]+)(us|ms|s)", out).groups()  # type: ignore[union-attr]
    return rate, float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def python_load(url: str, body: dict[str, Any], seconds: float, connections: int) -> tuple[float, float]:
    latencies: list[float] = []

    async def worker(http: httpx.AsyncClient, deadline: float) -> None:
        while time.monotonic() < deadline:
            started = time.perf_counter()
            (await http.post(url, json=body)).raise_for_status()
            latencies.append(time.perf_counter() - started)

    async def main() -> float:
        async with httpx.AsyncClient(timeout=30) as http:
            started = time.monotonic()
            await asyncio.gather(*(worker(http, started + seconds) for _ in range(connections)))
            return time.monotonic() - started

    elapsed = asyncio.run(main())
    return len(latencies) / elapsed, statistics.median(latencies) * 1000


def throughput(
    url: str, body: dict[str, Any], seconds: float, use_wrk: bool, connections: int = 8
) -> tuple[float, float]:
    # Eight connections: with only a few kept alive, one worker can accept them all and the others idle.
    return (wrk if use_wrk else python_load)(url + "/graphql", body, seconds, connections)


def p50_ms(url: str, body: dict[str, Any], count: int = 50) -> float:
    with httpx.Client(base_url=url, timeout=30) as http:
        http.post("/graphql", json=body)
        times = []
        for _ in range(count):
            started = time.perf_counter()
            response = http.post("/graphql", json=body)
            times.append(time.perf_counter() - started)
            assert "errors" not in response.json(), response.text
    return statistics.median(times) * 1000


def p50_turns_ms(url: str, bodies: list[dict[str, Any]], count: int = 100) -> list[float]:
    """p50s of requests sent in turn, so that all see the same load from whatever else runs."""
    with httpx.Client(base_url=url, timeout=30) as http:
        times: list[list[float]] = [[] for _ in bodies]
        for _ in range(count):
            for body, found in zip(bodies, times, strict=True):
                started = time.perf_counter()
                response = http.post("/graphql", json=body)
                found.append(time.perf_counter() - started)
                assert "errors" not in response.json(), response.text
    return [statistics.median(found) * 1000 for found in times]


def page_p50s(url: str, db: Path, depth: int) -> dict[str, float]:
    """Page 1 of the statements, the page after the `depth`th and the page before it (backwards), in turn."""
    cursor = deep_cursor(db, depth)
    bodies = [
        {"query": PAGE_QUERY, "variables": {"after": None}},
        {"query": PAGE_QUERY, "variables": {"after": cursor}},
        {"query": PAGE_BACK_QUERY, "variables": {"before": cursor}},
    ]
    return dict(zip(("page_1_ms", "page_deep_ms", "page_back_ms"), p50_turns_ms(url, bodies), strict=True))


def statements_per_request(db: Path, query: str) -> int:
    """SQL statements the compiled path runs for `query` (it must answer it)."""
    from diplo.graphql.limits import Limits
    from diplo.graphql.plans import execute
    from diplo.server.app import GraphQLEndpoint, Settings
    from diplo.server.snapshots import open_snapshot

    plans = GraphQLEndpoint(Settings(db_path=db)).plans
    assert plans is not None
    conn = open_snapshot(db, Limits())
    executed: list[str] = []
    conn.set_trace_callback(executed.append)
    body = execute(plans, conn, query, None, None)
    conn.close()
    assert body is not None, "the compiled path must answer the benchmark's queries"
    return sum("'main'." not in sql for sql in executed)  # not the full-text index's own reads


# The read shapes, each against the conventional floor (bench/floor.py) and one hand-written statement that builds
# the JSON (bench/single.py), one worker each, wrk at 4 connections.
SHAPES = {"nested query": NESTED_QUERY, "statements listing": LISTING_QUERY, "full-text search": SEARCH_SHAPE_QUERY}
SHAPE_CONNECTIONS = 4


def read_shapes(db: Path, seconds: float, use_wrk: bool, rounds: int = 2) -> dict[str, Any]:
    """requests/s and p50 of every shape on Diplo, the floor and the single statement; their answers must agree.

    The three servers run side by side and are measured in turn, shape by shape, `rounds` times, keeping each
    one's best: on a machine shared with other work, that compares them under the same load."""
    bench = Path(__file__).parent
    commands = {
        "floor": ([sys.executable, str(bench / "floor.py"), str(db)], "/graphql"),
        "single": ([sys.executable, str(bench / "single.py"), str(db)], "/graphql"),
        "diplo": ([sys.executable, "-m", "diplo", "serve", "--db", str(db), "--no-graphiql", "--workers", "1"],
                  "/healthz"),
    }  # fmt: skip
    results: dict[str, Any] = {shape: {} for shape in SHAPES}
    with ExitStack() as stack:
        urls = {name: stack.enter_context(server(command, health))[0] for name, (command, health) in commands.items()}
        for shape, query in SHAPES.items():
            body = {"query": query}
            answers = [httpx.post(url + "/graphql", json=body, timeout=30).json() for url in urls.values()]
            if any(answer != answers[0] for answer in answers):
                raise SystemExit(f"FAILED: Diplo, the floor and the single statement answer the {shape} differently")
            for _ in range(rounds):
                for name, url in urls.items():
                    rate, p50 = throughput(url, body, seconds, use_wrk, SHAPE_CONNECTIONS)
                    if rate > results[shape].get(name, {"rps": 0.0})["rps"]:
                        results[shape][name] = {"rps": rate, "p50_ms": p50}
            results[shape]["sql"] = statements_per_request(db, query)
    return results


def deep_cursor(db: Path, depth: int) -> str:
    from diplo import store
    from diplo.graphql.pagination import Position, encode_cursor

    conn = sqlite3.connect(db)
    total = conn.execute("SELECT count(*) FROM statements").fetchone()[0]
    order = store.date_order("ASC")  # the listing's date order, as the store indexes it
    sort, key = conn.execute(
        f"SELECT {order}, key FROM statements ORDER BY {order}, key LIMIT 1 OFFSET ?", (min(depth, total - 21),)
    ).fetchone()
    conn.close()
    return encode_cursor("statements", "DATE_ASC", Position(sort, key))


# --- the run -------------------------------------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--meetings", type=int, default=100_000)
    parser.add_argument("--statements-per-meeting", type=int, default=10)
    parser.add_argument("--seconds", type=float, default=10.0, help="per HTTP throughput measurement")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 2)
    parser.add_argument("--smoke", action="store_true", help="300 meetings, 1 s runs, Python client")
    parser.add_argument("--reads", action="store_true", help="only the read shapes and deep pages (no load figures)")
    parser.add_argument("--out", type=Path, help="keep the data and results here (default: a temporary folder)")
    parser.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        name, seeds, db = args.child
        children = {"load": child_load, "floor-load": child_floor_load, "small-load": child_small_load}
        with TreeMemory() as tree:
            result = children[name](Path(seeds), Path(db))
        result["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        result["tree_peak_rss_mb"] = tree.peak_mb
        print(json.dumps(result))
        return 0
    if args.smoke:
        args.meetings, args.seconds = 300, 1.0
    use_wrk = shutil.which("wrk") is not None and not args.smoke
    with tempfile.TemporaryDirectory() as tmp:
        out = args.out or Path(tmp)
        out.mkdir(parents=True, exist_ok=True)
        return run(args, out, use_wrk)


def run(args: argparse.Namespace, out: Path, use_wrk: bool) -> int:
    from diplo.ingest.synth import write_synthetic

    seeds, db, floor_db = out / "seeds", out / "diplo.db", out / "floor.db"
    for path in (db, floor_db):
        path.unlink(missing_ok=True)
    shutil.rmtree(seeds, ignore_errors=True)
    results: dict[str, Any] = {"machine": f"{os.cpu_count()} cores", "client": "wrk" if use_wrk else "python"}
    started = time.perf_counter()
    statements = write_synthetic(seeds, args.meetings, args.statements_per_meeting)
    results["synth"] = {"meetings": args.meetings, "statements": statements,
                        "seconds": time.perf_counter() - started}  # fmt: skip
    results["load"] = run_child("load", seeds, db)
    results["shapes"] = read_shapes(db, args.seconds, use_wrk, rounds=1 if args.smoke else 2)
    if args.reads:
        with server([sys.executable, "-m", "diplo", "serve", "--db", str(db), "--no-graphiql", "--workers", "1"],
                    "/healthz") as (url, _):  # fmt: skip
            results |= page_p50s(url, db, statements // 2)
        (out / "results.json").write_text(json.dumps(results, indent=2))
        report_shapes(results)
        return 0
    results["floor_load"] = run_child("floor-load", seeds, floor_db)
    floor_db.unlink()

    body = {"query": NESTED_QUERY}
    with server([sys.executable, str(Path(__file__).parent / "floor.py"), str(db)], "/graphql") as (url, _):
        floor_answer = httpx.post(url + "/graphql", json=body, timeout=30).json()
        results["floor"] = dict(zip(("rps", "p50_ms"), throughput(url, body, args.seconds, use_wrk), strict=True))
    serve = [sys.executable, "-m", "diplo", "serve", "--db", str(db), "--no-graphiql"]
    with server([*serve, "--workers", "1"], "/healthz") as (url, process):
        answer = httpx.post(url + "/graphql", json=body, timeout=30).json()
        if answer != floor_answer:
            print("FAILED: Diplo and the floor answer the nested query differently", file=sys.stderr)
            return 1
        results["diplo_1"] = dict(zip(("rps", "p50_ms"), throughput(url, body, args.seconds, use_wrk), strict=True))
        results |= page_p50s(url, db, 100_000)
        results["search_ms"] = p50_ms(url, {"query": SEARCH_QUERY})
        results["broad_search_ms"] = p50_ms(url, {"query": BROAD_SEARCH_QUERY}, count=10)
        results["serve_peak_rss_mb"] = peak_rss_mb(process.pid)
    with server([*serve, "--workers", str(args.workers)], "/healthz") as (url, _):
        results["diplo_n"] = dict(zip(("rps", "p50_ms"), throughput(url, body, args.seconds, use_wrk), strict=True))
    results["sql_per_request"] = {"diplo": statements_per_request(db, NESTED_QUERY), "floor": 4}
    results["small_load"] = run_child("small-load", seeds, db)
    # Last, as it pushes the served database out of the page cache: memory must not grow with the dataset, so
    # the same load at twice the size.
    double, double_db = out / "seeds-x2", out / "diplo-x2.db"
    shutil.rmtree(double, ignore_errors=True)
    double_db.unlink(missing_ok=True)
    results["synth_x2"] = write_synthetic(double, args.meetings * 2, args.statements_per_meeting)
    results["load_x2"] = run_child("load", double, double_db)
    double_db.unlink()
    shutil.rmtree(double)
    (out / "results.json").write_text(json.dumps(results, indent=2))
    report(results, args.workers)
    report_shapes(results)
    return 0


def report_shapes(r: dict[str, Any]) -> None:
    lines = [
        f"machine: {r['machine']}; HTTP client: {r['client']}, {SHAPE_CONNECTIONS} connections; one worker each; "
        f"{r['synth']['meetings']:,} meetings, {r['synth']['statements']:,} statements",
        "| shape | Diplo requests/s | floor | single statement | Diplo/floor | Diplo/single | Diplo p50 | SQL |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for shape in SHAPES:
        s = r["shapes"][shape]
        diplo, floor, single = s["diplo"]["rps"], s["floor"]["rps"], s["single"]["rps"]
        lines.append(
            f"| {shape} | {diplo:.0f} | {floor:.0f} | {single:.0f} | {diplo / floor:.0%} | {diplo / single:.0%} | "
            f"{s['diplo']['p50_ms']:.1f} ms | {s['sql']} |"
        )
    if "page_1_ms" in r:
        lines.append(
            f"statements page half-way down (p50): {r['page_deep_ms']:.1f} ms against {r['page_1_ms']:.1f} ms for "
            f"page 1 ({r['page_deep_ms'] / r['page_1_ms']:.2f}x); the page before it, backwards: "
            f"{r['page_back_ms']:.1f} ms ({r['page_back_ms'] / r['page_1_ms']:.2f}x)"
        )
    print("\n".join(lines))


def _rss(child: dict[str, Any]) -> str:
    """A load's peak memory: its process's, and with its workers' (sampled) when it had some."""
    tree = child.get("tree_peak_rss_mb", 0.0)
    shown = f"{child['peak_rss_mb']:.0f} MB"
    return shown + (f" ({tree:.0f} MB with its workers)" if tree > child["peak_rss_mb"] + 1 else "")


def report(r: dict[str, Any], workers: int) -> None:
    load_rate = r["load"]["records"] / r["load"]["seconds"]
    floor_rate = r["floor_load"]["rows"] / r["floor_load"]["seconds"]
    load_rows_rate = r["floor_load"]["rows"] / r["load"]["seconds"]  # the same rows, written by diplo load
    lines = [
        f"machine: {r['machine']}; HTTP client: {r['client']}; "
        f"{r['synth']['meetings']:,} meetings, {r['synth']['statements']:,} statements "
        f"(synthesized in {r['synth']['seconds']:.1f} s)",
        "| measure | Diplo | floor | ratio |",
        "|---|---|---|---|",
        f"| nested query, 1 worker: requests/s | {r['diplo_1']['rps']:.0f} | {r['floor']['rps']:.0f} | "
        f"{r['diplo_1']['rps'] / r['floor']['rps']:.0%} |",
        f"| nested query, 1 worker: p50 | {r['diplo_1']['p50_ms']:.1f} ms | {r['floor']['p50_ms']:.1f} ms | "
        f"{r['diplo_1']['p50_ms'] / r['floor']['p50_ms']:.1f}x |",
        f"| nested query, {workers} workers: requests/s | {r['diplo_n']['rps']:.0f} | {r['diplo_1']['rps']:.0f} "
        f"(1 worker) | {r['diplo_n']['rps'] / r['diplo_1']['rps']:.2f}x |",
        f"| SQL statements per request | {r['sql_per_request']['diplo']} | {r['sql_per_request']['floor']} | |",
        f"| statements page past the 100,000th: p50 | {r['page_deep_ms']:.1f} ms | {r['page_1_ms']:.1f} ms "
        f"(page 1) | {r['page_deep_ms'] / r['page_1_ms']:.2f}x |",
        f"| statements page before the 100,000th, backwards: p50 | {r['page_back_ms']:.1f} ms | "
        f"{r['page_1_ms']:.1f} ms (page 1) | {r['page_back_ms'] / r['page_1_ms']:.2f}x |",
        f"| full-text search, a rare word: p50 (with the client's round trip) | {r['search_ms']:.1f} ms | | |",
        f"| full-text search, two common words: p50 | {r['broad_search_ms']:.1f} ms | | |",
        f"| load: rows/s | {load_rows_rate:,.0f} | {floor_rate:,.0f} | {load_rows_rate / floor_rate:.0%} |",
        f"| load: seconds | {r['load']['seconds']:.1f} | {r['floor_load']['seconds']:.1f} | |",
        f"| load: peak RSS | {_rss(r['load'])} | {r['floor_load']['peak_rss_mb']:.0f} MB | |",
        f"| load at twice the size ({r['synth_x2']:,} statements): peak RSS | {_rss(r['load_x2'])} "
        f"| {_rss(r['load'])} (once the size) "
        f"| {r['load_x2']['peak_rss_mb'] / r['load']['peak_rss_mb']:.2f}x |",
        f"| `diplo load` of one small file into the loaded database (the command, wall) | "
        f"{r['small_load']['seconds']:.2f} s | | |",
        f"| serving worker: peak RSS | {r['serve_peak_rss_mb']:.0f} MB | | |",
    ]
    print("\n".join(lines))
    _ = load_rate


if __name__ == "__main__":
    sys.exit(main())

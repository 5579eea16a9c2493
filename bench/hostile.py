"""Hostile requests, each within every documented limit, against `diplo serve` (default settings, one worker) on
127.0.0.1 serving a 200,000-statement synthetic database; prints one table: attack, outcome, the server's peak RSS
during the attack, `/healthz`'s p99 and max meanwhile, the target, and whether it was met.

1. Memory of a refused answer: `topics(first: 100) { nodes { statements(first: 99) { ... source { text } } } }`,
   and the same with three aliases of `source { text }`, each sent `--repeats` times (RSS after each), against the
   synthetic database and against a copy whose sources' texts are ~50,000 characters long (the bound exercised).
   Then, on a server of its own, the memory of the plan cache: 300 distinct valid 8 KB documents, each sent once.
2. Validation cost: what one refusal of a 9 KB document repeating `delegations { country { code } }` 270 times
   costs the server in CPU (50 in turn); three attackers (staggered, each `--attacker-pause` after its last answer:
   about 1 request/s in all) sending such documents, each new, alone and while a client sends the load test's
   normal queries every 50 ms; the same client alone first, for reference.
3. Metrics: `"operationName": "\\ud800x"` then a scrape of /metrics; 400 requests with distinct 64,000-character
   operation names, then a scrape (its size and time); 300 distinct valid names sent three times each (each could
   become a label); a newline in `operationName`, then the server's log searched for the forged line.
4. Automatic persisted queries: two clients registering distinct 60 KB documents, then distinct documents just
   under `max_document_chars` (which the store keeps); flushing the store of another client's documents with
   one-off registrations, and with registrations each also used once by its hash.
5. Requests that were 500s: `{"extensions": {"persistedQuery": null}}`; a lone surrogate in a query sent with a
   hash, and under `--trusted-documents`; `If-None-Match: *` on a GET of an invalid query.
6. Plan-cache thrash: four clients rotating through `--documents` distinct cheap documents (the cache holds 256).
7. A writable copy of the database locked by another connection (`BEGIN EXCLUSIVE`): /readyz and /metrics polled
   meanwhile, then GraphQL requests (a POST of a planned document, a GET, a POST of a new document).

The clients are httpx's, in threads. `/healthz` is asked every 10 ms by a process of its own during every attack,
and each role of attacks 2 and 6 runs in a process of its own, so the load generator's GIL does not delay the
prober. Peak RSS is the server process's VmHWM, reset before each attack (/proc/PID/clear_refs), shown with its
RSS when the attack started (what the attacks before it left). The databases are built once under `--cache` (about
a minute each on 2 cores). Every loop is bounded in time and count, and every server is stopped at the end, on
failure too. Exits 1 when a target is missed.

    python bench/hostile.py                   # every attack (about 5 minutes once the databases are built)
    python bench/hostile.py 2 6 --seconds 8   # some of them
"""

import argparse
import hashlib
import itertools
import json
import multiprocessing
import os
import re
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from multiprocessing.synchronize import Event
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from load import NORMAL, free_port

DIPLO = [sys.executable, "-m", "diplo"]
Result = dict[str, Any]
PROBE_LIMIT = 300.0  # seconds: a prober stops by itself past this, whatever happens to its caller

# 1. The query (100 x 99 = 9,900 nodes, within `max_nodes`), and three aliases of `source { text }`.
MEMORY = {
    "source { text }": "{ topics(first: 100) { nodes { statements(first: 99) { nodes { key source { text } } } } } }",
    "3 aliases of source { text }": "{ topics(first: 100) { nodes { statements(first: 99) { nodes { key "
    "a: source { text } b: source { text } c: source { text } } } } } }",
}
# A valid document within every limit, of 8 KB and 1,796 tokens: what a plan of one costs in memory.
PLANNABLE = "query P{n} {{ " + " ".join(["meetings(first: 1) {{ nodes {{ id key title status format date city round "
    "summary hostCountry {{ code name }} delegations {{ country {{ code name }} headRole }} participants {{ code }} "
    "topics {{ key label }} sources {{ key title outlet }} statements(first: 1) {{ nodes {{ key text date language }} "
    "}} }} }}"] * 28) + " }}"  # fmt: skip
LONG_TEXT_CHARS = 50_000
FILLER = "Annex {n}: background to the talks, kept at length in the archive and quoted nowhere. "

# 2. The document: 9 KB, 1,900 tokens, 812 selections, `delegations` 270 times in one selection set.
REPEATED = " ".join(["delegations { country { code } }"] * 270)
ATTACK = "query A{n} {{ meetings {{ nodes {{ " + REPEATED.replace("{", "{{").replace("}", "}}") + " }} }} }}"
# 6. Cheap documents, each distinct.
CHEAP = "query Q{n} {{ meetings(first: 1) {{ nodes {{ key }} }} }}"
# 7. A document the server plans before the lock (so it is answered on the event loop afterwards).
PLANNED = "{ meetings(first: 2) { nodes { key } } }"

# The targets.
PEAK_MB = 150.0
GROWTH_MB = 2.0  # "no growth over 50 repeats": RSS after the last repeat within this of RSS after the tenth
REFUSAL_MS = 20.0
CLIENT_P99_MS = 100.0
THRASH_P99_MS = 50.0
# Where the issue gives no number: /healthz, which touches nothing, should not notice the attack.
HEALTHZ_MAX_MS = 100.0


def percentile(values: list[float], share: float) -> float:
    """The value at `share` of the sorted seconds, in ms (share 1.0: the max)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * share))] * 1000 if ordered else float("nan")


# --- databases ---------------------------------------------------------------------------------------------------


def load(seeds: Path, db: Path) -> None:
    """`diplo load` into `db`, made aside and renamed into place, so a cached file is always a complete one."""
    partial = db.with_suffix(".partial.db")
    partial.unlink(missing_ok=True)
    subprocess.run([*DIPLO, "load", str(seeds), "--db", str(partial)], check=True, stdout=subprocess.DEVNULL)
    partial.rename(db)


def lengthen(seeds: Path, out: Path, chars: int) -> None:
    """A copy of `seeds` whose sources' texts are extended to about `chars` characters. The filler is appended, so
    every quote is still found where it was, and said nowhere else."""
    out.mkdir(parents=True, exist_ok=True)
    for path in sorted(seeds.glob("*.json")):
        data = json.loads(path.read_text(encoding="utf-8"))
        source = data.get("source", {})
        if source.get("text"):
            parts, size, n = [source["text"], "\n\n"], len(source["text"]) + 2, 0
            while size < chars:
                parts.append(FILLER.format(n=n))
                size += len(parts[-1])
                n += 1
            source["text"] = "".join(parts)
        (out / path.name).write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")


def synthetic(cache: Path, meetings: int, long_texts: bool = False) -> Path:
    """The synthetic database of `meetings` (ten statements each), or its copy whose sources' texts are
    LONG_TEXT_CHARS long; built under `cache` unless it is there already."""
    cache.mkdir(parents=True, exist_ok=True)
    seeds, db = cache / f"seeds-{meetings}", cache / f"synth-{meetings}.db"
    if not db.exists() or (long_texts and not seeds.exists()):
        print(f"building {db}", file=sys.stderr)
        shutil.rmtree(seeds, ignore_errors=True)
        subprocess.run([*DIPLO, "synth", "--meetings", str(meetings), "--out", str(seeds)], check=True,
                       stdout=subprocess.DEVNULL)  # fmt: skip
        load(seeds, db)
    if not long_texts:
        return db
    long_seeds, long_db = cache / f"long-seeds-{meetings}", cache / f"long-{meetings}.db"
    if not long_db.exists():
        print(f"building {long_db} (sources of {LONG_TEXT_CHARS:,} characters)", file=sys.stderr)
        shutil.rmtree(long_seeds, ignore_errors=True)
        lengthen(seeds, long_seeds, LONG_TEXT_CHARS)
        load(long_seeds, long_db)
    return long_db


# --- the server and what is measured of it ------------------------------------------------------------------------


def status_kb(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


class Server:
    """`diplo serve --db DB` on a free port of 127.0.0.1, its log in `log`; stopped on leaving, whatever happened."""

    def __init__(self, db: Path, log: Path, *options: str) -> None:
        self.db, self.log_path, self.options = db, log, options
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> "Server":
        command = [*DIPLO, "serve", "--db", str(self.db), "--port", str(self.port), *self.options]
        self.log = self.log_path.open("w")
        self.process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=self.log)
        self.pid = self.process.pid
        deadline = time.monotonic() + 180  # `quick_check` reads the whole file first
        while time.monotonic() < deadline and self.process.poll() is None:
            try:
                if httpx.get(f"{self.url}/healthz", timeout=1).status_code == 200:
                    return self
            except httpx.TransportError:
                time.sleep(0.2)
        self.__exit__()
        raise RuntimeError(f"`{' '.join(command)}` did not start; see {self.log_path}")

    def __exit__(self, *_: object) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=15)
        self.log.close()

    def rss_mb(self) -> float:
        return status_kb(self.pid, "VmRSS") / 1024

    def reset_peak(self) -> None:
        Path(f"/proc/{self.pid}/clear_refs").write_text("5")  # VmHWM starts again from VmRSS

    def peak_mb(self) -> float:
        return status_kb(self.pid, "VmHWM") / 1024

    def cpu_seconds(self) -> float:
        """User and system CPU time the server has used so far."""
        fields = Path(f"/proc/{self.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def lines(self) -> list[str]:
        self.log.flush()
        return self.log_path.read_text(encoding="utf-8", errors="replace").splitlines()


def post(http: httpx.Client, body: Any, **headers: str) -> httpx.Response:
    """A POST of `body` (an object, or JSON text as sent: lone surrogates can be written only so)."""
    content = body.encode() if isinstance(body, str) else json.dumps(body).encode()
    return http.post("/graphql", content=content, headers={"content-type": "application/json", **headers})


def codes(response: httpx.Response) -> str:
    """`STATUS CODE[,CODE]` of an answer."""
    try:
        errors = response.json().get("errors") or []
    except ValueError:
        errors = []
    found = sorted({e.get("extensions", {}).get("code", "?") for e in errors})
    return f"{response.status_code} {','.join(found) or 'OK'}"


def prober(
    url: str, until: float, out: "multiprocessing.Queue[Result]", stop: Event | None = None, ready: Event | None = None
) -> None:
    """`/healthz` every 10 ms until `until` (or `stop`); `ready` once connected (that first answer is not counted)."""
    seconds: list[float] = []
    with httpx.Client(base_url=url, timeout=30) as http:
        http.get("/healthz").raise_for_status()
        if ready is not None:
            ready.set()
        while time.time() < until and not (stop is not None and stop.is_set()):
            started = time.perf_counter()
            http.get("/healthz").raise_for_status()
            seconds.append(time.perf_counter() - started)
            time.sleep(0.01)
    out.put({"role": "prober", "seconds": seconds})


@dataclass
class Watch:
    """What was seen of the server during one attack: its peak RSS and `/healthz`'s latencies."""

    peak: float = float("nan")
    start: float = float("nan")  # RSS when the attack started: what the attacks before it left
    probes: tuple[float, ...] = ()

    @property
    def p50(self) -> float:
        return percentile(list(self.probes), 0.5)

    @property
    def p99(self) -> float:
        return percentile(list(self.probes), 0.99)

    @property
    def max(self) -> float:
        return percentile(list(self.probes), 1.0)


@contextmanager
def watching(server: Server, at_least: float = 3.0) -> Iterator[Watch]:
    """The server's peak RSS and `/healthz` (asked from a process of its own) while the block runs, and for
    `at_least` seconds in all."""
    watch = Watch()
    out: multiprocessing.Queue[Result] = multiprocessing.Queue()
    stop, ready = multiprocessing.Event(), multiprocessing.Event()
    until = time.time() + PROBE_LIMIT
    probing = multiprocessing.Process(target=prober, args=(server.url, until, out, stop, ready))
    probing.start()
    ready.wait(timeout=30)  # connected before the attack starts
    server.reset_peak()
    watch.start = server.rss_mb()
    started = time.monotonic()
    try:
        yield watch
    finally:
        time.sleep(max(0.0, at_least - (time.monotonic() - started)))
        stop.set()
        watch.probes = tuple(out.get(timeout=60)["seconds"])
        probing.join(timeout=10)
        watch.peak = server.peak_mb()


def run_roles(url: str, roles: list[Callable[..., None]], seconds: float, *extra: Any) -> dict[str, Result]:
    """Each role in a process of its own until `seconds` from now (the first role gets the `extra` arguments)."""
    out: multiprocessing.Queue[Result] = multiprocessing.Queue()
    until = time.time() + seconds
    processes = [
        multiprocessing.Process(target=role, args=(url, until, out, *(extra if i == 0 else ())))
        for i, role in enumerate(roles)
    ]
    for process in processes:
        process.start()
    results = {result["role"]: result for result in (out.get(timeout=seconds + 60) for _ in processes)}
    for process in processes:
        process.join(timeout=10)
    return results


@dataclass
class Row:
    attack: str
    outcome: str
    peak: float
    start: float
    p99: float
    max: float
    target: str
    met: bool | None  # None: the issue sets no target here


ROWS: list[Row] = []


def row(attack: str, outcome: str, watch: Watch, target: str, met: bool | None) -> None:
    ROWS.append(Row(attack, outcome, watch.peak, watch.start, watch.p99, watch.max, target, met))
    verdict = "-" if met is None else ("met" if met else "MISSED")
    probes = f"/healthz p99 {watch.p99:.1f} ms of {len(watch.probes)}, max {watch.max:.1f} ms"
    peak = f"peak {watch.peak:.0f} MB (from {watch.start:.0f})"
    print(f"  {attack}: {outcome} | {peak} | {probes} | {target}: {verdict}", file=sys.stderr)


# --- 1. memory of a refused answer --------------------------------------------------------------------------------


def memory(server: Server, label: str, repeats: int) -> None:
    with httpx.Client(base_url=server.url, timeout=60) as http:
        for name, query in MEMORY.items():
            outcomes: set[str] = set()
            rss: list[float] = []
            seconds: list[float] = []
            with watching(server) as watch:
                for _ in range(repeats):
                    started = time.perf_counter()
                    outcomes.add(codes(post(http, {"query": query})))
                    seconds.append(time.perf_counter() - started)
                    rss.append(server.rss_mb())
            print(f"  RSS after each: {' '.join(f'{r:.0f}' for r in rss)}", file=sys.stderr)
            tenth = rss[min(9, len(rss) - 1)]
            growth = rss[-1] - tenth
            outcome = (f"{'; '.join(sorted(outcomes))} x{repeats} (p50 {percentile(seconds, 0.5):.0f} ms); RSS "
                       f"{rss[0]:.0f} MB after 1, {tenth:.0f} after 10, {rss[-1]:.0f} after {repeats}")  # fmt: skip
            met = watch.peak < PEAK_MB and growth <= GROWTH_MB and outcomes == {"200 QUERY_TOO_COMPLEX"}
            target = f"issue: peak < {PEAK_MB:.0f} MB, no growth ({GROWTH_MB:.0f} MB allowed, 10th to {repeats}th)"
            row(f"1 {name}, {label}", outcome, watch, target, met)


def plans_memory(server: Server, documents: int) -> None:
    """`documents` distinct valid documents, each within every limit (8 KB, 1,796 tokens, 28 root fields that merge
    into one, so each is answered by one small statement), each sent once: the plan cache keeps 256 of them."""
    outcomes: set[str] = set()
    rss: list[float] = []
    with httpx.Client(base_url=server.url, timeout=60) as http, watching(server) as watch:
        until = time.monotonic() + 240
        for n in range(documents):
            if time.monotonic() > until:
                break
            outcomes.add(codes(post(http, {"query": PLANNABLE.format(n=n)})))
            rss.append(server.rss_mb())
    outcome = (f"{'; '.join(sorted(outcomes))} x{len(rss)}; RSS {rss[0]:.0f} MB after 1, {rss[len(rss) // 2]:.0f} "
               f"after {len(rss) // 2 + 1}, {rss[-1]:.0f} after {len(rss)}")  # fmt: skip
    row("1 the plan cache: distinct valid 8 KB documents", outcome, watch,
        f"peak < {PEAK_MB:.0f} MB (the issue's, for attack 1)", watch.peak < PEAK_MB)  # fmt: skip


# --- 2. validation cost, 6. plan-cache thrash ---------------------------------------------------------------------


def attackers(url: str, until: float, out: "multiprocessing.Queue[Result]", pause: float) -> None:
    seconds: list[float] = []
    found: set[str] = set()
    lock = threading.Lock()
    counter = itertools.count(os.getpid() * 10**6)  # a new document every time, in every run

    def attack(delay: float) -> None:
        time.sleep(delay)  # staggered: one request every pause / 3 in all, not three at once
        with httpx.Client(base_url=url, timeout=30) as http:
            while time.time() < until:
                query = ATTACK.format(n=next(counter))
                started = time.perf_counter()
                response = post(http, {"query": query})
                with lock:
                    seconds.append(time.perf_counter() - started)
                    found.add(codes(response))
                time.sleep(pause)

    threads = [threading.Thread(target=attack, args=(pause * i / 3,)) for i in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    out.put({"role": "attackers", "seconds": seconds, "codes": sorted(found)})


def client(url: str, until: float, out: "multiprocessing.Queue[Result]") -> None:
    """The load test's normal queries in turn, one every 50 ms; the seconds of each, by query."""
    seconds: list[list[float]] = [[] for _ in NORMAL]
    timeouts = 0
    with httpx.Client(base_url=url, timeout=30) as http:
        while time.time() < until:
            for i, query in enumerate(NORMAL):
                started = time.perf_counter()
                body = post(http, {"query": query}).json()
                seconds[i].append(time.perf_counter() - started)
                timeouts += any(e["extensions"]["code"] == "TIMEOUT" for e in body.get("errors", []))
                time.sleep(0.05)
    out.put({"role": "client", "seconds": seconds, "timeouts": timeouts})


def described(normal: Result) -> tuple[float, str]:
    """The client's p99, and what it saw: all its requests, then the full-text search (NORMAL[1], which matches
    most statements of the synthetic data and counts them) and the other two apart."""
    every = [s for per_query in normal["seconds"] for s in per_query]
    search = normal["seconds"][1]
    others = [s for i, per_query in enumerate(normal["seconds"]) if i != 1 for s in per_query]
    p99 = percentile(every, 0.99)
    return p99, (
        f"{len(every)} requests, p50 {percentile(every, 0.5):.1f} ms, p99 {p99:.1f} ms (the search: p50 "
        f"{percentile(search, 0.5):.0f} ms, p99 {percentile(search, 0.99):.0f} ms; the other two: p99 "
        f"{percentile(others, 0.99):.1f} ms), {normal['timeouts']} TIMEOUT"
    )


def access_ms(server: Server, name: re.Pattern[str]) -> list[float]:
    """The server's own time (its access log's) for the requests whose operation name matches `name`, in s."""
    seconds = []
    for line in server.lines():
        fields = line.partition(" diplo.access: ")[2].split()
        if len(fields) >= 6 and name.fullmatch(fields[1]) and fields[5] == "ms":
            seconds.append(float(fields[4]) / 1000)
    return seconds


def rotators(url: str, until: float, out: "multiprocessing.Queue[Result]", documents: int) -> None:
    done = [0]
    failed: list[str] = []
    lock = threading.Lock()

    def rotate(start: int) -> None:
        with httpx.Client(base_url=url, timeout=30) as http:
            n = start
            while time.time() < until:
                response = post(http, {"query": CHEAP.format(n=n % documents)})
                n += 1
                with lock:
                    done[0] += 1
                    if response.status_code != 200 or "errors" in response.json():
                        failed.append(codes(response))

    threads = [threading.Thread(target=rotate, args=(documents // 4 * i,)) for i in range(4)]
    started = time.time()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    out.put({"role": "rotators", "requests": done[0], "seconds": time.time() - started, "failed": failed})


def refusals(server: Server, attack: Result, seconds: float, attack_name: str, watch: Watch) -> None:
    """Rows for the refusals of `attack`, as its clients timed them and as the server's log did (the server's own
    log lines for these requests: the last ones named A<n>, each new document's name is new)."""
    refused = all(c.endswith("QUERY_TOO_COMPLEX") for c in attack["codes"])
    rate = f"{len(attack['seconds']) / seconds:.1f}/s"
    logged = access_ms(server, re.compile(r"A\d+"))[-len(attack["seconds"]) :]
    for who, times in (("as the attackers time them", attack["seconds"]), ("the server's own time (its log)", logged)):
        slowest = percentile(times, 1.0)
        over = sum(t * 1000 >= REFUSAL_MS for t in times)
        outcome = (f"{'; '.join(attack['codes'])} x{len(times)} ({rate}), p50 {percentile(times, 0.5):.1f} ms, "
                   f"max {slowest:.1f} ms, {over} at {REFUSAL_MS:.0f} ms or more")  # fmt: skip
        row(f"{attack_name}: the refusals, {who}", outcome, watch, f"issue: refused in < {REFUSAL_MS:.0f} ms each",
            refused and slowest < REFUSAL_MS)  # fmt: skip


def validation(server: Server, seconds: float, pause: float) -> None:
    for query in NORMAL:  # planned before the clock starts, as a client's usual documents are
        httpx.post(f"{server.url}/graphql", json={"query": query}, timeout=30).raise_for_status()
    # What one refusal costs the server, whatever else runs on the machine: its CPU time over 50 refusals sent one
    # after another with nothing else asking (no prober either).
    found: set[str] = set()
    with httpx.Client(base_url=server.url, timeout=30) as http:
        server.reset_peak()
        quiet = Watch(start=server.rss_mb())
        cpu = server.cpu_seconds()
        for n in range(50):
            found.add(codes(post(http, {"query": ATTACK.format(n=10**12 + os.getpid() * 1000 + n)})))
        cpu = (server.cpu_seconds() - cpu) / 50 * 1000
    logged = access_ms(server, re.compile(r"A\d+"))[-50:]
    outcome = (f"{'; '.join(sorted(found))} x50 in turn: {cpu:.1f} ms of CPU each; its log: p50 "
               f"{percentile(logged, 0.5):.1f} ms, max {percentile(logged, 1.0):.1f} ms")  # fmt: skip
    quiet.peak = server.peak_mb()
    row("2 one refusal at a time: the server's CPU", outcome, quiet, f"issue: < {REFUSAL_MS:.0f} ms each",
        found == {"200 QUERY_TOO_COMPLEX"} and cpu < REFUSAL_MS)  # fmt: skip
    with watching(server) as watch:
        alone = run_roles(server.url, [client], seconds)["client"]
    row("2 reference: the client alone", described(alone)[1], watch, "-", None)
    with watching(server) as watch:
        alone = run_roles(server.url, [attackers], seconds, pause)["attackers"]
    refusals(server, alone, seconds, "2 three attackers alone", watch)
    with watching(server) as watch:
        results = run_roles(server.url, [attackers, client], seconds, pause)
    normal = results["client"]
    refusals(server, results["attackers"], seconds, "2 three attackers and a client", watch)
    p99, outcome = described(normal)
    target = f"issue: p99 < {CLIENT_P99_MS:.0f} ms, no TIMEOUT"
    row("2 three attackers and a client: the client", outcome, watch, target,
        p99 < CLIENT_P99_MS and normal["timeouts"] == 0)  # fmt: skip


def thrash(server: Server, seconds: float, documents: int) -> None:
    with watching(server) as watch:
        rotated = run_roles(server.url, [rotators], seconds, documents)["rotators"]
    rate = rotated["requests"] / rotated["seconds"]
    failed = f", {len(rotated['failed'])} failed ({', '.join(sorted(set(rotated['failed'])))})"
    outcome = f"{rate:.0f} requests/s over {documents} documents{failed if rotated['failed'] else ', all 200 OK'}"
    row("6 plan-cache thrash", outcome, watch, f"issue: /healthz p99 < {THRASH_P99_MS:.0f} ms",
        watch.p99 < THRASH_P99_MS and not rotated["failed"])  # fmt: skip


# --- 3. metrics and logs ------------------------------------------------------------------------------------------


def scrape(http: httpx.Client) -> tuple[httpx.Response, float]:
    started = time.perf_counter()
    response = http.get("/metrics")
    return response, (time.perf_counter() - started) * 1000


def labels(exposition: str) -> set[str]:
    return {
        line.split('operation="', 1)[1].split('"', 1)[0] for line in exposition.splitlines() if 'operation="' in line
    }


def metrics(server: Server) -> None:
    with httpx.Client(base_url=server.url, timeout=30) as http:
        with watching(server) as watch:
            answer = post(http, '{"query": "{ __typename }", "operationName": "\\ud800x"}')
            scraped, _ = scrape(http)
            readable = scraped.status_code == 200 and "diplo_requests_total" in scraped.content.decode("utf-8")
        outcome = f"{codes(answer)}; then /metrics {scraped.status_code}"
        row("3 operationName \\ud800x, then /metrics", outcome, watch, "no 500: a 400, /metrics 200",
            answer.status_code == 400 and readable)  # fmt: skip

        before, _ = scrape(http)
        with watching(server) as watch:
            found: set[str] = set()
            for n in range(400):
                name = f"n{n:04d}" + "x" * 63_995
                found.add(codes(post(http, {"query": "{ __typename }", "operationName": name})))
            scraped, took = scrape(http)
        size, was = len(scraped.content), len(before.content)
        outcome = (f"{'; '.join(sorted(found))} x400; /metrics {scraped.status_code}, {was / 1024:.1f} KB before, "
                   f"{size / 1024:.1f} KB after, scraped in {took:.0f} ms")  # fmt: skip
        row(
            "3 400 operation names of 64,000 chars, then /metrics",
            outcome,
            watch,
            "README: /metrics a few hundred KB at most (< 300 KB)",
            scraped.status_code == 200 and size < 300 * 1024,
        )

        with watching(server) as watch:
            for _ in range(3):  # each name's third request would make it a label
                for n in range(300):
                    post(http, {"query": f"query L{n:03d} {{ __typename }}"})
            scraped, took = scrape(http)
        named = labels(scraped.text) - {"anonymous", "other"}
        outcome = (f"{len(named)} names are labels; /metrics {len(scraped.content) / 1024:.1f} KB, scraped in "
                   f"{took:.0f} ms")  # fmt: skip
        row("3 300 valid names x3, then /metrics", outcome, watch, "README: <= 100 labels, /metrics < 300 KB",
            len(named) <= 100 and len(scraped.content) < 300 * 1024)  # fmt: skip

        forged = "FORGED 0123456789abcdef0123456789abcdef Admin OK 200 0.1 ms 1 bytes"
        with watching(server) as watch:
            answer = post(http, {"query": "query Q { __typename }", "operationName": f"Q\n{forged}"})
            time.sleep(0.2)
        forging = [line for line in server.lines() if line.startswith("FORGED")]
        shown = [line for line in server.lines() if "FORGED" in line]
        outcome = f"{codes(answer)}; {len(forging)} forged log lines (logged as {shown[0][-80:]!r})" if shown else (
            f"{codes(answer)}; not logged")  # fmt: skip
        row("3 a newline in operationName (log forging)", outcome, watch, "no forged line", not forging)


# --- 4. automatic persisted queries -------------------------------------------------------------------------------


def persisted(query: str, with_query: bool = True) -> dict[str, Any]:
    digest = hashlib.sha256(query.encode()).hexdigest()
    body: dict[str, Any] = {"extensions": {"persistedQuery": {"version": 1, "sha256Hash": digest}}}
    if with_query:
        body["query"] = query
    return body


def padded(n: int, chars: int, tag: str = "R") -> str:
    """A distinct document of `chars` characters: cheap to answer, padded with spaces."""
    head = f"query {tag}{n} {{ __typename }}"
    return head + " " * (chars - len(head))


def registrars(url: str, seconds: float, chars: int, tag: str) -> tuple[int, set[str]]:
    """Two clients registering distinct documents of `chars` characters for `seconds`."""
    found: set[str] = set()
    count = [0]
    lock = threading.Lock()
    until = time.time() + seconds

    def register(start: int) -> None:
        with httpx.Client(base_url=url, timeout=30) as http:
            n = start
            while time.time() < until and n < start + 100_000:
                outcome = codes(post(http, persisted(padded(n, chars, tag))))
                n += 1
                with lock:
                    count[0] += 1
                    found.add(outcome)

    threads = [threading.Thread(target=register, args=(i * 100_000,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return count[0], found


def apq(server: Server, seconds: float) -> None:
    for chars, what in ((60_000, "60 KB"), (19_990, "19,990-char (kept)")):
        with watching(server) as watch:
            sent, found = registrars(server.url, seconds, chars, f"R{chars}x")
        outcome = f"{'; '.join(sorted(found))} x{sent} ({sent / seconds:.0f}/s); /healthz p50 {watch.p50:.1f} ms"
        row(f"4 two clients registering {what} documents", outcome, watch, "none (issue: p50, p99)", None)

    with httpx.Client(base_url=server.url, timeout=30) as http:
        for used_by_hash in (False, True):
            tag = "F" if used_by_hash else "O"
            mine = [f"query Mine{tag}{n} {{ meetings(first: 1) {{ nodes {{ key }} }} }}" for n in range(20)]
            for query in mine:  # registered, then used by its hash: what a client's usual documents are
                post(http, persisted(query))
                post(http, persisted(query, with_query=False))
            with watching(server) as watch:
                for n in range(1000 if not used_by_hash else 400):
                    query = padded(n, 19_990, f"Flush{tag}")
                    post(http, persisted(query))
                    if used_by_hash:
                        post(http, persisted(query, with_query=False))
            kept = sum(codes(post(http, persisted(q, with_query=False))) == "200 OK" for q in mine)
            if used_by_hash:
                row("4 flushing: 400 registered and used once by hash", f"{kept}/20 of another client's kept",
                    watch, "none (README: LRU among documents in use)", None)  # fmt: skip
            else:
                row("4 flushing: 1,000 one-off registrations", f"{kept}/20 of another client's kept", watch,
                    "README: 20/20 kept", kept == len(mine))  # fmt: skip


# --- 5. requests that were 500s -----------------------------------------------------------------------------------


def errors_logged(server: Server) -> int:
    return sum(" ERROR " in line or line.startswith("Traceback") for line in server.lines())


def five_hundreds(server: Server, trusted: Server) -> None:
    digest = "0" * 64
    cases: list[tuple[str, Server, Callable[[httpx.Client], httpx.Response], str]] = [
        ('5 {"extensions": {"persistedQuery": null}}', server,
         lambda http: post(http, '{"extensions": {"persistedQuery": null}}'), "400 BAD_USER_INPUT"),
        ("5 a lone surrogate in a query sent with a hash", server,
         lambda http: post(http, '{"query": "{ __typename } # \\ud800", "extensions": {"persistedQuery": '
                                 f'{{"version": 1, "sha256Hash": "{digest}"}}}}}}'), "400 BAD_USER_INPUT"),
        ("5 a lone surrogate in a query, --trusted-documents", trusted,
         lambda http: post(http, '{"query": "{ __typename } # \\ud800"}'), "400 BAD_USER_INPUT"),
        ("5 the same with a hash, --trusted-documents", trusted,
         lambda http: post(http, '{"query": "{ __typename } # \\ud800", "extensions": {"persistedQuery": '
                                 f'{{"version": 1, "sha256Hash": "{digest}"}}}}}}'), "400 BAD_USER_INPUT"),
        ("5 If-None-Match: * on a GET of an invalid query", server,
         lambda http: http.get("/graphql", params={"query": "{ nosuchfield }"}, headers={"If-None-Match": "*"}),
         "200 GRAPHQL_VALIDATION_FAILED"),
    ]  # fmt: skip
    for attack, target_server, send, expected in cases:
        errors = errors_logged(target_server)
        with httpx.Client(base_url=target_server.url, timeout=30) as http, watching(target_server) as watch:
            got = codes(send(http))
        logged = errors_logged(target_server) - errors
        row(attack, f"{got}; {logged} errors logged", watch, f"no 500: {expected}, no error logged",
            got == expected and not logged)  # fmt: skip


# --- 7. the served file locked ------------------------------------------------------------------------------------


@contextmanager
def locked(db: Path) -> Iterator[None]:
    """The write lock on `db`, held by another connection (what a load's commit, or a writer, holds)."""
    conn = sqlite3.connect(db, isolation_level=None)
    try:
        conn.execute("BEGIN EXCLUSIVE")
        yield
        conn.execute("ROLLBACK")
    finally:
        conn.close()


def lock(server: Server, seconds: float) -> None:
    with httpx.Client(base_url=server.url, timeout=30) as http:
        for _ in range(3):
            http.post("/graphql", json={"query": PLANNED}).raise_for_status()  # planned, answered on the loop
        timings: dict[str, list[float]] = {"/readyz": [], "/metrics": []}
        statuses: dict[str, set[str]] = {"/readyz": set(), "/metrics": set()}
        with watching(server) as watch, locked(server.db):
            until = time.monotonic() + seconds
            while time.monotonic() < until:
                for path in timings:
                    started = time.perf_counter()
                    response = http.get(path)
                    timings[path].append(time.perf_counter() - started)
                    unavailable = "unavailable" in response.text
                    statuses[path].add(f"{response.status_code}{' unavailable' if unavailable else ''}")
                time.sleep(0.05)
        outcome = "; ".join(
            f"{path} {', '.join(sorted(statuses[path]))} x{len(t)}, max {percentile(t, 1.0):.0f} ms"
            for path, t in timings.items()
        )
        target = f"/healthz max < {HEALTHZ_MAX_MS:.0f} ms (set here; issue: it was 3.5 s)"
        row("7 /readyz and /metrics, file locked", outcome, watch, target, watch.max < HEALTHZ_MAX_MS)

        requests = {
            "a planned POST": lambda: http.post("/graphql", json={"query": PLANNED}),
            "a GET (not planned)": lambda: http.get("/graphql", params={"query": "{ countries { code } }"}),
            "a new POST": lambda: http.post("/graphql", json={"query": "{ countries { code name } }"}),
        }
        for what, send in requests.items():
            with watching(server) as watch, locked(server.db):
                time.sleep(0.5)
                started = time.perf_counter()
                answer = send()
                took = time.perf_counter() - started
                time.sleep(0.5)
            row(f"7 GraphQL, file locked: {what}", f"{codes(answer)} in {took * 1000:.0f} ms", watch,
                target, watch.max < HEALTHZ_MAX_MS)  # fmt: skip


# --- the table ----------------------------------------------------------------------------------------------------


def ms(value: float) -> str:
    return "-" if value != value else f"{value:.1f} ms"  # NaN: nothing asked /healthz


def table() -> str:
    lines = [
        "| attack | outcome | peak RSS (at start) | /healthz p99 | /healthz max | target | met |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in ROWS:
        met = "-" if r.met is None else ("yes" if r.met else "**no**")
        lines.append(f"| {r.attack} | {r.outcome} | {r.peak:.0f} MB ({r.start:.0f}) | {ms(r.p99)} | {ms(r.max)} "
                     f"| {r.target} | {met} |")  # fmt: skip
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("attacks", nargs="*", type=int, help="which, 1 to 7 (default: all)")
    parser.add_argument("--cache", type=Path, default=Path(tempfile.gettempdir()) / "diplo-hostile",
                        help="where the databases are built once and kept")  # fmt: skip
    parser.add_argument("--meetings", type=int, default=20_000, help="of the synthetic database (10 statements each)")
    parser.add_argument("--db", type=Path, help="serve this database instead of the synthetic one (attack 1 also "
                        "runs against the long-text copy, attack 7 against a copy of this)")  # fmt: skip
    parser.add_argument("--seconds", type=float, default=20.0, help="per timed attack (at most 60)")
    parser.add_argument("--repeats", type=int, default=50, help="of each refused answer (attack 1; at most 200)")
    parser.add_argument("--documents", type=int, default=300, help="rotated through (attack 6; the cache holds 256)")
    parser.add_argument("--attacker-pause", type=float, default=3.0, help="seconds each of attack 2's three "
                        "attackers waits between two requests (3: about 1 request/s in all)")  # fmt: skip
    args = parser.parse_args()
    attacks = set(args.attacks or range(1, 8))
    if not attacks <= set(range(1, 8)):
        parser.error("the attacks are numbered 1 to 7")
    seconds, repeats = min(args.seconds, 60.0), max(10, min(args.repeats, 200))
    db = args.db.resolve() if args.db else synthetic(args.cache, args.meetings)
    long_db = synthetic(args.cache, args.meetings, long_texts=True) if 1 in attacks else None
    started, load_before = time.time(), os.getloadavg()[0]
    with sqlite3.connect(f"{db.as_uri()}?mode=ro", uri=True) as conn:
        statements = conn.execute("SELECT count(*) FROM statements").fetchone()[0]
    with tempfile.TemporaryDirectory() as tmp:
        logs = Path(tmp)
        with Server(db, logs / "server.log") as server:
            print(f"serving {db} at {server.url} (pid {server.pid})", file=sys.stderr)
            if 1 in attacks:
                memory(server, "short texts", repeats)
            if 2 in attacks:
                validation(server, seconds, args.attacker_pause)
            if 3 in attacks:
                metrics(server)
            if 4 in attacks:
                apq(server, seconds / 2)
            if 5 in attacks:
                operations = Path(__file__).resolve().parent.parent / "schema" / "operations"
                with Server(db, logs / "trusted.log", "--trusted-documents", str(operations)) as trusted:
                    five_hundreds(server, trusted)
            if 6 in attacks:
                thrash(server, seconds, args.documents)
        if long_db is not None:
            with Server(long_db, logs / "long.log") as server:
                memory(server, f"texts of {LONG_TEXT_CHARS:,} chars", repeats)
            with Server(db, logs / "plans.log") as server:
                plans_memory(server, 300)
        if 7 in attacks:
            copy = args.cache / f"writable-{db.stem}.db"  # a copy: nothing else reading the served file waits for it
            if not copy.exists():
                shutil.copyfile(db, copy.with_suffix(".partial.db"))
                copy.with_suffix(".partial.db").rename(copy)
            with Server(copy, logs / "locked.log") as server:
                lock(server, min(seconds, 10.0))
    load1, load5, load15 = os.getloadavg()
    print(f"\n{time.strftime('%Y-%m-%d %H:%M')}; {os.cpu_count()} cores; load average {load_before:.2f} at the start, "
          f"{load1:.2f} {load5:.2f} {load15:.2f} at the end; {time.time() - started:.0f} s; {db.name}: "
          f"{statements:,} statements\n")  # fmt: skip
    print(table())
    return 0 if all(r.met is not False for r in ROWS) else 1


if __name__ == "__main__":
    sys.exit(main())

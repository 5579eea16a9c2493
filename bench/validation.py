"""Hostile documents within every parser limit, against `diplo serve` on 127.0.0.1 (one worker), for a bounded time.

- `attack`: three attackers send, each `--attacker-pause` after its last answer, documents repeating
  `delegations { country { code } }` 270 times (each distinct, so none is answered from a cache), while a client
  sends the load test's normal queries at a steady pace. Reports how long each refusal took and the client's p50
  and p99, and counts its TIMEOUTs.
- `thrash`: clients rotate through `--documents` distinct cheap documents (300; the plan cache holds 256), while a
  prober asks `/healthz` every 10 ms. Reports the documents' requests/s and `/healthz`'s p50 and p99.

- `quiet`: the same client alone, for reference.

Each role runs in a process of its own, so the load generator's own GIL does not delay the prober.

    python bench/validation.py --seconds 8 quiet attack thrash
"""

import argparse
import multiprocessing
import os
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from load import NORMAL, free_port

REPEATED = " ".join(["delegations { country { code } }"] * 270)  # the document: 9 KB, 1,899 tokens
ATTACK = "query A{n} {{ meetings {{ nodes {{ " + REPEATED.replace("{", "{{").replace("}", "}}") + " }} }} }}"
CHEAP = "query Q{n} {{ meetings(first: 1) {{ nodes {{ key }} }} }}"
Result = dict[str, Any]


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * share))] * 1000 if ordered else float("nan")


def attackers(url: str, until: float, out: "multiprocessing.Queue[Result]", pause: float) -> None:
    seconds: list[float] = []
    codes: set[str] = set()
    lock = threading.Lock()
    counter = iter(range(10**9))

    def attack() -> None:
        with httpx.Client(base_url=url, timeout=10) as http:
            while time.time() < until:
                query = ATTACK.format(n=next(counter))
                started = time.perf_counter()
                body = http.post("/graphql", json={"query": query}).json()
                with lock:
                    seconds.append(time.perf_counter() - started)
                    codes.update(e["extensions"]["code"] for e in body.get("errors", []))
                time.sleep(pause)

    threads = [threading.Thread(target=attack) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    out.put({"role": "attackers", "seconds": seconds, "codes": sorted(codes)})


def client(url: str, until: float, out: "multiprocessing.Queue[Result]") -> None:
    seconds: list[float] = []
    timeouts = 0
    with httpx.Client(base_url=url, timeout=10) as http:
        while time.time() < until:
            for query in NORMAL:
                started = time.perf_counter()
                body = http.post("/graphql", json={"query": query}).json()
                seconds.append(time.perf_counter() - started)
                timeouts += any(e["extensions"]["code"] == "TIMEOUT" for e in body.get("errors", []))
                time.sleep(0.05)
    out.put({"role": "client", "seconds": seconds, "timeouts": timeouts})


def rotators(url: str, until: float, out: "multiprocessing.Queue[Result]", documents: int) -> None:
    done = [0]
    lock = threading.Lock()

    def rotate(start: int) -> None:
        with httpx.Client(base_url=url, timeout=10) as http:
            n = start
            while time.time() < until:
                http.post("/graphql", json={"query": CHEAP.format(n=n % documents)}).raise_for_status()
                n += 1
                with lock:
                    done[0] += 1

    threads = [threading.Thread(target=rotate, args=(documents // 4 * i,)) for i in range(4)]
    started = time.time()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    out.put({"role": "rotators", "requests": done[0], "seconds": time.time() - started, "documents": documents})


def prober(url: str, until: float, out: "multiprocessing.Queue[Result]") -> None:
    seconds: list[float] = []
    with httpx.Client(base_url=url, timeout=10) as http:
        while time.time() < until:
            started = time.perf_counter()
            http.get("/healthz").raise_for_status()
            seconds.append(time.perf_counter() - started)
            time.sleep(0.01)
    out.put({"role": "prober", "seconds": seconds})


def run(url: str, roles: list[Callable[..., None]], seconds: float, *extra: Any) -> dict[str, Result]:
    """Each role in a process of its own until `seconds` from now (the first role gets the `extra` arguments)."""
    out: multiprocessing.Queue[Result] = multiprocessing.Queue()
    until = time.time() + seconds
    processes = [
        multiprocessing.Process(target=role, args=(url, until, out, *(extra if i == 0 else ())))
        for i, role in enumerate(roles)
    ]
    for process in processes:
        process.start()
    results = {result["role"]: result for result in (out.get(timeout=seconds + 30) for _ in processes)}
    for process in processes:
        process.join()
    return results


def report_client(label: str, normal: Result) -> None:
    answers = normal["seconds"]
    print(
        f"{label} client: {len(answers)} requests, p50 {percentile(answers, 0.5):.1f} ms, "
        f"p99 {percentile(answers, 0.99):.1f} ms, {normal['timeouts']} TIMEOUT"
    )


def report_attack(results: dict[str, Result]) -> None:
    attack = results["attackers"]
    refusals = attack["seconds"]
    print(
        f"attack: {len(refusals)} answers ({', '.join(attack['codes']) or 'no error'}), "
        f"p50 {percentile(refusals, 0.5):.1f} ms, max {percentile(refusals, 1.0):.1f} ms"
    )
    report_client("attacked", results["client"])


def report_thrash(results: dict[str, Result]) -> None:
    rotated, probes = results["rotators"], results["prober"]["seconds"]
    print(
        f"thrash: {rotated['requests'] / rotated['seconds']:.0f} requests/s over {rotated['documents']} documents; "
        f"/healthz p50 {percentile(probes, 0.5):.1f} ms, p99 {percentile(probes, 0.99):.1f} ms ({len(probes)} probes)"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("scenarios", nargs="+", choices=["quiet", "attack", "thrash"])
    parser.add_argument("--db", type=Path, help="database to serve (default: the bundled seeds)")
    parser.add_argument("--seconds", type=float, default=8.0, help="per scenario (at most 20)")
    parser.add_argument("--documents", type=int, default=300, help="documents the thrash rotates through (200 fit)")
    parser.add_argument("--attacker-pause", type=float, default=3.0, help="seconds each attacker waits between two "
                        "requests (3: the issue's 1 request/s in all; 0: back to back)")  # fmt: skip
    args = parser.parse_args()
    seconds = min(args.seconds, 20.0)
    port = free_port()
    with tempfile.TemporaryDirectory() as cache:
        command = [sys.executable, "-m", "diplo", "serve", "--port", str(port), "--no-graphiql"]
        if args.db:
            command += ["--db", str(args.db)]
        env = os.environ | {"XDG_CACHE_HOME": cache}
        server = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        url = f"http://127.0.0.1:{port}"
        try:
            for _ in range(600):
                try:
                    if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                        break
                except httpx.TransportError:
                    time.sleep(0.1)
            for query in NORMAL:  # planned before the clock starts, as a client's usual documents are
                httpx.post(f"{url}/graphql", json={"query": query}, timeout=10).raise_for_status()
            for scenario in args.scenarios:
                if scenario == "quiet":
                    report_client("quiet", run(url, [client], seconds)["client"])
                elif scenario == "attack":
                    report_attack(run(url, [attackers, client], seconds, args.attacker_pause))
                else:
                    report_thrash(run(url, [rotators, prober], seconds, args.documents))
        finally:
            server.terminate()
            server.wait(timeout=10)
    return 0


if __name__ == "__main__":
    sys.exit(main())

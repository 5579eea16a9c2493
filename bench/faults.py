"""Fault injection, many trials: `diplo load` killed (SIGKILL, SIGTERM) at random points of first and repeated
loads, and first loads racing. Every outcome must be the database as it was or complete, never anything else, and
`PRAGMA integrity_check` must say ok; leftovers of killed loads must be gone after the next load.

    python bench/faults.py                 # 40 trials per case (about 5 minutes on 2 cores)
    python bench/faults.py --trials 5      # a quick run

Prints a table (the README shows the latest) and exits 1 on any bad outcome. The test suite runs a few trials of
each case (tests/test_faults.py).
"""

import argparse
import hashlib
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

DIPLO = [sys.executable, "-m", "diplo"]


def content(db: Path) -> str:
    """A digest of every table's rows, sorted (rowids aside): equal content, equal digest."""
    conn = sqlite3.connect(db)
    try:
        tables = [t for (t,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'") if "fts" not in t]
        digest = hashlib.sha256()
        for table in sorted(tables):
            digest.update(repr(sorted(conn.execute(f"SELECT * FROM {table}"), key=repr)).encode())
        return digest.hexdigest()
    finally:
        conn.close()


def integrity(db: Path) -> bool:
    conn = sqlite3.connect(db)
    try:
        return bool(conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok")
    finally:
        conn.close()


def leftovers(directory: Path) -> list[Path]:
    return [p for p in directory.iterdir() if ".diplo-" in p.name]


def kill_during(command: list[str], sig: int, delay: float) -> str:
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    time.sleep(delay)
    process.send_signal(sig)
    _, stderr = process.communicate(timeout=120)
    return stderr


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--trials", type=int, default=40)
    parser.add_argument("--meetings", type=int, default=400)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from diplo.ingest.synth import write_synthetic

    rng = random.Random(args.seed)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        write_synthetic(root / "first", args.meetings, 6, seed=1)
        (root / "second").mkdir()
        for path in (root / "first").iterdir():  # other sources, other meetings and statements
            text = path.read_text(encoding="utf-8")
            for old, new in (("synthetic-", "second-"), ('"meeting-', '"second-meeting-'), ("statement-", "s2-")):
                text = text.replace(old, new)
            (root / "second" / path.name.replace("synthetic-", "second-")).write_text(text, encoding="utf-8")
        started = time.perf_counter()
        subprocess.run([*DIPLO, "load", root / "first", "--db", root / "first.db"], check=True, capture_output=True)
        load_seconds = time.perf_counter() - started
        subprocess.run([*DIPLO, "load", root / "first", root / "second", "--db", root / "both.db"], check=True,
                       capture_output=True)  # fmt: skip
        first, both = content(root / "first.db"), content(root / "both.db")
        rows: list[tuple[str, Counter[str]]] = []
        bad = 0
        for name, sig in (("SIGKILL", signal.SIGKILL), ("SIGTERM", signal.SIGTERM)):
            outcomes: Counter[str] = Counter()
            work = root / f"first-{name}"
            work.mkdir()
            for _ in range(args.trials):  # first loads
                db = work / "new.db"
                stderr = kill_during([*DIPLO, "load", root / "first", "--db", db], sig, rng.uniform(0, load_seconds))
                outcome = "no database" if not db.exists() else "complete" if content(db) == first else "BAD"
                outcome = "BAD (traceback)" if "Traceback" in stderr else outcome
                if db.exists() and not integrity(db):
                    outcome = "BAD (integrity)"
                outcomes[outcome] += 1
                db.unlink(missing_ok=True)
            subprocess.run([*DIPLO, "load", root / "first", "--db", work / "new.db"], check=True, capture_output=True)
            outcomes["leftovers after the next load"] = len(leftovers(work))
            rows.append((f"first load, {name} at a random point", outcomes))
            outcomes = Counter()
            for _ in range(args.trials):  # a second source loaded into an existing database
                db = work / "d.db"
                shutil.copy(root / "first.db", db)
                stderr = kill_during([*DIPLO, "load", root / "second", "--db", db], sig, rng.uniform(0, load_seconds))
                found = content(db)
                outcome = "as it was" if found == first else "complete" if found == both else "BAD"
                outcome = "BAD (traceback)" if "Traceback" in stderr else outcome
                outcomes[outcome if integrity(db) else "BAD (integrity)"] += 1
                for extra in (work / "d.db-wal", work / "d.db-shm"):
                    extra.unlink(missing_ok=True)
            rows.append((f"load into an existing database, {name} at a random point", outcomes))
        outcomes = Counter()
        for trial in range(args.trials):  # two first loads racing for one path
            db = root / f"race-{trial}.db"
            racers = [subprocess.Popen([*DIPLO, "load", root / name, "--db", db], stdout=subprocess.DEVNULL,
                                       stderr=subprocess.PIPE, text=True) for name in ("first", "second")]  # fmt: skip
            codes = [(racer.communicate(timeout=300)[1], racer.returncode) for racer in racers]
            ok = all(code == 0 for _, code in codes) and db.exists() and content(db) == both and integrity(db)
            outcomes["both loaded" if ok else "BAD"] += 1
            db.unlink(missing_ok=True)
        outcomes["leftovers"] = len(leftovers(root))
        rows.append(("two first loads racing for one new file", outcomes))
    print(f"{args.trials} trials per case; {args.meetings} meetings a dataset; a load takes {load_seconds:.1f} s")
    print("| case | outcomes |")
    print("|---|---|")
    for case, counts in rows:
        bad += sum(n for outcome, n in counts.items() if outcome.startswith(("BAD", "leftovers")))
        print(f"| {case} | {', '.join(f'{outcome}: {n}' for outcome, n in sorted(counts.items()))} |")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())

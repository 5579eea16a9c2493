"""Loads under faults: killed, interrupted, racing, on a full disk, locked out, read-only or damaged, a load
leaves the database as it was or complete, says what happened, and never shows a traceback.

Each case runs `diplo load` as a separate process, as a user would; `bench/faults.py` runs the same cases many
times over and reports the figures in the README.
"""

import os
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import pages, tmpfs
from diplo import store
from diplo.ingest.rules import SeedErrors
from diplo.ingest.session import load_seeds
from diplo.ingest.synth import write_synthetic
from hypothesis import given, settings
from hypothesis import strategies as st
from strategies import Files, canonical, datasets, write_files

DIPLO = [sys.executable, "-m", "diplo"]


def diplo(*args: str | Path, **kwargs: Any) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*DIPLO, *map(str, args)], capture_output=True, text=True, check=False, **kwargs)


def integrity(db: Path) -> str:
    with sqlite3.connect(db) as conn:
        return str(conn.execute("PRAGMA integrity_check").fetchone()[0])


def leftovers(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir() if ".diplo-" in p.name)


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Two synthetic datasets (a load of either takes about a second) and the databases they give."""
    root = tmp_path_factory.mktemp("corpus")
    write_synthetic(root / "first", meetings=400, statements_per_meeting=6, seed=1)
    _renamed_copy(root / "first", root / "second")
    load_seeds(root / "first.db", [root / "first"])
    load_seeds(root / "both.db", [root / "first", root / "second"])
    return {"root": root, "first": canonical(root / "first.db"), "both": canonical(root / "both.db")}


def _renamed_copy(source: Path, target: Path) -> None:
    """Other sources reporting other meetings and statements (the persons, topics and organizations agree)."""
    target.mkdir()
    for path in source.iterdir():
        text = path.read_text(encoding="utf-8")
        for old, new in (("synthetic-", "second-"), ('"meeting-', '"second-meeting-'), ("statement-", "second-s-")):
            text = text.replace(old, new)
        (target / path.name.replace("synthetic-", "second-")).write_text(text, encoding="utf-8")


def _kill_during(command: list[str], sig: int, delay: float) -> int:
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    time.sleep(delay)
    process.send_signal(sig)
    _, stderr = process.communicate(timeout=60)
    assert "Traceback" not in stderr, stderr
    return process.returncode


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM])
def test_a_killed_first_load_leaves_no_database_or_a_complete_one(
    corpus: dict[str, Any], tmp_path: Path, sig: int
) -> None:
    rng = random.Random(sig)
    for _ in range(3):
        db = tmp_path / "new.db"
        code = _kill_during([*DIPLO, "load", corpus["root"] / "first", "--db", db], sig, rng.uniform(0.3, 1.5))
        if db.exists():
            assert integrity(db) == "ok"
            assert canonical(db) == corpus["first"]
            db.unlink()
        else:
            assert code != 0
            if sig == signal.SIGTERM:  # it unwinds (or it had not started yet): nothing is left behind
                assert code in (130, -signal.SIGTERM)
                assert leftovers(tmp_path) == []
    # What a kill -9 left (a temporary folder named after the target) goes with the next load of that path.
    assert diplo("load", corpus["root"] / "first", "--db", db).returncode == 0
    assert leftovers(tmp_path) == []


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM])
def test_a_killed_load_leaves_the_database_as_it_was_or_complete(
    corpus: dict[str, Any], tmp_path: Path, sig: int
) -> None:
    db = tmp_path / "d.db"
    shutil.copy(corpus["root"] / "first.db", db)
    before = pages(db)
    rng = random.Random(sig + 1)
    for _ in range(3):
        _kill_during([*DIPLO, "load", corpus["root"] / "second", "--db", db], sig, rng.uniform(0.3, 1.5))
        assert integrity(db) == "ok"
        now = canonical(db)
        assert now in (corpus["first"], corpus["both"])
        if now == corpus["both"]:
            shutil.copy(corpus["root"] / "first.db", db)
            for wal in (tmp_path / "d.db-wal", tmp_path / "d.db-shm"):
                wal.unlink(missing_ok=True)
        elif sig == signal.SIGTERM:
            assert pages(db) == before


def test_racing_first_loads_keep_both(corpus: dict[str, Any], tmp_path: Path) -> None:
    for trial in range(2):
        db = tmp_path / f"race-{trial}.db"
        racers = [
            subprocess.Popen([*DIPLO, "load", corpus["root"] / name, "--db", db], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
            for name in ("first", "second")
        ]  # fmt: skip
        results = [(racer.communicate(timeout=120)[1], racer.returncode) for racer in racers]
        assert [code for _, code in results] == [0, 0], results
        assert canonical(db) == corpus["both"]
        assert integrity(db) == "ok"
    # Racing on an existing database: one waits for the other, and each is validated against what it holds.
    db = tmp_path / "existing.db"
    shutil.copy(corpus["root"] / "first.db", db)
    racers = [
        subprocess.Popen([*DIPLO, "load", corpus["root"] / name, "--db", db], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
        for name in ("second", "first")
    ]  # fmt: skip
    assert [(racer.communicate(timeout=120), racer.returncode)[1] for racer in racers] == [0, 0]
    assert canonical(db) == corpus["both"]
    assert leftovers(tmp_path) == []


def test_a_load_waits_for_another_then_gives_up_with_a_message(corpus: dict[str, Any], tmp_path: Path) -> None:
    db = tmp_path / "d.db"
    shutil.copy(corpus["root"] / "first.db", db)
    holder = sqlite3.connect(db)
    holder.execute("BEGIN IMMEDIATE")
    try:
        started = time.perf_counter()
        result = diplo("load", corpus["root"] / "second", "--db", db, "--wait", "0.5")
        assert time.perf_counter() - started < 30
    finally:
        holder.rollback()
        holder.close()
    assert result.returncode == 3
    assert "another load is writing to it (database is locked); gave up after waiting 0.5 s" in result.stderr
    assert canonical(db) == corpus["first"]


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 2 MB file system of its own (a tmpfs; root only): a load can run out of space, or find it read-only."""
    with tmpfs(tmp_path / "small", "2m") as mount:
        yield mount


def test_a_full_disk_is_a_message_and_changes_nothing(corpus: dict[str, Any], small_disk: Path) -> None:
    # A first load that does not fit: a message, and no database.
    result = diplo("load", corpus["root"] / "first", "--db", small_disk / "new.db")
    assert result.returncode == 3, result.stderr
    assert "the disk is full" in result.stderr
    assert "Traceback" not in result.stderr
    assert sorted(p.name for p in small_disk.iterdir()) == []
    # A load into a database that fits, on a disk then filled up: the database stays as it was.
    seeds = small_disk.parent / "seeds"
    write_synthetic(seeds, meetings=20, statements_per_meeting=2, seed=3)
    assert diplo("load", seeds, "--db", small_disk / "d.db").returncode == 0
    filler = small_disk / "filler"
    with open(filler, "wb") as out, pytest.raises(OSError, match="No space left"):  # noqa: PT012
        while True:
            out.write(b"\0" * 65536)
            out.flush()
    before = pages(small_disk / "d.db")
    result = diplo("load", corpus["root"] / "second", "--db", small_disk / "d.db")
    assert result.returncode == 3, result.stderr
    assert "the disk is full" in result.stderr
    assert pages(small_disk / "d.db") == before
    # An export that does not fit leaves nothing half-written.
    result = diplo("export", "--db", corpus["root"] / "first.db", small_disk / "exported")
    assert result.returncode == 3, result.stderr
    assert "the disk is full" in result.stderr
    assert not (small_disk / "exported").exists()
    assert [p.name for p in small_disk.iterdir() if "export" in p.name] == []


def test_a_read_only_database_is_a_message(corpus: dict[str, Any], small_disk: Path) -> None:
    db = small_disk / "d.db"
    write_synthetic(small_disk.parent / "seeds", meetings=20, statements_per_meeting=2, seed=3)
    assert diplo("load", small_disk.parent / "seeds", "--db", db).returncode == 0
    before = pages(db)
    # Read-only as replicas get it: a read-only mount, which not even root can write to.
    assert subprocess.run(["mount", "-o", "remount,ro", str(small_disk)], check=False).returncode == 0
    result = diplo("load", corpus["root"] / "second", "--db", db)
    assert result.returncode == 3, result.stderr
    assert "read-only" in result.stderr
    assert "Traceback" not in result.stderr
    assert pages(db) == before
    result = diplo("load", corpus["root"] / "second", "--db", small_disk / "new.db")
    assert result.returncode == 3, result.stderr
    assert "read-only" in result.stderr


def test_a_damaged_database_is_a_message(corpus: dict[str, Any], tmp_path: Path) -> None:
    dropped = tmp_path / "dropped.db"
    shutil.copy(corpus["root"] / "first.db", dropped)
    with sqlite3.connect(dropped) as conn:
        conn.execute("DROP TABLE topic_reports")
    result = diplo("load", corpus["root"] / "second", "--db", dropped)
    assert result.returncode == 3
    assert "the database is damaged; rebuild it from its seeds" in result.stderr
    check = diplo("check", dropped)
    assert check.returncode == 3
    assert "table topic_reports: missing" in check.stdout
    corrupted = tmp_path / "corrupted.db"
    shutil.copy(corpus["root"] / "first.db", corrupted)
    data = bytearray(corrupted.read_bytes())
    page = 4096
    for start in range(8 * page, len(data) - page, 7 * page):  # every seventh page from the eighth on
        data[start + 100 : start + 600] = os.urandom(500)
    corrupted.write_bytes(bytes(data))
    for args in (["load", corpus["root"] / "second", "--db", corrupted], ["check", corrupted]):
        result = diplo(*args)
        assert result.returncode == 3, (args, result.stdout, result.stderr)
        assert "Traceback" not in result.stderr
    assert diplo("check", corpus["root"] / "first.db").returncode == 0


def test_a_load_interrupted_while_merging_leaves_the_file_whole(
    corpus: dict[str, Any], tmp_path: Path, monkeypatch: Any
) -> None:
    """Interrupted in the end's merge (every statement merged again: each source's publication time moved), the
    load rolls back and still folds the file back out of WAL mode: no statement is left reading."""
    from diplo.ingest import session

    db = tmp_path / "d.db"
    shutil.copy(corpus["root"] / "first.db", db)
    moved = tmp_path / "moved"
    moved.mkdir()
    for path in (corpus["root"] / "first").iterdir():
        text = path.read_text(encoding="utf-8").replace(':00+00:00"', ':01+00:00"')
        (moved / path.name).write_text(text, encoding="utf-8")
    merged: list[int] = []
    original = session._Load._merge_keys

    def interrupted(self: Any, kind: str, keys: Any, reports: Any = None) -> None:
        if reports is None and kind == "statements":
            merged.append(len(keys))
            if len(merged) == 2:
                raise KeyboardInterrupt
        original(self, kind, keys, reports)

    monkeypatch.setattr(session._Load, "_merge_keys", interrupted)
    before = pages(db)
    with pytest.raises(KeyboardInterrupt):
        load_seeds(db, [moved])
    assert merged == [store.CHUNK, store.CHUNK]  # stopped with more statements still to merge
    assert pages(db) == before
    assert not (tmp_path / "d.db-wal").exists()


def test_a_reference_the_rules_miss_is_refused_by_the_database(tmp_path: Path, monkeypatch: Any) -> None:
    """The database keeps its foreign keys, a new one built fast too (made without them, then checked in one
    pass): with the rules between records switched off, a statement by an unknown speaker is still refused, and
    nothing is written."""
    from diplo.ingest import crosscheck

    monkeypatch.setattr(crosscheck, "check", lambda *args: [])
    article = Path(__file__).resolve().parent.parent / "seeds" / "koran-jakarta-2025-03-01-as-russia.yaml"
    wrong = tmp_path / "wrong.yaml"
    wrong.write_text(article.read_text(encoding="utf-8").replace("speaker: dmitry-peskov", "speaker: nobody"))
    assert "speaker: nobody" in wrong.read_text(encoding="utf-8")
    with pytest.raises(store.StoreError, match="FOREIGN KEY constraint failed"):
        load_seeds(tmp_path / "new.db", [wrong])  # a new database: checked in one pass before it is published
    assert not (tmp_path / "new.db").exists()
    load_seeds(tmp_path / "existing.db", [article])
    before = pages(tmp_path / "existing.db")
    with pytest.raises(store.StoreError, match="FOREIGN KEY constraint failed"):
        load_seeds(tmp_path / "existing.db", [wrong])  # an existing one: checked at its commit
    assert pages(tmp_path / "existing.db") == before


# --- any sequence of loads, some failing: the database is what the successful ones made ---------------------


def _failing_at(fault: int) -> Any:
    """`store.replace_rows` that raises on its `fault`-th call (never, for 0) and works otherwise."""
    original = store.replace_rows
    calls: list[int] = []

    def failing(*args: Any, **kwargs: Any) -> Any:
        calls.append(1)
        if len(calls) == fault:
            raise RuntimeError("injected fault")
        return original(*args, **kwargs)

    return failing


@settings(max_examples=15)
@given(datasets(max_meetings=3, max_statements=4), st.lists(st.integers(0, 30), min_size=1, max_size=4))
def test_failed_loads_leave_what_the_successful_ones_made(files: Files, faults: list[int]) -> None:
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        paths = sorted(write_files(root / "seeds", files))
        succeeded: list[Path] = []
        for step, fault in enumerate(faults):
            path = paths[step % len(paths)]
            with pytest.MonkeyPatch.context() as patch:
                patch.setattr(store, "replace_rows", _failing_at(fault))
                try:
                    load_seeds(root / "d.db", [path])
                    succeeded.append(path)
                except (RuntimeError, SeedErrors):
                    pass
        for path in succeeded:
            try:
                load_seeds(root / "reference.db", [path])
            except SeedErrors:  # refused here too: the same files in the same order
                pytest.fail(f"{path} loaded under faults but not without them")
        if succeeded:
            assert canonical(root / "d.db") == canonical(root / "reference.db")
        else:
            assert not (root / "d.db").exists()
        assert leftovers(root) == []

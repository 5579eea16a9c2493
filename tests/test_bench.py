"""The synthetic data and the benchmark harness, at a small scale (correctness, not timing)."""

import contextlib
import dataclasses
import json
import sqlite3
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from diplo.graphql.schema import build_schema
from diplo.ingest.session import validate_seeds
from diplo.ingest.synth import synthesize, write_synthetic

BENCH = Path(__file__).resolve().parent.parent / "bench" / "run.py"
sys.path.insert(0, str(BENCH.parent))
import relations  # noqa: E402


def test_synthetic_data_is_valid_and_deterministic(tmp_path: Path) -> None:
    statements = write_synthetic(tmp_path / "a", meetings=250, statements_per_meeting=4, seed=7)
    assert statements == 1000
    result = validate_seeds([tmp_path / "a"])  # every rule, record and cross-record
    assert result.changes["added"]["meetings"].count == 250
    files = [json.loads(path.read_text()) for path in sorted((tmp_path / "a").iterdir())]
    meetings = [m for f in files for m in f.get("meetings", []) if "title" in m and "again" not in m["title"]]
    assert len(meetings) == 250
    assert any("follows" in m for m in meetings)
    assert any(m.get("round", 0) > 1 for m in meetings)
    assert {len(m["delegations"]) for m in meetings} <= set(range(2, 7))
    again = [m for f in files for m in f.get("meetings", []) if "again" in m["title"]]
    assert again  # some meetings are reported by two sources, and merge
    write_synthetic(tmp_path / "b", meetings=250, statements_per_meeting=4, seed=7)
    for path in (tmp_path / "a").iterdir():
        assert path.read_bytes() == (tmp_path / "b" / path.name).read_bytes()
    assert list(synthesize(20, seed=1)) != list(synthesize(20, seed=2))


def test_benchmark_smoke_run(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, str(BENCH), "--smoke", "--out", str(tmp_path)],
        capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    assert "| nested query, 1 worker: requests/s |" in result.stdout
    results = json.loads((tmp_path / "results.json").read_text())
    assert results["synth"]["statements"] == 3000
    assert results["load"]["records"] > 3000
    assert results["sql_per_request"]["diplo"] <= 8  # bounded by the nested query's shape
    assert results["diplo_1"]["rps"] > 0
    assert results["floor"]["rps"] > 0


# --- bench/relations.py: every relation against its hand-written SQL ------------------------------------------------

RELATIONS = BENCH.parent / "relations.py"


def test_every_relations_hand_written_sql_answers_as_the_compiled(article_db: Path) -> None:
    result = subprocess.run(
        [sys.executable, str(RELATIONS), "--db", str(article_db), "--check"],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip() == (
        f"{len(list(relations.relations()))} relations: the compiled and the hand-written SQL answer the same"
    )


def test_a_file_that_is_not_a_diplo_database_is_refused_plainly(tmp_path: Path) -> None:
    empty = tmp_path / "empty.db"
    sqlite3.connect(empty).close()
    result = subprocess.run(
        [sys.executable, str(RELATIONS), "--db", str(empty), "--check"],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert (result.returncode, result.stderr) == (2, f"FAILED: {empty} is not a database built by diplo load\n")


def test_a_relation_without_hand_written_sql_is_found(monkeypatch: pytest.MonkeyPatch) -> None:
    assert relations.missing() == []
    without = {name: sql for name, sql in relations.HAND_WRITTEN.items() if name != "Person.delegations"}
    monkeypatch.setattr(relations, "HAND_WRITTEN", {**without, "Person.friends": "NULL"})
    assert relations.missing() == [
        "Person.delegations: no hand-written SQL in bench/relations.py",
        "Person.friends: hand-written, not a declared relation",
    ]


def test_a_hand_written_statement_that_answers_differently_is_found(article_db: Path) -> None:
    case = next(c for c in relations.cases() if c.name == "Meeting.topics")
    sql, params = relations.compiled(build_schema()._schema, case.query)
    conn = sqlite3.connect(article_db)
    try:
        assert relations.check(conn, case, sql, params) is None
        backwards = case.hand_written.replace("ORDER BY x.position", "ORDER BY x.position DESC")
        found = relations.check(conn, dataclasses.replace(case, hand_written=backwards), sql, params)
        assert str(found).startswith("Meeting.topics: the hand-written SQL answers differently")
    finally:
        conn.close()


# --- bench/peer.py: PostGraphile beside Diplo ----------------------------------------------------------------------

PEER = BENCH.parent / "peer.py"


def _peer_tools_missing() -> str | None:
    import peer

    try:
        peer.pg_bin()
        peer.node_binary()
    except peer.Missing as missing:
        return str(missing)
    if not (peer.PROJECT / "node_modules" / "postgraphile").is_dir():
        return "PostGraphile is not installed: cd bench/peer && npm ci"
    return None


def _leftovers() -> set[str]:
    """Clusters of bench/peer.py on disk or running: their temporary folders, and the processes that name them."""
    found = {str(p) for p in Path(tempfile.gettempdir()).glob("diplo-peer-*")}
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        with contextlib.suppress(OSError):
            if b"diplo-peer-" in cmdline.read_bytes():
                found.add(cmdline.parent.name)
    return found


@pytest.fixture
def peer_tools() -> None:
    reason = _peer_tools_missing()
    if reason is not None:
        pytest.skip(reason)


@pytest.mark.usefixtures("peer_tools")
def test_postgraphile_answers_every_shape_as_diplo_and_leaves_nothing_behind(article_db: Path) -> None:
    before = _leftovers()
    result = subprocess.run(
        [sys.executable, str(PEER), "--db", str(article_db), "--check"],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip() == "4 shapes: Diplo, PostGraphile and the floor answer the same"
    assert _leftovers() - before == set()


@pytest.mark.usefixtures("peer_tools")
def test_a_failed_copy_is_reported_and_the_cluster_removed(tmp_path: Path) -> None:
    empty = tmp_path / "empty.db"
    sqlite3.connect(empty).close()
    before = _leftovers()
    result = subprocess.run(
        [sys.executable, str(PEER), "--db", str(empty), "--check"],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert result.returncode == 1
    assert result.stderr == f"FAILED: {empty} has no table sources: not a database built by diplo load\n"
    assert _leftovers() - before == set()

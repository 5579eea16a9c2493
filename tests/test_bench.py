"""The synthetic data and the benchmark harness, at a small scale (correctness, not timing)."""

import dataclasses
import json
import sqlite3
import subprocess
import sys
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

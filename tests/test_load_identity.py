"""What a load leaves of a database file it does not change: a load that changes nothing, and one refused by a file's
own rules (syntax, schema, record rules, rules within the file), leave it byte for byte as it was, its modification
time too; one refused by the rules between records, found inside its transaction, leaves every page as it was but
for the two header counters the README's Faults names."""

import hashlib
import json
import os
import shutil
import sqlite3
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner
from conftest import SEEDS
from diplo.cli import cli
from diplo.ingest import prepare
from diplo.ingest.rules import SeedErrors
from diplo.ingest.session import load_seeds, validate_seeds
from diplo.ingest.synth import write_synthetic

# The change counter (24-27) and the version-valid-for number (92-95): a load that writes moves them when it
# switches the file to WAL and back, and a rolled-back load writes too.
HEADER_COUNTERS = frozenset([*range(24, 28), *range(92, 96)])
LONG_AGO = 1_000_000_000 * 10**9  # an mtime no write could leave


def state(db: Path) -> tuple[str, int, list[str]]:
    """The file's content, its modification time, and what lies beside it (no journal, WAL or temporary folder)."""
    return (hashlib.sha256(db.read_bytes()).hexdigest(), db.stat().st_mtime_ns,
            sorted(p.name for p in db.parent.iterdir() if p.name != "seeds"))  # fmt: skip


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Seed files (the bundled article and four synthetic sources) and a database loaded from them."""
    root = tmp_path_factory.mktemp("built")
    write_synthetic(root / "seeds", 40, 5)
    shutil.copy(next(SEEDS.glob("*.yaml")), root / "seeds")
    load_seeds(root / "d.db", [root / "seeds"])
    return root


@pytest.fixture
def here(built: Path, tmp_path: Path) -> Path:
    """A copy of the seeds and the database, dated long ago."""
    shutil.copytree(built / "seeds", tmp_path / "seeds")
    shutil.copy(built / "d.db", tmp_path / "d.db")
    os.utime(tmp_path / "d.db", ns=(LONG_AGO, LONG_AGO))
    return tmp_path


def test_a_load_that_changes_nothing_leaves_the_file_byte_for_byte(here: Path) -> None:
    db, before = here / "d.db", state(here / "d.db")
    result = CliRunner().invoke(cli, ["load", str(here / "seeds"), "--db", str(db)])
    assert result.exit_code == 0, result.output
    # After the notices of dates that are not a day; then each file's evidence.
    assert f"{db}: 0 added, 0 changed, 0 removed" in result.output.splitlines()
    for args in (["load", "--dry-run"], ["validate"]):
        assert CliRunner().invoke(cli, [*args, str(here / "seeds"), "--db", str(db)]).exit_code == 0
    again = load_seeds(db, [here / "seeds"])
    assert (again.files, again.added, again.changed, again.removed, again.written) == (6, 0, 0, 0, False)
    assert state(db) == before


def test_a_file_spelled_differently_with_the_same_content_changes_nothing(here: Path) -> None:
    """The digest is of what a file says, not of its text: JSON rewritten as YAML, keys in another order."""
    db, before = here / "d.db", state(here / "d.db")
    for path in sorted((here / "seeds").glob("*.json"))[:2]:
        content = json.loads(path.read_text())
        reordered = {key: content[key] for key in reversed(list(content))}
        path.with_suffix(".yaml").write_text(yaml.safe_dump(reordered, allow_unicode=True, sort_keys=False))
        path.unlink()
    assert not load_seeds(db, [here / "seeds"]).written
    assert state(db) == before


def _edit(path: Path, change: Callable[[dict[str, Any]], None]) -> None:
    content = json.loads(path.read_text())
    change(content)
    path.write_text(json.dumps(content))


def _first_statement(change: Callable[[dict[str, Any]], None]) -> Callable[[dict[str, Any]], None]:
    return lambda content: change(content["statements"][0])


REFUSALS: dict[str, tuple[str, Callable[[Path], None]]] = {
    "syntax": ("seed.syntax", lambda p: p.write_text(p.read_text()[:-1])),
    "schema": ("seed.schema", lambda p: _edit(p, lambda c: c.update(statement=[]))),
    "record rule": ("key.format", lambda p: _edit(p, _first_statement(lambda s: s.update(key="Not A Key")))),
    "rule within the file": (
        "statement.date_order",
        lambda p: _edit(p, _first_statement(lambda s: s.update(date="2099-01-01"))),
    ),
}


@pytest.mark.parametrize("rule", REFUSALS)
def test_a_load_refused_by_a_files_own_rules_leaves_the_file_byte_for_byte(here: Path, rule: str) -> None:
    code, breaking = REFUSALS[rule]
    _edit(here / "seeds" / "synthetic-source-1.json", _first_statement(lambda s: s.update(text=s["text"] + " Now.")))
    breaking(here / "seeds" / "synthetic-source-2.json")  # another file than the one that changes
    db, before = here / "d.db", state(here / "d.db")
    with pytest.raises(SeedErrors) as raised:
        load_seeds(db, [here / "seeds"])
    assert {error.code for error in raised.value.errors} == {code}
    assert state(db) == before
    with pytest.raises(SeedErrors):  # nor is a new database created
        load_seeds(here / "new.db", [here / "seeds"])
    assert state(db) == before


def test_a_load_refused_by_the_rules_between_records_leaves_every_page(here: Path) -> None:
    """Found in the load's transaction, after its files are written: rolled back, only the counters moved."""
    _edit(here / "seeds" / "synthetic-source-1.json", _first_statement(lambda s: s.update(speaker="nobody-known")))
    _edit(here / "seeds" / "synthetic-source-3.json", _first_statement(lambda s: s.update(text=s["text"] + " Now.")))
    db = here / "d.db"
    before = db.read_bytes()
    with pytest.raises(SeedErrors) as raised:
        load_seeds(db, [here / "seeds"])
    assert [error.code for error in raised.value.errors] == ["ref.unknown"]
    after = db.read_bytes()
    assert len(after) == len(before)
    assert {i for i, (a, b) in enumerate(zip(before, after, strict=True)) if a != b} <= HEADER_COUNTERS
    assert sorted(p.name for p in here.iterdir()) == ["d.db", "seeds"]


def test_validation_and_dry_runs_still_report_every_mistake_at_once(here: Path) -> None:
    """A load stops at the files' own rules; checking goes on to the rules between records, in one pass."""
    _edit(here / "seeds" / "synthetic-source-1.json", _first_statement(lambda s: s.update(speaker="nobody-known")))
    _edit(here / "seeds" / "synthetic-source-2.json", _first_statement(lambda s: s.update(key="Not A Key")))
    db, before = here / "d.db", state(here / "d.db")
    for check in (lambda: validate_seeds([here / "seeds"], db), lambda: load_seeds(db, [here / "seeds"], dry_run=True)):
        with pytest.raises(SeedErrors) as raised:
            check()
        assert {error.code for error in raised.value.errors} == {"key.format", "ref.unknown"}
    with pytest.raises(SeedErrors) as raised:
        load_seeds(db, [here / "seeds"])
    assert {error.code for error in raised.value.errors} == {"key.format"}
    assert state(db) == before


def test_a_file_left_in_wal_mode_is_loaded_and_returned_to_a_rollback_journal(here: Path) -> None:
    """Only a connection that can write folds a WAL back: a load finds nothing to change and still does."""
    db = here / "d.db"
    with sqlite3.connect(db) as conn:  # as a load that could not switch back (`publish.self_contained`) leaves it
        conn.execute("PRAGMA journal_mode = wal")
    conn.close()
    assert db.read_bytes()[18:20] == b"\x02\x02"
    assert not load_seeds(db, [here / "seeds"]).written
    assert db.read_bytes()[18:20] == b"\x01\x01"


def test_rows_that_cannot_be_kept_aside_are_a_message_and_change_nothing(
    here: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Past `SPOOL` bytes the rows read go to a temporary file: a temporary directory that cannot take it (full,
    read-only, gone) stops the load before it writes."""
    monkeypatch.setattr(prepare, "SPOOL", 1)
    monkeypatch.setattr(tempfile, "tempdir", str(here / "gone"))
    _edit(here / "seeds" / "synthetic-source-1.json", _first_statement(lambda s: s.update(text=s["text"] + " Now.")))
    db, before = here / "d.db", state(here / "d.db")
    result = CliRunner().invoke(cli, ["load", str(here / "seeds"), "--db", str(db)])
    assert result.exit_code == 3
    assert result.output.startswith(f"Error: {db}: the temporary directory cannot take the rows read: No such file")
    assert result.output.endswith("; nothing was written\n")
    assert state(db) == before

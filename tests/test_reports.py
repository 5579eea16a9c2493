"""Many sources, one record: each seed file is one source's report, and a load replaces only that source's.

Three wire reports of the Riyadh talks: P (earliest) announces them as planned, with a tentative date and city;
A reports them held; B (latest) reports them held too, in other words, with another spelling of a name, one
more topic and one more delegation member.
"""

import copy
import json
import shutil
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from conftest import Client, pages
from diplo.cli import cli
from diplo.ingest.rules import SeedErrors
from diplo.ingest.session import load_seeds, remove_sources, validate_seeds
from diplo.server.app import Settings, create_app
from hypothesis import given
from hypothesis import strategies as st
from strategies import Files, canonical, datasets, write_files

RIYADH = "us-russia-talks-riyadh"


def _source(key: str, published: str) -> dict[str, Any]:
    return {"key": key, "outlet": key.title(), "title": f"Report {key}", "published_at": published, "language": "en"}


P: dict[str, Any] = {
    "source": _source("wire-p", "2025-02-15T09:00:00+03:00"),
    "meetings": [{
        "key": RIYADH, "title": "US and Russian officials to meet", "status": "planned", "format": "in_person",
        "date": "2025-02-17", "city": "Jeddah",  # tentative: the talks were held on the 18th in Riyadh
        "delegations": [{"country": "US", "head": "marco-rubio"}, {"country": "RU", "head": "sergei-lavrov"}],
    }],
    "persons": [
        {"key": "marco-rubio", "name": "Marco Rubio", "country": "US"},
        {"key": "sergei-lavrov", "name": "Sergei Lavrov", "country": "RU"},
    ],
}  # fmt: skip
A: dict[str, Any] = {
    "source": _source("wire-a", "2025-02-18T20:00:00+03:00"),
    "persons": [
        {"key": "marco-rubio", "name": "Marco Rubio", "country": "US"},
        {"key": "sergei-lavrov", "name": "Sergei Lavrov", "country": "RU", "wikidata": "Q80137"},
    ],
    "topics": [{"key": "relations", "label": "Bilateral relations"}],
    "meetings": [{
        "key": RIYADH, "title": "US–Russia talks in Riyadh", "status": "held", "format": "in_person",
        "date": "2025-02-18", "city": "Riyadh", "host_country": "SA", "round": 1, "topics": ["relations"],
        "delegations": [
            {"country": "US", "head": "marco-rubio", "head_role": "Secretary of State"},
            {"country": "RU", "head": "sergei-lavrov", "head_role": "Foreign Minister"},
        ],
    }],
    "statements": [{
        "key": "a-lavrov-useful", "text": "The talks were useful.", "language": "en", "kind": "paraphrase",
        "speaker": "sergei-lavrov", "meeting": RIYADH, "date": "2025-02-18",
    }],
}  # fmt: skip
B: dict[str, Any] = {
    "source": _source("wire-b", "2025-02-19T08:00:00+03:00"),
    "persons": [
        {"key": "sergei-lavrov", "name": "Sergey Lavrov", "country": "RU"},
        {"key": "yuri-ushakov", "name": "Yuri Ushakov", "country": "RU"},
    ],
    "topics": [{"key": "ukraine", "label": "The war in Ukraine"}],
    "meetings": [{
        "key": RIYADH, "title": "Riyadh talks between Washington and Moscow", "status": "held", "date": "2025-02-18",
        "topics": ["ukraine", "relations"],
        "delegations": [
            {"country": "RU", "head": "sergei-lavrov", "head_role": "Russia's top diplomat",
             "members": ["yuri-ushakov"]},
            {"country": "US"},
        ],
    }],
    "statements": [{
        "key": "b-ushakov-not-bad", "text": "It was not bad.", "language": "en", "kind": "paraphrase",
        "speaker": "yuri-ushakov", "meeting": RIYADH, "topics": ["ukraine"],
    }],
}  # fmt: skip


def write(directory: Path, **files: dict[str, Any]) -> dict[str, Path]:
    directory.mkdir(parents=True, exist_ok=True)
    paths = {}
    for name, content in files.items():
        paths[name] = directory / f"{name}.yaml"
        write_files(directory, {f"{name}.yaml": content})
    return paths


def diplo(*args: str | Path) -> tuple[int, str]:
    result = CliRunner().invoke(cli, [str(a) for a in args])
    return result.exit_code, result.output


def rows(db: Path, sql: str, *params: Any) -> list[tuple[Any, ...]]:
    with sqlite3.connect(db) as conn:
        return conn.execute(sql, params).fetchall()


def test_two_files_reporting_one_meeting_merge(tmp_path: Path) -> None:
    paths = write(tmp_path / "seeds", a=A, b=B)
    code, output = diplo("load", tmp_path / "seeds", "--db", tmp_path / "d.db")
    assert code == 0, output
    db = tmp_path / "d.db"
    assert rows(db, "SELECT title, status, date, city, round FROM meetings") == [
        ("US–Russia talks in Riyadh", "held", "2025-02-18", "Riyadh", 1)
    ]
    assert rows(db, "SELECT source FROM meeting_sources ORDER BY position") == [("wire-a",), ("wire-b",)]
    assert rows(db, "SELECT topic FROM meeting_topics ORDER BY position") == [("relations",), ("ukraine",)]
    assert rows(db, "SELECT country, head, head_role FROM delegations ORDER BY position") == [
        ("US", "marco-rubio", "Secretary of State"),
        ("RU", "sergei-lavrov", "Foreign Minister"),
    ]
    assert rows(db, "SELECT person FROM delegation_members") == [("yuri-ushakov",)]
    assert rows(db, "SELECT name, aliases, wikidata FROM persons WHERE key = 'sergei-lavrov'") == [
        ("Sergei Lavrov", '["Sergey Lavrov"]', "Q80137")
    ]
    # A validates on its own: it carries everything the merged record needs. B gives no format and refers to
    # A's topic, so it validates only together with A, or against a database that holds A.
    assert diplo("validate", paths["a"])[0] == 0
    code, output = diplo("validate", paths["b"])
    assert code == 1
    assert {line.split(": ")[1] for line in output.splitlines()[:-1]} == {"report.incomplete", "ref.unknown"}
    load_seeds(tmp_path / "a.db", [paths["a"]])
    assert diplo("validate", paths["b"], "--db", tmp_path / "a.db")[0] == 0


def test_the_same_through_graphql(tmp_path: Path) -> None:
    write(tmp_path / "seeds", b=B, a=A)
    load_seeds(tmp_path / "d.db", [tmp_path / "seeds"])
    client = Client(create_app(Settings(db_path=tmp_path / "d.db")))
    body = client.query(
        "query ($key: String!) { meeting(key: $key) { title status sources { key } topics { key } "
        "delegations { country { code } head { name aliases } headRole members { key } sources { key } } } }",
        key=RIYADH,
    )
    meeting = body["data"]["meeting"]
    assert meeting["title"] == "US–Russia talks in Riyadh"
    assert [s["key"] for s in meeting["sources"]] == ["wire-a", "wire-b"]
    assert [t["key"] for t in meeting["topics"]] == ["relations", "ukraine"]
    russia = meeting["delegations"][1]
    assert russia["head"] == {"name": "Sergei Lavrov", "aliases": ["Sergey Lavrov"]}
    assert [s["key"] for s in russia["sources"]] == ["wire-a", "wire-b"]
    assert [s["key"] for s in meeting["delegations"][0]["sources"]] == ["wire-a", "wire-b"]


def test_a_second_file_loaded_alone_adds_and_never_erases(tmp_path: Path) -> None:
    paths = write(tmp_path / "seeds", a=A, b=B)
    db = tmp_path / "d.db"
    load_seeds(db, [paths["a"]])
    result = load_seeds(db, [paths["b"]])
    assert result.changes["changed"]["meetings"].keys == [RIYADH]
    assert result.changes["added"]["statements"].keys == ["b-ushakov-not-bad"]
    assert result.removed == 0
    # What A said is all still there, and still the record's wording and facts.
    assert rows(db, "SELECT title, round, host_country FROM meeting_reports WHERE source = 'wire-a'") == [
        ("US–Russia talks in Riyadh", 1, "SA")
    ]
    assert rows(db, "SELECT title, round, host_country FROM meetings") == [("US–Russia talks in Riyadh", 1, "SA")]
    assert rows(db, "SELECT key FROM statements ORDER BY key") == [("a-lavrov-useful",), ("b-ushakov-not-bad",)]
    client = Client(create_app(Settings(db_path=db)))
    body = client.query(
        "query ($key: String!) { meeting(key: $key) { title round reports { source { key } title round "
        "hostCountry { code } } } }",
        key=RIYADH,
    )
    assert body["data"]["meeting"] == {
        "title": "US–Russia talks in Riyadh", "round": 1,
        "reports": [
            {"source": {"key": "wire-a"}, "title": "US–Russia talks in Riyadh", "round": 1,
             "hostCountry": {"code": "SA"}},
            {"source": {"key": "wire-b"}, "title": "Riyadh talks between Washington and Moscow", "round": None,
             "hostCountry": None},
        ],
    }  # fmt: skip


def test_an_edited_file_replaces_what_its_source_said(tmp_path: Path) -> None:
    paths = write(tmp_path / "seeds", a=A, b=B)
    db = tmp_path / "d.db"
    load_seeds(db, [tmp_path / "seeds"])
    edited = copy.deepcopy(B)
    del edited["statements"]
    edited["meetings"][0]["topics"] = ["relations"]
    edited["meetings"][0]["delegations"][0]["members"] = []
    del edited["topics"]
    edited["persons"] = [p for p in edited["persons"] if p["key"] != "yuri-ushakov"]
    write(tmp_path / "seeds", b=edited)
    result = load_seeds(db, [paths["b"]])
    assert result.changes["removed"]["statements"].keys == ["b-ushakov-not-bad"]
    assert result.changes["removed"]["topics"].keys == ["ukraine"]
    assert result.changes["removed"]["persons"].keys == ["yuri-ushakov"]
    assert rows(db, "SELECT count(*) FROM delegation_members") == [(0,)]
    assert canonical(db) == canonical(_scratch(tmp_path, a=A, b=edited))


def _scratch(tmp_path: Path, **files: dict[str, Any]) -> Path:
    """The same files loaded into a new database."""
    directory = tmp_path / "scratch"
    shutil.rmtree(directory, ignore_errors=True)
    write(directory / "seeds", **files)
    load_seeds(directory / "d.db", [directory / "seeds"])
    return directory / "d.db"


def test_a_removal_that_others_still_refer_to_is_refused(tmp_path: Path) -> None:
    paths = write(tmp_path / "seeds", a=A, b=B)
    db = tmp_path / "d.db"
    load_seeds(db, [tmp_path / "seeds"])
    before = pages(db)
    edited = copy.deepcopy(A)
    del edited["topics"]  # B's meeting report still lists `relations`
    edited["meetings"][0]["topics"] = []
    write(tmp_path / "seeds", a=edited)
    with pytest.raises(SeedErrors) as raised:
        load_seeds(db, [paths["a"]])
    assert [(e.file, e.path, e.code) for e in raised.value.errors] == [
        (f"{db} (source wire-b)", f"meetings[key={RIYADH}].topics[1]", "ref.unknown")
    ]
    assert "no longer reported" in raised.value.errors[0].message
    assert pages(db) == before
    # Loaded together with B, the file that refers to it is named by its path and record position.
    with pytest.raises(SeedErrors) as raised:
        load_seeds(db, [paths["a"], paths["b"]])
    assert [(e.file, e.path) for e in raised.value.errors] == [(str(paths["b"]), "meetings[0].topics[1]")]


def test_prune_remove_and_dry_run(tmp_path: Path) -> None:
    paths = write(tmp_path / "seeds", a=A, b=B)
    db = tmp_path / "d.db"
    load_seeds(db, [tmp_path / "seeds"])
    before = pages(db)
    code, output = diplo("load", paths["a"], "--db", db, "--prune", "--dry-run", "--format", "json")
    assert code == 0, output
    report = json.loads(output)
    assert report["written"] is False
    assert report["removed"]["sources"]["keys"] == ["wire-b"]
    assert set(report["removed"]) == {"sources", "persons", "topics", "statements"}
    assert report["changed"]["meetings"]["keys"] == [RIYADH]
    assert pages(db) == before
    code, output = diplo("remove", "wire-b", "--db", db)
    assert code == 0, output
    assert output.startswith(f"{db}: 0 added, 2 changed, 4 removed\n")
    removed = canonical(db)
    db.unlink()
    load_seeds(db, [tmp_path / "seeds"])
    assert diplo("load", paths["a"], "--db", db, "--prune")[0] == 0
    assert canonical(db) == removed == canonical(_scratch(tmp_path, a=A))
    assert diplo("remove", "no-such-source", "--db", db)[0] == 1


def test_validate_against_a_database_reports_what_would_change(tmp_path: Path) -> None:
    paths = write(tmp_path / "seeds", a=A, b=B)
    db = tmp_path / "d.db"
    load_seeds(db, [paths["a"]])
    before = pages(db)
    result = validate_seeds([paths["b"]], db)
    assert result.changes["added"]["persons"].keys == ["yuri-ushakov"]
    assert result.changes["changed"]["persons"].keys == ["sergei-lavrov"]
    assert not result.written
    assert pages(db) == before
    code, output = diplo("validate", paths["b"], "--db", db)
    assert code == 0, output
    assert output.startswith(f"valid with {db}; a load would give: 4 added, 2 changed, 0 removed")


def test_planned_then_held(tmp_path: Path) -> None:
    paths = write(tmp_path / "seeds", p=P, a=A)
    db = tmp_path / "d.db"
    load_seeds(db, [paths["p"]])
    assert rows(db, "SELECT status, date, city, title FROM meetings") == [
        ("planned", "2025-02-17", "Jeddah", "US and Russian officials to meet")
    ]
    load_seeds(db, [paths["a"]])
    # Held now: A's date and place stand; P's tentative ones are superseded, not a disagreement. P was first, so
    # its title is still the record's.
    assert rows(db, "SELECT status, date, city, title FROM meetings") == [
        ("held", "2025-02-18", "Riyadh", "US and Russian officials to meet")
    ]
    assert canonical(db) == canonical(_scratch(tmp_path, p=P, a=A))
    load_seeds(db, [tmp_path / "seeds"], prune=True)
    remove_sources(db, ["wire-a"])  # planned again, as P alone says
    assert rows(db, "SELECT status, date, city FROM meetings") == [("planned", "2025-02-17", "Jeddah")]


def test_a_disagreement_is_refused_naming_both_files(tmp_path: Path) -> None:
    late = copy.deepcopy(B)
    late["meetings"][0]["format"] = "video_call"
    late["persons"][0]["country"] = "BY"
    paths = write(tmp_path / "seeds", a=A, b=late)
    with pytest.raises(SeedErrors) as raised:
        validate_seeds([tmp_path / "seeds"])
    found = {(e.file, e.path, e.code): e.message for e in raised.value.errors}
    assert set(found) == {
        (str(paths["b"]), "meetings[0].format", "report.disagree"),
        (str(paths["b"]), "persons[0].country", "report.disagree"),
    }
    message = found[str(paths["b"]), "meetings[0].format", "report.disagree"]
    other = paths["a"].read_text().splitlines().index("  format: in_person") + 1  # where A gives the format
    assert f"'video_call' disagrees with 'in_person' given by {paths['a']}:{other}:11;" in message


def test_an_incomplete_report_validates_only_with_one_that_completes_it(tmp_path: Path) -> None:
    bare = copy.deepcopy(B)
    del bare["meetings"][0]["title"]
    paths = write(tmp_path / "seeds", a=A, b=bare)
    with pytest.raises(SeedErrors) as raised:
        validate_seeds([paths["b"]])
    assert {(e.path, e.code) for e in raised.value.errors} == {
        ("meetings[0]", "report.incomplete"),  # no title, no format
        ("meetings[0].topics[1]", "ref.unknown"),  # A's topic
    }
    validate_seeds([paths["a"], paths["b"]])
    load_seeds(tmp_path / "d.db", [paths["a"]])
    validate_seeds([paths["b"]], tmp_path / "d.db")
    # Read first, the incomplete report is not merged as its file is written but at the end, with the other.
    first = write(tmp_path / "incomplete-first", a=bare, b=A)
    result = load_seeds(tmp_path / "e.db", [first["a"].parent])
    assert (result.changes["added"]["meetings"].keys, result.changes["changed"]["meetings"].count) == ([RIYADH], 0)
    assert rows(tmp_path / "e.db", "SELECT title FROM meetings") == [(A["meetings"][0]["title"],)]


def test_a_statement_key_may_be_reported_by_several_sources(tmp_path: Path) -> None:
    also = copy.deepcopy(B)
    also["statements"].append({**A["statements"][0], "source": "wire-b", "date": "2025-02"})  # A's statement, in B
    paths = write(tmp_path / "seeds", a=A, b=also)
    validate_seeds([tmp_path / "seeds"])
    load_seeds(tmp_path / "d.db", [paths["a"]])
    result = load_seeds(tmp_path / "d.db", [paths["b"]])
    assert result.changes["changed"]["statements"].keys == ["a-lavrov-useful"]
    sql = "SELECT source, date FROM statements WHERE key = 'a-lavrov-useful'"
    assert rows(tmp_path / "d.db", sql) == [("wire-a", "2025-02-18")]  # the earliest report's; spans intersected
    sql = "SELECT source FROM statement_sources WHERE statement = 'a-lavrov-useful' ORDER BY position"
    assert rows(tmp_path / "d.db", sql) == [("wire-a",), ("wire-b",)]
    # Moved from A's file to B's, it is B's alone now.
    moved = copy.deepcopy(A)
    del moved["statements"]
    write(tmp_path / "seeds", a=moved)
    result = load_seeds(tmp_path / "d.db", [tmp_path / "seeds"])
    assert result.changes["changed"]["statements"].keys == ["a-lavrov-useful"]
    assert rows(tmp_path / "d.db", "SELECT source FROM statements WHERE key = 'a-lavrov-useful'") == [("wire-b",)]


def test_every_mistake_at_once(tmp_path: Path) -> None:
    broken = copy.deepcopy(A)
    broken["persons"][0]["country"] = "XX"  # a record rule
    broken["meetings"][0]["delegations"][0]["head"] = "marco-rubbio"  # a reference
    broken["statements"][0]["date"] = "2025-02-10"  # before the meeting this file reports held
    late = copy.deepcopy(B)
    late["meetings"][0]["round"] = 2  # disagrees with A
    write(tmp_path / "seeds", a=broken, b=late)
    (tmp_path / "seeds" / "c.yaml").write_text("source: [\n")
    with pytest.raises(SeedErrors) as raised:
        validate_seeds([tmp_path / "seeds"])
    assert [(Path(e.file).name, e.path, e.code) for e in raised.value.errors] == [  # in file order
        ("a.yaml", "persons[0].country", "country.invalid"),
        ("a.yaml", "meetings[0].delegations[0].head", "ref.unknown"),
        ("a.yaml", "statements[0].date", "statement.date_order"),
        ("b.yaml", "meetings[0].round", "report.disagree"),
        ("c.yaml", "", "seed.syntax"),
    ]
    assert "references to them may show as ref.unknown" in raised.value.errors[-1].message


def test_an_older_database_gets_a_clear_message(tmp_path: Path) -> None:
    db = tmp_path / "old.db"
    with sqlite3.connect(db) as conn:
        conn.execute("CREATE TABLE meetings (key TEXT)")
        conn.execute("PRAGMA user_version = 1")
    code, output = diplo("load", "seeds", "--db", db)
    assert code == 3
    assert "rebuild it from its seeds" in output


def test_a_database_from_before_the_country_names_table_is_refused(tmp_path: Path) -> None:
    db = tmp_path / "v3.db"
    seeds = Path(__file__).resolve().parent.parent / "seeds"
    assert diplo("load", seeds, "--db", db)[0] == 0
    with sqlite3.connect(db) as conn:
        conn.execute("DROP TABLE country_names")
        conn.execute("PRAGMA user_version = 3")
    code, output = diplo("load", seeds, "--db", db)
    assert code == 3
    assert "rebuild it from its seeds" in output


# --- properties -----------------------------------------------------------------------------------------------


@given(datasets(max_meetings=4, max_statements=5), st.randoms(use_true_random=False))
def test_any_load_order_gives_the_same_database(files: Files, rng: Any) -> None:
    with_paths = {}
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        paths = write_files(root / "seeds", files)
        with_paths = {path.name: path for path in paths}
        result = load_seeds(root / "all.db", [root / "seeds"])
        expected = canonical(root / "all.db")
        # A first load adds each record once, whether merged as its file is written or at the end, and changes none.
        for kind in ("persons", "organizations", "topics", "meetings", "statements"):
            (count,) = rows(root / "all.db", f"SELECT count(*) FROM {kind}")[0]
            assert (result.changes["added"][kind].count, result.changes["changed"][kind].count) == (count, 0)
        shuffled = list(with_paths.values())
        rng.shuffle(shuffled)
        load_seeds(root / "shuffled.db", shuffled)
        assert canonical(root / "shuffled.db") == expected
        # One by one, in a random order that keeps references resolvable: a file that cannot go in yet fails
        # (and changes nothing) and is tried again after the others.
        pending = list(with_paths.values())
        rng.shuffle(pending)
        for _ in range(len(pending) ** 2 + 1):
            if not pending:
                break
            path = pending.pop(0)
            try:
                load_seeds(root / "one.db", [path])
            except SeedErrors:
                pending.append(path)
        assert not pending
        assert canonical(root / "one.db") == expected


@given(datasets(max_meetings=4, max_statements=5), st.data())
def test_reloading_an_edited_file_equals_loading_from_scratch(files: Files, data: st.DataObject) -> None:
    import tempfile

    name = data.draw(st.sampled_from(sorted(files)))
    edited = copy.deepcopy(files)
    content = edited[name]
    content["statements"] = [s for s in content.get("statements", []) if data.draw(st.booleans())]
    for person in content.get("persons", []):
        if data.draw(st.booleans()):
            person["name"] = "Another Spelling"
    if name != min(files):  # the first file holds every record in full; the others' reports can go
        content["meetings"] = [m for m in content.get("meetings", []) if data.draw(st.booleans())]
        content["persons"] = [p for p in content.get("persons", []) if data.draw(st.booleans())]
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        write_files(root / "seeds", files)
        load_seeds(root / "d.db", [root / "seeds"])
        write_files(root / "seeds", edited)
        load_seeds(root / "d.db", [root / "seeds" / name])
        write_files(root / "scratch", edited)
        load_seeds(root / "scratch.db", [root / "scratch"])
        assert canonical(root / "d.db") == canonical(root / "scratch.db")

"""The seed contract: every rule, as a property over generated datasets, and the loader's guarantees."""

import copy
import json
import sqlite3
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from conftest import model_accepts, pages, sql_accepts
from diplo import store
from diplo.ingest.models import check_country, check_key, check_statement_text, check_wikidata
from diplo.ingest.rules import RULES, WARNINGS, SeedErrors
from diplo.ingest.session import load_seeds, validate_seeds
from hypothesis import given
from hypothesis import strategies as st
from mutations import MUTATIONS, Mutation
from strategies import Files, canonical, datasets, write_files


@contextmanager
def seed_dir(files: Files) -> Iterator[Path]:
    with tempfile.TemporaryDirectory() as tmp:
        write_files(Path(tmp) / "seeds", files)
        yield Path(tmp)


def errors_of(directory: Path) -> list[tuple[str, str, str]]:
    with pytest.raises(SeedErrors) as raised:
        validate_seeds([directory])
    return [(Path(e.file).name, e.path, e.code) for e in raised.value.errors]


@given(datasets())
def test_generated_datasets_validate_and_load(files: Files) -> None:
    with seed_dir(files) as tmp:
        checked = validate_seeds([tmp / "seeds"])
        result = load_seeds(tmp / "d.db", [tmp / "seeds"])
        assert result.written
        assert not checked.written
        assert {**result.as_dict(), "written": False} == checked.as_dict()
        assert result.changed == result.removed == 0
        assert result.changes["added"]["meetings"].count == len(files[min(files)]["meetings"])


def test_every_rule_has_a_mutation() -> None:
    # evidence.missing is an option's rule: tests/test_evidence.py has its property.
    assert set(MUTATIONS) | {"seed.syntax", "seed.path", "evidence.missing"} == set(RULES)


@pytest.mark.parametrize(
    ("code", "mutation"),
    [(code, m) for code, ms in MUTATIONS.items() for m in ms],
    ids=[m.__name__ for ms in MUTATIONS.values() for m in ms],
)
@given(files=datasets())
def test_a_mutation_breaks_exactly_its_rule(code: str, mutation: Mutation, files: Files) -> None:
    broken = copy.deepcopy(files)
    expected = mutation(broken)
    with seed_dir(broken) as tmp:
        if code in WARNINGS:  # the generated names may hold close pairs of their own: the mutation's is among them
            warned = validate_seeds([tmp / "seeds"]).warnings
            assert expected <= {(Path(w.file).name, w.path) for w in warned if w.code == code}
            return
        found = errors_of(tmp / "seeds")
    assert {(file, path) for file, path, _ in found} == expected
    assert {c for _, _, c in found} == {code}


@given(datasets(), st.sampled_from(["meetings: [\n  - key: a\n  bad", "{source: [}", '{"source": ']))
def test_syntax_errors_are_reported_with_line_and_column(files: Files, garbage: str) -> None:
    with seed_dir(files) as tmp:
        (tmp / "seeds" / "zz-broken.yaml").write_text(garbage)
        (tmp / "seeds" / "zz-broken.json").write_text(garbage)
        found = errors_of(tmp / "seeds")
    assert [(f, c) for f, _, c in found] == [("zz-broken.json", "seed.syntax"), ("zz-broken.yaml", "seed.syntax")]


def test_all_mistakes_are_reported_at_once(tmp_path: Path) -> None:
    files = {
        "a.yaml": {
            "source": {
                "key": "Bad",
                "outlet": "X",
                "title": "T",
                "published_at": "2025-01-01T00:00:00",
                "language": "en",
            },
            "persons": [{"key": "p", "name": "P", "country": "ZZ"}],
        }
    }
    write_files(tmp_path, files)
    with pytest.raises(SeedErrors) as raised:
        validate_seeds([tmp_path])
    assert [(e.path, e.code) for e in raised.value.errors] == [  # in file order
        ("source.key", "key.format"),
        ("source.published_at", "source.naive_datetime"),
        ("persons[0].country", "country.invalid"),
    ]


@given(datasets())
def test_load_is_idempotent(files: Files) -> None:
    with seed_dir(files) as tmp:
        load_seeds(tmp / "d.db", [tmp / "seeds"])
        before = (tmp / "d.db").read_bytes()  # every byte: the load only reads the file
        again = load_seeds(tmp / "d.db", [tmp / "seeds"])
        assert (again.added, again.changed, again.removed, again.written) == (0, 0, 0, False)
        assert (tmp / "d.db").read_bytes() == before


@given(datasets())
def test_export_then_load_round_trips(files: Files) -> None:
    from diplo.ingest.export import export_seeds

    with seed_dir(files) as tmp:
        load_seeds(tmp / "a.db", [tmp / "seeds"])
        written = export_seeds(tmp / "a.db", tmp / "exported")
        assert sorted(p.stem for p in written) == sorted(f["source"]["key"] for f in files.values())
        load_seeds(tmp / "b.db", [tmp / "exported"])
        assert canonical(tmp / "b.db") == canonical(tmp / "a.db")


@given(datasets(), st.integers(1, 40))
def test_a_load_that_fails_part_way_leaves_the_file_unchanged(files: Files, fail_at: int) -> None:
    with seed_dir(files) as tmp:
        load_seeds(tmp / "d.db", [tmp / "seeds"])
        before = pages(tmp / "d.db")
        changed = copy.deepcopy(files)
        main = changed[min(changed)]
        for statement in main["statements"]:
            statement["kind"] = "paraphrase"
            statement["text"] += " (updated)"
        main["persons"].append({"key": "new-person", "name": "New"})
        main["meetings"][0]["title"] = "A new title"
        write_files(tmp / "seeds", changed)
        original = store.replace_rows
        calls = []

        def failing(*args: object, **kwargs: object) -> object:
            calls.append(1)
            if len(calls) == fail_at:
                raise RuntimeError("injected fault")
            return original(*args, **kwargs)  # type: ignore[arg-type]

        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(store, "replace_rows", failing)
            try:
                load_seeds(tmp / "d.db", [tmp / "seeds"])
                failed = False
            except RuntimeError:
                failed = True
        if failed:
            assert pages(tmp / "d.db") == before
            assert not (tmp / "d.db-wal").exists() or (tmp / "d.db-wal").stat().st_size == 0
            result = load_seeds(tmp / "d.db", [tmp / "seeds"])
        else:  # fewer writes than `fail_at`: the load went through
            result = load_seeds(tmp / "d.db", [tmp / "seeds"])
            assert not result.written
            return
        assert result.changes["added"]["persons"].keys == ["new-person"]
        assert "meeting-0" in result.changes["changed"]["meetings"].keys


@given(datasets())
def test_invalid_seeds_leave_the_file_unchanged_and_do_not_create_it(files: Files) -> None:
    broken = copy.deepcopy(files)
    MUTATIONS["ref.unknown"][0](broken)
    with seed_dir(files) as tmp:
        write_files(tmp / "bad", broken)
        with pytest.raises(SeedErrors):
            load_seeds(tmp / "new.db", [tmp / "bad"])
        assert not (tmp / "new.db").exists()
        assert [p.name for p in tmp.iterdir()] == ["seeds", "bad"] or sorted(p.name for p in tmp.iterdir()) == [
            "bad", "seeds"
        ]  # fmt: skip
        load_seeds(tmp / "d.db", [tmp / "seeds"])
        before = pages(tmp / "d.db")
        with pytest.raises(SeedErrors):
            load_seeds(tmp / "d.db", [tmp / "bad"])
        assert pages(tmp / "d.db") == before


def test_seeds_are_checked_against_what_the_database_holds(tmp_path: Path) -> None:
    load_seeds(tmp_path / "d.db", [Path("seeds")])
    later = {
        "later.yaml": {
            "source": {
                "key": "later-article",
                "outlet": "X",
                "title": "T",
                "published_at": "2025-03-02T00:00:00Z",
                "language": "en",
            },
            "statements": [
                {
                    "key": "later-statement",
                    "text": "More talks",
                    "language": "en",
                    "kind": "paraphrase",
                    "speaker": "dmitry-peskov",
                    "meeting": "us-russia-talks-istanbul-2025-02-27",
                    "source": "later-article",
                },
                {
                    "key": "orphan",
                    "text": "x",
                    "language": "en",
                    "kind": "paraphrase",
                    "speaker": "nobody",
                    "source": "later-article",
                },
            ],
        }
    }
    write_files(tmp_path / "later", later)
    with pytest.raises(SeedErrors) as raised:
        load_seeds(tmp_path / "d.db", [tmp_path / "later"])
    assert [(e.path, e.code) for e in raised.value.errors] == [("statements[1].speaker", "ref.unknown")]
    del later["later.yaml"]["statements"][1]
    write_files(tmp_path / "later", later)
    result = load_seeds(tmp_path / "d.db", [tmp_path / "later"])
    assert (result.added, result.changed, result.removed) == (2, 0, 0)


# --- pydantic and SQLite agree where both apply -------------------------------------------------------------


key_like = st.one_of(st.text(max_size=90), st.from_regex(r"[a-z0-9-]{1,85}", fullmatch=True))


@given(key_like)
def test_key_rule_matches_the_sql_check(empty_db: sqlite3.Connection, key: str) -> None:
    sql_ok = sql_accepts(empty_db, "INSERT INTO persons (key, name, sort_name) VALUES (?, 'x', 'x')", (key,))
    assert model_accepts(check_key, key) == sql_ok


@given(st.text(max_size=3) | st.from_regex(r"[A-Za-z]{2}", fullmatch=True) | st.sampled_from(["US\x00", "U\x00"]))
def test_valid_countries_pass_the_sql_check(empty_db: sqlite3.Connection, country: str) -> None:
    sql_ok = sql_accepts(
        empty_db, "INSERT INTO persons (key, name, sort_name, country) VALUES ('p', 'x', 'x', ?)", (country,)
    )
    assert not model_accepts(check_country, country) or sql_ok
    assert sql_ok == (len(country) == 2 and country.isascii() and country.isupper() and country.isalpha())


@given(st.one_of(st.text(max_size=12), st.from_regex(r"Q[0-9]{1,9}", fullmatch=True), st.just("Q1\x00x")))
def test_wikidata_rule_matches_the_sql_check(empty_db: sqlite3.Connection, value: str) -> None:
    sql_ok = sql_accepts(
        empty_db, "INSERT INTO persons (key, name, sort_name, wikidata) VALUES ('p', 'x', 'x', ?)", (value,)
    )
    assert model_accepts(check_wikidata, value) == sql_ok


@given(
    st.text(alphabet=st.characters(codec="utf-8", exclude_categories=["Cc"]), max_size=5010)
    | st.sampled_from(["", "   ", "a" * 5000, "a" * 5001])
)
def test_statement_text_rule_matches_the_sql_check(empty_db: sqlite3.Connection, text: str) -> None:
    empty_db.execute(
        "INSERT OR IGNORE INTO sources (key, outlet, title, published_at, language) "
        "VALUES ('s', 'o', 't', '2025-01-01T00:00:00+00:00', 'en')"
    )
    sql_ok = sql_accepts(
        empty_db,
        "INSERT INTO statements (key, text, language, kind, source, organization, reported_on) "
        "VALUES ('st', ?, 'en', 'paraphrase', 's', NULL, '2025-01-01')",
        (text,),
    )
    # The SQL CHECK also requires an attribution, which this row lacks, so it must always refuse it ...
    assert not sql_ok
    sql_text_ok = sql_accepts(
        empty_db,
        "INSERT INTO statements (key, text, language, kind, source, speaker, reported_on) "
        "VALUES ('st', ?, 'en', 'paraphrase', 's', 'x', '2025-01-01')",
        (text,),
    )
    # ... and with one, it agrees with the model on emptiness and length.
    assert model_accepts(check_statement_text, text) == sql_text_ok


def test_held_meeting_without_date_is_refused_by_sql(empty_db: sqlite3.Connection) -> None:
    sql = (
        "INSERT INTO meetings (key, title, status, format, date, date_earliest, date_latest, date_precision, "
        "date_approximate) VALUES ('m', 't', ?, 'in_person', ?, ?, ?, ?, ?)"
    )
    assert not sql_accepts(empty_db, sql, ("held", None, None, None, None, 0))
    assert sql_accepts(empty_db, sql, ("planned", None, None, None, None, 0))
    assert sql_accepts(empty_db, sql, ("held", "2025-02-27", "2025-02-27", "2025-02-27", "day", 0))
    assert sql_accepts(empty_db, sql, ("held", "2025-02~", "2025-02-01", "2025-02-28", "month", 1))
    assert sql_accepts(empty_db, sql, ("held", "../2025-02-27", None, "2025-02-27", "range", 0))
    # The store mirrors the span's rules: a real day, bounds in order, the range and qualifiers the text says.
    assert not sql_accepts(empty_db, sql, ("held", "2025-02-30", "2025-02-30", "2025-02-30", "day", 0))
    assert not sql_accepts(empty_db, sql, ("held", "2025-02", "2025-02-28", "2025-02-01", "month", 0))
    assert not sql_accepts(empty_db, sql, ("held", "2025-02", "2025-02-01", "2025-02-28", "range", 0))
    assert not sql_accepts(empty_db, sql, ("held", "2025-02~", "2025-02-01", "2025-02-28", "month", 0))
    assert not sql_accepts(empty_db, sql, ("held", "2025-02", None, None, "month", 0))


def test_cli_reports_every_error_as_text_and_json(tmp_path: Path) -> None:
    from click.testing import CliRunner
    from diplo.cli import cli

    (tmp_path / "a.yaml").write_text("source: [\n")
    (tmp_path / "b.json").write_text(
        json.dumps(
            {"source": {"key": "b", "outlet": "X", "title": "T", "published_at": "2025-01-01T00:00", "language": "xx"}}
        )
    )
    result = CliRunner().invoke(cli, ["validate", str(tmp_path), "--format", "json"])
    assert result.exit_code == 1
    errors = json.loads(result.stdout)["errors"]
    assert [(Path(e["file"]).name, e["path"], e["code"]) for e in errors] == [
        ("a.yaml", "", "seed.syntax"),
        ("b.json", "source.published_at", "source.naive_datetime"),  # in file order: line 1, by column
        ("b.json", "source.language", "language.invalid"),
    ]
    assert (errors[0]["line"], errors[0]["column"]) == (2, 1)
    text = CliRunner().invoke(cli, ["validate", str(tmp_path)])
    assert text.exit_code == 1
    assert f"{tmp_path / 'b.json'}:1:" in text.stdout  # JSON, read as YAML 1.2, has positions too
    assert ": language.invalid: source.language: 'xx' is not" in text.stdout
    assert CliRunner().invoke(cli, ["validate", "seeds"]).exit_code == 0


def test_load_reports_progress_against_the_total(tmp_path: Path) -> None:
    calls: list[tuple[int, int]] = []
    (tmp_path / "seeds").mkdir()
    for name in ("a", "b"):
        (tmp_path / "seeds" / f"{name}.yaml").write_text(
            f"source: {{key: {name}, outlet: X, title: T, published_at: '2025-01-01T00:00:00Z', language: en}}\n"
        )
    db = tmp_path / "d.db"
    load_seeds(db, [tmp_path / "seeds"], progress=lambda done, total: calls.append((done, total)))
    assert calls == [(1, 4), (2, 4), (3, 4), (4, 4)]  # each file is read, then written
    calls.clear()
    load_seeds(db, [tmp_path / "seeds"], progress=lambda done, total: calls.append((done, total)))
    assert calls == [(1, 4), (2, 4), (4, 4)]  # nothing to write: done once read


def test_cli_refuses_files_that_are_not_diplo_databases(tmp_path: Path) -> None:
    from click.testing import CliRunner
    from diplo.cli import cli

    other = tmp_path / "other.db"
    with sqlite3.connect(other) as conn:
        conn.execute("CREATE TABLE x (a)")
    garbage = tmp_path / "garbage.db"
    garbage.write_bytes(b"not sqlite at all")
    for path, says in [(other, "not a Diplo database"), (garbage, "not a SQLite database"),
                       (tmp_path / "missing" / "x.db", "cannot open")]:  # fmt: skip
        before = path.read_bytes() if path.exists() else None
        for args in (["load", "seeds", "--db", str(path)], ["serve", "--db", str(path)],
                     ["validate", "seeds", "--db", str(path)]):  # fmt: skip
            if args[0] != "load" and before is None:
                continue  # --db must exist for serve and validate; click says so
            result = CliRunner().invoke(cli, args)
            assert result.exit_code == 3, result.output  # a database problem
            assert says in result.output
            assert "valid" not in result.output  # not "valid with x.db; a load would give: not a SQLite database"
        assert (path.read_bytes() if path.exists() else None) == before


def test_a_first_load_that_fails_while_writing_leaves_no_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def fail(*_: object) -> None:
        raise RuntimeError("injected fault")

    monkeypatch.setattr(store, "replace_rows", fail)
    with pytest.raises(RuntimeError, match="injected fault"):
        load_seeds(tmp_path / "new.db", [Path("seeds")])
    assert list(tmp_path.iterdir()) == []

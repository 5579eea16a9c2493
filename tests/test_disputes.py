"""Sources that disagree, and the editors' word (issue 22): editorial files, recorded disputes, the label rule, the
change report's field diffs, and both executors on the new fields.

`tests/data/dispute/` holds a TEST-ONLY, INVENTED second source about the Istanbul talks and an editors' file that
records its dispute with the bundled article.
"""

import contextlib
import copy
import datetime as dt
import json
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema
import orjson
import pytest
import yaml
from click.testing import CliRunner
from conftest import SEEDS
from diplo import dates
from diplo.cli import cli
from diplo.ingest.export import export_seeds
from diplo.ingest.models import seed_json_schema
from diplo.ingest.rules import SeedError, SeedErrors
from diplo.ingest.seeds import parse_text
from diplo.ingest.session import load_seeds, remove_sources, validate_seeds
from diplo.store import build_id, connect_readonly
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from strategies import Files, canonical, datasets, write_files
from test_compiled import Paths

DISPUTE = Path(__file__).resolve().parent / "data" / "dispute"
INVENTED = DISPUTE / "invented-wire-2025-02-28-istanbul.yaml"
EDITORS = DISPUTE / "diplo-editors.yaml"
ARTICLE = SEEDS / "koran-jakarta-2025-03-01-as-russia.yaml"
ISTANBUL = "us-russia-talks-istanbul-2025-02-27"


def _read(path: Path) -> Any:
    """A seed file as a load reads it (YAML 1.2: a date is a string)."""
    return parse_text(path.read_text(), path.name)


def _errors(raised: pytest.ExceptionInfo[SeedErrors]) -> list[SeedError]:
    return raised.value.errors


@pytest.fixture
def tmp(tmp_path: Path) -> Path:
    return tmp_path


@pytest.fixture(scope="module")
def disputed_db() -> Iterator[Path]:
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "d.db"
        load_seeds(path, [SEEDS, DISPUTE])
        yield path


def _editors(tmp: Path, *decisions: dict[str, Any], name: str = "editors.yaml", key: str = "editors") -> Path:
    path = tmp / name
    path.write_text(yaml.safe_dump({"editorial": {"key": key, "decisions": list(decisions)}}, sort_keys=False))
    return path


DATE = {"meeting": ISTANBUL, "field": "date", "prefer": "2025-02-27", "note": "The State Department's date."}


# --- report.disagree: where it is placed, and what it suggests -----------------------------------------------------


def test_a_disagreement_in_one_load_is_on_the_later_report_and_shows_the_decision() -> None:
    with pytest.raises(SeedErrors) as raised:
        validate_seeds([ARTICLE, INVENTED])
    (error,) = _errors(raised)
    # The invented source is dated 28 February (day only), so the article (1 March) is the later report.
    assert (Path(error.file).name, error.path, error.code) == (ARTICLE.name, "meetings[2].date", "report.disagree")
    assert error.line > 0
    assert error.column > 0
    assert f"{{meeting: {ISTANBUL}, field: date, prefer: 2025-02-28, note: why}}" in error.message
    assert INVENTED.name in error.message


@pytest.mark.parametrize("with_seeds", [False, True], ids=["alone", "with-the-unchanged-seeds"])
def test_a_disagreement_with_the_database_is_on_the_file_loaded(tmp: Path, with_seeds: bool) -> None:
    """On the file that changes the database, even when the unchanged file it disagrees with is loaded again."""
    load_seeds(tmp / "d.db", [SEEDS])
    with pytest.raises(SeedErrors) as raised:
        load_seeds(tmp / "d.db", [SEEDS, INVENTED] if with_seeds else [INVENTED])
    (error,) = _errors(raised)
    assert (Path(error.file).name, error.path, error.code) == (INVENTED.name, "meetings[0].date", "report.disagree")
    assert "2025-02-28' disagrees with '2025-02-27'" in error.message
    assert "prefer: 2025-02-27" in error.message


# --- decisions ---------------------------------------------------------------------------------------------------


def test_a_decision_settles_the_dispute_and_the_record_publishes_the_preferred_value(disputed_db: Path) -> None:
    conn = connect_readonly(disputed_db)
    try:
        assert conn.execute("SELECT date FROM meetings WHERE key = ?", [ISTANBUL]).fetchone() == ("2025-02-27",)
        reported = conn.execute(
            "SELECT source, date FROM meeting_reports WHERE meeting = ? ORDER BY source", [ISTANBUL]
        ).fetchall()
        assert reported == [("invented-wire-2025-02-28-istanbul", "2025-02-28"),
                            ("koran-jakarta-2025-03-01-as-russia", "2025-02-27")]  # fmt: skip
        name = conn.execute("SELECT name, aliases FROM persons WHERE key = 'alexander-darchiev'").fetchone()
        assert name == ("Alexander Darchiev", '["Aleksandr Darchiyev"]')
    finally:
        conn.close()


def test_without_a_decision_a_label_is_the_wording_most_reports_use(tmp: Path) -> None:
    """One report each: the earliest's wording (the invented source, dated the day before); a third report for the
    article's spelling makes it the majority."""
    editors = _editors(tmp, DATE)
    load_seeds(tmp / "d.db", [SEEDS, INVENTED, editors])
    conn = connect_readonly(tmp / "d.db")
    assert conn.execute("SELECT name FROM persons WHERE key = 'alexander-darchiev'").fetchone() == (
        "Aleksandr Darchiyev",
    )
    conn.close()
    third = {"source": {"key": "invented-third", "outlet": "Invented (test data)", "title": "T",
                        "published_at": "2025-03-02", "language": "en"},
             "persons": [{"key": "alexander-darchiev", "name": "Alexander Darchiev"}]}  # fmt: skip
    (tmp / "third.yaml").write_text(yaml.safe_dump(third))
    result = load_seeds(tmp / "d.db", [SEEDS, INVENTED, editors, tmp / "third.yaml"])
    conn = connect_readonly(tmp / "d.db")
    assert conn.execute("SELECT name FROM persons WHERE key = 'alexander-darchiev'").fetchone() == (
        "Alexander Darchiev",
    )
    conn.close()
    assert result.diffs["persons"]["alexander-darchiev"] == {
        "name": ("Aleksandr Darchiyev", "Alexander Darchiev"),
        "aliases": (["Alexander Darchiev"], ["Aleksandr Darchiyev"]),
    }


@pytest.mark.parametrize(
    ("decisions", "code", "path", "line"),
    [
        ([{**DATE, "prefer": "2025-02-26"}], "editorial.unknown_value", "editorial.decisions[0]", 4),
        ([DATE, {**DATE, "note": "Again."}], "editorial.conflict", "editorial.decisions[1]", 8),
    ],
)
def test_decision_errors_are_located(tmp: Path, decisions: list[dict[str, Any]], code: str, path: str,
                                     line: int) -> None:  # fmt: skip
    editors = _editors(tmp, *decisions)
    with pytest.raises(SeedErrors) as raised:
        validate_seeds([SEEDS, INVENTED, editors])
    found = [(Path(e.file).name, e.path, e.code, e.line) for e in _errors(raised)]
    assert found == [("editors.yaml", path, code, line)]


def test_a_stale_decision_is_a_warning_and_an_error_when_strict(tmp: Path) -> None:
    city = {"meeting": ISTANBUL, "field": "city", "prefer": "Istanbul", "note": "Both say so."}
    nobody = {"person": "nobody-at-all", "field": "name", "prefer": "X", "note": "No report."}
    editors = _editors(tmp, DATE, city, nobody)
    result = validate_seeds([SEEDS, INVENTED, editors])
    warned = [(e.path, e.code, e.line) for e in result.warnings]
    assert warned == [("editorial.decisions[1]", "editorial.stale", 8),
                      ("editorial.decisions[2]", "editorial.stale", 12)]  # fmt: skip
    assert "the reports agree on it" in result.warnings[0].message
    from diplo.ingest.session import Options

    with pytest.raises(SeedErrors) as raised:
        validate_seeds([SEEDS, INVENTED, editors], options=Options(strict=True))
    assert {e.code for e in _errors(raised)} == {"editorial.stale"}


def test_a_decision_needs_a_note_and_names_one_record_and_a_known_field(tmp: Path) -> None:
    no_note = {k: v for k, v in DATE.items() if k != "note"}
    two = {**DATE, "person": "alexander-darchiev"}
    unknown = {**DATE, "field": "colour"}
    editors = _editors(tmp, no_note, two, unknown)
    with pytest.raises(SeedErrors) as raised:
        validate_seeds([SEEDS, INVENTED, editors])
    found = {(e.path, e.code) for e in _errors(raised) if Path(e.file).name == "editors.yaml"}
    assert found == {("editorial.decisions.0.note", "seed.schema"), ("editorial.decisions.1", "seed.schema"),
                     ("editorial.decisions.2", "seed.schema")} or found == {
        ("editorial.decisions[0].note", "seed.schema"), ("editorial.decisions[1]", "seed.schema"),
        ("editorial.decisions[2]", "seed.schema")}  # fmt: skip


def test_an_editorial_key_is_unique_across_sources_and_editorial_files(tmp: Path) -> None:
    clash = _editors(tmp, DATE, key="koran-jakarta-2025-03-01-as-russia")
    with pytest.raises(SeedErrors) as raised:
        validate_seeds([SEEDS, INVENTED, clash])
    assert "key.conflict" in {e.code for e in _errors(raised)}
    load_seeds(tmp / "d.db", [SEEDS])
    with pytest.raises(SeedErrors) as raised:
        load_seeds(tmp / "d.db", [clash])
    assert [(Path(e.file).name, e.code) for e in _errors(raised)] == [("editors.yaml", "key.conflict")]


# --- removing, pruning and exporting an editorial file --------------------------------------------------------------


def test_removing_the_editorial_file_gives_the_database_never_loading_it_gave(tmp: Path) -> None:
    load_seeds(tmp / "never.db", [SEEDS])
    load_seeds(tmp / "d.db", [SEEDS, INVENTED, EDITORS])
    with pytest.raises(SeedErrors) as raised:  # the dispute would be left undecided
        remove_sources(tmp / "d.db", ["diplo-editors"])
    assert {e.code for e in _errors(raised)} == {"report.disagree"}
    result = remove_sources(tmp / "d.db", ["diplo-editors", "invented-wire-2025-02-28-istanbul"])
    assert result.changes["removed"]["editorials"].keys == ["diplo-editors"]
    assert canonical(tmp / "d.db") == canonical(tmp / "never.db")


def test_prune_removes_an_editorial_file_no_path_gives(tmp: Path) -> None:
    load_seeds(tmp / "d.db", [SEEDS, INVENTED, EDITORS])
    with pytest.raises(SeedErrors):
        load_seeds(tmp / "d.db", [SEEDS, INVENTED], prune=True)
    result = load_seeds(tmp / "d.db", [SEEDS], prune=True)
    assert result.changes["removed"]["editorials"].keys == ["diplo-editors"]


def test_export_writes_the_editorial_file_back_and_a_decision_changes_the_build_id(tmp: Path) -> None:
    load_seeds(tmp / "d.db", [SEEDS, DISPUTE])
    export_seeds(tmp / "d.db", tmp / "out")
    assert _read(tmp / "out" / "diplo-editors.yaml") == _read(EDITORS)
    load_seeds(tmp / "again.db", [tmp / "out"])
    dump, again = canonical(tmp / "d.db"), canonical(tmp / "again.db")
    for table in ("editorials", "decisions", "disputes", "dispute_values", "dispute_sources", "names"):
        assert dump[table] == again[table], table
    conn = connect_readonly(tmp / "d.db")
    before = build_id(conn)
    conn.close()
    changed = _read(EDITORS)
    changed["editorial"]["decisions"][1]["note"] = "Another reason."
    (tmp / "changed").mkdir()
    (tmp / "changed" / "diplo-editors.yaml").write_text(yaml.safe_dump(changed))
    result = load_seeds(tmp / "d.db", [SEEDS, INVENTED, tmp / "changed"])
    assert result.changes["changed"]["editorials"].keys == ["diplo-editors"]
    conn = connect_readonly(tmp / "d.db")
    assert build_id(conn) != before
    conn.close()


def test_the_seed_schema_takes_either_form() -> None:
    schema = seed_json_schema()
    assert len(schema["oneOf"]) == 2
    jsonschema.validate(_read(EDITORS), schema)
    jsonschema.validate(_read(INVENTED), schema)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"editorial": {"key": "e", "decisions": [{**DATE, "note": None}]}}, schema)
    committed = json.loads((SEEDS.parent / "schema" / "seed.schema.json").read_text())
    assert committed == schema


# --- GraphQL: both executors -----------------------------------------------------------------------------------------

_EDITORIAL = "disputes { field preferred note values { value sources { key } } } decisions { field prefer note }"
QUERIES = [
    f'{{ meeting(key: "{ISTANBUL}") {{ date title {_EDITORIAL} delegations {{ headRole {_EDITORIAL} }} }} }}',
    f'{{ person(key: "alexander-darchiev") {{ name aliases names {{ name sources {{ key }} }} {_EDITORIAL} }} }}',
    f"{{ organizations(first: 5) {{ nodes {{ key names {{ name sources {{ key }} }} {_EDITORIAL} }} }} }}",
    f"{{ topics(first: 5) {{ nodes {{ key {_EDITORIAL} }} }} }}",
    f"{{ statements(first: 3) {{ nodes {{ key {_EDITORIAL} }} }} }}",
    "{ persons(first: 10) { nodes { decisions { field } names { sources { outlet } } } } }",
]


@pytest.mark.parametrize("query", QUERIES)
def test_both_executors_answer_the_new_fields_alike(disputed_db: Path, query: str) -> None:
    assert Paths(disputed_db).same(query)


def _compiled(db: Path, query: str) -> Any:
    answer = Paths(db).compiled_only(query)
    assert answer is not None  # compiled, not answered by the fallback
    return orjson.loads(orjson.dumps(answer))


def test_the_dispute_as_graphql_gives_it(disputed_db: Path) -> None:
    answer = _compiled(disputed_db, QUERIES[0])
    meeting = answer["data"]["meeting"]
    assert meeting["date"] == "2025-02-27"
    assert meeting["disputes"] == [{
        "field": "date", "preferred": "2025-02-27",
        "note": "The State Department's own statement dates it 27 February.",
        "values": [{"value": "2025-02-28", "sources": [{"key": "invented-wire-2025-02-28-istanbul"}]},
                   {"value": "2025-02-27", "sources": [{"key": "koran-jakarta-2025-03-01-as-russia"}]}],
    }]  # fmt: skip
    assert [d["field"] for d in meeting["decisions"]] == ["date", "title"]
    person = _compiled(disputed_db, QUERIES[1])
    assert person["data"]["person"]["names"] == [
        {"name": "Aleksandr Darchiyev", "sources": [{"key": "invented-wire-2025-02-28-istanbul"}]},
        {"name": "Alexander Darchiev", "sources": [{"key": "koran-jakarta-2025-03-01-as-russia"}]},
    ]
    assert person["data"]["person"]["decisions"] == [
        {"field": "name", "prefer": "Alexander Darchiev", "note": "The spelling of the Russian MFA's English pages."}
    ]


# --- the change report's field diffs ----------------------------------------------------------------------------


def test_the_change_report_names_the_fields_that_changed(tmp: Path) -> None:
    load_seeds(tmp / "d.db", [SEEDS])
    editors = _editors(tmp, DATE)  # no name decision: the earlier report's spelling wins the tie
    result = load_seeds(tmp / "d.db", [SEEDS, INVENTED, editors], dry_run=True)
    assert result.diffs["persons"]["alexander-darchiev"] == {
        "name": ("Alexander Darchiev", "Aleksandr Darchiyev"),
        "aliases": ([], ["Alexander Darchiev"]),
    }
    assert result.diffs["meetings"][ISTANBUL]["title"] == (
        "US–Russia talks in Istanbul on the operation of diplomatic missions",
        "US–Russia consultations in Istanbul",
    )
    shown = result.as_dict()["diffs"]["persons"]["alexander-darchiev"]
    assert shown["name"] == {"old": "Alexander Darchiev", "new": "Aleksandr Darchiyev"}
    lines = result.diff_lines()
    assert (
        "persons alexander-darchiev: name 'Alexander Darchiev' → 'Aleksandr Darchiyev'; aliases [] → "
        "['Alexander Darchiev']" in lines
    )


# --- properties ------------------------------------------------------------------------------------------------------


def _disputed(files: Files, prefer_later: bool) -> tuple[Files, dict[str, Any]]:
    """`files` with a later source that gives every meeting another format, city and date (a span that shares no
    day with the first report's), and the editors' file deciding each: the format and city for the later report or
    the first, the date for the first (a follow-up stays after what it follows)."""
    files = copy.deepcopy(files)
    first = files[min(files)]
    formats = ("in_person", "phone_call", "video_call")
    reports, decisions = [], []
    for meeting in first["meetings"]:
        key = meeting["key"]
        other = {"format": next(f for f in formats if f != meeting["format"]), "city": "Nowhere Else"}
        report = {"key": key, "status": meeting["status"], **other,
                  "delegations": [{"country": d["country"]} for d in meeting["delegations"][:2]]}  # fmt: skip
        for name, value in other.items():
            prefer = value if prefer_later or name not in meeting else meeting[name]
            decisions.append({"meeting": key, "field": name, "prefer": prefer, "note": "Property."})
        span = dates.parse(meeting["date"]) if "date" in meeting else None
        if span is not None and span.earliest is not None:  # a day before its span: disjoint, and not after
            report["date"] = (span.earliest - dt.timedelta(days=1)).isoformat()  # the later source's publication
            decisions.append({"meeting": key, "field": "date", "prefer": meeting["date"], "note": "Property."})
        reports.append(report)
    files["zz-later.yaml"] = {
        "source": {"key": "zz-later", "outlet": "X", "title": "T", "published_at": "2027-01-01T00:00:00Z",
                   "language": "en"},
        "meetings": reports,
    }  # fmt: skip
    return files, {"editorial": {"key": "zz-editors", "decisions": decisions}}


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(files=datasets(max_meetings=3, max_statements=2), prefer_later=st.booleans(), data=st.data())
def test_decided_disputes_load_in_any_order_and_removing_the_decisions_undoes_them(
    files: Files, prefer_later: bool, data: st.DataObject
) -> None:
    disputed, editors = _disputed(files, prefer_later)
    with tempfile.TemporaryDirectory() as directory:
        tmp = Path(directory)
        write_files(tmp / "all", {**disputed, "zz-editors.yaml": editors})
        load_seeds(tmp / "together.db", [tmp / "all"])  # every disagreeing report loads, with its decision
        order = data.draw(st.permutations(sorted((tmp / "all").iterdir())))
        for i in range(1, len(order)):  # one file more at a time, in any order, each load against the last
            with contextlib.suppress(SeedErrors):  # a reference to a file not loaded yet, a dispute not decided yet
                load_seeds(tmp / "one-by-one.db", order[:i])
        load_seeds(tmp / "one-by-one.db", order)
        together = canonical(tmp / "together.db")
        assert canonical(tmp / "one-by-one.db") == together
        meetings = files[min(files)]["meetings"]
        assert {(row[1], row[3]) for row in together["disputes"]} >= {(m["key"], "format") for m in meetings}
        write_files(tmp / "plain", files)
        load_seeds(tmp / "never.db", [tmp / "plain"])
        remove_sources(tmp / "together.db", ["zz-editors", "zz-later"])
        assert canonical(tmp / "together.db") == canonical(tmp / "never.db")


def test_the_invented_source_is_marked_as_test_data() -> None:
    assert "TEST-ONLY, INVENTED" in INVENTED.read_text()
    assert "test data" in _read(INVENTED)["source"]["outlet"]


def test_the_cli_change_report_shows_the_field_diffs(tmp: Path) -> None:
    db = str(tmp / "d.db")
    runner = CliRunner()
    runner.invoke(cli, ["load", str(SEEDS), "--db", db])
    editors = _editors(tmp, DATE)
    result = runner.invoke(cli, ["load", str(SEEDS), str(INVENTED), str(editors), "--db", db, "--dry-run"])
    assert result.exit_code == 0, result.output
    assert "    persons alexander-darchiev: name 'Alexander Darchiev' → 'Aleksandr Darchiyev'" in result.output
    assert "delegations[RU].head_role 'Ambassador, Director of the North America Department" in result.output
    shown = json.loads(runner.invoke(cli, ["load", str(SEEDS), str(INVENTED), str(editors), "--db", db,
                                           "--dry-run", "--format", "json"]).stdout)  # fmt: skip
    assert shown["diffs"]["persons"]["alexander-darchiev"]["name"]["new"] == "Aleksandr Darchiyev"


def test_the_readme_dispute_workflow_is_true(tmp: Path) -> None:
    readme = (SEEDS.parent / "README.md").read_text(encoding="utf-8")
    db = str(tmp / "diplo.db")
    runner = CliRunner()
    runner.invoke(cli, ["load", "seeds/", "--db", db])
    invented = str(INVENTED.relative_to(SEEDS.parent))
    refused = runner.invoke(cli, ["load", "seeds/", invented, "--db", db, "--dry-run"])
    assert refused.exit_code == 1
    assert refused.stdout.strip() in readme
    editors = _editors(tmp, DATE)
    report = runner.invoke(cli, ["load", "seeds/", invented, str(editors), "--db", db, "--dry-run"]).stdout
    lines = [line for line in report.splitlines() if line.startswith(("  changed", "    "))]
    assert len(lines) == 4
    assert "\n".join(lines) in readme
    decided = runner.invoke(cli, ["load", "seeds/", str(DISPUTE.relative_to(SEEDS.parent)), "--db", db])
    assert decided.exit_code == 0, decided.output


def test_a_delegation_head_dispute_and_label_decisions(tmp: Path) -> None:
    """Another head for Russia's delegation loads with a decision; a topic's label and a head role are pinned to a
    wording no source used; a decision about a statement's occasion no report gives is stale."""
    other = {"source": {"key": "invented-heads", "outlet": "Invented (test data)", "title": "T",
                        "published_at": "2025-03-02", "language": "en"},
             "persons": [{"key": "invented-envoy", "name": "An Invented Envoy", "country": "RU"}],
             "topics": [{"key": "direct-flights", "label": "Air links"}],
             "meetings": [{"key": ISTANBUL, "status": "held", "delegations": [
                 {"country": "US"}, {"country": "RU", "head": "invented-envoy"}]}]}  # fmt: skip
    (tmp / "heads.yaml").write_text(yaml.safe_dump(other, sort_keys=False))
    with pytest.raises(SeedErrors) as raised:
        validate_seeds([SEEDS, tmp / "heads.yaml"])
    assert [(e.path, e.code) for e in _errors(raised)] == [("meetings[0].delegations[1].head", "report.disagree")]
    russia = {"meeting": ISTANBUL, "country": "RU"}  # copied into each decision: YAML would write an alias
    editors = _editors(
        tmp,
        {"delegation": dict(russia), "field": "head", "prefer": "alexander-darchiev", "note": "The MFA names him."},
        {"delegation": dict(russia), "field": "head_role", "prefer": "Head of delegation", "note": "Neutral."},
        {"topic": "direct-flights", "field": "label", "prefer": "Direct air links", "note": "House style."},
        {"statement": "vladimir-putin-inspires-hope", "field": "occasion", "prefer": "A briefing", "note": "X."},
    )
    result = load_seeds(tmp / "d.db", [SEEDS, tmp / "heads.yaml", editors])
    assert [(w.path, w.code) for w in result.warnings] == [("editorial.decisions[3]", "editorial.stale")]
    conn = connect_readonly(tmp / "d.db")
    try:
        delegation = "SELECT head, head_role FROM delegations WHERE meeting = ? AND country = 'RU'"
        assert conn.execute(delegation, [ISTANBUL]).fetchone() == ("alexander-darchiev", "Head of delegation")
        assert conn.execute("SELECT label FROM topics WHERE key = 'direct-flights'").fetchone() == ("Direct air links",)
    finally:
        conn.close()
    query = f'{{ meeting(key: "{ISTANBUL}") {{ delegations {{ {_EDITORIAL} }} }} }}'
    assert Paths(tmp / "d.db").same(query)
    russian = next(d for d in _compiled(tmp / "d.db", query)["data"]["meeting"]["delegations"] if d["disputes"])
    assert russian["disputes"][0]["field"] == "head"
    assert [v["value"] for v in russian["disputes"][0]["values"]] == ["alexander-darchiev", "invented-envoy"]
    assert [d["field"] for d in russian["decisions"]] == ["head", "headRole"]

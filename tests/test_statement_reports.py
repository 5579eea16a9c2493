"""One statement, many reports (issue 22, section 2): sources reporting one statement key merge into one statement,
like a meeting; each report keeps its own words; facts agree or are decided; both executors answer the new fields.
"""

import copy
import sqlite3
from pathlib import Path
from typing import Any

import orjson
import pytest
import yaml
from diplo.ingest.export import export_seeds
from diplo.ingest.rules import SeedErrors
from diplo.ingest.session import load_seeds, remove_sources, validate_seeds
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from strategies import write_files
from test_compiled import Paths

KEY = "lavrov-talks-useful"
QUOTE = "Разговор был полезным."


def _source(key: str, published: str, text: str | None = None) -> dict[str, Any]:
    source = {"key": key, "outlet": key.title(), "title": f"Report {key}", "published_at": published, "language": "en"}
    return source | ({"text": text} if text is not None else {})


PERSONS = [
    {"key": "sergei-lavrov", "name": "Sergei Lavrov", "country": "RU"},
    {"key": "yuri-ushakov", "name": "Yuri Ushakov", "country": "RU"},
]
# The earlier source paraphrases in English; the later quotes the Russian words its own text gives.
A: dict[str, Any] = {
    "source": _source("wire-a", "2025-02-18T20:00:00+03:00"),
    "persons": PERSONS,
    "topics": [{"key": "relations", "label": "Bilateral relations"}, {"key": "ukraine", "label": "Ukraine"}],
    "statements": [{
        "key": KEY, "text": "The talks were useful, Lavrov said.", "language": "en", "kind": "paraphrase",
        "translations": {"ru": "Переговоры были полезными."}, "speaker": "sergei-lavrov", "occasion": "A briefing",
        "date": "2025-02", "topics": ["relations"],
    }],
}  # fmt: skip
B: dict[str, Any] = {
    "source": _source("wire-b", "2025-02-19T08:00:00+03:00", f"Лавров: «{QUOTE}» Больше он не сказал."),
    "statements": [{
        "key": KEY, "text": QUOTE, "language": "ru", "kind": "direct_quote",
        "translations": {"en": "The conversation was useful."}, "speaker": "sergei-lavrov", "date": "2025-02-18",
        "topics": ["ukraine", "relations"],
    }],
}  # fmt: skip

STATEMENT = f"""{{ statement(key: "{KEY}") {{ key text language kind source {{ key }} sources {{ key }}
  date when {{ edtf }} occasion topics {{ key }} speaker {{ key }}
  reports {{ id source {{ key }} text language kind translation(language: "en") occasion date }} }} }}"""


def _load(tmp: Path, *files: dict[str, Any], db: str = "d.db") -> Path:
    paths = write_files(tmp / "seeds", {f"{f['source']['key']}.yaml": f for f in files})
    load_seeds(tmp / db, paths)
    return tmp / db


def _answer(db: Path, query: str) -> Any:
    paths = Paths(db)
    assert paths.same(query)  # both executors, the same bytes, and compiled
    answer = paths.compiled_only(query)
    assert answer is not None
    return orjson.loads(orjson.dumps(answer))["data"]


def test_two_reports_of_one_statement_merge_into_one(tmp_path: Path) -> None:
    db = _load(tmp_path, A, B)
    statement = _answer(db, STATEMENT)["statement"]
    assert (statement["text"], statement["language"], statement["kind"]) == (QUOTE, "ru", "DIRECT_QUOTE")
    assert statement["source"] == {"key": "wire-a"}  # the earliest report's
    assert statement["sources"] == [{"key": "wire-a"}, {"key": "wire-b"}]
    assert (statement["date"], statement["occasion"]) == ("2025-02-18", "A briefing")  # spans intersected
    assert statement["topics"] == [{"key": "relations"}, {"key": "ukraine"}]
    reports = statement["reports"]
    assert [(r["source"]["key"], r["kind"], r["language"]) for r in reports] == [
        ("wire-a", "PARAPHRASE", "en"), ("wire-b", "DIRECT_QUOTE", "ru")
    ]  # fmt: skip
    assert [(r["translation"], r["occasion"], r["date"]) for r in reports] == [
        (None, "A briefing", None), ("The conversation was useful.", None, "2025-02-18")
    ]  # fmt: skip
    counted = _answer(db, '{ statements { totalCount } person(key: "sergei-lavrov") { statements { totalCount } } '
                          "statementFacets { byLanguage { value count } } }")  # fmt: skip
    assert counted["statements"]["totalCount"] == counted["person"]["statements"]["totalCount"] == 1
    assert counted["statementFacets"]["byLanguage"] == [{"value": "ru", "count": 1}]
    node = _answer(db, f'{{ node(id: "{reports[1]["id"]}") {{ ... on StatementReport {{ text }} }} }}')
    assert node["node"] == {"text": QUOTE}
    found = _answer(db, '{ statements(filter: {search: "полезным"}) { nodes { key } } }')
    assert found["statements"]["nodes"] == [{"key": KEY}]
    for source in ("wire-a", "wire-b"):  # every source reporting it lists it, and finds it by filter
        listed = _answer(db, f'{{ source(key: "{source}") {{ statements {{ nodes {{ key }} }} }} '
                             f'statements(filter: {{source: "{source}"}}) {{ totalCount }} }}')  # fmt: skip
        assert listed["source"]["statements"]["nodes"] == [{"key": KEY}]
        assert listed["statements"]["totalCount"] == 1
    result = remove_sources(db, ["wire-b"])  # the other report keeps the statement, in its own words now
    assert result.changes["changed"]["statements"].keys == [KEY]
    statement = _answer(db, STATEMENT)["statement"]
    assert (statement["kind"], statement["text"]) == ("PARAPHRASE", A["statements"][0]["text"])
    assert statement["sources"] == [{"key": "wire-a"}]


def test_a_statement_reported_twice_in_one_load_is_added_once(tmp_path: Path) -> None:
    """A statement's first report is merged as its file is written; a second report in the same load merges it
    again at the end, and the change report still says it was added, once, not changed."""
    paths = write_files(tmp_path / "seeds", {"a.yaml": A, "b.yaml": B})
    result = load_seeds(tmp_path / "together.db", paths)
    assert (result.changes["added"]["statements"].keys, result.changes["changed"]["statements"].count) == ([KEY], 0)
    load_seeds(tmp_path / "one-by-one.db", [paths[0]])
    result = load_seeds(tmp_path / "one-by-one.db", [paths[1]])
    assert (result.changes["added"]["statements"].count, result.changes["changed"]["statements"].keys) == (0, [KEY])
    assert result.diffs["statements"][KEY]["text"] == (A["statements"][0]["text"], QUOTE)


def test_an_undated_statement_was_said_no_later_than_the_latest_report(tmp_path: Path) -> None:
    undated_a, undated_b = copy.deepcopy(A), copy.deepcopy(B)
    del undated_a["statements"][0]["date"], undated_b["statements"][0]["date"]
    db = _load(tmp_path, undated_a, undated_b)
    statement = _answer(db, STATEMENT.replace("reports {", "evidence { source { key } field } reports {"))
    assert statement["statement"]["when"] == {"edtf": "../2025-02-19"}
    # each report's evidence (the derived `date` of each undated report, a quote's own text), in report order
    assert [(e["source"]["key"], e["field"]) for e in statement["statement"]["evidence"]] == [
        ("wire-a", "date"), ("wire-b", "date"), ("wire-b", "text")
    ]  # fmt: skip


def test_each_source_s_report_is_exported_back_exactly(tmp_path: Path) -> None:
    db = _load(tmp_path, A, B)
    export_seeds(db, tmp_path / "out")
    again = sorted((tmp_path / "out").glob("*.yaml"))
    load_seeds(tmp_path / "again.db", again)
    sql = "SELECT * FROM statement_reports ORDER BY statement, source"
    with sqlite3.connect(db) as one, sqlite3.connect(tmp_path / "again.db") as two:
        assert one.execute(sql).fetchall() == two.execute(sql).fetchall()
        assert len(one.execute(sql).fetchall()) == 2


def test_a_direct_quote_is_checked_against_its_own_source(tmp_path: Path) -> None:
    elsewhere = copy.deepcopy(B)
    elsewhere["source"]["text"] = "Лавров ничего не сказал."
    paths = write_files(tmp_path, {"a.yaml": A, "b.yaml": elsewhere})
    with pytest.raises(SeedErrors) as raised:
        validate_seeds(paths)
    assert [(Path(e.file).name, e.path, e.code) for e in raised.value.errors] == [
        ("b.yaml", "statements[0].text", "statement.quote_not_in_source")
    ]


def test_a_disagreeing_speaker_is_refused_unless_decided(tmp_path: Path) -> None:
    other = copy.deepcopy(B)
    other["statements"][0]["speaker"] = "yuri-ushakov"
    paths = write_files(tmp_path / "seeds", {"a.yaml": A, "b.yaml": other})
    with pytest.raises(SeedErrors) as raised:
        validate_seeds(paths)
    assert [(Path(e.file).name, e.path, e.code) for e in raised.value.errors] == [
        ("b.yaml", "statements[0].speaker", "report.disagree")
    ]
    assert f"{{statement: {KEY}, field: speaker, prefer: " in raised.value.errors[0].message
    decision = {"statement": KEY, "field": "speaker", "prefer": "yuri-ushakov", "note": "The wire-b tape."}
    occasion = {"statement": KEY, "field": "occasion", "prefer": "A press briefing", "note": "House style."}
    editors = tmp_path / "editors.yaml"
    decisions = [decision, occasion]
    editors.write_text(yaml.safe_dump({"editorial": {"key": "editors", "decisions": decisions}}, sort_keys=False))
    result = load_seeds(tmp_path / "d.db", [*paths, editors])
    assert result.warnings == []
    disputes = "disputes { field preferred values { value } }"
    query = f'{{ statement(key: "{KEY}") {{ speaker {{ key }} occasion {disputes} }} }}'
    statement = _answer(tmp_path / "d.db", query)["statement"]
    assert (statement["speaker"], statement["occasion"]) == ({"key": "yuri-ushakov"}, "A press briefing")
    assert statement["disputes"] == [
        {
            "field": "speaker",
            "preferred": "yuri-ushakov",
            "values": [{"value": "sergei-lavrov"}, {"value": "yuri-ushakov"}],
        }
    ]


# --- the merged statement is independent of the order its reports are loaded in ------------------------------------

_PUBLISHED = ["2025-02-18T09:00:00+00:00", "2025-02-19", "2025-02-19T23:00:00+00:00", "2025-02-20T01:00:00+05:00"]


@st.composite
def _reports(draw: st.DrawFn) -> list[dict[str, Any]]:
    """Two to four sources reporting one statement, their facts agreeing, their words and lists drawn."""
    count = draw(st.integers(2, 4))
    files = []
    for i in range(count):
        kind = draw(st.sampled_from(["direct_quote", "paraphrase"]))
        text = f"Words of source {i}."
        statement: dict[str, Any] = {
            "key": KEY, "text": text, "language": draw(st.sampled_from(["en", "ru"])), "kind": kind,
            "speaker": "sergei-lavrov",
            "topics": draw(st.lists(st.sampled_from(["relations", "ukraine"]), max_size=2, unique=True)),
        }  # fmt: skip
        if (occasion := draw(st.sampled_from([None, "A briefing", "An interview"]))) is not None:
            statement["occasion"] = occasion
        if (date := draw(st.sampled_from([None, "2025-02", "2025-02-17/2025-02-18", "2025-02-18"]))) is not None:
            statement["date"] = date
        source = _source(f"wire-{i}", draw(st.sampled_from(_PUBLISHED)), f"Lavrov: {text}")
        files.append({"source": source, "persons": PERSONS, "topics": A["topics"], "statements": [statement]})
    return files


_MERGED = (
    "SELECT key, text, language, kind, translations, date, speaker, occasion, source, reported_on FROM statements",
    "SELECT * FROM statement_topics ORDER BY statement, position",
    "SELECT * FROM statement_sources ORDER BY statement, position",
    "SELECT rowid, * FROM statements_fts ORDER BY rowid",
    "SELECT rowid FROM statements",
)


def _merged(db: Path) -> list[Any]:
    with sqlite3.connect(db) as conn:
        return [conn.execute(sql).fetchall() for sql in _MERGED]


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(files=_reports(), order=st.permutations(range(4)))
def test_the_merged_statement_is_independent_of_the_load_order(tmp_path_factory: Any, files: Any, order: Any) -> None:
    tmp = tmp_path_factory.mktemp("order")
    paths = write_files(tmp / "seeds", {f"{f['source']['key']}.yaml": f for f in files})
    load_seeds(tmp / "together.db", paths)
    for i in (i for i in order if i < len(paths)):  # one file per load, in the drawn order
        load_seeds(tmp / "one-by-one.db", [paths[i]])
    together, one_by_one = _merged(tmp / "together.db"), _merged(tmp / "one-by-one.db")
    assert together[:3] == one_by_one[:3]
    assert [row[1:] for row in together[3]] == [row[1:] for row in one_by_one[3]]  # one index row, of its text
    for merged in (together, one_by_one):
        assert [row[0] for row in merged[3]] == [row[0] for row in merged[4]]  # rowid = statements.rowid
    (statement,) = together[0]
    ordered = [source for _, _, source in together[2]]  # report order
    by_source = {f["source"]["key"]: f["statements"][0] for f in files}
    assert sorted(ordered) == sorted(by_source)
    words = next((s for s in ordered if by_source[s]["kind"] == "direct_quote"), ordered[0])
    assert (statement[1], statement[8]) == (by_source[words]["text"], ordered[0])  # a quote's words, earliest source

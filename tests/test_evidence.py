"""Evidence: each fact says how it is known. Quotes are checked against the source's text (with positions that
point at the passage to copy from), stored as Web Annotation selectors whose offsets are exact, served on both
executors, and the bundled seed gives evidence or a basis for every fact."""

import hashlib
import sqlite3
import tempfile
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner
from conftest import SEEDS
from diplo.cli import cli
from diplo.ingest.evidence import Folded, normalise
from diplo.ingest.rules import SeedErrors
from diplo.ingest.session import Options, load_seeds, validate_seeds
from hypothesis import given, settings
from hypothesis import strategies as st
from strategies import Files, datasets, write_files
from test_compiled import Paths

TEXT = "Kedua delegasi bertemu pada Kamis di Istanbul, Turki.\nMereka bertemu lagi “pada Kamis” berikutnya."
SOURCE = {
    "key": "s",
    "outlet": "O",
    "title": "T",
    "published_at": "2025-03-01T01:20:00+07:00",
    "language": "id",
    "text": TEXT,
}
MEETING = {
    "key": "m",
    "title": "M",
    "status": "held",
    "format": "in_person",
    "date": "2025-02-27",
    "city": "Istanbul",
    "delegations": [{"country": "US"}, {"country": "RU"}],
}


def seed(tmp_path: Path, evidence: Any, source: dict[str, Any] | None = None) -> Path:
    path = tmp_path / "s.yaml"
    meeting = {**MEETING, "evidence": evidence}
    path.write_text(yaml.safe_dump({"source": source or SOURCE, "meetings": [meeting]}, allow_unicode=True))
    return path


def errors(path: Path, **options: Any) -> list[tuple[str, str, int, str]]:
    try:
        validate_seeds([path], options=Options(**options))
    except SeedErrors as raised:
        return [(e.path, e.code, e.line, e.message) for e in raised.errors]
    return []


def test_a_quote_of_the_text_is_evidence(tmp_path: Path) -> None:
    # Straight for curly quote marks and a line break for a space still match, as direct quotes do.
    assert errors(seed(tmp_path, {"city": "di Istanbul,\n Turki", "date": {"quote": '"pada Kamis" berikutnya',
                                  "basis": "inferred", "note": "a weekday resolved"}})) == []  # fmt: skip


def test_a_quote_not_in_the_text_points_at_the_closest_passage(tmp_path: Path) -> None:
    path = seed(tmp_path, {"city": "bertemu pada Jumat di Istanbul"})
    [(where, code, line, message)] = errors(path)
    assert (where, code) == ("meetings[0].evidence.city.quote", "evidence.not_in_source")
    text_line = next(i for i, row in enumerate(path.read_text().splitlines(), 1) if "Kedua delegasi" in row)
    assert f"{path}:{text_line}:" in message  # the passage's own place in the file
    assert "'bertemu pada Kamis di Istanbul'" in message
    assert "character 14 of the quote ('J' where the text has 'K')" in message
    assert line > 0


def test_a_quote_found_twice_needs_a_prefix_or_suffix(tmp_path: Path) -> None:
    [(where, code, _, message)] = errors(seed(tmp_path, {"date": {"quote": "pada Kamis", "basis": "inferred",
                                                                   "note": "n"}}))  # fmt: skip
    assert (where, code) == ("meetings[0].evidence.date.quote", "evidence.ambiguous")
    assert "occurs 2 times" in message
    assert "lines" in message
    picked = {"quote": "pada Kamis", "suffix": "di Istanbul", "basis": "inferred", "note": "n"}
    assert errors(seed(tmp_path, {"date": picked})) == []


def test_quotes_need_the_source_text(tmp_path: Path) -> None:
    source = {k: v for k, v in SOURCE.items() if k != "text"}
    [(where, code, _, _)] = errors(seed(tmp_path, {"city": "Istanbul"}, source))
    assert (where, code) == ("meetings[0].evidence.city", "evidence.no_text")
    assert errors(seed(tmp_path, {"city": {"basis": "assumed", "note": "not in the text"}}, source)) == []


@pytest.mark.parametrize(
    ("support", "code"),
    [
        ({"basis": "inferred"}, "evidence.note"),
        ({"quote": "Istanbul", "basis": "external"}, "evidence.note"),
        ({"basis": "stated"}, "evidence.note"),
        ({"note": "why"}, "evidence.note"),
    ],
)
def test_a_basis_other_than_stated_needs_a_note_and_stated_needs_a_quote(
    tmp_path: Path, support: dict[str, Any], code: str
) -> None:
    assert [e[1] for e in errors(seed(tmp_path, {"city": support}))] == [code]


def test_evidence_names_a_field_of_its_record(tmp_path: Path) -> None:
    [(where, code, _, message)] = errors(seed(tmp_path, {"hostCountry": "Turki"}))
    assert (where, code) == ("meetings[0].evidence", "seed.schema")
    assert "'hostCountry'" in message


def test_coverage_is_counted_and_can_be_required(tmp_path: Path) -> None:
    path = seed(tmp_path, {"city": "di Istanbul, Turki", "status": "Kedua delegasi bertemu"})
    result = validate_seeds([path])
    # The source's publication time, and the meeting's status, format, date, city and delegations; two have evidence.
    assert (result.evidence[str(path)].covered, result.evidence[str(path)].facts) == (2, 6)
    missing = {(e[0], e[1]) for e in errors(path, require_evidence=True)}
    assert missing == {
        ("source.published_at", "evidence.missing"),
        ("meetings[0].format", "evidence.missing"),
        ("meetings[0].date", "evidence.missing"),
        ("meetings[0].delegations", "evidence.missing"),
    }


def test_the_bundled_seed_gives_evidence_or_a_basis_for_every_fact() -> None:
    result = validate_seeds([SEEDS], options=Options(require_evidence=True))
    [coverage] = result.evidence.values()
    assert coverage.covered == coverage.facts > 70
    out = CliRunner().invoke(cli, ["validate", str(SEEDS), "--require-evidence"])
    assert out.exit_code == 0, out.output
    assert "evidence: 75 of 75 facts" in out.output


# --- offsets: `text[start:end] == exact`, whatever the whitespace and quote marks ---------------------------------

WORDS = st.text(alphabet="abcé“”‘’\"' ", min_size=1, max_size=8)
SPACES = st.sampled_from([" ", "  ", "\n", "\t ", "\n\n"])


@given(st.lists(st.tuples(WORDS, SPACES), min_size=1, max_size=30), st.data())
def test_a_quote_found_is_stored_with_exact_offsets(parts: list[tuple[str, str]], data: st.DataObject) -> None:
    text = "".join(word + space for word, space in parts)
    folded = Folded.of(text)
    if not folded.text:
        return
    start = data.draw(st.integers(0, len(folded.text) - 1))
    end = data.draw(st.integers(start + 1, len(folded.text)))
    quote = normalise(folded.text[start:end])
    if not quote:
        return
    at = folded.occurrences(quote)[0]
    begin, finish = folded.span(at, len(quote))
    assert normalise(text[begin:finish]) == quote
    assert not text[begin].isspace()
    assert not text[finish - 1].isspace()


def test_the_stored_selectors_are_exact(article_db: Path) -> None:
    with sqlite3.connect(f"file:{article_db}?mode=ro", uri=True) as conn:
        (text,) = conn.execute("SELECT text FROM sources").fetchone()
        quotes = conn.execute("SELECT exact, prefix, suffix, start_offset, end_offset FROM evidence_quotes").fetchall()
    assert len(quotes) > 70
    for exact, prefix, suffix, start, end in quotes:
        assert text[start:end] == exact
        assert text[:start].endswith(prefix)
        assert text[end:].startswith(suffix)
        assert max(len(prefix), len(suffix)) <= 32


# --- served -------------------------------------------------------------------------------------------------------

ISTANBUL = "us-russia-talks-istanbul-2025-02-27"
EVIDENCE = "evidence(field: $field) { field basis note quotes { exact prefix suffix start end } source { key } }"
QUERIES = {
    "meeting": f'query ($field: String) {{ meeting(key: "{ISTANBUL}") {{ {EVIDENCE} reports {{ {EVIDENCE} '
    f"delegations {{ {EVIDENCE} }} }} delegations {{ {EVIDENCE} }} }} }}",
    "statements": f"query ($field: String) {{ statements(first: 20) {{ nodes {{ key {EVIDENCE} }} }} }}",
    "records": f"query ($field: String) {{ persons {{ nodes {{ {EVIDENCE} }} }} organizations {{ nodes {{ {EVIDENCE} "
    f"}} }} topics {{ nodes {{ {EVIDENCE} }} }} sources {{ nodes {{ textSha256 retrievedAt archiveUrl {EVIDENCE} "
    "} } }",
}


@pytest.mark.parametrize("field", [None, "date", "hostCountry", "head", "kind", "nothing"])
@pytest.mark.parametrize("query", QUERIES.values(), ids=QUERIES.keys())
def test_evidence_is_served_alike_by_both_executors(article_db: Path, query: str, field: str | None) -> None:
    assert Paths(article_db).same(query, {"field": field}), "the compiled path fell back"


def test_an_assumption_is_served_as_one(article_db: Path) -> None:
    from conftest import Client
    from diplo.server.app import Settings, create_app

    client = Client(create_app(Settings(db_path=article_db)))
    body = client.query('{ meeting(key: "us-russia-talks-follow-up-after-istanbul") { format '
                        'evidence(field: "format") { basis note quotes { exact } } } }')  # fmt: skip
    [evidence] = body["data"]["meeting"]["evidence"]
    assert (evidence["basis"], evidence["quotes"]) == ("ASSUMED", [])
    assert "not stated" in evidence["note"]
    body = client.query(
        f'{{ meeting(key: "{ISTANBUL}") {{ evidence(field: "date") {{ basis quotes {{ exact }} }} }} }}'
    )
    inferred = {"basis": "INFERRED", "quotes": [{"exact": "bertemu pada Kamis di Istanbul"}]}
    assert body["data"]["meeting"]["evidence"] == [inferred]


def test_the_source_says_which_text_its_evidence_quotes(tmp_path: Path) -> None:
    source = {**SOURCE, "retrieved_at": "2025-03-02T09:00:00+01:00", "archive_url": "https://archive.example/s"}
    path = seed(tmp_path, {"city": "Istanbul, Turki"}, source)
    load_seeds(tmp_path / "s.db", [path])
    from conftest import Client
    from diplo.server.app import Settings, create_app

    body = Client(create_app(Settings(db_path=tmp_path / "s.db"))).query(
        '{ source(key: "s") { textSha256 retrievedAt archiveUrl } }'
    )
    assert body["data"]["source"] == {
        "textSha256": hashlib.sha256(TEXT.encode()).hexdigest(),
        "retrievedAt": "2025-03-02T09:00:00+01:00",
        "archiveUrl": "https://archive.example/s",
    }


# --- evidence.missing: exactly the facts without evidence or a basis ----------------------------------------------


@settings(max_examples=15)
@given(datasets(), st.data())
def test_require_evidence_reports_exactly_the_uncovered_facts(files: Files, data: st.DataObject) -> None:
    name = min(files)
    content = files[name]
    meetings = content.get("meetings", [])
    covered = 0
    if meetings:  # one fact given a basis, so that covered and uncovered facts are both counted
        meeting = meetings[data.draw(st.integers(0, len(meetings) - 1))]
        meeting["evidence"] = {"status": {"basis": "assumed", "note": "a test's"}}
        covered = 1
    with tempfile.TemporaryDirectory() as tmp:
        write_files(Path(tmp), files)
        result = validate_seeds([Path(tmp)])
        facts = sum(c.facts for c in result.evidence.values())
        assert sum(c.covered for c in result.evidence.values()) == covered
        try:
            validate_seeds([Path(tmp)], options=Options(require_evidence=True))
            missing = []
        except SeedErrors as raised:
            missing = raised.errors
    assert {e.code for e in missing} <= {"evidence.missing"}
    assert len(missing) == facts - covered

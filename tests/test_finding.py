"""Finding things: search by words with a typeahead's last word (persons, organizations, topics, meetings), the
name orders and their keyset pages, and the facet counts. Each property runs on generated datasets through both
executors (`Paths.same`: the compiled path answers, and gives the resolver path's bytes)."""

import datetime as dt
import re
import subprocess
import sys
import tempfile
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import orjson
import pytest
from diplo import dates
from diplo.graphql.queries import fts_query
from diplo.ingest.session import load_seeds
from diplo.vocabulary import fold
from hypothesis import given, settings
from hypothesis import strategies as st
from strategies import LANGUAGES, Files, datasets, write_files
from test_compiled import Paths, _answer
from test_graphql import Merged, _meeting_matches, meeting_filters

EXAMPLES = settings(max_examples=20)


@contextmanager
def loaded(files: Files) -> Iterator[Paths]:
    with tempfile.TemporaryDirectory() as tmp:
        write_files(Path(tmp) / "seeds", files)
        load_seeds(Path(tmp) / "d.db", [Path(tmp) / "seeds"])
        yield Paths(Path(tmp) / "d.db")


def answer(paths: Paths, query: str, **variables: Any) -> dict[str, Any]:
    """The data both executors give (the compiled path answering), which must be the same bytes."""
    assert paths.same(query, variables), f"the compiled path fell back: {query}"
    body: dict[str, Any] = orjson.loads(orjson.dumps(_answer(paths.compiled, query, variables)))
    assert "errors" not in body, body
    return body["data"]  # type: ignore[no-any-return]


def words(text: str) -> list[str]:
    """The words of a text as the full-text index cuts it: runs of letters and digits."""
    return re.findall(r"[^\W_]+", text)


# --- search -------------------------------------------------------------------------------------------------------


def _names(files: Files, kind: str) -> dict[str, set[str]]:
    """Every name each person or organization is given, by any report."""
    names: dict[str, set[str]] = {}
    for content in files.values():
        for record in content.get(kind, []):
            names.setdefault(record["key"], set()).add(record["name"])
    return names


def _found(search: str, names: set[str]) -> bool:
    """The oracle: every word of `search` is a word of some name, the last also the start of one."""
    tokens = {fold(w) for name in names for w in words(name)}
    *whole, last = [fold(w) for w in words(search)]
    return all(w in tokens for w in whole) and any(t.startswith(last) for t in tokens)


SEARCH = "query ($s: String) { persons(filter: {search: $s}, first: 100) { totalCount nodes { key } } }"


@EXAMPLES
@given(datasets(max_meetings=2, max_statements=2), st.data())
def test_a_person_is_found_by_any_word_prefix_of_any_of_its_names(files: Files, data: st.DataObject) -> None:
    names = _names(files, "persons")
    with loaded(files) as paths:
        for _ in range(4):
            key = data.draw(st.sampled_from(sorted(names)))
            name = data.draw(st.sampled_from(sorted(names[key])))
            candidates = words(name)
            if not candidates:
                continue
            chosen = data.draw(st.sampled_from(candidates))
            prefix = chosen[: data.draw(st.integers(1, len(chosen)))]
            others = data.draw(st.lists(st.sampled_from(candidates), max_size=2))
            case = data.draw(st.sampled_from([str.lower, str.upper, str]))
            search = case(" ".join([*others, prefix]))
            found = answer(paths, SEARCH, s=search)["persons"]
            keys = [n["key"] for n in found["nodes"]]
            assert key in keys, (search, names[key])
            # and only those the oracle finds, in the listing's order (by key)
            assert keys == sorted(k for k in names if _found(search, names[k])), search
            assert found["totalCount"] == len(keys)


def test_accents_and_case_are_folded_and_every_spelling_is_searched(article_db: Path) -> None:
    paths = Paths(article_db)
    persons = "query ($s: String) { persons(filter: {search: $s}) { nodes { key } } }"
    for search in ("vlad", "VLADIMIR pu", "putin vladímir", "pUt"):
        assert [n["key"] for n in answer(paths, persons, s=search)["persons"]["nodes"]] == ["vladimir-putin"]
    # a whole word must be whole: only the last one is a prefix
    assert answer(paths, persons, s="vlad putin")["persons"]["nodes"] == []
    topics = "query ($s: String) { topics(filter: {search: $s}) { nodes { key } } }"
    assert [n["key"] for n in answer(paths, topics, s="diplomatic miss")["topics"]["nodes"]] == ["diplomatic-missions"]
    # every label, in every language: `Operasional misi diplomatik`
    assert [n["key"] for n in answer(paths, topics, s="MISI diplomat")["topics"]["nodes"]] == ["diplomatic-missions"]
    meetings = "query ($s: String) { meetings(filter: {search: $s, status: HELD}) { nodes { key } } }"
    assert [n["key"] for n in answer(paths, meetings, s="istanb")["meetings"]["nodes"]] == [
        "us-russia-talks-istanbul-2025-02-27"
    ]
    organizations = '{ organizations(filter: {search: "zzzz"}) { totalCount nodes { key } } }'
    assert answer(paths, organizations)["organizations"] == {"totalCount": 0, "nodes": []}


def test_the_last_word_is_a_prefix_and_punctuation_is_no_word() -> None:
    assert fts_query("Lavrov  ser", prefix=True) == '"Lavrov" "ser"*'
    assert fts_query("Lavrov - ", prefix=True) == '"Lavrov"*'
    assert fts_query('"*(', prefix=True) == '""'
    assert fts_query("  ", prefix=True) is None
    assert fts_query("dialog talks") == '"dialog" "talks"'


def test_relevance_needs_a_search(article_db: Path) -> None:
    paths = Paths(article_db)
    for filter_ in ("", 'filter: {search: "  "}, '):
        body = orjson.loads(orjson.dumps(_answer(paths.compiled, f"{{ persons({filter_}orderBy: RELEVANCE) "
                                                                   "{ nodes { key } } }", None)))  # fmt: skip
        assert [e["extensions"]["code"] for e in body["errors"]] == ["BAD_USER_INPUT"]
        assert "give `filter.search`" in body["errors"][0]["message"]
        assert paths.same(f"{{ persons({filter_}orderBy: RELEVANCE) {{ nodes {{ key }} }} }}") is False


# --- name order ---------------------------------------------------------------------------------------------------


PAGE = """query ($n: Int, $after: String, $order: NameOrder, $s: String) {
  LISTING(first: $n, after: $after, orderBy: $order, filter: {search: $s}) {
    totalCount edges { cursor node { key NAME } } pageInfo { hasNextPage endCursor }
  }
}"""


def walk(paths: Paths, listing: str, name: str, order: str, size: int, search: str | None = None) -> list[Any]:
    """Every record of a listing, page by page, as (key, name, cursor)."""
    query = PAGE.replace("LISTING", listing).replace("NAME", name)
    seen: list[Any] = []
    after = None
    for _ in range(500):
        page = answer(paths, query, n=size, after=after, order=order, s=search)[listing]
        seen += [(e["node"]["key"], e["node"][name], e["cursor"]) for e in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            assert len(seen) == page["totalCount"]
            return seen
        after = page["pageInfo"]["endCursor"]
    raise AssertionError("paging did not end")


@EXAMPLES
@given(datasets(max_meetings=2, max_statements=2), st.integers(1, 3), st.sampled_from(["NAME_ASC", "NAME_DESC"]))
def test_name_order_is_total_and_paging_visits_every_record_once(files: Files, size: int, order: str) -> None:
    with loaded(files) as paths:
        for listing, name, kind in (("persons", "name", "persons"), ("organizations", "name", "organizations"),
                                    ("topics", "label", "topics")):  # fmt: skip
            seen = walk(paths, listing, name, order, size)
            every = {r["key"] for content in files.values() for r in content.get(kind, [])}
            assert sorted(k for k, _, _ in seen) == sorted(every)  # each once
            expected = sorted(seen, key=lambda r: (fold(r[1]), r[0]), reverse=order == "NAME_DESC")
            assert seen == expected
            # by key, the default, as before
            assert [k for k, _, _ in walk(paths, listing, name, "KEY_ASC", size)] == sorted(every)


def test_relevance_pages_visit_every_match_once(article_db: Path) -> None:
    paths = Paths(article_db)
    everyone = walk(paths, "persons", "name", "RELEVANCE", 100, "d")
    assert len(everyone) >= 2
    assert walk(paths, "persons", "name", "RELEVANCE", 1, "d") == everyone


def test_a_cursor_of_another_order_is_refused(article_db: Path) -> None:
    paths = Paths(article_db)
    cursor = walk(paths, "persons", "name", "NAME_ASC", 1)[0][2]
    body = orjson.loads(orjson.dumps(_answer(paths.reference, PAGE.replace("LISTING", "persons").replace(
        "NAME", "name"), {"n": 1, "after": cursor, "order": "NAME_DESC"})))  # fmt: skip
    assert [e["extensions"]["code"] for e in body["errors"]] == ["BAD_USER_INPUT"]


# --- facets -------------------------------------------------------------------------------------------------------

MEETING_FACETS = """query ($f: MeetingFilter) { meetingFacets(filter: $f) {
  byCountry { value count } byHostCountry { value count } byStatus { value count } byFormat { value count }
  byYear { value count } byMonth { value count } } }"""
STATEMENT_FACETS = """query ($f: StatementFilter) { statementFacets(filter: $f) {
  byTopic { value count } byKind { value count } byLanguage { value count } } }"""


def _counted(values: list[list[str]]) -> list[dict[str, Any]]:
    counts = Counter(v for row in values for v in set(row))
    return [{"value": v, "count": n} for v, n in sorted(counts.items(), key=lambda c: (-c[1], c[0]))]


def _meeting_values(m: dict[str, Any], periods: dict[int, set[str]]) -> dict[str, list[str]]:
    span = dates.parse(m["date"]) if m.get("date") else None
    return {
        "byCountry": [d["country"] for d in m["delegations"]],
        "byHostCountry": [m["host_country"]] if m.get("host_country") else [],
        "byStatus": [m["status"].upper()],
        "byFormat": [m["format"].upper()],
        "byYear": [p for p in periods[4] if span and _overlaps(span, p)],
        "byMonth": [p for p in periods[7] if span and _overlaps(span, p)],
    }


def _periods(meetings: list[dict[str, Any]], length: int) -> set[str]:
    """The years or months listed: those an earliest or latest day of a date falls in."""
    spans = [dates.parse(m["date"]) for m in meetings if m.get("date")]
    return {d.isoformat()[:length] for s in spans for d in (s.earliest, s.latest) if d is not None}


def _overlaps(span: dates.Span, period: str) -> bool:
    first = dt.date.fromisoformat(f"{period}-01-01" if len(period) == 4 else f"{period}-01")
    last = dt.date(first.year, 12, 31) if len(period) == 4 else dt.date.fromisoformat(_month_end(period))
    return span.overlaps(dates.Span("", first, last, dates.DatePrecision.RANGE))


# Each group's own dimension: the filter fields it does not apply, and the filter that picks one of its buckets.
MEETING_DIMENSIONS = {
    "byCountry": (("country",), lambda v: {"country": v}),
    "byHostCountry": (("hostCountry",), lambda v: {"hostCountry": v}),
    "byStatus": (("status",), lambda v: {"status": v}),
    "byFormat": (("format",), lambda v: {"format": v}),
    "byYear": (("dateFrom", "dateTo"), lambda v: {"dateFrom": f"{v}-01-01", "dateTo": f"{v}-12-31"}),
    "byMonth": (("dateFrom", "dateTo"), lambda v: {"dateFrom": f"{v}-01", "dateTo": _month_end(v)}),
}


def _month_end(month: str) -> str:
    first = dt.date.fromisoformat(f"{month}-01")
    return ((first + dt.timedelta(days=32)).replace(day=1) - dt.timedelta(days=1)).isoformat()


facet_meeting_filters = meeting_filters.flatmap(
    lambda f: st.fixed_dictionaries(
        {}, optional={"format": st.sampled_from(["IN_PERSON", "PHONE_CALL", "VIDEO_CALL"])}
    ).map(lambda extra: {**f, **extra})
)


def _meeting_oracle(m: dict[str, Any], f: dict[str, Any]) -> bool:
    return _meeting_matches(m, f) and (f.get("format") is None or m["format"] == f["format"].lower())


@EXAMPLES
@given(datasets(max_meetings=8, max_statements=10), facet_meeting_filters, st.data())
def test_facets_equal_brute_force_counts_for_any_filter(files: Files, mf: dict[str, Any], data: st.DataObject) -> None:
    dataset = Merged(files)
    sf = data.draw(statement_facet_filters)
    with loaded(files) as paths:
        facets = answer(paths, MEETING_FACETS, f=mf)["meetingFacets"]
        for group, (ignored, pick) in MEETING_DIMENSIONS.items():
            others = {k: v for k, v in mf.items() if k not in ignored}
            kept = [m for m in dataset.meetings if _meeting_oracle(m, others)]
            periods = {length: _periods(kept, length) for length in (4, 7)}
            assert facets[group] == _counted([_meeting_values(m, periods)[group] for m in kept]), group
            for bucket in facets[group]:  # filtering by a bucket gives exactly its count
                query = "query ($f: MeetingFilter) { meetings(filter: $f) { totalCount } }"
                total = answer(paths, query, f={**others, **pick(bucket["value"])})["meetings"]["totalCount"]
                assert total == bucket["count"], (group, bucket)
        statements = answer(paths, STATEMENT_FACETS, f=sf)["statementFacets"]
        for group, (field, values) in STATEMENT_DIMENSIONS.items():
            others = {k: v for k, v in sf.items() if k != field}
            kept = [s for s in dataset.statements if _statement_oracle(s, others)]
            assert statements[group] == _counted([values(s) for s in kept]), group
            for bucket in statements[group]:
                query = "query ($f: StatementFilter) { statements(filter: $f) { totalCount } }"
                total = answer(paths, query, f={**others, field: bucket["value"]})["statements"]["totalCount"]
                assert total == bucket["count"], (group, bucket)


STATEMENT_DIMENSIONS = {
    "byTopic": ("topic", lambda s: s["topics"]),
    "byKind": ("kind", lambda s: [s["kind"].upper()]),
    "byLanguage": ("language", lambda s: [s["language"]]),
}
statement_facet_filters = st.fixed_dictionaries({}, optional={
    "topic": st.sampled_from(["topic-0", "topic-1"]), "kind": st.sampled_from(["DIRECT_QUOTE", "PARAPHRASE"]),
    "language": st.sampled_from(LANGUAGES), "speaker": st.sampled_from(["person-0", "person-1"]),
})  # fmt: skip


def _statement_oracle(s: dict[str, Any], f: dict[str, Any]) -> bool:
    return all([
        f.get("topic") is None or f["topic"] in s["topics"],
        f.get("kind") is None or s["kind"] == f["kind"].lower(),
        f.get("language") is None or s["language"] == f["language"],
        f.get("speaker") is None or s.get("speaker") == f["speaker"],
    ])  # fmt: skip


def test_facets_of_the_article(article_db: Path) -> None:
    paths = Paths(article_db)
    held = answer(paths, '{ meetingFacets(filter: {status: HELD, search: "talks"}) { __typename byStatus '
                         "{ __typename value count } byYear { count value } } }")["meetingFacets"]  # fmt: skip
    assert held["__typename"] == "MeetingFacets"
    # the status group leaves out the status filter: the planned meeting is still offered
    assert [(s["value"], s["count"]) for s in held["byStatus"]] == [("HELD", 2), ("PLANNED", 1)]
    assert held["byYear"] == [{"count": 2, "value": "2025"}]  # the undated planned meeting is in no year


@pytest.mark.parametrize(
    "query",
    [
        '{ a: persons(filter: {search: "vl"}, orderBy: RELEVANCE, first: 1) { edges { cursor } totalCount } '
        'b: organizations(orderBy: NAME_DESC) { nodes { name } } c: topics(orderBy: NAME_ASC, filter: {search: ""}) '
        "{ pageInfo { endCursor hasNextPage } nodes { label } } }",
        '{ statementFacets(filter: {search: "dialog"}) { byTopic { value } x: byKind { count } '
        "byLanguage { value } } }",
        "query ($f: MeetingFilter) { meetingFacets(filter: $f) { byCountry { value count } } }",
    ],
)
def test_both_executors_answer_every_new_field_alike(article_db: Path, query: str) -> None:
    assert Paths(article_db).same(query, {"f": {"search": "talks", "country": "RU"}} if "$f" in query else None)


def test_the_benchmark_checks_its_answers_against_hand_written_sql(article_db: Path) -> None:
    bench = Path(__file__).resolve().parent.parent / "bench" / "finding.py"
    result = subprocess.run(
        [sys.executable, str(bench), "--db", str(article_db), "--check"],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip().endswith("requests: the compiled SQL answers as the hand-written SQL does")

"""Uncertain dates: the EDTF subset, spans and their intersection, the rules over spans, report order by
publication day, the derived date of an undated statement, and the GraphQL fields and filters over spans."""

import datetime as dt
import itertools
import json
import random
import sqlite3
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner
from diplo import dates
from diplo.cli import cli
from diplo.ingest.export import export_seeds
from diplo.ingest.reports import UNDATED_NOTE
from diplo.ingest.session import load_seeds
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from strategies import date_texts, write_files
from test_compiled import Paths, _answer

days = st.dates(dt.date(1900, 1, 1), dt.date(2100, 12, 31))
date_text = days.flatmap(date_texts)


@given(date_text)
def test_every_accepted_form_reads_back_as_written(text: str) -> None:
    span = dates.parse(text)
    assert span.edtf == text
    assert dates.parse(span.edtf) == span
    assert span.earliest is None or span.latest is None or span.earliest <= span.latest


@given(days.map(lambda d: d.year))
def test_a_yaml_integer_is_the_year(year: int) -> None:
    assert dates.parse(year) == dates.parse(f"{year:04d}")


@pytest.mark.parametrize(
    "text", ["2025-2", "2025-02-30", "2025-13", "../..", "2025-03/2025-02", "2025-02-27T10:00", "soon", "2025~/..",
             "0000", "2025-02-27/", " 2025", "2025-02-27?~"],
)  # fmt: skip
def test_anything_else_is_refused_with_the_accepted_forms(text: str) -> None:
    with pytest.raises(dates.DateError) as error:
        dates.parse(text)
    message = str(error.value)
    assert "accepted" in message or "calendar date" in message or "ends before it starts" in message


def test_the_span_of_each_form() -> None:
    feb = (dt.date(2025, 2, 1), dt.date(2025, 2, 28))
    assert (dates.parse("2025-02~").earliest, dates.parse("2025-02~").latest) == feb  # qualifiers do not widen
    assert dates.parse("2025-02~").approximate
    assert not dates.parse("2025-02~").uncertain
    assert dates.parse("2024%").approximate
    assert dates.parse("2024%").uncertain
    assert dates.parse("2025-03-01/..").latest is None
    assert dates.parse("../2025-03-01").earliest is None
    assert dates.parse("2025-02/2025-03").latest == dt.date(2025, 3, 31)
    assert dates.parse("2025-02~").describe() == "approximately February 2025"


def _around(day: dt.date) -> st.SearchStrategy[dates.Span]:
    return date_texts(day).map(dates.parse)


# Spans that all hold one day (so they intersect), or sometimes not.
span_lists = days.flatmap(lambda d: st.lists(_around(d) | days.flatmap(_around), min_size=1, max_size=5))


@given(span_lists, st.randoms())
def test_intersection_is_commutative(spans: list[dates.Span], rng: random.Random) -> None:
    shuffled = list(spans)
    rng.shuffle(shuffled)
    assert dates.intersect(spans) == dates.intersect(shuffled)


@given(span_lists, span_lists)
def test_intersection_is_associative(left: list[dates.Span], right: list[dates.Span]) -> None:
    whole = dates.intersect([*left, *right])
    parts = [dates.intersect(left), dates.intersect(right)]
    stepwise = None if None in parts else dates.intersect([p for p in parts if p is not None])
    assert whole == stepwise


@given(span_lists)
def test_the_intersection_is_what_every_span_allows(spans: list[dates.Span]) -> None:
    merged = dates.intersect(spans)
    pairwise = all(a.overlaps(b) for a, b in itertools.combinations(spans, 2))
    assert (merged is not None) == pairwise  # intervals of days: pairwise is enough (Helly)
    if merged is not None:
        assert all(merged.overlaps(s) and _within(merged, s) for s in spans)
        assert dates.parse(merged.edtf).earliest == merged.earliest
        assert dates.parse(merged.edtf).latest == merged.latest
        bounding = [s for s in spans if _bounds(s, merged)]
        assert merged.approximate == all(s.approximate for s in bounding)


def _bounds(span: dates.Span, merged: dates.Span) -> bool:
    starts = merged.earliest is not None and span.earliest == merged.earliest
    return starts or (merged.latest is not None and span.latest == merged.latest)


def _within(inner: dates.Span, outer: dates.Span) -> bool:
    starts = outer.earliest is None or (inner.earliest is not None and inner.earliest >= outer.earliest)
    ends = outer.latest is None or (inner.latest is not None and inner.latest <= outer.latest)
    return starts and ends


def test_a_month_and_a_day_in_it_give_the_day() -> None:
    assert dates.intersect([dates.parse("2025-02"), dates.parse("2025-02-27")]) == dates.parse("2025-02-27")
    assert dates.intersect([dates.parse("2025-02~"), dates.parse("2025~")]) == dates.parse("2025-02~")
    assert dates.intersect([dates.parse("2025-02~"), dates.parse("2025-02")]) == dates.parse("2025-02")
    assert dates.intersect([dates.parse("2025-02-20/.."), dates.parse("../2025-02-27")]) == dates.parse(
        "2025-02-20/2025-02-27"
    )


# --- loading: reports of different precision refine each other ---------------------------------------------------


def _source(key: str, published: str) -> dict[str, Any]:
    return {"key": key, "outlet": key.upper(), "title": "T", "published_at": published, "language": "en"}


def _meeting(date: str | None, **fields: Any) -> dict[str, Any]:
    meeting = {"key": "talks", "title": "Talks", "status": "held", "format": "in_person",
               "delegations": [{"country": "US"}, {"country": "RU"}]} | fields  # fmt: skip
    return meeting | ({"date": date} if date is not None else {})


def _when(db: Path, table: str = "meetings", key: str = "talks") -> tuple[Any, ...]:
    with sqlite3.connect(db) as conn:
        column = "key" if table == "meetings" else "meeting"
        return conn.execute(
            f"SELECT date, date_earliest, date_latest, date_precision, date_approximate, date_uncertain FROM {table} "
            f"WHERE {column} = ?",
            [key],
        ).fetchone()


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(days.filter(lambda d: d.year < 2099).flatmap(lambda d: st.lists(date_texts(d), min_size=2, max_size=3)),
       st.randoms())  # fmt: skip
def test_loading_reports_in_any_order_gives_their_intersection(
    tmp_path_factory: pytest.TempPathFactory, texts: list[str], rng: random.Random
) -> None:
    files = {
        f"s{i}.yaml": {"source": _source(f"s{i}", f"2100-01-0{i + 1}T10:00:00+00:00"), "meetings": [_meeting(text)]}
        for i, text in enumerate(texts)
    }
    seeds = tmp_path_factory.mktemp("seeds")
    paths = write_files(seeds, files)
    rng.shuffle(paths)
    one_by_one = seeds / "one-by-one.db"
    for path in paths:
        load_seeds(one_by_one, [path])
    together = seeds / "together.db"
    load_seeds(together, paths)
    expected = dates.intersect(dates.parse(t) for t in texts)
    assert expected is not None
    stored = (expected.edtf, str(expected.earliest) if expected.earliest else None,
              str(expected.latest) if expected.latest else None, expected.precision.value,
              int(expected.approximate), int(expected.uncertain))  # fmt: skip
    assert _when(one_by_one) == _when(together) == stored


def _seed(tmp_path: Path, **files: dict[str, Any]) -> list[Path]:
    return write_files(tmp_path / "seeds", {f"{name}.yaml": content for name, content in files.items()})


def _diplo(*args: str | Path) -> tuple[int, str]:
    result = CliRunner().invoke(cli, [str(a) for a in args])
    return result.exit_code, result.output


def test_disjoint_spans_disagree_on_the_later_report(tmp_path: Path) -> None:
    paths = _seed(
        tmp_path,
        a={"source": _source("a", "2025-03-01T10:00:00+00:00"), "meetings": [_meeting("2025-02")]},
        b={"source": _source("b", "2025-03-02T10:00:00+00:00"), "meetings": [_meeting("2025-01-20/2025-01-31")]},
    )
    code, output = _diplo("validate", *paths)
    assert code == 1
    assert "b.yaml:" in output
    assert "report.disagree" in output
    assert "share no day" in output


# --- publication days ----------------------------------------------------------------------------------------------


def test_a_day_only_source_follows_the_timed_sources_of_its_day(tmp_path: Path) -> None:
    person = {"key": "alexander-darchiev"}
    paths = _seed(
        tmp_path,
        # Published that day, with no time given: after the timed source of the same day, whatever its time.
        late={"source": _source("late", "2025-02-28"), "persons": [person | {"name": "Aleksandr Darchiyev"}]},
        timed={"source": _source("timed", "2025-02-28T23:30:00-05:00"),
               "persons": [person | {"name": "Alexander Darchiev"}]},
    )  # fmt: skip
    db = tmp_path / "d.db"
    load_seeds(db, paths)
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT name, aliases FROM persons").fetchone() == (
            "Alexander Darchiev",
            '["Aleksandr Darchiyev"]',
        )
    query = '{ source(key: "late") { publishedAt published { edtf earliest latest precision approximate } } }'
    paths_ = Paths(db)
    assert paths_.same(query)
    assert _answer(paths_.reference, query, None)["data"]["source"] == {
        "publishedAt": "2025-02-28T00:00:00+00:00",
        "published": {"edtf": "2025-02-28", "earliest": "2025-02-28", "latest": "2025-02-28", "precision": "DAY",
                      "approximate": False},
    }  # fmt: skip
    out = tmp_path / "out"
    export_seeds(db, out)
    assert yaml.safe_load((out / "late.yaml").read_text())["source"]["published_at"] == "2025-02-28"


def test_new_takes_a_day_and_refuses_a_bad_time_as_a_usage_error(tmp_path: Path) -> None:
    text = tmp_path / "a.txt"
    text.write_text("Words.", encoding="utf-8")
    base = ["new", str(text), "--outlet", "X", "--title", "T", "--language", "en", "--published-at"]
    code, output = _diplo(*base, "2025-02-28")
    assert (code == 0 and "published_at: '2025-02-28'" in output) or "published_at: 2025-02-28" in output
    for bad in ("2025-02-28T10:00:00", "yesterday", "2025-02-30"):
        code, output = _diplo(*base, bad)
        assert code == 2, output
        assert "--published-at" in output


# --- what the API gives ------------------------------------------------------------------------------------------


def test_an_undated_statement_is_said_no_later_than_its_source(article: Paths) -> None:
    query = """{ statement(key: "us-state-department-istanbul-purpose") { date when { edtf earliest latest precision
      approximate uncertain } evidence(field: "date") { basis note quotes { exact } } } }"""
    assert article.same(query)
    assert _answer(article.reference, query, None)["data"]["statement"] == {
        "date": None,
        "when": {"edtf": "../2025-03-01", "earliest": None, "latest": "2025-03-01", "precision": "RANGE",
                 "approximate": False, "uncertain": False},
        "evidence": [{"basis": "INFERRED", "note": UNDATED_NOTE.format(day="2025-03-01"), "quotes": []}],
    }  # fmt: skip
    # Derived, not reported: no filter matches it, and it sorts with the undated.
    dated = '{ statements(first: 50, filter: {dateTo: "2025-03-01"}) { nodes { key date } } }'
    assert all(n["date"] is not None for n in _answer(article.reference, dated, None)["data"]["statements"]["nodes"])


def test_the_derived_date_is_never_exported(article_db: Path, tmp_path: Path) -> None:
    export_seeds(article_db, tmp_path)
    (exported,) = tmp_path.glob("*.yaml")
    content = yaml.safe_load(exported.read_text(encoding="utf-8"))
    undated = [s for s in content["statements"] if "date" not in s]
    assert undated
    assert all("date" not in s.get("evidence", {}) for s in undated)


def test_the_follow_up_is_planned_for_soon_after_the_article(article: Paths) -> None:
    query = (
        '{ meeting(key: "us-russia-talks-follow-up-after-istanbul") { date when { edtf earliest latest precision } } }'
    )
    assert article.same(query)
    assert _answer(article.reference, query, None)["data"]["meeting"] == {
        "date": None, "when": {"edtf": "2025-03-01/..", "earliest": "2025-03-01", "latest": None, "precision": "RANGE"},
    }  # fmt: skip


@pytest.fixture(scope="module")
def article(article_db: Path) -> Paths:
    return Paths(article_db)


# Many meetings and statements over generated spans, once for the module: filters and order against brute force.
@pytest.fixture(scope="module")
def spans_db(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, dates.Span | None]]:
    rng = random.Random(21)
    meetings, statements, spans = [], [], {}
    for i in range(80):
        day = dt.date(2024, 1, 1) + dt.timedelta(days=rng.randint(0, 500))
        text = None if i % 9 == 0 else _text(rng, day)
        key = f"m-{i:03d}"
        spans[key] = dates.parse(text) if text else None
        meeting = _meeting(text, key=key, status="held" if text else "planned")
        meetings.append(meeting)
        statements.append({"key": f"s-{i:03d}", "text": "x", "language": "en", "kind": "paraphrase",
                           "organization": "org"} | ({"date": text} if text else {}))  # fmt: skip
    files = {"all.yaml": {"source": _source("all", "2030-01-01T00:00:00+00:00"),
                          "organizations": [{"key": "org", "name": "Org"}],
                          "meetings": meetings, "statements": statements}}  # fmt: skip
    directory = tmp_path_factory.mktemp("spans")
    db = directory / "spans.db"
    load_seeds(db, write_files(directory, files))
    return db, spans


def _text(rng: random.Random, day: dt.date) -> str:
    before, after = day - dt.timedelta(days=rng.randint(0, 60)), day + dt.timedelta(days=rng.randint(0, 60))
    return rng.choice([day.isoformat(), day.isoformat()[:7], day.isoformat()[:4] + "~", f"{before}/{after}",
                       f"{before}/..", f"../{after}", day.isoformat() + "?"])  # fmt: skip


@pytest.fixture(scope="module")
def spans(spans_db: tuple[Path, dict[str, dates.Span | None]]) -> tuple[Paths, dict[str, dates.Span | None]]:
    return Paths(spans_db[0]), spans_db[1]


bounds = st.none() | st.dates(dt.date(2023, 10, 1), dt.date(2025, 8, 1))


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(bounds, bounds, st.sampled_from(["meetings", "statements"]))
def test_date_filters_match_the_spans_that_overlap_them(
    spans: tuple[Paths, dict[str, dates.Span | None]], start: dt.date | None, end: dt.date | None, listing: str
) -> None:
    paths, by_key = spans
    window = dates.Span("", start, end, dates.DatePrecision.RANGE)
    unfiltered = start is None and end is None
    expected = sorted(k for k, s in by_key.items() if unfiltered or (s is not None and s.overlaps(window)))
    given_filter = {k: str(v) for k, v in (("dateFrom", start), ("dateTo", end)) if v is not None}
    query = (
        f"query($f: {listing[:-1].capitalize()}Filter) {{ {listing}(first: 100, filter: $f) {{ nodes {{ key }} }} }}"
    )
    assert paths.same(query, {"f": given_filter})
    found = _answer(paths.reference, query, {"f": given_filter})["data"][listing]["nodes"]
    assert sorted(n["key"].replace("s-", "m-") for n in found) == expected


def _sort_key(span: dates.Span | None, key: str) -> tuple[Any, ...]:
    if span is None or span.earliest is None:
        return (1, "", "", key)  # with the undated, last
    return (0, span.earliest, span.latest or dt.date.max, key)


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.integers(1, 30), st.sampled_from(["DATE_ASC", "DATE_DESC"]), st.sampled_from(["meetings", "statements"]))
def test_date_order_is_total_and_keyset_pages_visit_every_record_once(
    spans: tuple[Paths, dict[str, dates.Span | None]], size: int, order: str, listing: str
) -> None:
    paths, by_key = spans
    query = f"""query($after: String) {{ {listing}(first: {size}, after: $after, orderBy: {order})
      {{ nodes {{ key }} pageInfo {{ hasNextPage endCursor }} }} }}"""
    seen: list[str] = []
    after = None
    while True:
        assert paths.same(query, {"after": after})
        page = _answer(paths.reference, query, {"after": after})["data"][listing]
        seen += [n["key"].replace("s-", "m-") for n in page["nodes"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    dated = sorted((k for k in by_key if _sort_key(by_key[k], k)[0] == 0), key=lambda k: _sort_key(by_key[k], k))
    if order == "DATE_DESC":
        dated.reverse()
    undated = sorted((k for k in by_key if _sort_key(by_key[k], k)[0] == 1), reverse=order == "DATE_DESC")
    assert seen == dated + undated


def test_schema_check_lists_the_deprecation_as_a_notice() -> None:
    code, output = _diplo("schema", "--check")
    assert code == 0, output
    assert "NOTICE: Source.publishedAt is deprecated: use published" in output


def test_validate_names_the_span_it_understood(tmp_path: Path) -> None:
    paths = _seed(tmp_path, a={"source": _source("a", "2025-03-01"), "meetings": [_meeting("2025-02~")]})
    code, output = _diplo("validate", *paths)
    assert code == 0, output
    assert "a.yaml:15:9: date.read: meetings[0].date: 2025-02~ is read as approximately February 2025" in output
    code, output = _diplo("validate", "--format", "json", *paths)
    assert json.loads(output)["notices"][0]["severity"] == "notice"

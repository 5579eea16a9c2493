"""The article's facts through GraphQL, pagination and filters as properties, and batched SQL."""

import base64
import datetime as dt
import sqlite3
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from conftest import Client, count_statements
from diplo import dates as diplo_dates
from diplo.graphql.limits import Limits
from diplo.ingest.session import load_seeds
from diplo.server.app import Settings, create_app
from diplo.server.snapshots import open_snapshot
from hypothesis import given
from hypothesis import strategies as st
from strategies import COUNTRIES, Files, datasets, write_files

ISTANBUL = "us-russia-talks-istanbul-2025-02-27"


def keys(body: dict[str, Any], field: str) -> list[str]:
    assert "errors" not in body, body
    return [node["key"] for node in body["data"][field]["nodes"]]


# --- the article's facts ---------------------------------------------------------------------------------------


def test_meetings_by_date_and_country(client: Client) -> None:
    body = client.query('{ meetings(filter: {country: "US", dateFrom: "2025-02-13"}) { nodes { key date } } }')
    assert body["data"]["meetings"]["nodes"] == [
        {"key": "us-russia-talks-riyadh-2025-02-18", "date": "2025-02-18"},
        {"key": ISTANBUL, "date": "2025-02-27"},
        # Planned for "soon" after 1 March (2025-03-01/..): a span that overlaps the filter, not a day.
        {"key": "us-russia-talks-follow-up-after-istanbul", "date": None},
    ]
    body = client.query('{ meetings(filter: {hostCountry: "TR", city: "istanbul"}) { nodes { key } } }')
    assert keys(body, "meetings") == [ISTANBUL]
    assert keys(client.query('{ meetings(filter: {country: "FR"}) { nodes { key } } }'), "meetings") == []


def test_delegation_heads(client: Client) -> None:
    body = client.query(
        '{ delegations(filter: {person: "sonata-coulter"}) { nodes { meeting { key } country { code name } '
        "head { name country { code } } headRole } } }"
    )
    [delegation] = body["data"]["delegations"]["nodes"]
    assert delegation["meeting"]["key"] == ISTANBUL
    assert delegation["country"] == {"code": "US", "name": "United States"}
    assert delegation["head"] == {"name": "Sonata Coulter", "country": {"code": "US"}}
    body = client.query('{ person(key: "alexander-darchiev") { delegations { meeting { key } headRole } } }')
    [delegation] = body["data"]["person"]["delegations"]
    assert delegation["meeting"]["key"] == ISTANBUL
    assert "North America" in delegation["headRole"]


def test_follow_up_chain_and_planned_meeting(client: Client) -> None:
    body = client.query(
        '{ meeting(key: "us-russia-talks-riyadh-2025-02-18") { round followUps { key round followUps '
        "{ key status date city previous { key } } } } }"
    )
    riyadh = body["data"]["meeting"]
    assert riyadh["round"] == 1
    [istanbul] = riyadh["followUps"]
    assert (istanbul["key"], istanbul["round"]) == (ISTANBUL, 2)
    assert istanbul["followUps"] == [{
        "key": "us-russia-talks-follow-up-after-istanbul", "status": "PLANNED", "date": None, "city": None,
        "previous": {"key": ISTANBUL},
    }]  # fmt: skip
    planned = client.query("{ meetings(filter: {status: PLANNED}) { totalCount nodes { key } } }")
    assert keys(planned, "meetings") == ["us-russia-talks-follow-up-after-istanbul"]


def test_phone_call(client: Client) -> None:
    body = client.query("{ meetings(filter: {format: PHONE_CALL}) { nodes { date participants { code } "
                        "delegations { head { name } } } } }")  # fmt: skip
    [call] = body["data"]["meetings"]["nodes"]
    assert call["date"] == "2025-02-12"
    assert {d["head"]["name"] for d in call["delegations"]} == {"Vladimir Putin", "Donald Trump"}


def test_search_statements(client: Client) -> None:
    assert keys(client.query('{ statements(filter: {search: "harapan"}) { nodes { key } } }'), "statements") == [
        "vladimir-putin-inspires-hope"
    ]
    # translations are searched too, and every word must match
    found = keys(client.query('{ statements(filter: {search: "banking staffing"}) { nodes { key } } }'), "statements")
    assert found == ["us-state-department-istanbul-banking-and-staffing"]


def test_statements_by_speaker_and_date(client: Client) -> None:
    body = client.query(
        '{ statements(filter: {speaker: "dmitry-peskov", dateFrom: "2025-02-28", dateTo: "2025-02-28"}) '
        "{ nodes { key date occasion organization { key } } } }"
    )
    assert body["data"]["statements"]["nodes"] == [{
        "key": "dmitry-peskov-dialogue-with-all-countries", "date": "2025-02-28",
        "occasion": "Press conference in Moscow", "organization": {"key": "kremlin"},
    }]  # fmt: skip
    body = client.query('{ person(key: "vladimir-putin") { statements { nodes { text kind translation(language: "en") '
                        'translation2: translation(language: "fr") } } } }')  # fmt: skip
    assert body["data"]["person"]["statements"]["nodes"] == [{
        "text": "menginspirasi harapan tertentu", "kind": "DIRECT_QUOTE", "translation": "inspire certain hopes",
        "translation2": None,
    }]  # fmt: skip


def test_source_and_topics(client: Client) -> None:
    body = client.query(
        '{ source(key: "koran-jakarta-2025-03-01-as-russia") { outlet publishedAt via language url } '
        'topic(key: "direct-flights") { label idLabel: label(language: "id") frLabel: label(language: "fr") '
        "meetings { nodes { key } } statements { totalCount } } countries { code name } }"
    )
    data = body["data"]
    assert data["source"] == {"outlet": "Koran Jakarta", "publishedAt": "2025-03-01T01:20:00+07:00",
                              "via": ["Antara", "Anadolu"], "language": "id", "url": None}  # fmt: skip
    assert data["topic"]["label"] == data["topic"]["frLabel"] == "Direct flights between Russia and the United States"
    assert data["topic"]["idLabel"] == "Penerbangan langsung antara Russia dan AS"
    assert data["topic"]["meetings"]["nodes"] == [{"key": ISTANBUL}]
    assert data["topic"]["statements"]["totalCount"] == 1
    assert [c["code"] for c in data["countries"]] == ["RU", "SA", "TR", "US"]


def test_unknown_keys_are_null(client: Client) -> None:
    body = client.query('{ meeting(key: "nope") { key } person(key: "") { key } node(id: "TWVldGluZzpub3Bl") { id } }')
    assert body == {"data": {"meeting": None, "person": None, "node": None}}


# --- ids, cursors, first -------------------------------------------------------------------------------------


def test_node_round_trips_every_id(client: Client) -> None:
    body = client.query(
        "{ meetings { nodes { id delegations { id } } } statements(first: 100) { nodes { id } } topics { nodes "
        "{ id } } persons { nodes { id } } organizations { nodes { id } } sources { nodes { id } } }"
    )
    data = body["data"]
    ids = [n["id"] for listing in data.values() for n in listing["nodes"]]
    ids += [d["id"] for m in data["meetings"]["nodes"] for d in m["delegations"]]
    assert len(ids) == len(set(ids)) == 4 + 8 + 8 + 5 + 5 + 3 + 1
    for node_id in ids:
        assert client.query("query ($id: ID!) { node(id: $id) { id } }", id=node_id)["data"]["node"] == {"id": node_id}


@pytest.mark.parametrize("bad", ["not base64!", base64.b64encode(b"no-colon").decode(), "", "%%%"])
def test_malformed_ids_are_bad_input(client: Client, bad: str) -> None:
    body = client.query("query ($id: ID!) { node(id: $id) { id } }", id=bad)
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


@pytest.mark.parametrize("first", [-1, 101, 2**31 - 1])
def test_first_out_of_range_is_bad_input(client: Client, first: int) -> None:
    for query in ["query ($n: Int) { meetings(first: $n) { totalCount } }",
                  "query ($n: Int) { topics { nodes { statements(first: $n) { totalCount } } } }"]:  # fmt: skip
        body = client.query(query, n=first)
        assert body["errors"][0]["extensions"]["code"] in {"BAD_USER_INPUT", "QUERY_TOO_COMPLEX"}
        assert str(first) in body["errors"][0]["message"] or "limit" in body["errors"][0]["message"]
    body = client.query("query ($n: Int) { meetings(first: $n) { totalCount } }", n=first)
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


def test_first_zero_and_null(client: Client) -> None:
    body = client.query("{ meetings(first: 0) { totalCount nodes { key } pageInfo { hasNextPage endCursor } } }")
    assert body["data"]["meetings"] == {"totalCount": 4, "nodes": [], "pageInfo": {"hasNextPage": True,
                                                                                   "endCursor": None}}  # fmt: skip
    assert len(client.query("{ statements(first: null) { nodes { key } } }")["data"]["statements"]["nodes"]) == 8


def test_foreign_and_garbage_cursors_are_bad_input(client: Client) -> None:
    cursor = client.query("{ meetings(first: 1) { pageInfo { endCursor } } }")["data"]["meetings"]["pageInfo"]
    for query in [
        "query ($c: String) { statements(after: $c) { totalCount } }",
        "query ($c: String) { meetings(after: $c, orderBy: DATE_DESC) { totalCount } }",
    ]:
        body = client.query(query, c=cursor["endCursor"])
        assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
        assert "another listing" in body["errors"][0]["message"]
    # (a lone surrogate never reaches the cursor: it is a 400 before any GraphQL work, tests/test_hostile_http.py)
    for garbage in ["", "x", "W10", "WyJhIl0", base64.b64encode(b"[1,2,3,4]").decode()]:
        body = client.query("query ($c: String) { meetings(after: $c) { totalCount } }", c=garbage)
        assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT", garbage


# --- properties over generated datasets ------------------------------------------------------------------------


class Merged:
    """The records a generated dataset merges into, as plain dicts: its first file reports every record in full,
    and the other files' reports agree with it on facts and list subsets of its lists (see `datasets`)."""

    def __init__(self, files: Files) -> None:
        main = files[min(files)]
        self.meetings: list[dict[str, Any]] = main["meetings"]
        self.topics = sorted(t["key"] for t in main["topics"])
        self.statements: list[dict[str, Any]] = [s for f in files.values() for s in f.get("statements", [])]


@contextmanager
def served(files: Files) -> Iterator[tuple[Client, Merged]]:
    with tempfile.TemporaryDirectory() as tmp:
        write_files(Path(tmp) / "seeds", files)
        load_seeds(Path(tmp) / "d.db", [Path(tmp) / "seeds"])
        yield Client(create_app(Settings(db_path=Path(tmp) / "d.db"))), Merged(files)


def _span(record: dict[str, Any]) -> diplo_dates.Span | None:
    return diplo_dates.parse(record["date"]) if record.get("date") else None


def _date_order(records: list[dict[str, Any]], descending: bool) -> list[str]:
    """By earliest day, then latest (open last); without an earliest day, with the undated, after them."""

    def place(r: dict[str, Any]) -> tuple[Any, ...]:
        span = _span(r)
        assert span is not None
        assert span.earliest is not None
        return (span.earliest, span.latest or dt.date.max, r["key"])

    dated = sorted((r for r in records if (s := _span(r)) and s.earliest), key=place, reverse=descending)
    undated = sorted((r for r in records if r not in dated), key=lambda r: r["key"], reverse=descending)
    return [r["key"] for r in dated + undated]


def _overlaps(record: dict[str, Any], f: dict[str, Any]) -> bool:
    """`dateFrom` and `dateTo` as the API reads them: some day of the record's date lies between them."""
    if f.get("dateFrom") is None and f.get("dateTo") is None:
        return True
    span = _span(record)
    start, end = (dt.date.fromisoformat(f[k]) if f.get(k) else None for k in ("dateFrom", "dateTo"))
    return span is not None and span.overlaps(diplo_dates.Span("", start, end, diplo_dates.DatePrecision.RANGE))


def walk(client: Client, listing: str, page_size: int, arguments: str = "") -> list[str]:
    seen: list[str] = []
    after = None
    for _ in range(1000):
        body = client.query(
            f"query ($after: String, $n: Int) {{ {listing}(first: $n, after: $after{arguments}) "
            "{ totalCount nodes { key } pageInfo { hasNextPage endCursor } } }",
            after=after, n=page_size,
        )  # fmt: skip
        page = body["data"][listing]
        seen += [n["key"] for n in page["nodes"]]
        if not page["pageInfo"]["hasNextPage"]:
            return seen
        after = page["pageInfo"]["endCursor"]
    raise AssertionError("pagination did not end")


@given(datasets(max_meetings=8, max_statements=10), st.integers(1, 4), st.booleans())
def test_walking_all_pages_gives_every_record_once_in_order(files: Files, size: int, descending: bool) -> None:
    order = ", orderBy: DATE_DESC" if descending else ""
    with served(files) as (client, dataset):
        assert walk(client, "meetings", size, order) == _date_order(dataset.meetings, descending)
        assert walk(client, "statements", size, order) == _date_order(dataset.statements, descending)
        assert walk(client, "topics", size) == dataset.topics


def _meeting_matches(m: dict[str, Any], f: dict[str, Any]) -> bool:
    people = {p for d in m["delegations"] for p in [d.get("head"), *d["members"]] if p}
    return all([
        f.get("status") is None or m["status"] == f["status"].lower(),
        f.get("country") is None or f["country"] in {d["country"] for d in m["delegations"]},
        f.get("hostCountry") is None or m.get("host_country") == f["hostCountry"],
        _overlaps(m, f),
        f.get("topic") is None or f["topic"] in m["topics"],
        f.get("person") is None or f["person"] in people,
    ])  # fmt: skip


def _statement_matches(s: dict[str, Any], f: dict[str, Any]) -> bool:
    return all([
        f.get("speaker") is None or s.get("speaker") == f["speaker"],
        f.get("organization") is None or s.get("organization") == f["organization"],
        f.get("meeting") is None or s.get("meeting") == f["meeting"],
        f.get("kind") is None or s["kind"] == f["kind"].lower(),
        f.get("topic") is None or f["topic"] in s["topics"],
        _overlaps(s, f),
    ])  # fmt: skip


dates = st.dates(dt.date(2020, 1, 1), dt.date(2022, 1, 1)).map(dt.date.isoformat)
meeting_filters = st.fixed_dictionaries({}, optional={
    "status": st.sampled_from(["HELD", "PLANNED"]), "country": st.sampled_from(COUNTRIES),
    "hostCountry": st.sampled_from(COUNTRIES), "dateFrom": dates, "dateTo": dates,
    "topic": st.sampled_from(["topic-0", "topic-1"]), "person": st.sampled_from(["person-0", "person-1"]),
})  # fmt: skip
statement_filters = st.fixed_dictionaries({}, optional={
    "speaker": st.sampled_from(["person-0", "person-1"]), "organization": st.sampled_from(["org-0", "org-1"]),
    "meeting": st.sampled_from(["meeting-0", "meeting-1"]), "kind": st.sampled_from(["DIRECT_QUOTE", "PARAPHRASE"]),
    "topic": st.sampled_from(["topic-0", "topic-1"]), "dateFrom": dates,
})  # fmt: skip


@given(datasets(), meeting_filters, statement_filters)
def test_filters_return_what_an_oracle_returns(files: Files, mf: dict[str, Any], sf: dict[str, Any]) -> None:
    with served(files) as (client, dataset):
        body = client.query(
            "query ($mf: MeetingFilter, $sf: StatementFilter) { meetings(filter: $mf, first: 100) "
            "{ totalCount nodes { key } } statements(filter: $sf, first: 100) { totalCount nodes { key } } }",
            mf=mf, sf=sf,
        )  # fmt: skip
        meetings = [m for m in dataset.meetings if _meeting_matches(m, mf)]
        statements = [s for s in dataset.statements if _statement_matches(s, sf)]
        assert keys(body, "meetings") == _date_order(meetings, descending=False)
        assert keys(body, "statements") == _date_order(statements, descending=False)
        assert body["data"]["meetings"]["totalCount"] == len(meetings)
        assert body["data"]["statements"]["totalCount"] == len(statements)


@given(datasets(max_meetings=4, max_statements=4))
def test_node_round_trips_generated_ids(files: Files) -> None:
    with served(files) as (client, _):
        body = client.query("{ meetings { nodes { id delegations { id } } } statements { nodes { id } } }")
        data = body["data"]
        ids = [m["id"] for m in data["meetings"]["nodes"]] + [s["id"] for s in data["statements"]["nodes"]]
        ids += [d["id"] for m in data["meetings"]["nodes"] for d in m["delegations"]]
        for node_id in ids:
            assert (
                client.query("query ($id: ID!) { node(id: $id) { id } }", id=node_id)["data"]["node"]["id"] == node_id
            )


# --- batching: SQL statements depend on the query's shape only ------------------------------------------------

NESTED = """query ($n: Int) {
  meetings(first: $n) { totalCount nodes { key previous { key } followUps { key } participants { code }
    delegations { country { code } head { name delegations { meeting { key } } } members { name } }
    topics { label meetings(first: 3) { totalCount nodes { key } } }
    sources { outlet }
    statements(first: 5) { totalCount nodes { text speaker { name } organization { name } topics { key } } } } }
}"""


# BEGIN, the meetings page and count, then one per relation: previous, followUps, delegations (participants
# shares it), head, head.delegations, delegations.meeting, members, topics, topic.meetings page and count,
# sources, statements page and count, speaker, organization, statement topics.
SHAPE_BOUND = 19


@given(datasets(max_meetings=12, max_statements=12))
def test_sql_statements_do_not_grow_with_page_size_or_data(files: Files) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        write_files(Path(tmp) / "seeds", files)
        load_seeds(Path(tmp) / "d.db", [Path(tmp) / "seeds"])
        one = count_statements(Path(tmp) / "d.db", NESTED, n=1)
        hundred = count_statements(Path(tmp) / "d.db", NESTED, n=100)
    # A relation that no row of the page has (no `previous` on the one meeting of page 1) costs nothing, so the
    # small page may need fewer; never more than one statement per relation of the query's shape.
    assert one <= hundred <= SHAPE_BOUND


def test_sql_statements_on_the_article_are_the_same_for_any_page_size(article_db: Path) -> None:
    assert count_statements(article_db, NESTED, n=4) == count_statements(article_db, NESTED, n=100) <= SHAPE_BOUND


def test_snapshot_is_read_only(article_db: Path) -> None:
    conn = open_snapshot(article_db, Limits())
    with pytest.raises(sqlite3.OperationalError):
        conn.execute("DELETE FROM meetings")
    conn.close()


@pytest.mark.parametrize("size", [1, 3])
def test_compiled_and_resolver_paths_answer_the_same(article_db: Path, size: int) -> None:
    """The compiled path (diplo.graphql.compiler) and the resolver path must agree on every relation."""
    compiled = Client(create_app(Settings(db_path=article_db))).query(NESTED, n=size)
    resolved = Client(create_app(Settings(db_path=article_db, compiled=False))).query(NESTED, n=size)
    assert "errors" not in compiled
    assert compiled["data"]["meetings"]["nodes"][0]["delegations"]
    assert compiled == resolved

"""Paging both ways (the Relay cursor connections spec): `first`/`after` forwards, `last`/`before` backwards, on
root listings and nested connections, on both executors, which must give the same bytes.

Hypothesis walks every listing both ways with any page size and filter and checks that each visits every record
once, in order, and that `hasNextPage` and `hasPreviousPage` are exact on every page; it takes pages of any window a
cursor opens (`first` or `last`, `after` or `before`) and checks them against the whole listing.
"""

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
import pytest
from conftest import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_compiled import Paths, _answer

PAGE = "totalCount edges { cursor node { key date } } pageInfo { hasNextPage hasPreviousPage startCursor endCursor }"
ARGS = "first: $first, after: $after, last: $last, before: $before"
VARIABLES = "$first: Int, $after: String, $last: Int, $before: String"


@dataclass(frozen=True)
class Listing:
    """A connection reached by `query` (its arguments and selection at `{args}` and `{page}`) at `path`."""

    name: str
    query: str
    path: tuple[str, ...]


LISTINGS = [
    Listing("meetings", "meetings(orderBy: $order, filter: $filter, {args}) {{ {page} }}", ("meetings",)),
    Listing("statements", "statements(orderBy: $order, filter: $filter, {args}) {{ {page} }}", ("statements",)),
    Listing(
        "source statements", 'source(key: "synthetic-source-0") {{ statements({args}) {{ {page} }} }}',
        ("source", "statements"),
    ),
    Listing(
        "meeting statements",
        'meeting(key: "meeting-7") {{ statements(orderBy: $order, filter: $filter, {args}) {{ {page} }} }}',
        ("meeting", "statements"),
    ),
    Listing("topic meetings", 'topic(key: "topic-74") {{ meetings({args}) {{ {page} }} }}', ("topic", "meetings")),
]  # fmt: skip
FILTERS = {
    "meetings": st.sampled_from([None, {"status": "HELD"}, {"dateTo": "2000-01-06"}]),
    "statements": st.sampled_from([None, {"kind": "PARAPHRASE"}, {"language": "ru"}, {"search": "the"}]),
    "meeting statements": st.sampled_from([None, {"kind": "PARAPHRASE"}, {"language": "fr"}]),
}
TYPES = {"meetings": "MeetingFilter", "statements": "StatementFilter", "meeting statements": "StatementFilter"}
ORDERS = {"meetings": "MeetingOrder", "statements": "StatementOrder", "meeting statements": "StatementOrder"}


def _document(listing: Listing, page: str) -> str:
    extra = ""
    if listing.name in TYPES:
        extra = f", $order: {ORDERS[listing.name]}, $filter: {TYPES[listing.name]}"
    return f"query ({VARIABLES}{extra}) {{ {listing.query.format(args=ARGS, page=page)} }}"


def _run(paths: Paths, listing: Listing, variables: dict[str, Any], page: str = PAGE) -> dict[str, Any]:
    """The connection both executors answer, the compiled path answering itself (no fallback), in the same bytes."""
    query = _document(listing, page)
    compiled = paths.compiled_only(query, variables)
    reference = _answer(paths.reference, query, variables)
    assert compiled is not None, "the compiled path should answer paging"
    assert orjson.dumps(compiled) == orjson.dumps(reference), (query, variables)
    found: Any = orjson.loads(orjson.dumps(reference))
    assert "errors" not in found, found
    found = found["data"]
    for step in listing.path:
        found = found[step]
    return dict(found)


def _in_order(nodes: list[dict[str, Any]], descending: bool) -> list[dict[str, Any]]:
    """The listing's order computed apart: by date then key (both reversed for DATE_DESC), undated last."""
    dated = sorted((n for n in nodes if n["date"]), key=lambda n: (n["date"], n["key"]), reverse=descending)
    undated = sorted((n for n in nodes if not n["date"]), key=lambda n: n["key"], reverse=descending)
    return dated + undated


def _walk(paths: Paths, listing: Listing, fixed: dict[str, Any], size: int, backward: bool) -> list[dict[str, Any]]:
    """The edges of every page from one end to the other: each page's flags say whether the walk goes on."""
    pages: list[list[dict[str, Any]]] = []
    cursor: str | None = None
    while True:
        arguments = {"last": size, "before": cursor} if backward else {"first": size, "after": cursor}
        found = _run(paths, listing, fixed | arguments)
        nodes = [edge["node"] for edge in found["edges"]]
        info = found["pageInfo"]
        assert 0 < len(nodes) <= size or found["totalCount"] == 0
        if nodes:
            assert info["startCursor"] == found["edges"][0]["cursor"]
            assert info["endCursor"] == found["edges"][-1]["cursor"]
        pages.append(found["edges"])
        assert len(pages) <= found["totalCount"] + 1, "the walk does not end"
        if not (info["hasPreviousPage"] if backward else info["hasNextPage"]):
            # The far end: nothing lies beyond it, and the first page says so at its other side too.
            assert not (info["hasNextPage"] if backward else info["hasPreviousPage"]) or len(pages) > 1
            break
        assert len(nodes) == size, "a page before the end is full"
        cursor = info["startCursor"] if backward else info["endCursor"]
    if backward:
        pages.reverse()
    return [edge for page in pages for edge in page]


@pytest.fixture(scope="module")
def synthetic(synthetic_db: Path) -> Paths:
    return Paths(synthetic_db)


@st.composite
def _requests(draw: st.DrawFn) -> tuple[Listing, dict[str, Any]]:
    listing = draw(st.sampled_from(LISTINGS))
    fixed: dict[str, Any] = {}
    if listing.name in FILTERS:
        fixed["filter"] = draw(FILTERS[listing.name])
        fixed["order"] = draw(st.sampled_from(["DATE_ASC", "DATE_DESC"]))
    return listing, fixed


@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
@given(request=_requests(), size=st.integers(1, 12))
def test_both_directions_visit_every_record_once_in_order(
    synthetic: Paths, request: tuple[Listing, dict[str, Any]], size: int
) -> None:
    listing, fixed = request
    forwards = [edge["node"] for edge in _walk(synthetic, listing, fixed, size, backward=False)]
    backwards = [edge["node"] for edge in _walk(synthetic, listing, fixed, size, backward=True)]
    total = _run(synthetic, listing, fixed | {"first": 0})["totalCount"]
    assert len(forwards) == total
    assert len({n["key"] for n in forwards}) == total
    assert forwards == _in_order(forwards, fixed.get("order") == "DATE_DESC")
    assert backwards == forwards


def _window(total: int, size: int, backward: bool, cursor: int | None, before: bool) -> tuple[int, int]:
    """The slice of the whole listing a page is, from the spec's algorithm: the window the cursor opens (past
    `after`, before `before`), then its first or last `size` rows."""
    start, end = 0, total
    if cursor is not None:
        start, end = (0, cursor) if before else (cursor + 1, total)
    return (max(start, end - size), end) if backward else (start, min(end, start + size))


@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
@given(request=_requests(), size=st.integers(0, 12), backward=st.booleans(), before=st.booleans(), data=st.data())
def test_every_window_and_its_flags_are_exact(
    synthetic: Paths, request: tuple[Listing, dict[str, Any]], size: int, backward: bool, before: bool,
    data: st.DataObject,
) -> None:  # fmt: skip
    listing, fixed = request
    edges = _walk(synthetic, listing, fixed, 100, backward=False)
    cursor = data.draw(st.none() | st.integers(0, len(edges) - 1)) if edges else None
    arguments: dict[str, Any] = {"last": size} if backward else {"first": size}
    if cursor is not None:
        arguments["before" if before else "after"] = edges[cursor]["cursor"]
    start, end = _window(len(edges), size, backward, cursor, before and cursor is not None)
    page = _run(synthetic, listing, fixed | arguments)
    assert page["edges"] == edges[start:end]
    # Without pageInfo the compiled path reads no extra row and numbers none: the same nodes.
    nodes = _run(synthetic, listing, fixed | arguments, "nodes { key date }")["nodes"]
    assert nodes == [edge["node"] for edge in edges[start:end]]
    assert page["pageInfo"]["hasPreviousPage"] == (start > 0)
    assert page["pageInfo"]["hasNextPage"] == (end < len(edges))


def _errors(client: Client, query: str) -> list[dict[str, Any]]:
    errors: list[dict[str, Any]] = client.query(query)["errors"]
    return errors


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ("first: 2, last: 2", "`first` and `last` cannot be used together"),
        ('after: "x", before: "y"', "`after` and `before` cannot be used together"),
        ("last: 101", "`last` must be between 0 and 100, got 101"),
        ("last: -1", "`last` must be between 0 and 100, got -1"),
        ('last: 2, before: "nonsense"', "`before` is not a cursor returned by this API"),
    ],
)
def test_paging_arguments_the_spec_forbids_are_bad_user_input(client: Client, arguments: str, message: str) -> None:
    nested = f"{{ meetings(first: 1) {{ nodes {{ statements({arguments}) {{ nodes {{ key }} }} }} }} }}"
    for query in (f"{{ meetings({arguments}) {{ nodes {{ key }} }} }}", nested):
        errors = _errors(client, query)
        assert [e["extensions"]["code"] for e in errors] == ["BAD_USER_INPUT"], errors
        assert message in errors[0]["message"]


def test_with_last_an_absent_or_null_first_is_ignored(client: Client) -> None:
    pages = [
        client.query(query)["data"]["persons"]
        for query in ("{ persons(last: 2) { nodes { key } } }", "{ persons(first: null, last: 2) { nodes { key } } }")
    ]
    assert pages[0] == pages[1]
    assert len(pages[0]["nodes"]) == 2
    every = client.query("{ persons(first: 100) { nodes { key } } }")["data"]["persons"]["nodes"]
    assert pages[0]["nodes"] == every[-2:]


def test_last_counts_towards_the_size_limits(client: Client) -> None:
    query = "{ meetings(last: 100) { nodes { statements(last: 100) { nodes { key } } } } }"
    errors = _errors(client, query)
    assert errors[0]["extensions"]["code"] == "QUERY_TOO_COMPLEX"
    assert "10100 objects" in errors[0]["message"], errors


def test_a_backward_page_is_read_from_the_index_backwards(article_db: Path) -> None:
    """A deep page backwards seeks with the index and reads it the other way: no sort, no scan of the table."""
    import sqlite3

    from diplo.graphql import queries
    from diplo.graphql.pagination import Paging, Position

    paging = Paging(20, backward=True, cursor=Position("2025-02-27", "x"), before=True)
    window, params = queries.window_condition(queries.STATEMENTS, "DATE_DESC", paging)
    sql = queries.page_select(queries.STATEMENTS, "DATE_DESC", "1", window, "21", backward=True)
    conn = sqlite3.connect(article_db)
    try:
        plan = " ".join(row[3] for row in conn.execute(f"EXPLAIN QUERY PLAN {sql}", params))
    finally:
        conn.close()
    assert "USING INDEX" in plan, plan
    assert "TEMP B-TREE" not in plan, plan


def test_a_planned_document_refuses_first_with_last_in_its_variables(synthetic: Paths) -> None:
    """The compiled plan of a document is reused across variables; paging that the spec forbids still falls back to
    the resolver path, which refuses it, and the plan's variants answer both directions."""
    listing = LISTINGS[0]
    query = _document(listing, "nodes { key }")
    assert synthetic.same(query, {"first": 2})
    assert synthetic.same(query, {"last": 2})
    assert synthetic.compiled_only(query, {"first": 2, "last": 2}) is None
    refused = orjson.loads(orjson.dumps(_answer(synthetic.reference, query, {"first": 2, "last": 2})))
    assert [e["extensions"]["code"] for e in refused["errors"]] == ["BAD_USER_INPUT"]

"""Provenance through GraphQL: what each source said (reports), which sources state a merged record, and what
each source reports. Two sources report one meeting: A (earlier) has it planned, B (later) has it held."""

import json
from pathlib import Path
from typing import Any

import pytest
from conftest import Client, count_statements
from diplo.graphql.limits import Limits
from diplo.graphql.types import global_id
from diplo.ingest.session import load_seeds
from diplo.server.app import Settings, create_app

GENEVA = "geneva-talks"
A_TITLE = "US–Russia talks planned in Geneva"
B_TITLE = "Geneva talks between the US and Russia"

A: dict[str, Any] = {
    "source": {
        "key": "wire-a", "outlet": "Wire A", "title": "Talks planned in Geneva",
        "published_at": "2025-03-01T09:00:00+01:00", "language": "en",
    },
    "persons": [
        {"key": "marco-rubio", "name": "Marco Rubio", "country": "US"},
        {"key": "mike-waltz", "name": "Mike Waltz", "country": "US"},
        {"key": "sergei-lavrov", "name": "Sergei Lavrov", "country": "RU"},
    ],
    "organizations": [{"key": "state-department", "name": "US Department of State", "country": "US"}],
    "topics": [{"key": "ukraine", "label": "Ukraine"}],
    "meetings": [{
        "key": GENEVA, "title": A_TITLE, "status": "planned", "format": "in_person", "topics": ["ukraine"],
        "delegations": [
            {"country": "US", "head": "marco-rubio", "head_role": "Secretary of State", "members": ["mike-waltz"]},
            {"country": "RU", "head": "sergei-lavrov"},
        ],
    }],
    "statements": [{
        "key": "a-says", "text": "Talks will take place in Geneva.", "language": "en", "kind": "paraphrase",
        "speaker": "marco-rubio", "organization": "state-department", "meeting": GENEVA, "date": "2025-03-01",
    }],
}  # fmt: skip
B: dict[str, Any] = {
    "source": {
        "key": "wire-b", "outlet": "Wire B", "title": "Geneva talks held",
        "published_at": "2025-03-05T09:00:00+01:00", "language": "en",
    },
    "persons": [
        {"key": "marco-rubio", "name": "Marco A. Rubio", "country": "US"},  # another spelling: an alias
        {"key": "mike-waltz", "name": "Mike Waltz", "country": "US"},
        {"key": "steve-witkoff", "name": "Steve Witkoff", "country": "US"},
        {"key": "sergei-lavrov", "name": "Sergei Lavrov", "country": "RU"},
    ],
    "organizations": [{"key": "state-department", "name": "State Department", "country": "US"}],
    "topics": [{"key": "ukraine", "label": "Ukraine"}, {"key": "sanctions", "label": "Sanctions"}],
    "meetings": [
        {
            "key": GENEVA, "title": B_TITLE, "status": "held", "format": "in_person", "date": "2025-03-04",
            "city": "Geneva", "host_country": "CH", "follows": "phone-call", "topics": ["ukraine", "sanctions"],
            "delegations": [
                {"country": "RU", "head": "sergei-lavrov"},
                {"country": "US", "head": "marco-rubio", "members": ["mike-waltz", "steve-witkoff"]},
            ],
        },
        {
            "key": "phone-call", "title": "Phone call before the Geneva talks", "status": "held",
            "format": "phone_call", "date": "2025-02-20",
            "delegations": [{"country": "US", "head": "marco-rubio"}, {"country": "RU", "head": "sergei-lavrov"}],
        },
    ],
    "statements": [
        {
            "key": "b-first", "text": "The talks were useful.", "language": "en", "kind": "paraphrase",
            "speaker": "sergei-lavrov", "meeting": GENEVA, "date": "2025-03-04",
        },
        {
            "key": "b-second", "text": "We spoke by phone.", "language": "en", "kind": "paraphrase",
            "speaker": "marco-rubio", "organization": "state-department", "meeting": "phone-call",
            "date": "2025-02-20",
        },
    ],
}  # fmt: skip


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp = tmp_path_factory.mktemp("provenance")
    for name, content in {"a.json": A, "b.json": B}.items():
        (tmp / name).write_text(json.dumps(content, ensure_ascii=False), encoding="utf-8")
    # B given first: report order is publication order, not the order of the files.
    load_seeds(tmp / "p.db", [tmp / "b.json", tmp / "a.json"])
    return tmp / "p.db"


@pytest.fixture(scope="module")
def api(db: Path) -> Client:
    return Client(create_app(Settings(db_path=db)))


def data(body: dict[str, Any]) -> Any:
    assert "errors" not in body, body
    return body["data"]


def keys(nodes: list[dict[str, Any]]) -> list[str]:
    return [node["key"] for node in nodes]


# --- what each source said -----------------------------------------------------------------------------------

REPORTS = """query ($key: String!) { meeting(key: $key) { title status date reports {
  source { key } title status format date city hostCountry { code } round summary previous { key } topics { key }
  delegations { country { code } head { key name } headRole members { key } source { key } } } } }"""


def test_reports_give_each_sources_own_values_in_report_order(api: Client) -> None:
    meeting = data(api.query(REPORTS, key=GENEVA))["meeting"]
    assert (meeting["title"], meeting["status"], meeting["date"]) == (A_TITLE, "HELD", "2025-03-04")
    a, b = meeting["reports"]
    assert a == {
        "source": {"key": "wire-a"}, "title": A_TITLE, "status": "PLANNED", "format": "IN_PERSON", "date": None,
        "city": None, "hostCountry": None, "round": None, "summary": None, "previous": None,
        "topics": [{"key": "ukraine"}],
        "delegations": [
            {"country": {"code": "US"}, "head": {"key": "marco-rubio", "name": "Marco Rubio"},
             "headRole": "Secretary of State", "members": [{"key": "mike-waltz"}], "source": {"key": "wire-a"}},
            {"country": {"code": "RU"}, "head": {"key": "sergei-lavrov", "name": "Sergei Lavrov"},
             "headRole": None, "members": [], "source": {"key": "wire-a"}},
        ],
    }  # fmt: skip
    assert (b["source"], b["title"], b["status"], b["date"]) == ({"key": "wire-b"}, B_TITLE, "HELD", "2025-03-04")
    assert (b["city"], b["hostCountry"], b["previous"]) == ("Geneva", {"code": "CH"}, {"key": "phone-call"})
    assert keys(b["topics"]) == ["ukraine", "sanctions"]
    assert [(d["country"]["code"], keys(d["members"])) for d in b["delegations"]] == [
        ("RU", []),
        ("US", ["mike-waltz", "steve-witkoff"]),
    ]
    assert all(d["source"] == {"key": "wire-b"} for d in b["delegations"])


def test_delegations_name_the_sources_that_state_them(api: Client) -> None:
    query = "query ($key: String!) { meeting(key: $key) { delegations { country { code } sources { key } } } }"
    delegations = data(api.query(query, key=GENEVA))["meeting"]["delegations"]
    assert [(d["country"]["code"], keys(d["sources"])) for d in delegations] == [
        ("US", ["wire-a", "wire-b"]),
        ("RU", ["wire-a", "wire-b"]),
    ]
    delegations = data(api.query(query, key="phone-call"))["meeting"]["delegations"]
    assert [keys(d["sources"]) for d in delegations] == [["wire-b"], ["wire-b"]]


def test_names_are_the_earliest_spelling_and_the_others_aliases(api: Client) -> None:
    body = api.query(
        '{ rubio: person(key: "marco-rubio") { name aliases } waltz: person(key: "mike-waltz") { name aliases } '
        'organization(key: "state-department") { name aliases } }'
    )
    assert data(body) == {
        "rubio": {"name": "Marco Rubio", "aliases": ["Marco A. Rubio"]},
        "waltz": {"name": "Mike Waltz", "aliases": []},
        "organization": {"name": "US Department of State", "aliases": ["State Department"]},
    }


# --- what each source reports ----------------------------------------------------------------------------------

SOURCE_PAGES = """query ($key: String!, $first: Int, $meetingsAfter: String, $statementsAfter: String) {
  source(key: $key) {
    meetings(first: $first, after: $meetingsAfter) { totalCount nodes { key } pageInfo { hasNextPage endCursor } }
    statements(first: $first, after: $statementsAfter) { totalCount nodes { key } pageInfo { hasNextPage endCursor } }
  } }"""


def test_source_connections_page_oldest_first(api: Client) -> None:
    first = data(api.query(SOURCE_PAGES, key="wire-b", first=1))["source"]
    meetings, statements = first["meetings"], first["statements"]
    assert (meetings["totalCount"], keys(meetings["nodes"]), meetings["pageInfo"]["hasNextPage"]) == (
        2, ["phone-call"], True,
    )  # fmt: skip
    assert (statements["totalCount"], keys(statements["nodes"]), statements["pageInfo"]["hasNextPage"]) == (
        2, ["b-second"], True,
    )  # fmt: skip
    after = {"meetingsAfter": meetings["pageInfo"]["endCursor"], "statementsAfter": statements["pageInfo"]["endCursor"]}
    rest = data(api.query(SOURCE_PAGES, key="wire-b", first=5, **after))["source"]
    assert (keys(rest["meetings"]["nodes"]), rest["meetings"]["pageInfo"]["hasNextPage"]) == ([GENEVA], False)
    assert (keys(rest["statements"]["nodes"]), rest["statements"]["pageInfo"]["hasNextPage"]) == (["b-first"], False)
    a = data(api.query(SOURCE_PAGES, key="wire-a"))["source"]
    assert (a["meetings"]["totalCount"], keys(a["meetings"]["nodes"])) == (1, [GENEVA])
    assert (a["statements"]["totalCount"], keys(a["statements"]["nodes"])) == (1, ["a-says"])


def test_filters_by_source(api: Client) -> None:
    query = """query ($source: String!) { meetings(filter: {source: $source}) { totalCount nodes { key } }
      statements(filter: {source: $source}) { nodes { key } } }"""
    wire_a, wire_b, unknown = (data(api.query(query, source=s)) for s in ("wire-a", "wire-b", "no-such-source"))
    assert (keys(wire_a["meetings"]["nodes"]), keys(wire_a["statements"]["nodes"])) == ([GENEVA], ["a-says"])
    assert keys(wire_b["meetings"]["nodes"]) == ["phone-call", GENEVA]
    assert keys(wire_b["statements"]["nodes"]) == ["b-second", "b-first"]
    assert unknown == {"meetings": {"totalCount": 0, "nodes": []}, "statements": {"nodes": []}}


@pytest.mark.parametrize("listing", ["meetings", "statements"])
def test_source_filter_strings_are_bounded(api: Client, listing: str) -> None:
    long = "x" * (Limits().max_string_chars + 1)
    for body in (
        api.query(f'{{ {listing}(filter: {{source: "{long}"}}) {{ totalCount }} }}'),
        api.query(f"query ($s: String) {{ {listing}(filter: {{source: $s}}) {{ totalCount }} }}", s=long),
    ):
        assert [e["extensions"]["code"] for e in body["errors"]] == ["BAD_USER_INPUT"]


# --- global ids ------------------------------------------------------------------------------------------------

NODE = """query ($id: ID!) { node(id: $id) { id __typename
  ... on MeetingReport { title source { key } delegations { id } }
  ... on DelegationReport { country { code } source { key } members { key } } } }"""


def test_node_resolves_report_ids(api: Client) -> None:
    query = "query ($key: String!) { meeting(key: $key) { delegations { id } reports { id delegations { id } } } }"
    meeting = data(api.query(query, key=GENEVA))["meeting"]
    b = meeting["reports"][1]
    found = data(api.query(NODE, id=b["id"]))["node"]
    assert found == {
        "id": b["id"], "__typename": "MeetingReport", "title": B_TITLE, "source": {"key": "wire-b"},
        "delegations": b["delegations"],
    }  # fmt: skip
    us = b["delegations"][1]["id"]
    assert data(api.query(NODE, id=us))["node"] == {
        "id": us, "__typename": "DelegationReport", "country": {"code": "US"}, "source": {"key": "wire-b"},
        "members": [{"key": "mike-waltz"}, {"key": "steve-witkoff"}],
    }  # fmt: skip
    # A report's delegation is another object than the merged one, for clients that cache by id.
    reported = {d["id"] for r in meeting["reports"] for d in r["delegations"]}
    assert len(reported) == 4
    assert not reported & {d["id"] for d in meeting["delegations"]}


@pytest.mark.parametrize(
    "raw", ["MeetingReport:geneva-talks", "MeetingReport:geneva-talks/wire-c", "DelegationReport:geneva-talks/wire-a"]
)
def test_report_ids_of_nothing_resolve_to_null(api: Client, raw: str) -> None:
    type_name, _, key = raw.partition(":")
    assert data(api.query(NODE, id=global_id(type_name, key))) == {"node": None}


# --- the two executors agree, and batch -----------------------------------------------------------------------

ALL = """query ($n: Int) {
  sources(first: $n) { nodes { key
    meetings { totalCount nodes { key
      reports { id title status date format city hostCountry { code } round summary source { key } previous { key }
        topics { key } delegations { id country { code } headRole head { name aliases } members { key aliases }
          source { outlet } } }
      delegations { id sources { key } members { key } } } }
    statements(first: 1) { totalCount nodes { key source { key } } } } }
  meetings(filter: {source: "wire-b"}) { nodes { key reports { source { key } topics { key } } } }
}"""
ONE = """query ($id: ID!) { node(id: $id) { ... on MeetingReport { previous { key reports { id } }
  delegations { head { aliases } members { name } source { key } } topics { key } } } }"""


def test_compiled_and_resolver_paths_answer_the_same(db: Path) -> None:
    """The compiled path (diplo.graphql.compiler) and the resolver path agree on every new relation."""
    report_id = global_id("MeetingReport", f"{GENEVA}/wire-b")
    compiled = Client(create_app(Settings(db_path=db)))
    before = [compiled.query(ALL, n=2), compiled.query(ONE, id=report_id)]
    resolved = Client(create_app(Settings(db_path=db, compiled=False)))
    after = [resolved.query(ALL, n=2), resolved.query(ONE, id=report_id)]
    assert data(before[0])["sources"]["nodes"][0]["meetings"]["nodes"][0]["reports"][1]["delegations"]
    phone_call = {"key": "phone-call", "reports": [{"id": global_id("MeetingReport", "phone-call/wire-b")}]}
    assert data(before[1])["node"]["previous"] == phone_call
    assert before == after


def test_new_relations_cost_one_statement_per_level(db: Path) -> None:
    """Page 1 (wire-a) already reaches every relation of ALL, so a second source costs no statement more."""
    assert count_statements(db, ALL, n=1) == count_statements(db, ALL, n=2)

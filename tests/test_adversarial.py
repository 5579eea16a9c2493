"""Hostile requests: every limit holds, every answer is a 4xx or a coded GraphQL error, nothing leaks.

The String arguments attacked are discovered from the schema, so a new argument is covered without a new test.
"""

import json
from typing import Any

import graphql
import httpx
import pytest
from conftest import Client
from diplo.graphql.schema import build_schema
from diplo.server.http import is_text

LEAKS = ("Traceback", 'File "', "sqlite3", "SELECT ", "/api/", ".py", "OperationalError")
HOSTILE = [
    "' OR 1=1 --", "%", "_", '"', '"unbalanced', "*", "NEAR(", "NEAR(a b)", "a AND b", "-x", "^", "col:val",
    "\x00", "a\x00b", "\ud800", "x\udfffy", "\u202eevil", "\ufeff", "Z\u0351\u0352\u0353", "🏳️‍🌈" * 20, "",
    " ", "\\", "{}", "()", "[", "a" * 200,
]  # fmt: skip


def assert_no_leak(response: httpx.Response) -> None:
    assert not any(leak in response.text for leak in LEAKS), response.text


def post_json(client: Client, body: Any) -> httpx.Response:
    return client.post("/graphql", content=json.dumps(body), headers={"content-type": "application/json"})


def codes(response: httpx.Response) -> list[str]:
    assert_no_leak(response)
    return [e["extensions"]["code"] for e in response.json().get("errors", [])]


# --- every String argument of the schema, with injection strings and hostile unicode ---------------------------


def string_arguments() -> list[tuple[str, str]]:
    """(a query that puts `$s` into one String argument or String input field, a label) for the whole schema."""
    schema = build_schema()._schema
    found: list[tuple[str, str]] = []
    query_type = schema.query_type
    assert query_type is not None
    for field_name, field in query_type.fields.items():
        for arg_name, arg in field.args.items():
            arg_type = graphql.get_nullable_type(arg.type)
            selection = _selection(graphql.get_named_type(field.type))
            if isinstance(arg_type, graphql.GraphQLScalarType) and arg_type.name in ("String", "ID"):
                found.append((f"query ($s: {arg_type.name}!) {{ {field_name}({arg_name}: $s) {selection} }}",
                              f"{field_name}.{arg_name}"))  # fmt: skip
            elif isinstance(arg_type, graphql.GraphQLInputObjectType):
                for input_name, input_field in arg_type.fields.items():
                    if graphql.get_named_type(input_field.type).name == "String":
                        found.append((
                            f"query ($s: String) {{ {field_name}({arg_name}: {{{input_name}: $s}}) {selection} }}",
                            f"{field_name}.{arg_name}.{input_name}",
                        ))  # fmt: skip
    for type_name, type_ in schema.type_map.items():  # arguments of fields below the root
        if type_name.startswith("__") or not isinstance(type_, graphql.GraphQLObjectType) or type_ is query_type:
            continue
        for field_name, field in type_.fields.items():
            for arg_name, arg in field.args.items():
                if graphql.get_named_type(arg.type).name == "String":
                    found.append((_nested_query(type_name, field_name, arg_name, field), f"{type_name}.{field_name}"))
    return found


def _selection(type_: graphql.GraphQLNamedType) -> str:
    if isinstance(type_, graphql.GraphQLObjectType) and "totalCount" in type_.fields:
        return "{ totalCount nodes { __typename } }"
    if isinstance(type_, graphql.GraphQLObjectType | graphql.GraphQLInterfaceType):
        return "{ __typename }"
    return ""


_PATHS = {  # how to reach an object of each type from the root, on the article's data
    "Meeting": 'meeting(key: "us-russia-talks-istanbul-2025-02-27")',
    "Statement": 'statement(key: "vladimir-putin-inspires-hope")',
    "Topic": 'topic(key: "direct-flights")',
    "Person": 'person(key: "vladimir-putin")',
    "Organization": 'organization(key: "kremlin")',
    "Source": 'source(key: "koran-jakarta-2025-03-01-as-russia")',
    "Delegation": 'meeting(key: "us-russia-talks-istanbul-2025-02-27") { delegations',
    "MeetingReport": 'meeting(key: "us-russia-talks-istanbul-2025-02-27") { reports',
    "DelegationReport": 'meeting(key: "us-russia-talks-istanbul-2025-02-27") { reports { delegations',
    "StatementReport": 'statement(key: "vladimir-putin-inspires-hope") { reports',
}


def _nested_query(type_name: str, field_name: str, arg_name: str, field: graphql.GraphQLField) -> str:
    inner = _selection(graphql.get_named_type(field.type))
    prefix = _PATHS.get(type_name)
    if prefix is None and type_name.endswith("Connection"):
        return f"query ($s: String) {{ meetings {{ pageInfo {{ endCursor }} }} }} # {arg_name}: $s unused"
    assert prefix is not None, f"add a path to {type_name} to _PATHS"
    closing = " }" * prefix.count("{")  # a path through lists opens their selections
    return f"query ($s: String) {{ {prefix} {{ {field_name}({arg_name}: $s) {inner} }}{closing} }}"


ARGUMENTS = string_arguments()


def test_every_string_argument_is_discovered() -> None:
    labels = {label for _, label in ARGUMENTS}
    assert {"statements.filter.search", "meetings.filter.city", "node.id", "meetings.after",
            "Statement.translation", "Topic.label", "Meeting.statements"} <= labels  # fmt: skip


@pytest.mark.parametrize(("query", "label"), ARGUMENTS, ids=[label for _, label in ARGUMENTS])
def test_hostile_strings_are_plain_text(client: Client, query: str, label: str) -> None:
    for value in HOSTILE:
        response = post_json(client, {"query": query, "variables": {"s": value}})
        if not is_text(value):  # a lone surrogate: refused before any GraphQL work
            assert (response.status_code, codes(response)) == (400, ["BAD_USER_INPUT"]), (label, value)
            continue
        assert response.status_code == 200, (label, value)
        found = codes(response)
        assert set(found) <= {"BAD_USER_INPUT"}, (label, value, response.text)
        if not found:
            assert response.json()["data"] is not None


def test_search_treats_syntax_as_text(client: Client) -> None:
    for value in ['"', "NEAR(", "a OR b", "*", "' OR 1=1 --", "\x00"]:
        body = client.query("query ($s: String) { statements(filter: {search: $s}) { totalCount } }", s=value)
        assert body["data"]["statements"]["totalCount"] == 0, value
    body = client.query('{ statements(filter: {search: "\\"menginspirasi\\" OR"}) { totalCount } }')
    assert body["data"]["statements"]["totalCount"] == 0  # OR is a word to match, not an operator


def test_long_strings_are_refused(client: Client) -> None:
    body = client.query("query ($s: String) { meetings(filter: {city: $s}) { totalCount } }", s="a" * 201)
    assert [e["extensions"]["code"] for e in body["errors"]] == ["BAD_USER_INPUT"]
    assert "limit of 200" in body["errors"][0]["message"]
    literal = client.query('{ meetings(filter: {city: "' + "b" * 201 + '"}) { totalCount } }')
    assert literal["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


# --- query shape -------------------------------------------------------------------------------------------


def nested(levels: int) -> str:
    query = "key"
    for _ in range(levels):
        query = f"key previous {{ {query} }}"
    return f'{{ meeting(key: "x") {{ {query} }} }}'


def test_depth_through_the_previous_cycle(client: Client) -> None:
    assert "errors" not in client.query(nested(8))  # 10 levels: meeting, 8 x previous, key
    assert codes(post_json(client, {"query": nested(9)})) == ["QUERY_TOO_COMPLEX"]
    assert codes(post_json(client, {"query": nested(3000)})) == ["QUERY_TOO_COMPLEX"]


def test_depth_through_the_topic_meetings_cycle_and_fragments(client: Client) -> None:
    query = """{ topics { ...T } }
    fragment T on TopicConnection {
      nodes { meetings { nodes { topics { meetings { nodes { topics { meetings { nodes { key } } } } } } } } }
    }"""
    assert codes(post_json(client, {"query": query})) == ["QUERY_TOO_COMPLEX"]
    cyclic = "{ topics { ...A } } fragment A on TopicConnection { ...B } fragment B on TopicConnection { ...A }"
    assert codes(post_json(client, {"query": cyclic})) == ["GRAPHQL_VALIDATION_FAILED"]


def test_alias_flood(client: Client) -> None:
    ok = "{ " + " ".join(f"a{i}: countries {{ code }}" for i in range(15)) + " }"
    assert codes(post_json(client, {"query": ok})) == []
    flood = "{ " + " ".join(f"a{i}: countries {{ code }}" for i in range(16)) + " }"
    assert codes(post_json(client, {"query": flood})) == ["QUERY_TOO_COMPLEX"]


def test_token_directive_and_comment_floods(client: Client) -> None:
    tokens = "{ " + "countries { code } " * 700 + "}"
    directives = "{ countries " + "@include(if: true) " * 400 + "{ code } }"
    comments = "#\n" * 500 + "{ countries { code } }"
    for query in (tokens, directives, comments):
        response = post_json(client, {"query": query})
        assert codes(response) == ["QUERY_TOO_COMPLEX"]
        assert "contains more than" in response.json()["errors"][0]["message"]
    long_document = "{ countries { code } }" + " " * 20_000
    assert codes(post_json(client, {"query": long_document})) == ["QUERY_TOO_COMPLEX"]


def test_result_size_estimate(client: Client) -> None:
    query = "{ meetings(first: 100) { nodes { statements(first: 100) { nodes { key } } } } }"
    response = post_json(client, {"query": query})
    assert codes(response) == ["QUERY_TOO_COMPLEX"]
    assert "10100" in response.json()["errors"][0]["message"]
    assert "10000" in response.json()["errors"][0]["message"]
    via_variables = "query ($n: Int) { meetings(first: $n) { nodes { statements(first: $n) { totalCount } } } }"
    assert codes(post_json(client, {"query": via_variables, "variables": {"n": 100}})) == ["QUERY_TOO_COMPLEX"]
    assert codes(post_json(client, {"query": via_variables, "variables": {"n": 99}})) == []


@pytest.mark.parametrize("first", ["-1", "101", "-2147483648", "2147483647"])
def test_huge_and_negative_first(client: Client, first: str) -> None:
    assert codes(post_json(client, {"query": f"{{ meetings(first: {first}) {{ totalCount }} }}"})) == ["BAD_USER_INPUT"]
    assert codes(post_json(client, {"query": "{ meetings(first: 99999999999) { totalCount } }"})) == [
        "GRAPHQL_VALIDATION_FAILED"
    ]


def test_mutations_and_subscriptions_do_not_exist(client: Client) -> None:
    assert codes(post_json(client, {"query": "mutation { x }"})) == ["BAD_USER_INPUT"]
    assert codes(post_json(client, {"query": "subscription { x }"})) == ["BAD_USER_INPUT"]
    assert codes(post_json(client, {"query": "{ a: countries { code } } query B { countries { code } }"})) == [
        "GRAPHQL_VALIDATION_FAILED"
    ]
    two = "query A { countries { code } } query B { countries { name } }"
    assert codes(post_json(client, {"query": two})) == ["BAD_USER_INPUT"]
    assert codes(post_json(client, {"query": two, "operationName": "C"})) == ["BAD_USER_INPUT"]
    assert codes(post_json(client, {"query": two, "operationName": "B"})) == []


def test_garbage_cursors(client: Client) -> None:
    for cursor in ["", "===", "bm90IGpzb24", "WzEsMiwzLDRd", "W251bGxd", "\x00", "😀" * 10]:
        body = client.query("query ($c: String) { meetings(after: $c) { totalCount } }", c=cursor)
        assert [e["extensions"]["code"] for e in body["errors"]] == ["BAD_USER_INPUT"], cursor


# --- HTTP-level hostility ---------------------------------------------------------------------------------


def raw(client: Client, content: bytes, content_type: str = "application/json") -> httpx.Response:
    return client.post("/graphql", content=content, headers={"content-type": content_type})


@pytest.mark.parametrize(
    ("content", "status"),
    [
        (b'\xff\xfe{"query": 1}', 400),  # invalid UTF-8
        (b'"{ countries { code } }"', 400),  # a bare JSON string
        (b"[" * 20_000 + b"]" * 20_000, 400),  # deeply nested arrays
        (b'{"query": ' + b"[" * 20_000 + b"]" * 20_000 + b"}", 400),
        (b"[" + json.dumps({"query": "{ countries { code } }"}).encode() + b"]", 400),  # a batch
        (b"{not json", 400),
        (b"", 400),
        (b"null", 400),
        (b'{"query": 5}', 400),
        (b'{"query": "{ countries { code } }", "variables": [1]}', 400),
        (b'{"query": "{ countries { code } }", "operationName": 5}', 400),
        (b'{"query": "' + b" " * (64 * 1024) + b'"}', 413),
    ],
    ids=[
        "utf8",
        "bare-string",
        "nested-arrays",
        "nested-query",
        "batch",
        "not-json",
        "empty",
        "null",
        "query-type",
        "variables-type",
        "operation-type",
        "oversize",
    ],
)
def test_malformed_bodies(client: Client, content: bytes, status: int) -> None:
    response = raw(client, content)
    assert response.status_code == status
    assert codes(response) == ["BAD_USER_INPUT"]


def test_content_types(client: Client) -> None:
    body = json.dumps({"query": "{ countries { code } }"}).encode()
    assert raw(client, body).status_code == 200
    assert raw(client, body, "application/json; charset=utf-8").status_code == 200
    for content_type in ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data", ""]:
        response = raw(client, body, content_type)
        assert response.status_code == 415, content_type
        assert codes(response) == ["BAD_USER_INPUT"]
    assert client.request("PUT", "/graphql", content=body).status_code == 405


def test_get_requests(client: Client) -> None:
    ok = client.get("/graphql", params={"query": "{ countries { code } }"})
    assert ok.status_code == 200
    assert ok.json()["data"]["countries"]
    assert codes(client.get("/graphql", params={"query": "mutation { x }"})) == ["BAD_USER_INPUT"]
    bad_vars = client.get("/graphql", params={"query": "{ countries { code } }", "variables": "{oops"})
    assert bad_vars.status_code == 400
    # uvicorn refuses over-long request lines itself; what gets through meets the document-length limit
    long_url = client.get("/graphql", params={"query": "{ countries { code } }" + " " * 30_000})
    assert codes(long_url) == ["QUERY_TOO_COMPLEX"]


def test_oversize_body_declared_or_streamed(client: Client) -> None:
    big = json.dumps({"query": "{ countries { code } }", "variables": {"x": "y" * 70_000}}).encode()
    assert raw(client, big).status_code == 413

    async def chunks() -> Any:
        for _ in range(100):
            yield b" " * 1024

    streamed = client.post("/graphql", content=chunks(), headers={"content-type": "application/json"})
    assert streamed.status_code == 413

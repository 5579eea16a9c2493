"""GraphQL over HTTP (api/server/http.py): media types and status codes as the spec says, persisted operations, caching
headers, CORS."""

import hashlib
import json
import logging
import sqlite3
from pathlib import Path

import pytest
from conftest import SEEDS, Client
from diplo.ingest.session import load_seeds
from diplo.server.app import Settings, create_app, origin_pattern
from diplo.server.http import GRAPHQL_RESPONSE, JSON, RequestError, negotiate
from diplo.store import build_id, record_build

QUERY = "{ countries { code } }"
SPEC = {"accept": GRAPHQL_RESPONSE}


@pytest.mark.parametrize(
    ("accept", "chosen"),
    [
        (None, JSON),
        ("*/*", JSON),
        ("application/*", JSON),
        (JSON, JSON),
        (GRAPHQL_RESPONSE, GRAPHQL_RESPONSE),
        (f"{GRAPHQL_RESPONSE}, {JSON};q=0.9", GRAPHQL_RESPONSE),
        (f"{GRAPHQL_RESPONSE};q=0.5, {JSON}", JSON),
        (f"{JSON}, {GRAPHQL_RESPONSE}", GRAPHQL_RESPONSE),
        ("text/html,application/xhtml+xml,*/*;q=0.8", JSON),
    ],
)
def test_negotiate(accept: str | None, chosen: str) -> None:
    assert negotiate(accept) == chosen


def test_nothing_acceptable_is_406(client: Client) -> None:
    with pytest.raises(RequestError):
        negotiate(f"text/html, {JSON};q=0")
    response = client.post("/graphql", json={"query": QUERY}, headers={"accept": "text/plain"})
    assert response.status_code == 406
    assert GRAPHQL_RESPONSE in response.json()["errors"][0]["message"]


def test_spec_media_type_request_errors_are_400_without_data(client: Client) -> None:
    for query in ("{ countries { ", "{ countriez { code } }"):
        response = client.post("/graphql", json={"query": query}, headers=SPEC)
        assert response.status_code == 400
        assert response.headers["content-type"] == f"{GRAPHQL_RESPONSE}; charset=utf-8"
        assert "data" not in response.json()
    variables = {"query": "query ($n: Int) { meetings(first: $n) { totalCount } }", "variables": {"n": "x"}}
    assert client.post("/graphql", json=variables, headers=SPEC).status_code == 400
    # a field error happens during execution: 200, with `data`
    executed = client.post("/graphql", json={"query": "{ meetings(first: 101) { totalCount } }"}, headers=SPEC)
    assert executed.status_code == 200
    assert executed.json()["data"] is None
    # plain JSON keeps every GraphQL answer a 200 with `data`, as older clients expect
    legacy = client.post("/graphql", json={"query": "{ countries { "})
    assert legacy.status_code == 200
    assert legacy.headers["content-type"] == "application/json; charset=utf-8"
    assert legacy.json()["data"] is None


@pytest.mark.parametrize("extensions", [[], "x", 1])
def test_extensions_must_be_an_object(client: Client, extensions: object) -> None:
    response = client.post("/graphql", json={"query": QUERY, "extensions": extensions})
    assert response.status_code == 400
    assert "`extensions`" in response.json()["errors"][0]["message"]
    assert client.post("/graphql", json={"query": QUERY, "extensions": {"x": 1}}).status_code == 200
    get = client.get("/graphql", params={"query": QUERY, "extensions": json.dumps(extensions)})
    assert get.status_code == 400


def test_head_and_long_urls(article_db: Path) -> None:
    from diplo.graphql.limits import Limits

    client = Client(create_app(Settings(db_path=article_db, limits=Limits(max_body_bytes=1000))))
    head = client.request("HEAD", "/graphql", params={"query": QUERY})
    assert head.status_code == 200
    assert head.headers["etag"]
    long = client.get("/graphql", params={"query": QUERY + " " * 1000})
    assert long.status_code == 414
    assert "POST" in long.json()["errors"][0]["message"]


# --- persisted operations ----------------------------------------------------------------------------------


def persisted(query: str) -> dict[str, object]:
    return {"persistedQuery": {"version": 1, "sha256Hash": hashlib.sha256(query.encode()).hexdigest()}}


def test_automatic_persisted_queries(article_db: Path) -> None:
    client = Client(create_app(Settings(db_path=article_db)))
    hash_only = {"extensions": persisted(QUERY)}
    missing = client.post("/graphql", json=hash_only)
    assert missing.status_code == 200
    assert missing.json()["errors"][0]["extensions"]["code"] == "PERSISTED_QUERY_NOT_FOUND"
    registered = client.post("/graphql", json={"query": QUERY, **hash_only})
    assert registered.json()["data"]["countries"]
    assert client.post("/graphql", json=hash_only).json() == registered.json()
    as_get = client.get("/graphql", params={"extensions": json.dumps(persisted(QUERY))})
    assert as_get.json() == registered.json()
    wrong = client.post("/graphql", json={"query": "{ topics { totalCount } }", **hash_only})
    assert wrong.status_code == 400
    assert "sha256" in wrong.json()["errors"][0]["message"]
    malformed = client.post("/graphql", json={"extensions": {"persistedQuery": {"version": 1, "sha256Hash": "x"}}})
    assert malformed.status_code == 400


def test_persisted_query_store_is_bounded(article_db: Path) -> None:
    from diplo.graphql.limits import Limits

    client = Client(create_app(Settings(db_path=article_db, limits=Limits(persisted_queries=2))))
    queries = [f"{{ a{i}: countries {{ code }} }}" for i in range(3)]
    for query in queries:
        client.post("/graphql", json={"query": query, "extensions": persisted(query)})
    codes = [
        client.post("/graphql", json={"extensions": persisted(q)}).json().get("errors", [{}])[0].get("extensions")
        for q in queries
    ]
    assert codes == [{"code": "PERSISTED_QUERY_NOT_FOUND"}, None, None]


def test_a_persisted_query_miss_is_never_cached_and_is_logged_and_counted(
    article_db: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """The miss a client answers by registering its document: a cache that kept it would answer that next try."""
    client = Client(create_app(Settings(db_path=article_db)))
    with caplog.at_level(logging.INFO, logger="diplo.access"):
        missed = [
            client.get("/graphql", params={"extensions": json.dumps(persisted(QUERY)), "operationName": "Missed"}),
            client.post("/graphql", json={"extensions": persisted(QUERY), "operationName": "Missed"}),
        ]
    for response in missed:
        assert response.json()["errors"][0]["extensions"]["code"] == "PERSISTED_QUERY_NOT_FOUND"
        assert response.headers["cache-control"] == "no-store"
        assert response.headers["vary"] == "Accept, Accept-Encoding"
    logged = [r.getMessage() for r in caplog.records if r.name == "diplo.access"]
    assert len(logged) == 2
    assert all(" Missed PERSISTED_QUERY_NOT_FOUND 200 " in line for line in logged), logged
    exposition = client.get("/metrics").text
    assert 'diplo_requests_total{operation="other",outcome="PERSISTED_QUERY_NOT_FOUND"} 2.0' in exposition


def test_trusted_documents(article_db: Path) -> None:
    operations = Path(__file__).resolve().parent.parent / "schema" / "operations"
    client = Client(create_app(Settings(db_path=article_db, trusted_documents=operations)))
    text = (operations / "meetings-by-country.graphql").read_text(encoding="utf-8")
    assert "data" in client.post("/graphql", json={"query": text}).json()
    from graphql import parse, print_ast

    by_hash = client.post("/graphql", json={"extensions": persisted(print_ast(parse(text)))})
    assert "meetings" in by_hash.json()["data"]
    refused = client.post("/graphql", json={"query": QUERY})
    assert refused.status_code == 403
    assert refused.json()["errors"][0]["extensions"]["code"] == "OPERATION_NOT_TRUSTED"
    unknown = client.post("/graphql", json={"extensions": persisted(QUERY)})
    assert unknown.json()["errors"][0]["extensions"]["code"] == "PERSISTED_QUERY_NOT_FOUND"


def test_trusted_documents_that_do_not_parse_are_a_message(tmp_path: Path) -> None:
    from click.testing import CliRunner
    from diplo.cli import cli

    empty = CliRunner().invoke(cli, ["serve", "--trusted-documents", str(tmp_path)])
    assert empty.exit_code == 2
    assert "no .graphql documents" in empty.output
    (tmp_path / "bad.graphql").write_text("{ countries {", encoding="utf-8")
    broken = CliRunner().invoke(cli, ["serve", "--trusted-documents", str(tmp_path)])
    assert broken.exit_code == 2
    assert "bad.graphql: Syntax Error" in broken.output
    assert "Traceback" not in broken.output


# --- caching ---------------------------------------------------------------------------------------------------


def test_get_answers_carry_etag_and_cache_control(article_db: Path) -> None:
    client = Client(create_app(Settings(db_path=article_db, cache_control="public, max-age=300")))
    first = client.get("/graphql", params={"query": QUERY})
    tag = first.headers["etag"]
    assert first.headers["cache-control"] == "public, max-age=300"
    assert tag.startswith('W/"')
    again = client.get("/graphql", params={"query": QUERY}, headers={"if-none-match": tag})
    assert again.status_code == 304
    assert again.headers["etag"] == tag
    assert not again.content
    other = client.get("/graphql", params={"query": "{ topics { totalCount } }"}, headers={"if-none-match": tag})
    assert other.status_code == 200
    assert other.headers["etag"] != tag
    spec = client.get("/graphql", params={"query": QUERY}, headers={"if-none-match": tag, **SPEC})
    assert spec.status_code == 200  # another media type, another representation
    post = client.post("/graphql", json={"query": QUERY}, headers={"if-none-match": tag})
    assert post.status_code == 200
    assert "etag" not in post.headers
    assert "cache-control" not in post.headers
    failed = client.get("/graphql", params={"query": "{ meetings(first: 101) { totalCount } }"})
    assert failed.headers["cache-control"] == "no-store"
    assert "etag" not in failed.headers


def test_build_id_follows_the_loaded_content(tmp_path: Path) -> None:
    db = tmp_path / "a.db"
    load_seeds(db, [SEEDS])
    with sqlite3.connect(db) as conn:
        first = build_id(conn)
    load_seeds(db, [SEEDS])  # the same seeds again: nothing written, same id
    with sqlite3.connect(db) as conn:
        assert build_id(conn) == first
    other = tmp_path / "b.db"
    load_seeds(other, [SEEDS])  # the same content elsewhere: the same id, so every replica gives the same ETags
    with sqlite3.connect(other) as conn:
        assert build_id(conn) == first
    seed = tmp_path / "seed.yaml"
    seed.write_text(
        next(SEEDS.glob("*.yaml")).read_text(encoding="utf-8").replace("city: Istanbul", "city: İstanbul"),
        encoding="utf-8",
    )
    load_seeds(db, [seed])
    with sqlite3.connect(db) as conn:
        assert build_id(conn) not in (None, first)
    with sqlite3.connect(other) as conn:  # as a file loaded before build ids were recorded
        conn.execute("DROP TABLE build")
        conn.execute("DROP TABLE source_digests")
        record_build(conn, {})
        assert build_id(conn) not in (None, first)  # what it holds is unknown: an id of its own
    load_seeds(other, [seed])  # its one source loaded again: known, and the same content as `db`
    with sqlite3.connect(other) as conn, sqlite3.connect(db) as same:
        assert build_id(conn) == build_id(same)


def test_etag_changes_with_the_build(tmp_path: Path) -> None:
    db = tmp_path / "a.db"
    load_seeds(db, [SEEDS])
    client = Client(create_app(Settings(db_path=db)))
    before = client.get("/graphql", params={"query": QUERY}).headers["etag"]
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE build SET id = 'another'")
    assert client.get("/graphql", params={"query": QUERY}).headers["etag"] != before


# --- CORS ------------------------------------------------------------------------------------------------------

PREFLIGHT = {
    "access-control-request-method": "POST",
    "access-control-request-headers": "content-type, authorization, apollographql-client-name, traceparent, "
    "baggage, sentry-trace",
}


def test_cors_lets_client_and_tracing_headers_through(article_db: Path) -> None:
    origins = ("https://app.example", "https://*.preview.example")
    client = Client(create_app(Settings(db_path=article_db, cors_origins=origins)))
    for origin in ("https://app.example", "https://pr-12.preview.example"):
        response = client.request("OPTIONS", "/graphql", headers={"origin": origin, **PREFLIGHT})
        assert response.status_code == 200, response.text
        assert response.headers["access-control-allow-origin"] == origin
    for origin in ("https://evil.example", "https://a.b.preview.example", "https://x.preview.example.evil"):
        response = client.request("OPTIONS", "/graphql", headers={"origin": origin, **PREFLIGHT})
        assert response.status_code == 400, origin
    narrow = Client(create_app(Settings(db_path=article_db, cors_origins=origins, cors_headers=("content-type",))))
    assert narrow.request("OPTIONS", "/graphql", headers={"origin": origins[0], **PREFLIGHT}).status_code == 400


def test_origin_pattern() -> None:
    assert origin_pattern("https://*.x.example") == r"https://[A-Za-z0-9-]+\.x\.example"

"""Hostile requests within every limit, at the HTTP layer: operation names in metrics and logs, the persisted-query
store, malformed parameters (never a 500), and the probes that read the database (never on the event loop)."""

import json
import logging
import re
import shutil
import sqlite3
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from conftest import Client
from diplo.graphql.limits import Limits
from diplo.server import health
from diplo.server import metrics as metrics_module
from diplo.server.app import Settings, create_app
from diplo.server.health import PROBE_BUSY_SECONDS
from diplo.server.http import NEW_SHARE, GraphQLRequest, PersistedQueries, sha256
from diplo.server.logs import LOGGED_NAME_CHARS, TEXT, JSONFormatter
from diplo.server.metrics import (
    ANONYMOUS,
    CANDIDATES,
    IDLE_SECONDS,
    LABELLED,
    NAME_CHARS,
    OTHER,
    SIGHTINGS,
    Metrics,
    OperationLabels,
    operation_name,
)
from graphql.language.parser import Parser
from hypothesis import given
from hypothesis import strategies as st

QUERY = "{ countries { code } }"
NOT_TEXT = "\ud800"  # a lone surrogate: JSON can escape one, UTF-8 cannot carry it
OPERATIONS = Path(__file__).resolve().parent.parent / "schema" / "operations"


def post(client: Client, body: Any) -> httpx.Response:
    # json.dumps escapes non-ASCII, so lone surrogates travel as `\ud800`, as any JSON client may send them.
    return client.post("/graphql", content=json.dumps(body), headers={"content-type": "application/json"})


def refused(response: httpx.Response, status: int = 400) -> dict[str, Any]:
    """The one error of an answer without a result, checked against the contract: its status, a JSON body, a code,
    and the request id."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    assert re.fullmatch("[0-9a-f]{32}", response.headers["x-request-id"])
    [error] = response.json()["errors"]
    assert error["message"]
    assert error["extensions"]["code"]
    return error  # type: ignore[no-any-return]


def persisted(query: str) -> dict[str, Any]:
    return {"persistedQuery": {"version": 1, "sha256Hash": sha256(query)}}


def code(response: httpx.Response) -> str:
    return str(response.json()["errors"][0]["extensions"]["code"])


@pytest.fixture(scope="module")
def trusted(article_db: Path) -> Client:
    return Client(create_app(Settings(db_path=article_db, trusted_documents=OPERATIONS)))


# --- metrics ---------------------------------------------------------------------------------------------------


class Clock:
    now = 0.0

    def __call__(self) -> float:
        return self.now


def test_an_operation_name_that_is_not_text_is_refused_and_metrics_still_scrape(article_db: Path) -> None:
    client = Client(create_app(Settings(db_path=article_db)))
    error = refused(post(client, {"query": QUERY, "operationName": NOT_TEXT + "x"}))
    assert "`operationName` is not Unicode text" in error["message"]
    metrics = Metrics(article_db)
    for _ in range(SIGHTINGS):
        metrics.observe(NOT_TEXT + "x", "OK", 0.001, 0.0, 10)  # were it to reach the metrics, it is no label
    assert f'diplo_requests_total{{operation="{OTHER}",outcome="OK"}} {SIGHTINGS}.0' in metrics.exposition().decode()
    scrape = client.get("/metrics")
    assert scrape.status_code == 200
    assert f'diplo_requests_total{{operation="{ANONYMOUS}",outcome="BAD_USER_INPUT"}} 1.0' in scrape.text


@given(st.text(max_size=80) | st.from_regex(r"[_A-Za-z][_0-9A-Za-z]{0,70}", fullmatch=True))
def test_a_name_is_a_label_once_used_repeatedly_if_it_is_a_short_graphql_name(name: str) -> None:
    labels = OperationLabels(lambda dropped: None)
    seen = [labels.label(name) for _ in range(SIGHTINGS)]
    valid = re.fullmatch(r"[_A-Za-z][_0-9A-Za-z]*", name) and len(name) <= NAME_CHARS and name not in (OTHER, ANONYMOUS)
    assert seen == [OTHER] * (SIGHTINGS - 1) + [name if valid else OTHER]
    assert labels.label(None) == ANONYMOUS


def test_names_seen_once_never_take_a_label_nor_crowd_out_a_name_in_use(article_db: Path) -> None:
    metrics = Metrics(article_db)
    for i in range(CANDIDATES * 3):  # the candidate table fills three times
        metrics.observe(f"Junk{i}", "OK", 0.001, 0.0, 10)
        if i % (CANDIDATES // 2) == 0:
            metrics.observe("Meetings", "OK", 0.001, 0.0, 10)  # a real operation, now and then among them
    assert len(metrics.labels.candidates) <= CANDIDATES
    text = metrics.exposition().decode()
    assert 'operation="Meetings"' in text
    assert 'operation="Junk' not in text
    later = [f"Later{i}" for i in range(LABELLED - 1)]  # operations deployed after the flood still get labels
    for name in later * SIGHTINGS:
        metrics.observe(name, "OK", 0.001, 0.0, 10)
    text = metrics.exposition().decode()
    assert all(f'operation="{name}"' in text for name in later)


def test_a_label_unused_for_a_while_gives_its_place_to_a_newer_name(article_db: Path) -> None:
    metrics = Metrics(article_db)
    clock = metrics.labels.clock = Clock()
    for i in range(LABELLED):
        for _ in range(SIGHTINGS):
            metrics.observe(f"Old{i}", "OK", 0.001, 0.0, 10)
    metrics.observe("Old1", "TIMEOUT", 3.0, 0.0, 10)
    clock.now = IDLE_SECONDS / 2
    for i in range(1, LABELLED):  # all but Old0 in use
        metrics.observe(f"Old{i}", "OK", 0.001, 0.0, 10)
    for _ in range(SIGHTINGS):
        metrics.observe("New", "OK", 0.001, 0.0, 10)
    assert 'operation="New"' not in metrics.exposition().decode()  # every place taken by a name in use
    clock.now = IDLE_SECONDS
    metrics.observe("New", "OK", 0.001, 0.0, 10)
    text = metrics.exposition().decode()
    assert 'diplo_requests_total{operation="New",outcome="OK"} 1.0' in text
    assert 'operation="Old0"' not in text  # its series leave the exposition with it
    assert 'diplo_requests_total{operation="Old1",outcome="TIMEOUT"} 1.0' in text


def test_the_exposition_stays_small_whatever_the_names(article_db: Path) -> None:
    metrics = Metrics(article_db)
    for i in range(400):  # the issue's: 400 names of 64 KB made it 102.5 MB
        for _ in range(SIGHTINGS):
            metrics.observe(f"{'N' * 60_000}{i}", "OK", 0.001, 0.0, 10)
    for i in range(LABELLED * 3):
        for _ in range(SIGHTINGS):
            metrics.observe(f"Q{i}", "OK", 0.001, 0.0, 10)
    assert len(metrics.exposition()) < 256 * 1024


def test_the_operation_name_of_a_document_is_found_in_linear_time() -> None:
    assert operation_name("# a # b\n, query Found { x }", None) == "Found"
    assert operation_name("{ x }", None) is None
    assert operation_name("{ x }", "Requested") == "Requested"
    started = time.perf_counter()
    assert operation_name("#" + " #" * 16 + "\n{ countries { code } }", None) is None  # 2^16 ways to split
    assert operation_name("# " * 30_000 + "\nquery Q { x }", None) == "Q"
    assert time.perf_counter() - started < 0.5  # it took 3 s with backtracking, and doubled with each `#`


def test_readyz_and_metrics_answer_promptly_while_a_load_holds_the_file_locked(
    article_db: Path, tmp_path: Path
) -> None:
    db = tmp_path / "served.db"
    shutil.copyfile(article_db, db)  # a file the server can write is read with locks
    client = Client(create_app(Settings(db_path=db)))
    assert client.get("/readyz").status_code == 200
    load = sqlite3.connect(db, isolation_level=None)
    load.execute("BEGIN EXCLUSIVE")  # what a load holds while it writes the file in place
    try:
        started = time.perf_counter()
        ready, scrape = client.get("/readyz"), client.get("/metrics")
        took = time.perf_counter() - started
    finally:
        load.execute("ROLLBACK")
        load.close()
    assert ready.status_code == 503
    assert 'diplo_database_info{build_id="unavailable"} 1.0' in scrape.text
    assert took < 2 * PROBE_BUSY_SECONDS + 1.5  # SQLite's default wait was 5 s each
    assert client.get("/readyz").status_code == 200


def test_the_probes_and_the_exposition_run_off_the_event_loop(
    article_db: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    threads: list[threading.Thread] = []

    def spied(function: Any) -> Any:
        def spy(*args: Any) -> Any:
            threads.append(threading.current_thread())
            return function(*args)

        return spy

    monkeypatch.setattr(health, "database_answers", spied(health.database_answers))
    monkeypatch.setattr(metrics_module, "generate_latest", spied(metrics_module.generate_latest))
    client = Client(create_app(Settings(db_path=article_db)))  # its event loop runs in this (the main) thread
    assert client.get("/readyz").status_code == 200
    assert client.get("/metrics").status_code == 200
    assert len(threads) == 2
    assert threading.main_thread() not in threads


# --- logs ------------------------------------------------------------------------------------------------------


def test_an_operation_name_cannot_forge_or_swell_a_log_line(article_db: Path, caplog: pytest.LogCaptureFixture) -> None:
    client = Client(create_app(Settings(db_path=article_db)))
    forged = 'X\n2025-01-01 00:00:00,000 INFO diplo.access: 0 Admin OK 200 1.0 ms 1 bytes "'
    with caplog.at_level(logging.INFO, logger="diplo.access"):
        post(client, {"query": QUERY, "operationName": forged})
        post(client, {"query": QUERY, "operationName": "L" * 60_000})
    first, long = [r for r in caplog.records if r.name == "diplo.access"]
    line = logging.Formatter(TEXT).format(first)
    assert "\n" not in line
    assert f"diplo.access: {first.request_id} {json.dumps(forged)} BAD_USER_INPUT 200 " in line
    assert json.loads(JSONFormatter().format(first))["operation"] == forged
    assert len(logging.Formatter(TEXT).format(long)) < LOGGED_NAME_CHARS + 200
    assert json.loads(JSONFormatter().format(long))["operation"].startswith("L" * LOGGED_NAME_CHARS + "…")


# --- persisted queries -----------------------------------------------------------------------------------------


def test_a_persisted_document_is_kept_only_once_it_passed_the_parser_limits(article_db: Path) -> None:
    client = Client(create_app(Settings(db_path=article_db)))
    limits = Limits()
    for document, refusal in [
        (QUERY + " " * limits.max_document_chars, "QUERY_TOO_COMPLEX"),  # parsed without limits, it was kept
        ("{ countries { " + "code " * limits.max_tokens + "} }", "QUERY_TOO_COMPLEX"),
        ("{ countriez { code } }", "GRAPHQL_VALIDATION_FAILED"),
    ]:
        assert code(client.post("/graphql", json={"query": document, "extensions": persisted(document)})) == refusal
        assert code(client.post("/graphql", json={"extensions": persisted(document)})) == "PERSISTED_QUERY_NOT_FOUND"


def test_a_persisted_document_is_parsed_only_in_the_worker_thread(
    article_db: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = Client(create_app(Settings(db_path=article_db)))
    threads: list[str] = []
    parse_document = Parser.parse_document

    def spy(parser: Parser) -> Any:
        threads.append(threading.current_thread().name)
        return parse_document(parser)

    monkeypatch.setattr(Parser, "parse_document", spy)
    document = "query Registered { countries { code } }"
    registered = client.post("/graphql", json={"query": document, "extensions": persisted(document)})
    assert registered.json()["data"]["countries"]
    assert client.post("/graphql", json={"extensions": persisted(document)}).json() == registered.json()
    assert threads
    assert all(name.startswith("diplo-operation") for name in threads), threads


def kept(query: str) -> GraphQLRequest:
    return GraphQLRequest(query, None, None, persisted(query), sha256(query))


def by_hash(query: str) -> GraphQLRequest:
    return GraphQLRequest(None, None, None, persisted(query), sha256(query))


def test_the_persisted_store_is_bounded_in_bytes_as_well_as_count() -> None:
    store = PersistedQueries(capacity=100, max_bytes=1000)
    for i in range(20):
        store.keep(kept(f"{{ a{i}: countries {{ code }} }}" + " " * 150))  # 175 bytes
    assert len(store) == 5
    assert store.new_bytes + store.used_bytes <= 1000
    too_large = QUERY + " " * int(NEW_SHARE * 1000)
    store.keep(kept(too_large))
    assert len(store) == 5
    assert sha256(too_large) not in store.new


@pytest.mark.parametrize("capacity", [1, 2, 5])
def test_a_new_document_is_kept_when_every_place_is_in_use(capacity: int) -> None:
    store = PersistedQueries(capacity, max_bytes=10_000)
    documents = [f"{{ a{i}: countries {{ code }} }}" for i in range(capacity + 1)]
    for document in documents[:capacity]:
        store.keep(kept(document))
        store.document(by_hash(document))
    store.keep(kept(documents[capacity]))
    assert store.document(by_hash(documents[capacity])) == documents[capacity]
    assert sha256(documents[0]) not in store.used  # the least recently used one made way


@given(st.lists(st.integers(0, 500), max_size=60))
def test_a_document_in_use_survives_any_flood_of_one_off_registrations(sizes: list[int]) -> None:
    capacity, max_bytes = 10, 2000
    store = PersistedQueries(capacity, max_bytes)
    store.keep(kept(QUERY))
    assert store.document(by_hash(QUERY)) == QUERY  # requested by its hash: in use
    for i, size in enumerate(sizes):
        document = f"{{ a{i}: countries {{ code }} }}" + " " * size
        store.keep(kept(document))
        assert len(store) <= capacity
        assert store.new_bytes + store.used_bytes <= max_bytes
        assert store.new_bytes == sum(len(d.encode()) for d in store.new.values())
        assert store.used_bytes == sum(len(d.encode()) for d in store.used.values())
        assert (sha256(document) in store.new) == (len(document) <= NEW_SHARE * max_bytes)
    assert store.document(by_hash(QUERY)) == QUERY


# --- no 500s ---------------------------------------------------------------------------------------------------

DIGEST = sha256(QUERY)
MALFORMED = [None, [], "x", 1, {}, {"version": 1}, {"sha256Hash": DIGEST}, {"version": 2, "sha256Hash": DIGEST},
             {"version": True, "sha256Hash": DIGEST}, {"version": "1", "sha256Hash": DIGEST},
             {"version": 1, "sha256Hash": DIGEST[:63]}, {"version": 1, "sha256Hash": "g" * 64},
             {"version": 1, "sha256Hash": 64}]  # fmt: skip


@pytest.mark.parametrize("persisted_query", MALFORMED, ids=[json.dumps(m) for m in MALFORMED])
def test_malformed_persisted_query_extensions_are_400(client: Client, trusted: Client, persisted_query: Any) -> None:
    for server in (client, trusted):
        for query in ({}, {"query": QUERY}):
            error = refused(post(server, {**query, "extensions": {"persistedQuery": persisted_query}}))
            assert "`extensions.persistedQuery` must be {version: 1, sha256Hash: 64 hex digits}" in error["message"]


@pytest.mark.parametrize(
    ("body", "named"),
    [
        ({"query": QUERY + "#" + NOT_TEXT, "extensions": persisted(QUERY)}, "`query`"),
        ({"query": QUERY + "#" + NOT_TEXT}, "`query`"),
        ({"query": QUERY, "operationName": NOT_TEXT}, "`operationName`"),
        ({"query": QUERY, "variables": {"a": [1, {"b": "x" + NOT_TEXT}]}}, "`variables.a[1].b`"),
        ({"query": QUERY, "variables": {NOT_TEXT: 1}}, "a key in `variables`"),
        ({"query": QUERY, "extensions": {"x": NOT_TEXT}}, "`extensions.x`"),
        ({"query": QUERY, NOT_TEXT: 1}, "a key of the body"),
    ],
    ids=["query with hash", "query", "operationName", "variable", "variable name", "extensions", "body key"],
)
def test_a_string_that_is_not_unicode_text_is_refused_wherever_it_is(
    client: Client, trusted: Client, body: dict[str, Any], named: str
) -> None:
    for server in (client, trusted):
        error = refused(post(server, body))
        assert error["message"].startswith(f"{named} is not Unicode text")


def test_a_string_that_is_not_unicode_text_is_refused_in_a_url_or_deep_in_the_body(client: Client) -> None:
    variables = json.dumps({"a": NOT_TEXT})
    assert (
        "`variables.a`" in refused(client.get("/graphql", params={"query": QUERY, "variables": variables}))["message"]
    )
    deep = '{"query": "{ countries { code } }", "variables": {"a": ' + "[" * 900 + '"\\ud800"' + "]" * 900 + "}}"
    response = client.post("/graphql", content=deep, headers={"content-type": "application/json"})
    assert refused(response)["message"].startswith("`variables.a" + "[0]" * 900 + "` is not Unicode text")
    pair = post(client, {"query": "query ($s: String) { countries { code } }", "variables": {"s": "\U0001f600"}})
    assert pair.status_code == 200  # escaped as a surrogate pair, it is text


def test_if_none_match_star_is_304_only_for_an_answer_without_errors(client: Client) -> None:
    star = {"if-none-match": "*"}
    invalid = client.get("/graphql", params={"query": "{ countriez { code } }"}, headers=star)
    assert invalid.status_code == 200
    assert code(invalid) == "GRAPHQL_VALIDATION_FAILED"
    valid = client.get("/graphql", params={"query": QUERY}, headers=star)
    assert valid.status_code == 304
    assert valid.headers["etag"]


def test_every_refused_request_is_logged_and_counted(article_db: Path, caplog: pytest.LogCaptureFixture) -> None:
    client = Client(create_app(Settings(db_path=article_db)))
    with caplog.at_level(logging.INFO, logger="diplo.access"):
        malformed = post(client, {"extensions": {"persistedQuery": None}})  # was an AssertionError: a bare 500
        wrong_type = client.post("/graphql", content=b"{}", headers={"content-type": "text/plain"})
    refused(malformed)
    refused(wrong_type, 415)
    lines = [(r.request_id, r.status, r.outcome) for r in caplog.records if r.name == "diplo.access"]
    assert lines == [(r.headers["x-request-id"], r.status_code, "BAD_USER_INPUT") for r in (malformed, wrong_type)]
    counted = f'diplo_requests_total{{operation="{ANONYMOUS}",outcome="BAD_USER_INPUT"}} 2.0'
    assert counted in client.get("/metrics").text


def test_a_bug_is_a_500_in_the_error_contract(
    article_db: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    client = Client(create_app(Settings(db_path=article_db)))

    def broken(*_: Any) -> None:
        raise RuntimeError("secret detail")

    monkeypatch.setattr("diplo.server.app.operation_name", broken)
    with caplog.at_level(logging.INFO):
        response = client.post("/graphql", json={"query": QUERY})
    request_id = response.headers["x-request-id"]
    error = refused(response, 500)
    assert error["extensions"] == {"code": "INTERNAL_SERVER_ERROR", "requestId": request_id}
    assert "secret" not in response.text
    assert any(r.exc_info and request_id in r.getMessage() for r in caplog.records if r.levelno == logging.ERROR)
    assert [r.status for r in caplog.records if r.name == "diplo.access"] == [500]
    assert 'outcome="INTERNAL_SERVER_ERROR"} 1.0' in client.get("/metrics").text


TEXT_OR_NOT = st.text(st.characters() | st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF), max_size=12)
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | TEXT_OR_NOT,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(TEXT_OR_NOT, inner, max_size=4),
    max_leaves=12,
)
DOCUMENTS = st.sampled_from(
    [QUERY, "query Q($n: Int) { meetings(first: $n) { totalCount } }", "{ countries { ", "mutation { x }"]
)
PERSISTED = st.fixed_dictionaries({"version": st.just(1) | JSON_VALUES, "sha256Hash": st.just(DIGEST) | JSON_VALUES})
REQUESTS = st.fixed_dictionaries(
    {},
    optional={
        "query": DOCUMENTS | JSON_VALUES,
        "variables": st.dictionaries(TEXT_OR_NOT | st.just("n"), JSON_VALUES, max_size=3) | JSON_VALUES,
        "operationName": st.just("Q") | JSON_VALUES,
        "extensions": st.fixed_dictionaries({}, optional={"persistedQuery": PERSISTED | JSON_VALUES}) | JSON_VALUES,
    },
)


def answered_in_the_contract(response: httpx.Response, trusted: bool) -> None:
    assert response.status_code in (200, 400, 413, 415, *((403,) if trusted else ())), response.text
    body = response.json()
    assert "data" in body or "errors" in body
    if response.status_code != 200 or "data" not in body:
        assert body["errors"][0]["extensions"]["code"]
    assert response.headers["x-request-id"]


@pytest.mark.parametrize("server", ["default", "trusted"])
@given(request=REQUESTS)
def test_any_json_in_any_field_is_answered_in_the_contract(
    client: Client, trusted: Client, server: str, request: dict[str, Any]
) -> None:
    app = client if server == "default" else trusted
    answered_in_the_contract(post(app, request), app is trusted)
    in_url = {name: value if name in ("query", "operationName") and isinstance(value, str) and value.isascii()
              else json.dumps(value) for name, value in request.items()}  # fmt: skip
    answered_in_the_contract(app.get("/graphql", params=in_url), app is trusted)
    scrape = app.get("/metrics")
    assert scrape.status_code == 200
    scrape.content.decode()

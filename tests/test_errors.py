"""The shape of every error kind, in one place: status, code, message, and nothing internal."""

import json
import logging
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import Client
from diplo.graphql import queries
from diplo.graphql.limits import Limits
from diplo.ingest.session import load_seeds
from diplo.server.app import Settings, create_app

LEAKS = ("Traceback", 'File "', "sqlite3", "SELECT ", ".py", "secret")


def error_of(response: Any) -> dict[str, Any]:
    assert not any(leak in response.text for leak in LEAKS), response.text
    [error] = response.json()["errors"]
    assert set(error) <= {"message", "locations", "path", "extensions"}
    assert error["message"]
    return error  # type: ignore[no-any-return]


@pytest.mark.parametrize(
    ("body", "status", "code", "says"),
    [
        ({"query": "{ meetings(first: 101) { totalCount } }"}, 200, "BAD_USER_INPUT", "between 0 and 100"),
        ({"query": '{ meetings(after: "x") { totalCount } }'}, 200, "BAD_USER_INPUT", "cursor"),
        ({"query": '{ node(id: "x") { id } }'}, 200, "BAD_USER_INPUT", "id"),
        (
            {"query": "query ($n: Int) { meetings(first: $n) { totalCount } }", "variables": {"n": "x"}},
            200,
            "BAD_USER_INPUT",
            "$n",
        ),
        ({"query": "{ meetings { "}, 200, "GRAPHQL_PARSE_FAILED", "Syntax Error"),
        ({"query": "{ meetingz { totalCount } }"}, 200, "GRAPHQL_VALIDATION_FAILED", "meetingz"),
        (
            {
                "query": "{ "
                + "a: countries { code } " * 1
                + " ".join(f"b{i}: countries {{ code }}" for i in range(15))
                + " }"
            },
            200,
            "QUERY_TOO_COMPLEX",
            "aliases",
        ),
        ({"query": "mutation { x }"}, 200, "BAD_USER_INPUT", "only queries"),
        ([{"query": "{ countries { code } }"}], 400, "BAD_USER_INPUT", "batched"),
    ],
    ids=["first", "cursor", "id", "variable", "parse", "validation", "complexity", "mutation", "batch"],
)
def test_error_shapes(client: Client, body: Any, status: int, code: str, says: str) -> None:
    response = client.post("/graphql", content=json.dumps(body), headers={"content-type": "application/json"})
    assert response.status_code == status
    error = error_of(response)
    assert error["extensions"] == {"code": code}
    assert says in error["message"]


def test_located_errors_carry_path_and_locations(client: Client) -> None:
    response = client.post("/graphql", json={"query": "{ topics { nodes { meetings(first: -1) { totalCount } } } }"})
    errors = response.json()["errors"]
    assert errors[0]["path"] == ["topics", "nodes", 0, "meetings"]
    assert errors[0]["locations"] == [{"line": 1, "column": 20}]
    assert response.json()["data"] is None


@pytest.fixture
def failing_client(article_db: Path, monkeypatch: pytest.MonkeyPatch) -> Client:
    def broken(*_: object) -> list[str]:
        raise RuntimeError("secret detail: SELECT * FROM /srv/api/x.py")

    monkeypatch.setattr(queries, "roster", broken)
    return Client(create_app(Settings(db_path=article_db, compiled=False)))


def test_unexpected_exceptions_are_masked_and_logged(failing_client: Client, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.ERROR, logger="diplo"):
        response = failing_client.post("/graphql", json={"query": "{ countries { code } }"})
    assert response.status_code == 200
    error = error_of(response)
    request_id = response.headers["x-request-id"]
    assert error["extensions"] == {"code": "INTERNAL_SERVER_ERROR", "requestId": request_id}
    assert "request id" in error["message"]
    assert any(request_id in r.getMessage() and r.exc_info for r in caplog.records)
    assert "secret detail" in caplog.text  # the server log has what the client must not


@pytest.fixture(scope="module")
def big_db() -> Iterator[Path]:
    """Enough statements that counting them takes many SQLite steps."""
    article = Path("seeds/koran-jakarta-2025-03-01-as-russia.yaml").read_text(encoding="utf-8")
    extra = "\n".join(
        f"  - {{key: extra-{i}, text: kata {i} dialog, language: id, kind: paraphrase, "
        f"organization: kremlin, source: koran-jakarta-2025-03-01-as-russia}}"
        for i in range(3000)
    )
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "a.yaml").write_text(article + "\n" + extra + "\n", encoding="utf-8")
        load_seeds(Path(tmp) / "big.db", [Path(tmp) / "a.yaml"])
        yield Path(tmp) / "big.db"


def test_sql_statement_time_limit(big_db: Path) -> None:
    client = Client(create_app(Settings(db_path=big_db, limits=Limits(sql_statement_seconds=1e-9))))
    response = client.post("/graphql", json={"query": '{ statements(filter: {search: "dialog"}) { totalCount } }'})
    error = error_of(response)
    assert error["extensions"] == {"code": "TIMEOUT"}
    assert "too long" in error["message"]
    relaxed = Client(create_app(Settings(db_path=big_db)))
    body = relaxed.post("/graphql", json={"query": '{ statements(filter: {search: "dialog"}) { totalCount } }'}).json()
    assert body["data"]["statements"]["totalCount"] == 3002


def test_operation_deadline(big_db: Path) -> None:
    client = Client(create_app(Settings(db_path=big_db, limits=Limits(operation_seconds=1e-9))))
    # SQL past the deadline is interrupted by the progress handler, other work by the event loop's timeout
    response = client.post("/graphql", json={"query": '{ statements(filter: {search: "dialog"}) { totalCount } }'})
    error = error_of(response)
    assert error["extensions"] == {"code": "TIMEOUT"}


def test_suggestions_only_with_graphiql(article_db: Path) -> None:
    query = {"query": "{ meetingz { totalCount } }"}
    development = Client(create_app(Settings(db_path=article_db, graphiql=True)))
    production = Client(create_app(Settings(db_path=article_db, graphiql=False)))
    assert "Did you mean" in error_of(development.post("/graphql", json=query))["message"]
    message = error_of(production.post("/graphql", json=query))["message"]
    assert "Did you mean" not in message
    assert "meetingz" in message
    introspection = production.post("/graphql", json={"query": "{ __schema { queryType { name } } }"}).json()
    assert introspection["data"]["__schema"]["queryType"]["name"] == "Query"


def test_healthz_says_alive_and_readyz_says_the_database_answers(client: Client, tmp_path: Path) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
    assert client.get("/readyz").json() == {"status": "ok"}
    missing = Client(create_app(Settings(db_path=tmp_path / "missing.db")))
    assert missing.get("/healthz").status_code == 200  # the process is alive: restarting it would not help
    assert missing.get("/readyz").status_code == 503


def test_limits_parse() -> None:
    assert Limits.parse(["max_depth=12", "operation_seconds=0.5"]) == Limits(max_depth=12, operation_seconds=0.5)
    with pytest.raises(ValueError, match="unknown limit"):
        Limits.parse(["max_deep=1"])
    with pytest.raises(ValueError, match="positive"):
        Limits.parse(["max_depth=0"])


def test_a_lone_surrogate_is_refused_before_it_reaches_an_error_message(client: Client) -> None:
    body = json.dumps({"query": "query ($n: Int) { meetings(first: $n) { totalCount } }", "variables": {"n": "\ud800"}})
    response = client.post("/graphql", content=body, headers={"content-type": "application/json"})
    assert response.status_code == 400
    error = error_of(response)
    assert error["extensions"] == {"code": "BAD_USER_INPUT"}
    assert "`variables.n` is not Unicode text" in error["message"]


def test_large_responses_are_gzipped(client: Client) -> None:
    query = '{ statements(first: 100) { nodes { text translation(language: "en") } } }'
    response = client.post("/graphql", json={"query": query}, headers={"accept-encoding": "gzip"})
    assert response.headers["content-encoding"] == "gzip"
    assert len(response.json()["data"]["statements"]["nodes"]) == 8
    small = client.post("/graphql", json={"query": "{ countries { code } }"}, headers={"accept-encoding": "gzip"})
    assert "content-encoding" not in small.headers

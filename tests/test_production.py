"""Serving in production, in-process: the deadline and the size limit hold whatever the operation does, metrics and
access logs say what happened, a damaged database is refused before serving, and the bundled-seeds cache never
removes a database that a server holds."""

import gc
import json
import logging
import sqlite3
import time
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import SEEDS, Client
from diplo.cli import cli
from diplo.graphql.limits import Limits
from diplo.ingest import bundled
from diplo.ingest.session import load_seeds
from diplo.ingest.synth import write_synthetic
from diplo.server.app import Settings, create_app
from diplo.server.logs import JSONFormatter
from diplo.server.metrics import LABELLED, SIGHTINGS, Metrics
from diplo.store import build_id, connect_readonly

HEAVY = """{ topics(first: 100) { nodes { key label meetings(first: 100) { nodes {
    key title date city delegations { country { code name } head { name } } } } } } }"""


@pytest.fixture(scope="module")
def big_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Enough data (600 meetings) for an operation that takes Python most of a second to build."""
    root = tmp_path_factory.mktemp("big")
    write_synthetic(root / "seeds", meetings=600, statements_per_meeting=2, seed=3)
    load_seeds(root / "big.db", [root / "seeds"])
    return root / "big.db"


def code(body: dict[str, object]) -> str:
    errors = body["errors"]
    assert isinstance(errors, list)
    return str(errors[0]["extensions"]["code"])


def test_the_deadline_holds_for_python_work_too(big_db: Path) -> None:
    """On the resolver path (the compiled one builds the answer in SQLite, where the progress handler stops it)."""
    limits = Limits(max_nodes=20_000, max_response_bytes=1 << 30)
    roomy = Client(create_app(Settings(db_path=big_db, limits=limits, compiled=False)))
    roomy.query("{ meetings(first: 1) { nodes { key } } }")  # warm: the first operation pays one-time costs
    started = time.monotonic()
    assert "errors" not in roomy.query(HEAVY)
    whole = time.monotonic() - started  # mostly Python: graphql-core completing some 10,000 objects
    limits = Limits(max_nodes=20_000, max_response_bytes=1 << 30, operation_seconds=whole / 5)
    client = Client(create_app(Settings(db_path=big_db, limits=limits, compiled=False)))
    started = time.monotonic()
    body = client.query(HEAVY)
    assert code(body) == "TIMEOUT", body
    assert time.monotonic() - started < whole / 2  # answered at the deadline, not when Python is done


def test_the_response_size_limit_refuses_before_building_or_stops_the_build(article_db: Path) -> None:
    client = Client(create_app(Settings(db_path=article_db, limits=Limits(max_response_bytes=300))))
    refused = client.query("{ meetings(first: 100) { nodes { key title date city status } } }")
    assert code(refused) == "QUERY_TOO_COMPLEX"
    assert "before any value" in refused["errors"][0]["message"]  # estimated from the document: nothing ran
    stopped = client.query("{ statements(first: 8) { nodes { text } } }")  # small shape, long strings
    assert code(stopped) == "QUERY_TOO_COMPLEX"
    assert "over the limit of 300 bytes" in stopped["errors"][0]["message"]
    assert "errors" not in client.query("{ meetings(first: 1) { nodes { key } } }")


def test_an_operation_stopped_mid_build_leaves_no_work_unawaited(
    article_db: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A non-null string over the budget fails its object while its siblings' relations are still pending: their
    coroutines must run to their end, not be dropped (Python reports those only to `sys.unraisablehook`)."""
    dropped: list[str] = []
    monkeypatch.setattr("sys.unraisablehook", lambda unraisable: dropped.append(str(unraisable.exc_value)))
    client = Client(create_app(Settings(db_path=article_db, compiled=False, limits=Limits(max_response_bytes=900))))
    body = client.query("{ statements(first: 8) { nodes { speaker { name } topics { key } text } } }")
    gc.collect()
    assert code(body) == "QUERY_TOO_COMPLEX", body
    assert dropped == []


def test_metrics_count_requests_by_operation_and_outcome(article_db: Path) -> None:
    client = Client(create_app(Settings(db_path=article_db, limits=Limits(max_depth=3))))
    for _ in range(SIGHTINGS + 1):  # a name is a label from its SIGHTINGS-th request on
        client.query("query Meetings { meetings(first: 1) { nodes { key } } }")
        client.query("# a comment first\nquery Deep { meetings { nodes { delegations { head { name } } } } }")
    text = client.get("/metrics").text
    assert 'diplo_requests_total{operation="Meetings",outcome="OK"} 2.0' in text
    assert 'diplo_requests_total{operation="Deep",outcome="QUERY_TOO_COMPLEX"} 2.0' in text
    assert 'diplo_request_seconds_count{operation="Meetings"} 2.0' in text
    assert f"diplo_sql_seconds_count {2 * (SIGHTINGS + 1)}.0" in text
    assert f"diplo_response_bytes_count {2 * (SIGHTINGS + 1)}.0" in text
    conn = connect_readonly(article_db)
    recorded = build_id(conn)  # what `diplo load` recorded: the same seeds, the same id, on every replica
    conn.close()
    assert recorded is not None
    assert f'diplo_database_info{{build_id="{recorded}"}} 1.0' in text


def test_operation_names_as_labels_are_bounded(article_db: Path) -> None:
    metrics = Metrics(article_db)
    for i in range(LABELLED + 5):
        for _ in range(SIGHTINGS):
            metrics.observe(f"Q{i}", "OK", 0.001, 0.0, 10)
    text = metrics.exposition().decode()
    assert 'operation="Q99"' in text
    assert 'operation="Q100"' not in text
    assert (
        f'diplo_requests_total{{operation="other",outcome="OK"}} {LABELLED * (SIGHTINGS - 1) + 5 * SIGHTINGS}.0' in text
    )


def test_access_log_lines_in_json(article_db: Path, caplog: pytest.LogCaptureFixture) -> None:
    client = Client(create_app(Settings(db_path=article_db)))
    with caplog.at_level(logging.INFO, logger="diplo.access"):
        response = client.post("/graphql", json={"query": "query One { meetings(first: 1) { nodes { key } } }"})
    (record,) = [r for r in caplog.records if r.name == "diplo.access"]
    line = json.loads(JSONFormatter().format(record))
    assert line["request_id"] == response.headers["x-request-id"]
    assert (line["operation"], line["outcome"], line["status"], line["logger"]) == ("One", "OK", 200, "diplo.access")
    assert line["duration_ms"] > 0
    assert line["bytes"] == len(response.content)


@pytest.mark.parametrize("damage", ["DROP INDEX meetings_date_asc", "DROP TABLE statement_topics", "pages"])
def test_serve_refuses_a_damaged_database(article_db: Path, tmp_path: Path, damage: str) -> None:
    db = tmp_path / "d.db"
    db.write_bytes(article_db.read_bytes())
    if damage == "pages":
        data = bytearray(db.read_bytes())
        data[4096 * 3 : 4096 * 3 + 200] = b"\xff" * 200  # a b-tree page's header and cells
        db.write_bytes(bytes(data))
    else:
        with sqlite3.connect(db) as conn:
            conn.execute(damage)
        conn.close()
    result = CliRunner().invoke(cli, ["serve", "--db", str(db)])
    assert result.exit_code == 3, result.output
    assert "the database is damaged; rebuild it from its seeds" in result.output
    assert "Traceback" not in result.output


def test_the_cache_never_removes_a_database_a_server_holds(tmp_path: Path) -> None:
    article = (SEEDS / "koran-jakarta-2025-03-01-as-russia.yaml").read_text(encoding="utf-8")
    first_seeds, second_seeds = tmp_path / "a", tmp_path / "b"
    for seeds, text in ((first_seeds, article), (second_seeds, article + "\n")):
        seeds.mkdir()
        (seeds / "a.yaml").write_text(text, encoding="utf-8")
    cache = tmp_path / "cache"
    cache.mkdir()
    unused = cache / "seeds-0000000000000000.db"  # left by a server that has stopped
    unused.write_bytes(b"")
    first = bundled.bundled_database(first_seeds, cache)  # this process now serves it, as a server would
    assert not unused.exists()
    second = bundled.bundled_database(second_seeds, cache)
    assert second != first
    assert first.exists()  # still held: a server on the first seeds keeps its file
    assert bundled.bundled_database(first_seeds, cache) == first

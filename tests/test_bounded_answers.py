"""An answer larger than `max_response_bytes` is refused while SQLite builds it, not after: the compiled path never
holds much more than the limit, whatever the request asks for, and a refused answer leaves nothing behind."""

import gc
import tempfile
import tracemalloc
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from conftest import SEEDS, Client
from diplo.graphql.limits import Limits
from diplo.ingest.session import load_seeds
from diplo.server import allocated
from diplo.server.app import Settings, create_app
from diplo.server.snapshots import answer_memory, bound_sqlite_memory

LIMITS = Limits(max_response_bytes=1 << 20)  # 1 MiB, so that a small database can ask for many times more
# Each statement's source has 500,000 characters of text: eight aliases of it over eight statements, in one root
# field (one SQL statement), ask for 32 MB.
ALIASES = " ".join(f"a{i}: source {{ text }}" for i in range(8))
ATTACK = f"{{ statements(first: 100) {{ nodes {{ key {ALIASES} }} }} }}"


@pytest.fixture(scope="module")
def long_texts_db() -> Iterator[Path]:
    """The bundled article, its source's text made 500,000 characters long (its quotes still in it)."""
    seed = yaml.safe_load((SEEDS / "koran-jakarta-2025-03-01-as-russia.yaml").read_text(encoding="utf-8"))
    seed["source"]["text"] += "\n" + "kata " * 100_000
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "seeds").mkdir()
        (Path(tmp) / "seeds" / "long.yaml").write_text(yaml.safe_dump(seed, allow_unicode=True), encoding="utf-8")
        load_seeds(Path(tmp) / "long.db", [Path(tmp) / "seeds"])
        yield Path(tmp) / "long.db"


@pytest.fixture(scope="module")
def client(long_texts_db: Path) -> Iterator[Client]:
    """The app, with SQLite's memory bounded as `diplo serve` bounds it (then unbounded again)."""
    if allocated.used() is None:
        pytest.skip("this SQLite keeps no memory statistics")
    bound_sqlite_memory(LIMITS)
    try:
        yield Client(create_app(Settings(db_path=long_texts_db, limits=LIMITS)))
    finally:
        allocated.hard_limit(0)


def _refused(client: Client, query: str) -> None:
    body = client.query(query)
    assert body["data"] is None
    assert [e["extensions"]["code"] for e in body["errors"]] == ["QUERY_TOO_COMPLEX"]


def test_an_answer_over_the_limit_is_stopped_while_sqlite_builds_it(client: Client) -> None:
    client.query("{ statements(first: 1) { nodes { key } } }")  # the connection and its page cache, warmed up
    held = allocated.used() or 0
    allocated.peak(reset=True)
    _refused(client, ATTACK)
    grown = (allocated.peak() or 0) - held
    # Without the bound SQLite builds all 32 MB, and more, before it is refused.
    assert grown < 2 * answer_memory(LIMITS), f"SQLite held {grown:,} bytes more while answering"


def test_a_refused_answer_leaves_nothing_behind(client: Client) -> None:
    _refused(client, ATTACK)
    tracemalloc.start()
    try:
        gc.disable()  # what a reference cycle would keep stays kept: the growth shows it
        before = tracemalloc.get_traced_memory()[0]
        for _ in range(20):
            _refused(client, ATTACK)
        grown = tracemalloc.get_traced_memory()[0] - before
    finally:
        gc.enable()
        tracemalloc.stop()
    assert grown < 2**20, f"{grown:,} bytes kept after 20 refused answers"


def test_an_answer_within_the_limit_is_not_stopped(client: Client) -> None:
    body = client.query("{ statements(first: 1) { nodes { key source { text } } } }")  # 500 KB
    assert "errors" not in body
    assert len(body["data"]["statements"]["nodes"][0]["source"]["text"]) > 500_000


def test_the_resolver_path_stops_at_the_same_limit(long_texts_db: Path) -> None:
    reference = Client(create_app(Settings(db_path=long_texts_db, limits=LIMITS, compiled=False)))
    _refused(reference, ATTACK)

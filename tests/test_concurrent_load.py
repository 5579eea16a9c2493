"""A `diplo load` into the database a server is reading: readers see the old data or the new, never a mix."""

import shutil
import sqlite3
import threading
import time
from contextlib import closing
from pathlib import Path

from conftest import SEEDS, Client
from diplo.ingest.session import load_seeds
from diplo.server.app import Settings, create_app

ARTICLE = SEEDS / "koran-jakarta-2025-03-01-as-russia.yaml"
COUNTS = "{ meetings(first: 0) { totalCount } statements(first: 0) { totalCount } topics(first: 0) { totalCount } }"


def test_readers_never_see_a_partial_load(tmp_path: Path) -> None:
    db = tmp_path / "served.db"
    load_seeds(db, [ARTICLE])
    extra = tmp_path / "later"
    extra.mkdir()
    shutil.copy(ARTICLE, extra / "a.yaml")
    statements = "\n".join(
        f"  - {{key: later-{i}, text: kata {i}, language: id, kind: paraphrase, organization: kremlin, "
        f"topics: [later-topic], source: koran-jakarta-2025-03-01-as-russia}}"
        for i in range(3000)
    )
    article = ARTICLE.read_text(encoding="utf-8").replace(
        "topics:\n", "topics:\n  - key: later-topic\n    label: Later\n", 1
    )
    (extra / "a.yaml").write_text(article + "\n" + statements + "\n", encoding="utf-8")

    client = Client(create_app(Settings(db_path=db)))
    loader = threading.Thread(target=load_seeds, args=(db, [extra]))
    seen: set[tuple[int, int, int]] = set()
    loader.start()
    reads = 0
    while loader.is_alive():
        body = client.query(COUNTS)
        assert "errors" not in body, body
        data = body["data"]
        counts = (data["meetings"]["totalCount"], data["statements"]["totalCount"], data["topics"]["totalCount"])
        seen.add(counts)
        reads += 1
        if counts == (4, 3008, 6):
            # Committed. Readers give the load's fold back into one file a gap, as idle readers do; a fold that
            # finds none for 2 s leaves the file in WAL mode for the next load (`publish.self_contained`).
            break
        # The server runs in this process: between its reads it holds the GIL, so the load's thread mostly runs while
        # a read is open, unlike a load beside a server process. A pause gives it the gaps a server process leaves.
        time.sleep(0.002)
    loader.join()
    assert reads > 0
    assert seen <= {(4, 8, 5), (4, 3008, 6)}  # each read is one snapshot: old counts or new, never a mix
    final = client.query(COUNTS)["data"]
    assert (final["statements"]["totalCount"], final["topics"]["totalCount"]) == (3008, 6)
    # The server's reused connection did not hold the file in WAL mode: the load folded it back into one file.
    assert not (tmp_path / "served.db-wal").exists()
    with closing(sqlite3.connect(db)) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "delete"

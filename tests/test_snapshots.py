"""One reused connection per operation thread, and still: a snapshot per request, a deadline per request, and a
file published over the served path read from the next request on."""

import os
import shutil
import sqlite3
import time
from pathlib import Path

import pytest
from diplo.graphql.limits import Limits
from diplo.server.snapshots import Snapshots
from diplo.server.worker import Budget

TITLE = "SELECT title FROM meetings ORDER BY key LIMIT 1"
# Enough SQLite steps for the progress handler to be called many times, and little time.
STEPS = "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 200000) SELECT count(*) FROM n"


def budget(seconds: float = 10.0) -> Budget:
    return Budget.start(seconds, 1 << 20)


@pytest.fixture
def served(article_db: Path, tmp_path: Path) -> Path:
    shutil.copy(article_db, tmp_path / "served.db")
    return tmp_path / "served.db"


def test_each_request_reads_one_snapshot_on_a_reused_connection(served: Path) -> None:
    snapshots = Snapshots(served, Limits())
    writer = sqlite3.connect(served, timeout=0)
    with snapshots.snapshot(budget()) as first:
        before = first.execute(TITLE).fetchone()[0]
        writer.execute("UPDATE meetings SET title = 'Renamed'")
        with pytest.raises(sqlite3.OperationalError, match="locked"):
            writer.commit()  # the request's snapshot holds until it ends
        assert first.execute(TITLE).fetchone()[0] == before
    assert not first.in_transaction
    writer.commit()
    writer.close()
    with snapshots.snapshot(budget()) as second:
        assert second.execute(TITLE).fetchone()[0] == "Renamed"
    with snapshots.snapshot(budget()) as third:
        assert third.execute(TITLE).fetchone()[0] == "Renamed"
    assert third is second  # the file did not change: the same connection


def test_a_file_renamed_over_the_served_path_is_read_on_the_next_request(served: Path, tmp_path: Path) -> None:
    snapshots = Snapshots(served, Limits())
    published = tmp_path / "next.db"
    shutil.copy(served, published)
    with sqlite3.connect(published) as conn:
        conn.execute("UPDATE meetings SET title = 'Published'")
    conn.close()
    with snapshots.snapshot(budget()) as old:
        assert old.execute(TITLE).fetchone()[0] != "Published"
    os.replace(published, served)  # the old connection still reads the old file: only `os.stat` tells
    with snapshots.snapshot(budget()) as new:
        assert new.execute(TITLE).fetchone()[0] == "Published"
    served.unlink()
    with pytest.raises(sqlite3.OperationalError, match="unable to open"), snapshots.snapshot(budget()):
        pass  # a missing file fails as it did with a connection per request


def test_the_deadline_is_each_requests_own(served: Path) -> None:
    snapshots = Snapshots(served, Limits())
    with snapshots.snapshot(budget(0.05)) as conn:
        conn.execute(TITLE)
    time.sleep(0.1)  # past the first request's deadline: the next one has its own
    with snapshots.snapshot(budget()) as again:
        assert again.execute(STEPS).fetchone()[0] == 200000
    assert again is conn
    with snapshots.snapshot(budget(0.0)) as late, pytest.raises(sqlite3.OperationalError, match="interrupted"):
        late.execute(STEPS).fetchone()
    with snapshots.snapshot(budget()) as after:
        assert after.execute(STEPS).fetchone()[0] == 200000
        spent = after.sql_seconds
    with snapshots.snapshot(budget()) as counted:
        assert counted.sql_seconds < spent / 10  # each request's SQL time is counted afresh (here: its BEGIN)

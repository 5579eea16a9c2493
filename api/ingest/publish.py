"""Publishing a database file: whole on its own (no `-wal` beside it) once a load ends, and a new file built
aside and linked into place only when complete, so that no reader or later load ever sees half of one."""

import os
import shutil
import signal
import sqlite3
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from .. import store

T = TypeVar("T")


def journal_mode(conn: sqlite3.Connection, mode: str, wait: float) -> bool:
    """Switch the file to `mode` ("wal" or "delete"; the WAL folded into the file first), retrying for `wait`
    seconds: SQLite answers "locked" at once, without waiting, while another connection holds the file (a racing
    load, a reader of a live file). False if it could not."""
    deadline = time.monotonic() + wait
    while True:
        try:
            if mode == "delete":
                conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            if conn.execute(f"PRAGMA journal_mode = {mode}").fetchone()[0] == mode:
                return True
        except sqlite3.OperationalError as exc:
            if not getattr(exc, "sqlite_errorname", "").startswith(("SQLITE_BUSY", "SQLITE_LOCKED")):
                raise
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)


def whole_on_its_own(path: Path) -> bool:
    """Whether the file at `path` is in rollback-journal mode, as every load leaves it (`self_contained`), by its
    header's file format versions (offsets 18 and 19: 1, legacy; 2, WAL): a file left in WAL mode may have a
    `-wal` beside it that only a connection able to write folds back."""
    try:
        with path.open("rb") as file:
            header = file.read(20)
    except OSError:
        return False
    return header[:16] == b"SQLite format 3\0" and header[18:20] == b"\x01\x01"


def self_contained(conn: sqlite3.Connection, wait: float) -> None:
    """Fold the WAL into the file and return to a rollback journal, so that the file is whole on its own, with no
    `-wal` or `-shm` beside it: it can be copied, renamed over a served file, and read from a read-only place.
    Past `wait` it stays in WAL mode, complete and correct, and the next load to find the file to itself switches
    it. A file built aside is always alone."""
    # Ctrl-C and SIGTERM wait until this is done (a signal is taken right after, and interrupts the command).
    blocked = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT, signal.SIGTERM})
    try:
        journal_mode(conn, "delete", wait)
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, blocked)


TEMPORARY = ".{name}.diplo-{pid}-"  # a new database being built beside its target, by process `pid`


def _clean_up_after_killed_loads(db_path: Path) -> None:
    """Remove what a load killed while building `db_path` left behind: its temporary folder, by its name."""
    for leftover in db_path.parent.glob(TEMPORARY.format(name=db_path.name, pid="*") + "*"):
        pid = leftover.name.removeprefix(f".{db_path.name}.diplo-").split("-")[0]
        if pid.isdigit() and not _alive(int(pid)):
            shutil.rmtree(leftover, ignore_errors=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def build_aside(db_path: Path, build: Callable[[Path], T], keep: bool, onto_published: Callable[[], T]) -> T:
    """Build a new `db_path` beside it (`build` writes the file it is given) and, when `keep`, publish it with a
    link that never replaces a file another load published meanwhile (`onto_published` then loads onto that one).
    A failed, interrupted or killed build leaves no database; a killed one leaves a temporary folder named after
    it, which the next build of that path removes."""
    if not db_path.parent.is_dir():
        raise store.StoreError(f"cannot open {db_path}: the directory {db_path.parent} does not exist")
    _clean_up_after_killed_loads(db_path)
    try:
        building_dir = tempfile.mkdtemp(dir=db_path.parent, prefix=TEMPORARY.format(name=db_path.name, pid=os.getpid()))
    except OSError as exc:
        raise store.StoreError(f"{store.problem(exc)}; nothing was written") from None
    try:
        building = Path(building_dir) / "building.db"
        result = build(building)
        if not keep:
            return result
        try:
            os.link(building, db_path)  # unlike a rename, never replaces a file that appeared meanwhile
        except FileExistsError:
            return onto_published()
        except OSError as exc:
            raise store.StoreError(f"{store.problem(exc)}; nothing was written") from None
        sync_directory(db_path.parent)
    finally:
        shutil.rmtree(building_dir, ignore_errors=True)
    return result


def sync_directory(directory: Path) -> None:
    """Make a new directory entry durable: a published database must survive a power cut."""
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)

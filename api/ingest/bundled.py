"""The bundled seeds built into a cached database for `diplo serve` without `--db`: rebuilt only when the seeds,
the store's schema or the loader change, and never removed while another server process holds it."""

import fcntl
import hashlib
import os
import tempfile
from importlib.resources import files
from pathlib import Path

from .. import store
from .seeds import seed_paths
from .session import load_seeds

BUNDLED_SEEDS = Path(str(files("diplo.bundled_seeds")))  # seeds/, installed or in a checkout (not zip-imported)
_held: list[int] = []


def cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "diplo"


def seeds_fingerprint(seeds: Path) -> str:
    """Changes whenever a seed file, the store's schema or the loader's package version changes."""
    digest = hashlib.sha256(f"schema {store.SCHEMA_VERSION} {store.DDL}".encode())  # a new table: rebuilt
    for path in seed_paths([seeds]):
        digest.update(str(path.relative_to(seeds)).encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()[:16]


def bundled_database(seeds: Path = BUNDLED_SEEDS, directory: Path | None = None) -> Path:
    """The seeds built into a database, rebuilt only when they change (built aside, then renamed into place).

    The database returned stays under a shared lock (flock) for as long as this process runs; other cached
    databases are removed only when no process holds theirs, so a server never loses the file it serves to
    another one starting on other seeds.
    """
    directory = directory or cache_dir()
    directory.mkdir(parents=True, exist_ok=True)
    target = directory / f"seeds-{seeds_fingerprint(seeds)}.db"
    while True:
        if not target.exists():
            with tempfile.TemporaryDirectory(dir=directory) as tmp:
                built = Path(tmp) / "building.db"
                load_seeds(built, [seeds])
                built.replace(target)
        if _hold(target):
            break  # else another process removed it between the build and the lock: build it again
    for stale in directory.glob("seeds-*.db"):
        if stale != target:
            _remove_if_unused(stale)
    return target


def _hold(path: Path) -> bool:
    """Take a shared lock on `path` for the life of this process; False if it is gone or was replaced."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except FileNotFoundError:
        return False
    fcntl.flock(fd, fcntl.LOCK_SH)
    try:
        same = os.fstat(fd).st_ino == os.stat(path).st_ino
    except FileNotFoundError:
        same = False
    if same:
        _held.append(fd)
    else:
        os.close(fd)
    return same


def _remove_if_unused(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except FileNotFoundError:
        return
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)  # fails while any server holds it
        path.unlink(missing_ok=True)
    except BlockingIOError:
        pass
    finally:
        os.close(fd)

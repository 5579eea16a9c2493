"""Serving: the bundled seeds built into a cached database, and uvicorn running the app on one or N workers."""

import fcntl
import hashlib
import json
import os
import signal
import sys
import tempfile
from dataclasses import asdict
from importlib.resources import files
from pathlib import Path

import uvicorn
from starlette.applications import Starlette

from .. import store
from ..graphql.limits import Limits
from ..ingest.seeds import seed_paths
from ..ingest.session import load_seeds
from . import logs
from .app import Settings, create_app
from .connections import BoundedH11Protocol

BUNDLED_SEEDS = Path(str(files("diplo.bundled_seeds")))  # seeds/, installed or in a checkout (not zip-imported)
_ENV = "DIPLO_SETTINGS"  # how `--workers N` hands the settings to each worker process
_held: list[int] = []
# How long a thread holds the GIL while another waits for it (Python's default is 5 ms): the event loop waits that
# long behind operation threads at each step of a request, so it is kept short for `/healthz` to answer promptly.
SWITCH_SECONDS = 0.0005


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


def app_from_env() -> Starlette:
    """The app factory each uvicorn worker calls, with the settings `serve` put in the environment."""
    settings = settings_from_json(os.environ[_ENV])
    _configure(settings)
    return create_app(settings)


def settings_to_json(settings: Settings) -> str:
    return json.dumps(asdict(settings), default=str)


def settings_from_json(text: str) -> Settings:
    raw = json.loads(text)
    trusted = raw["trusted_documents"]
    return Settings(
        db_path=Path(raw["db_path"]),
        graphiql=raw["graphiql"],
        cors_origins=tuple(raw["cors_origins"]),
        cors_headers=tuple(raw["cors_headers"]),
        cache_control=raw["cache_control"],
        trusted_documents=Path(trusted) if trusted is not None else None,
        limits=Limits(**raw["limits"]),
        log_format=raw["log_format"],
    )


def _configure(settings: Settings) -> None:
    """What every serving process sets before its first connection: logs, the GIL's switch interval, the
    slow-client bound."""
    logs.configure(settings.log_format)
    sys.setswitchinterval(SWITCH_SECONDS)
    BoundedH11Protocol.read_seconds = settings.limits.request_read_seconds


def serve(settings: Settings, host: str, port: int, workers: int) -> None:
    _configure(settings)
    # uvicorn shuts down gracefully on SIGTERM, then raises the signal again for the handler it found: with this
    # one, the process then ends normally (status 0), as a service manager expects of a clean stop.
    signal.signal(signal.SIGTERM, lambda _signum, _frame: None)
    # h11 refuses a request head over 16 KiB with a bare 400: let GET URLs up to the limit reach the app's 414.
    head = settings.limits.max_body_bytes + 16 * 1024
    if workers == 1:
        uvicorn.run(create_app(settings), host=host, port=port, http=BoundedH11Protocol, log_config=None,
                    access_log=False, h11_max_incomplete_event_size=head)  # fmt: skip
        return
    os.environ[_ENV] = settings_to_json(settings)
    uvicorn.run("diplo.server.serve:app_from_env", factory=True, workers=workers, host=host, port=port,
                http=BoundedH11Protocol, log_config=None, access_log=False,
                h11_max_incomplete_event_size=head)  # fmt: skip

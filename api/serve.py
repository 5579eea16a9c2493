"""Serving: the bundled seeds built into a cached database, and uvicorn running the app on one or N workers."""

import hashlib
import json
import os
import tempfile
from dataclasses import asdict
from pathlib import Path

import uvicorn
from starlette.applications import Starlette

from . import store
from .app import Settings, create_app
from .limits import Limits
from .loader import load_seeds
from .seeds import seed_paths

BUNDLED_SEEDS = Path(__file__).resolve().parent.parent / "seeds"
_ENV = "DIPLO_SETTINGS"  # how `--workers N` hands the settings to each worker process


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
    """The seeds built into a database, rebuilt only when they change (built aside, then renamed into place)."""
    directory = directory or cache_dir()
    directory.mkdir(parents=True, exist_ok=True)
    target = directory / f"seeds-{seeds_fingerprint(seeds)}.db"
    if not target.exists():
        with tempfile.TemporaryDirectory(dir=directory) as tmp:
            built = Path(tmp) / "building.db"
            load_seeds(built, [seeds])
            built.replace(target)
        for stale in directory.glob("seeds-*.db"):
            if stale != target:
                stale.unlink(missing_ok=True)
    return target


def app_from_env() -> Starlette:
    """The app factory each uvicorn worker calls, with the settings `serve` put in the environment."""
    return create_app(settings_from_json(os.environ[_ENV]))


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
    )


def serve(settings: Settings, host: str, port: int, workers: int) -> None:
    # h11 refuses a request head over 16 KiB with a bare 400: let GET URLs up to the limit reach the app's 414.
    head = settings.limits.max_body_bytes + 16 * 1024
    if workers == 1:
        uvicorn.run(create_app(settings), host=host, port=port, log_level="info", h11_max_incomplete_event_size=head)
        return
    os.environ[_ENV] = settings_to_json(settings)
    uvicorn.run(
        "diplo.serve:app_from_env", factory=True, host=host, port=port, workers=workers, log_level="info",
        h11_max_incomplete_event_size=head,
    )  # fmt: skip

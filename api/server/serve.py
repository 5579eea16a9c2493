"""Serving: uvicorn running the app on one or N workers."""

import json
import os
import signal
import sys
from dataclasses import asdict
from pathlib import Path

import uvicorn
from starlette.applications import Starlette

from ..graphql.limits import Limits
from . import logs
from .app import Settings, create_app
from .connections import BoundedH11Protocol
from .snapshots import bound_sqlite_memory

_ENV = "DIPLO_SETTINGS"  # how `--workers N` hands the settings to each worker process
# How long a thread holds the GIL while another waits for it (Python's default is 5 ms): the event loop waits that
# long behind operation threads at each step of a request, so it is kept short for `/healthz` to answer promptly.
SWITCH_SECONDS = 0.0005


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
    """What every serving process sets before its first connection: logs, SQLite's memory bound, the GIL's switch
    interval, the slow-client bound."""
    logs.configure(settings.log_format)
    bound_sqlite_memory(settings.limits)
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

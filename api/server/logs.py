"""Logs: one access line per GraphQL request (request id, operation, duration, outcome), as text or JSON lines."""

import json
import logging
import sys
import time
from typing import Any

from .metrics import NAME

ACCESS = logging.getLogger("diplo.access")
FORMATS = ("text", "json")
FIELDS = ("request_id", "operation", "outcome", "status", "duration_ms", "bytes")  # an access line's fields
TEXT = "%(asctime)s %(levelname)s %(name)s: %(message)s"  # a line of the text format
LOGGED_NAME_CHARS = 200  # where a logged operation name is cut: clients choose names, as long as a request body


class JSONFormatter(logging.Formatter):
    """One JSON object a line: time, level, logger, message, and an access line's fields."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created)) + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        line.update({name: getattr(record, name) for name in FIELDS if hasattr(record, name)})
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False)


def configure(log_format: str) -> None:
    """Send every log line (Diplo's and uvicorn's) to stderr in `log_format`; uvicorn's own access log is off."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JSONFormatter() if log_format == "json" else logging.Formatter(TEXT))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.INFO)
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logging.getLogger(name).handlers[:] = []
        logging.getLogger(name).propagate = True


def shown(operation: str) -> str:
    """An operation name as a text line shows it: as sent when it is a GraphQL name, else as a JSON string, so that
    a newline, a space or a control character in it can neither forge a line nor shift a field."""
    return operation if NAME.fullmatch(operation) else json.dumps(operation)


def access(request_id: str, operation: str | None, outcome: str, status: int, seconds: float, size: int) -> None:
    if operation is not None and len(operation) > LOGGED_NAME_CHARS:
        operation = f"{operation[:LOGGED_NAME_CHARS]}… ({len(operation)} characters)"
    fields = {"request_id": request_id, "operation": operation, "outcome": outcome, "status": status,
              "duration_ms": round(seconds * 1000, 2), "bytes": size}  # fmt: skip
    line = "%s %s %s %d %.1f ms %d bytes"
    name = "-" if operation is None else shown(operation)
    ACCESS.info(line, request_id, name, outcome, status, seconds * 1000, size, extra=fields)

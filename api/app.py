"""The ASGI app: GraphQL over HTTP (POST and GET, queries only), GraphiQL, a health check.

Requests are parsed here, strictly and with limits, rather than by a framework view, so that every malformed
body is a 4xx with a clear message and nothing reaches the schema that it would answer with a 500.
"""

import asyncio
import json
import logging
import sqlite3
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.middleware.gzip import GZipMiddleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route
from strawberry.http.ides import get_graphql_ide_html
from strawberry.schema.exceptions import CannotGetOperationTypeError, InvalidOperationTypeError
from strawberry.types.graphql import OperationType

from .errors import BAD_USER_INPUT, INTERNAL_SERVER_ERROR, TIMEOUT, format_error
from .limits import Limits, limits_extension
from .loaders import Context
from .plans import Plans
from .plans import execute as execute_compiled
from .schema import build_schema
from .store import connect_readonly

logger = logging.getLogger("diplo")


@dataclass(frozen=True)
class Settings:
    db_path: Path
    graphiql: bool = True
    cors_origins: tuple[str, ...] = ()
    limits: Limits = field(default_factory=Limits)
    compiled: bool = True  # False: every request through the resolver path, the reference executor


class RequestError(Exception):
    """A request the GraphQL endpoint cannot take, answered with `status` before any GraphQL work."""

    def __init__(self, status: int, message: str) -> None:
        self.status = status
        self.message = message


def _error_response(status: int, message: str, request_id: str) -> JSONResponse:
    body = {"errors": [{"message": message, "extensions": {"code": BAD_USER_INPUT}}]}
    return JSONResponse(body, status_code=status, headers={"X-Request-Id": request_id})


async def read_body(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None and (not declared.isdigit() or int(declared) > limit):
        raise RequestError(413, f"request body over the limit of {limit} bytes")
    body = bytearray()
    async for chunk in request.stream():
        body.extend(chunk)
        if len(body) > limit:
            raise RequestError(413, f"request body over the limit of {limit} bytes")
    return bytes(body)


def parse_params(raw: Any) -> tuple[str, dict[str, Any] | None, str | None]:
    """`query`, `variables` and `operationName` of a GraphQL request, each checked for its type."""
    if isinstance(raw, list):
        raise RequestError(400, "batched requests are not supported; send one operation per request")
    if not isinstance(raw, dict):
        raise RequestError(400, "the body must be a JSON object with a `query`")
    query, variables, operation = raw.get("query"), raw.get("variables"), raw.get("operationName")
    if not isinstance(query, str) or not query.strip():
        raise RequestError(400, "`query` must be a non-empty string")
    if variables is not None and not isinstance(variables, dict):
        raise RequestError(400, "`variables` must be a JSON object")
    if operation is not None and not isinstance(operation, str):
        raise RequestError(400, "`operationName` must be a string")
    return query, variables, operation


def decode_json(data: bytes | str, what: str) -> Any:
    try:
        text = data.decode("utf-8") if isinstance(data, bytes) else data
        return json.loads(text)
    except UnicodeDecodeError:
        raise RequestError(400, f"{what} is not valid UTF-8") from None
    except RecursionError:
        raise RequestError(400, f"{what} is nested too deeply") from None
    except ValueError:
        raise RequestError(400, f"{what} is not valid JSON") from None


async def request_params(request: Request, limits: Limits) -> tuple[str, dict[str, Any] | None, str | None]:
    if request.method == "GET":
        params = request.query_params
        variables = params.get("variables")
        raw: dict[str, Any] = {
            "query": params.get("query"),
            "variables": decode_json(variables, "`variables`") if variables else None,
            "operationName": params.get("operationName"),
        }
        return parse_params(raw)
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type != "application/json":
        raise RequestError(415, "POST requests must be `Content-Type: application/json`")
    return parse_params(decode_json(await read_body(request, limits.max_body_bytes), "the body"))


def open_snapshot(db_path: Path, limits: Limits) -> sqlite3.Connection:
    """A read-only connection in a read transaction, its statements stopped past their time limits."""
    conn = connect_readonly(db_path)
    conn.row_factory = sqlite3.Row
    operation_deadline = time.monotonic() + limits.operation_seconds
    statement_started = [time.monotonic()]

    def over_time() -> int:
        now = time.monotonic()
        return int(now > operation_deadline or now - statement_started[0] > limits.sql_statement_seconds)

    conn.set_trace_callback(lambda _sql: statement_started.__setitem__(0, time.monotonic()))
    conn.set_progress_handler(over_time, 10_000)
    conn.execute("BEGIN")
    return conn


def _bad_input(message: str) -> dict[str, Any]:
    return {"data": None, "errors": [{"message": message, "extensions": {"code": BAD_USER_INPUT}}]}


class GraphQLEndpoint:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.schema = build_schema([limits_extension(settings.limits)])
        self.plans = Plans(self.schema, settings.limits) if settings.compiled else None
        self.graphiql_html = get_graphql_ide_html("graphiql") if settings.graphiql else None

    async def handle(self, request: Request) -> Response:
        request_id = uuid.uuid4().hex
        if (
            request.method == "GET"
            and self.graphiql_html is not None
            and "query" not in request.query_params
            and "text/html" in request.headers.get("accept", "")
        ):
            return HTMLResponse(self.graphiql_html)
        try:
            query, variables, operation = await request_params(request, self.settings.limits)
        except RequestError as error:
            return _error_response(error.status, error.message, request_id)
        body = await self.execute(query, variables, operation, request_id)
        try:
            content = orjson.dumps(body)  # several times json.dumps on a large response
        except TypeError:  # a lone surrogate echoed from the request in an error message: orjson refuses it
            content = json.dumps(body).encode()
        return Response(content, media_type="application/json", headers={"X-Request-Id": request_id})

    async def execute(
        self, query: str, variables: dict[str, Any] | None, operation: str | None, request_id: str
    ) -> dict[str, Any]:
        limits = self.settings.limits
        conn = open_snapshot(self.settings.db_path, limits)
        try:
            if self.plans is not None:
                compiled = execute_compiled(self.plans, conn, query, variables, operation)
                if compiled is not None:
                    return compiled
            result = await asyncio.wait_for(
                self.schema.execute(
                    query,
                    variable_values=variables,
                    context_value=Context(conn, operation),
                    operation_name=operation,
                    allowed_operation_types=(OperationType.QUERY,),
                ),
                timeout=limits.operation_seconds,
            )
        except TimeoutError:
            message = f"the operation took longer than {limits.operation_seconds:g} s; ask for less"
            return {"data": None, "errors": [{"message": message, "extensions": {"code": TIMEOUT}}]}
        except InvalidOperationTypeError:  # strawberry raises, rather than returns, these two
            return _bad_input("only queries are served: this API has no mutations or subscriptions")
        except CannotGetOperationTypeError:
            return _bad_input("`operationName` names no operation of the document (or several need one named)")
        finally:
            conn.close()
        body: dict[str, Any] = {"data": result.data}
        if result.errors:
            body["errors"] = [format_error(e, request_id, self.settings.graphiql) for e in result.errors]
            for error, shown in zip(result.errors, body["errors"], strict=True):
                if shown["extensions"]["code"] == INTERNAL_SERVER_ERROR:
                    logger.error("request %s: %s", request_id, error.message, exc_info=error.original_error)
        return body


async def healthz(request: Request) -> Response:
    settings: Settings = request.app.state.settings
    try:
        conn = connect_readonly(settings.db_path)
        try:
            conn.execute("SELECT count(*) FROM meetings").fetchone()
        finally:
            conn.close()
    except sqlite3.Error:
        return JSONResponse({"status": "unavailable"}, status_code=503)
    return JSONResponse({"status": "ok"})


def create_app(settings: Settings) -> Starlette:
    endpoint = GraphQLEndpoint(settings)
    middleware = [Middleware(GZipMiddleware, minimum_size=1024)]
    if settings.cors_origins:
        middleware.insert(
            0,
            Middleware(
                CORSMiddleware,
                allow_origins=list(settings.cors_origins),
                allow_methods=["GET", "POST"],
                allow_headers=["Content-Type"],
                expose_headers=["X-Request-Id"],
                max_age=600,
            ),
        )
    app = Starlette(
        routes=[
            Route("/graphql", endpoint.handle, methods=["GET", "POST"]),
            Route("/healthz", healthz, methods=["GET"]),
        ],
        middleware=middleware,
    )
    app.state.settings = settings
    return app

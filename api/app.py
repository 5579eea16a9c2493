"""The ASGI app: GraphQL over HTTP (POST and GET, queries only), GraphiQL, health checks and metrics.

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

from . import logs
from .errors import BAD_USER_INPUT, INTERNAL_SERVER_ERROR, format_error
from .health import healthz, readyz
from .limits import Limits, limits_extension
from .loaders import Context
from .metrics import Metrics, TimedConnection, operation_name
from .schema import build_schema
from .store import connect_readonly
from .worker import Budget, Budgeted, Stopped, Worker, too_large

logger = logging.getLogger("diplo")


@dataclass(frozen=True)
class Settings:
    db_path: Path
    graphiql: bool = True
    cors_origins: tuple[str, ...] = ()
    limits: Limits = field(default_factory=Limits)
    log_format: str = "text"


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


def open_snapshot(db_path: Path, limits: Limits, budget: Budget | None = None) -> TimedConnection:
    """A read-only connection in a read transaction, its statements stopped past their time limits (the operation's
    from `budget`, when it has one already)."""
    budget = budget or Budget.start(limits.operation_seconds, limits.max_response_bytes)
    conn = connect_readonly(db_path, factory=TimedConnection)
    conn.row_factory = sqlite3.Row
    statement_started = [time.monotonic()]

    def over_time() -> int:
        now = time.monotonic()
        return int(now > budget.deadline or now - statement_started[0] > limits.sql_statement_seconds)

    conn.set_trace_callback(lambda _sql: statement_started.__setitem__(0, time.monotonic()))
    conn.set_progress_handler(over_time, 10_000)
    conn.execute("BEGIN")
    return conn


@dataclass
class OperationContext(Context):
    """What every resolver of one operation shares, and the budget the `Budgeted` extension charges."""

    budget: Budget | None = None


@dataclass(frozen=True)
class Answer:
    """A response body as sent, with what the metrics and the access log say about it."""

    content: bytes
    outcome: str  # "OK", or the first error's code
    sql_seconds: float = 0.0


def serialize(body: dict[str, Any]) -> bytes:
    try:
        return orjson.dumps(body)  # several times json.dumps on a large response
    except TypeError:  # a lone surrogate echoed from the request in an error message: orjson refuses it
        return json.dumps(body).encode()


def outcome(body: dict[str, Any]) -> str:
    errors = body.get("errors")
    return str(errors[0]["extensions"]["code"]) if errors else "OK"


def _bad_input(message: str) -> dict[str, Any]:
    return {"data": None, "errors": [{"message": message, "extensions": {"code": BAD_USER_INPUT}}]}


class GraphQLEndpoint:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.schema = build_schema([limits_extension(settings.limits), Budgeted])
        self.graphiql_html = get_graphql_ide_html("graphiql") if settings.graphiql else None
        self.worker = Worker()
        self.metrics = Metrics(settings.db_path)

    async def handle(self, request: Request) -> Response:
        started = time.perf_counter()
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
        limits = self.settings.limits
        budget = Budget.start(limits.operation_seconds, limits.max_response_bytes)
        try:  # the one place an operation runs: in the worker's threads, never on the event loop
            answer = await self.worker.run(lambda: self.answer(query, variables, operation, request_id, budget), budget)
        except Stopped as stopped:
            answer = Answer(serialize(stopped.body()), stopped.code)
        seconds, name = time.perf_counter() - started, operation_name(query, operation)
        self.metrics.observe(name, answer.outcome, seconds, answer.sql_seconds, len(answer.content))
        logs.access(request_id, name, answer.outcome, 200, seconds, len(answer.content))
        return Response(answer.content, media_type="application/json", headers={"X-Request-Id": request_id})

    def answer(
        self, query: str, variables: dict[str, Any] | None, operation: str | None, request_id: str, budget: Budget
    ) -> Answer:
        """Execute and serialize an operation (in a worker thread); `Stopped` past its deadline or size limit."""
        conn = open_snapshot(self.settings.db_path, self.settings.limits, budget)
        try:
            body = asyncio.run(self.execute(conn, query, variables, operation, request_id, budget))
        finally:
            conn.close()
        content = serialize(body)
        if len(content) > budget.max_bytes:
            raise too_large(budget.max_bytes)
        return Answer(content, outcome(body), conn.sql_seconds)

    async def execute(
        self,
        conn: sqlite3.Connection,
        query: str,
        variables: dict[str, Any] | None,
        operation: str | None,
        request_id: str,
        budget: Budget,
    ) -> dict[str, Any]:
        context = OperationContext(conn, operation, budget)
        try:
            result = await self.schema.execute(
                query,
                variable_values=variables,
                context_value=context,
                operation_name=operation,
                allowed_operation_types=(OperationType.QUERY,),
            )
        except InvalidOperationTypeError:  # strawberry raises, rather than returns, these two
            return _bad_input("only queries are served: this API has no mutations or subscriptions")
        except CannotGetOperationTypeError:
            return _bad_input("`operationName` names no operation of the document (or several need one named)")
        body: dict[str, Any] = {"data": result.data}
        if result.errors:
            body["errors"] = [format_error(e, request_id, self.settings.graphiql) for e in result.errors]
            for error, shown in zip(result.errors, body["errors"], strict=True):
                if shown["extensions"]["code"] == INTERNAL_SERVER_ERROR:
                    logger.error("request %s: %s", request_id, error.message, exc_info=error.original_error)
        return body

    async def metrics_endpoint(self, request: Request) -> Response:
        return Response(self.metrics.exposition(), media_type="text/plain; version=0.0.4; charset=utf-8")


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
            Route("/readyz", readyz, methods=["GET"]),
            Route("/metrics", endpoint.metrics_endpoint, methods=["GET"]),
        ],
        middleware=middleware,
    )
    app.state.settings = settings
    return app

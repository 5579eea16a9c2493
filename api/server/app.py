"""The ASGI app: GraphQL over HTTP (POST, GET and HEAD, queries only; the protocol is `api/server/http.py`), GraphiQL,
CORS, health checks (`api/server/health.py`) and metrics (`api/server/metrics.py`)."""

import asyncio
import logging
import re
import sqlite3
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.middleware.gzip import GZipMiddleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route
from strawberry.schema.exceptions import CannotGetOperationTypeError, InvalidOperationTypeError
from strawberry.types.graphql import OperationType

from ..graphql.batching import Context
from ..graphql.errors import BAD_USER_INPUT, INTERNAL_MESSAGE, INTERNAL_SERVER_ERROR, TIMEOUT, format_error
from ..graphql.limits import Limits, limits_extension
from ..graphql.plans import Plans
from ..graphql.plans import execute as execute_compiled
from ..graphql.schema import build_schema
from ..store import build_id
from . import logs
from .graphiql import asset, graphiql_page
from .health import healthz, readyz
from .http import (
    JSON,
    VARY,
    GraphQLRequest,
    PersistedQueries,
    RequestError,
    TrustedDocuments,
    error_response,
    etag,
    graphql_response,
    negotiate,
    not_modified,
    request_params,
)
from .metrics import Metrics, operation_name
from .snapshots import Snapshots
from .worker import Budget, Budgeted, Stopped, Worker, too_large

logger = logging.getLogger("diplo")


# Request headers a browser may send across origins by default: Apollo's and urql's, conditional GETs, tracing
# (W3C trace context, Sentry).
CORS_HEADERS = (
    "content-type", "accept", "authorization", "if-none-match", "apollographql-client-name",
    "apollographql-client-version", "apollo-require-preflight", "x-apollo-operation-name", "x-request-id",
    "traceparent", "tracestate", "baggage", "sentry-trace",
)  # fmt: skip

T = TypeVar("T")


@dataclass(frozen=True)
class Settings:
    db_path: Path
    graphiql: bool = True
    cors_origins: tuple[str, ...] = ()  # exact origins, or patterns where `*` stands for one DNS label
    cors_headers: tuple[str, ...] = CORS_HEADERS
    cache_control: str = "public, max-age=60"
    trusted_documents: Path | None = None  # a folder of .graphql files: then only those operations run
    limits: Limits = field(default_factory=Limits)
    log_format: str = "text"
    compiled: bool = True  # False: every request through the resolver path, the reference executor


@dataclass
class OperationContext(Context):
    """What every resolver of one operation shares, and the budget the `Budgeted` extension charges."""

    budget: Budget | None = None


@dataclass(frozen=True)
class Answer:
    """A response, with what the metrics and the access log say about it."""

    response: Response
    outcome: str  # "OK", or the first error's code
    sql_seconds: float = 0.0


def outcome(body: dict[str, Any]) -> str:
    errors = body.get("errors")
    return str(errors[0]["extensions"]["code"]) if errors else "OK"


def _bad_input(message: str) -> dict[str, Any]:
    return {"data": None, "errors": [{"message": message, "extensions": {"code": BAD_USER_INPUT}}]}


class GraphQLEndpoint:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.schema = build_schema([limits_extension(settings.limits), Budgeted])
        self.plans = Plans(self.schema, settings.limits) if settings.compiled else None
        self.graphiql_html = graphiql_page() if settings.graphiql else None
        self.documents: PersistedQueries | TrustedDocuments = (
            TrustedDocuments(settings.trusted_documents)
            if settings.trusted_documents is not None
            else PersistedQueries(settings.limits.persisted_queries, settings.limits.persisted_query_bytes)
        )
        self.worker = Worker()
        self.snapshots = Snapshots(settings.db_path, settings.limits)
        self.metrics = Metrics(settings.db_path)

    async def handle(self, request: Request) -> Response:
        started = time.perf_counter()
        request_id = uuid.uuid4().hex
        headers = {"X-Request-Id": request_id}
        if (
            request.method in ("GET", "HEAD")
            and self.graphiql_html is not None
            and "query" not in request.query_params
            and "extensions" not in request.query_params
            and "text/html" in request.headers.get("accept", "")
        ):
            return HTMLResponse(self.graphiql_html)
        media_type, name = JSON, None
        try:
            try:
                media_type = negotiate(request.headers.get("accept"))
                params = await request_params(request, self.settings.limits.max_body_bytes)
                name = params.operation_name
                query = self.documents.document(params)
            except RequestError as error:
                answer = Answer(error_response(error, media_type, headers), error.code)
            else:
                name = operation_name(query, params.operation_name)
                answer = await self.run(request, query, params, media_type, headers)
                if answer.outcome == "OK":
                    self.documents.keep(params)
        except Exception as error:  # a bug: answered, logged and counted as the contract says, never a bare 500
            logger.error("request %s: %s", request_id, error, exc_info=error)
            failed = RequestError(500, INTERNAL_MESSAGE, INTERNAL_SERVER_ERROR)
            answer = Answer(error_response(failed, media_type, headers), failed.code)
        seconds, response = time.perf_counter() - started, answer.response
        self.metrics.observe(name, answer.outcome, seconds, answer.sql_seconds, len(response.body))
        logs.access(request_id, name, answer.outcome, response.status_code, seconds, len(response.body))
        return response

    async def run(
        self, request: Request, query: str, params: GraphQLRequest, media_type: str, headers: dict[str, str]
    ) -> Answer:
        """The operation's answer: on the event loop when it is short and planned (`inline`), else in the worker's
        thread, within the operation's budget."""
        limits = self.settings.limits
        budget = Budget.start(limits.operation_seconds, limits.max_response_bytes)
        method, if_none_match = request.method, request.headers.get("if-none-match")

        def work(budget: Budget, inline: bool = False) -> Answer:
            return self.answer(method, if_none_match, query, params, media_type, dict(headers), budget, inline)

        try:
            answer = self.inline(work, budget, query, params.operation_name)
            if answer is None:  # the one place an operation runs at length: in the worker's thread
                answer = await self.worker.run(lambda: work(budget), budget)
        except Stopped as stopped:
            answer = Answer(graphql_response(stopped.body(), media_type, headers), stopped.code)
        except MemoryError:  # SQLite's bound met outside a statement (opening a connection): as in `execute`
            refused = too_large(budget.max_bytes)
            answer = Answer(graphql_response(refused.body(), media_type, headers), refused.code)
        return answer

    def inline(
        self, work: Callable[[Budget, bool], Answer], budget: Budget, query: str, operation: str | None
    ) -> Answer | None:
        """The answer, made on the event loop when an operation already planned is answered by its compiled SQL
        within `inline_seconds`; None to send it to the worker's thread (not compiled, or longer: SQL past the slice
        is interrupted, the thread starts again under the whole budget, and the plan goes there from then on). The
        hop to the thread and back costs more than a small compiled answer, and at most one slice of the event loop
        is spent on each plan that must move."""
        if self.plans is None:
            return None
        until = min(budget.deadline, time.monotonic() + self.settings.limits.inline_seconds)
        try:
            return work(Budget(until, budget.seconds, budget.max_bytes), True)
        except NotInline:
            pass
        except Stopped as stopped:
            if stopped.code != TIMEOUT:
                raise
        plan = self.plans.planned(query, operation)
        if plan is not None and time.monotonic() > until:
            plan.on_loop = False
        return None

    def answer(
        self,
        method: str,
        if_none_match: str | None,
        query: str,
        params: GraphQLRequest,
        media_type: str,
        headers: dict[str, str],
        budget: Budget,
        inline: bool = False,
    ) -> Answer:
        """Execute and serialize an operation; `Stopped` past its deadline or size limit, `NotInline` when `inline`
        and the compiled path cannot answer."""
        with self.snapshots.snapshot(budget) as conn:
            if method != "POST":  # GET and HEAD are cacheable; a POST never is
                headers["Vary"] = VARY
                build = build_id(conn)  # one row, read once per request, in the snapshot that answers it
                if build is not None:
                    headers["ETag"] = etag(build, params, media_type)
                    if not_modified(if_none_match, headers["ETag"], answered=False):
                        headers["Cache-Control"] = self.settings.cache_control
                        return Answer(Response(status_code=304, headers=headers), "OK", conn.sql_seconds)
            request_id = headers["X-Request-Id"]
            body = self.execute(conn, query, params.variables, params.operation_name, request_id, budget, inline)
        stopped = budget.stopped()
        if stopped is not None:
            raise stopped
        if "ETag" in headers:
            headers["Cache-Control"] = self.settings.cache_control if "errors" not in body else "no-store"
            if "errors" in body:
                del headers["ETag"]
            elif not_modified(if_none_match, headers["ETag"], answered=True):
                return Answer(Response(status_code=304, headers=headers), "OK", conn.sql_seconds)
        response = graphql_response(body, media_type, headers)
        if len(response.body) > budget.max_bytes:
            del response, body  # freed now, not when the traceback that holds this frame is collected
            raise too_large(budget.max_bytes)
        return Answer(response, outcome(body), conn.sql_seconds)

    def execute(
        self,
        conn: sqlite3.Connection,
        query: str,
        variables: dict[str, Any] | None,
        operation: str | None,
        request_id: str,
        budget: Budget | None = None,
        inline: bool = False,
    ) -> dict[str, Any]:
        """The answer's body: compiled when the plan covers it, else through the resolvers (async, so in an event loop
        of their own, which the compiled path does without: starting one costs 0.1 ms). `inline`: compiled from a
        plan made before, or `NotInline`."""
        try:
            if self.plans is not None:
                deadline = budget.deadline if budget is not None else None  # a new document validates within it
                compiled = execute_compiled(self.plans, conn, query, variables, operation, inline, deadline)
                if compiled is not None:
                    return compiled
                if budget is not None and budget.stopped() is not None:
                    return {}  # stopped while SQLite built it: `answer` says which limit
            if inline:
                raise NotInline
            result = asyncio.run(
                settled(
                    self.schema.execute(
                        query,
                        variable_values=variables,
                        context_value=OperationContext(conn, operation, budget),
                        operation_name=operation,
                        allowed_operation_types=(OperationType.QUERY,),
                    )
                )
            )
        except MemoryError:  # SQLite's bound (`snapshots.bound_sqlite_memory`): an answer too large to build
            if budget is None:
                raise
            budget.spend_all()
            return {}
        except InvalidOperationTypeError:  # strawberry raises, rather than returns, these two
            return _bad_input("only queries are served: this API has no mutations or subscriptions")
        except CannotGetOperationTypeError:
            return _bad_input("`operationName` names no operation of the document (or several need one named)")
        if budget is not None and any(isinstance(e.original_error, MemoryError) for e in result.errors or ()):
            budget.spend_all()  # SQLite's bound, met in a resolver's statement
        if budget is not None and budget.stopped() is not None:
            return {}  # past a limit: `answer` says which, and the field errors that wound it down are not news
        body: dict[str, Any] = {"data": result.data}
        if result.errors:
            body["errors"] = [format_error(e, request_id, self.settings.graphiql) for e in result.errors]
            for error, shown in zip(result.errors, body["errors"], strict=True):
                if shown["extensions"]["code"] == INTERNAL_SERVER_ERROR:
                    logger.error("request %s: %s", request_id, error.message, exc_info=error.original_error)
        return body

    async def metrics_endpoint(self, request: Request) -> Response:
        exposition = await run_in_threadpool(self.metrics.exposition)  # it reads the database: never on the loop
        return Response(exposition, media_type="text/plain; version=0.0.4; charset=utf-8")


class NotInline(Exception):
    """The compiled path cannot answer this request from a plan it already has: the worker's thread will."""


async def settled(operation: Awaitable[T]) -> T:
    """`operation`'s result once the work it left behind has ended too. When a field fails, graphql-core settles its
    siblings' pending work in background tasks; `asyncio.run` would cancel those before their first step, dropping
    the resolvers' coroutines they hold unawaited. Past a budget each of them stops at its first field."""
    result = await operation
    current = asyncio.current_task()
    while pending := asyncio.all_tasks() - {current}:
        await asyncio.wait(pending)
    return result


def origin_pattern(origin: str) -> str:
    """`https://*.preview.example` as a regular expression: each `*` is one DNS label, nothing else matches."""
    return "".join("[A-Za-z0-9-]+" if part == "*" else re.escape(part) for part in re.split(r"(\*)", origin))


def create_app(settings: Settings) -> Starlette:
    endpoint = GraphQLEndpoint(settings)
    middleware = [Middleware(GZipMiddleware, minimum_size=1024)]
    if settings.cors_origins:
        exact = [origin for origin in settings.cors_origins if "*" not in origin]
        patterns = [origin_pattern(origin) for origin in settings.cors_origins if "*" in origin]
        middleware.insert(
            0,
            Middleware(
                CORSMiddleware,
                allow_origins=exact,
                allow_origin_regex="|".join(patterns) or None,
                allow_methods=["GET", "HEAD", "POST"],
                allow_headers=list(settings.cors_headers),
                expose_headers=["X-Request-Id", "ETag"],
                max_age=600,
            ),
        )
    ide = [Route("/graphiql/{name}", asset, methods=["GET"])] if settings.graphiql else []
    app = Starlette(
        routes=[
            *ide,
            Route("/graphql", endpoint.handle, methods=["GET", "HEAD", "POST"]),
            Route("/healthz", healthz, methods=["GET"]),
            Route("/readyz", readyz, methods=["GET"]),
            Route("/metrics", endpoint.metrics_endpoint, methods=["GET"]),
        ],
        middleware=middleware,
    )
    app.state.settings = settings
    return app

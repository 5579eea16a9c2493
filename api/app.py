"""The ASGI app: GraphQL over HTTP (POST, GET and HEAD, queries only; the protocol is `api/http.py`), GraphiQL,
CORS, a health check."""

import asyncio
import logging
import re
import sqlite3
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.middleware.gzip import GZipMiddleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route
from strawberry.schema.exceptions import CannotGetOperationTypeError, InvalidOperationTypeError
from strawberry.types.graphql import OperationType

from .errors import BAD_USER_INPUT, INTERNAL_SERVER_ERROR, TIMEOUT, format_error
from .graphiql import asset, graphiql_page
from .http import (
    JSON,
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
from .limits import Limits, limits_extension
from .loaders import Context
from .plans import Plans
from .plans import execute as execute_compiled
from .schema import build_schema
from .store import build_id, connect_readonly

logger = logging.getLogger("diplo")


# Request headers a browser may send across origins by default: Apollo's and urql's, conditional GETs, tracing
# (W3C trace context, Sentry).
CORS_HEADERS = (
    "content-type", "accept", "authorization", "if-none-match", "apollographql-client-name",
    "apollographql-client-version", "apollo-require-preflight", "x-apollo-operation-name", "x-request-id",
    "traceparent", "tracestate", "baggage", "sentry-trace",
)  # fmt: skip


@dataclass(frozen=True)
class Settings:
    db_path: Path
    graphiql: bool = True
    cors_origins: tuple[str, ...] = ()  # exact origins, or patterns where `*` stands for one DNS label
    cors_headers: tuple[str, ...] = CORS_HEADERS
    cache_control: str = "public, max-age=60"
    trusted_documents: Path | None = None  # a folder of .graphql files: then only those operations run
    limits: Limits = field(default_factory=Limits)
    compiled: bool = True  # False: every request through the resolver path, the reference executor


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
        self.graphiql_html = graphiql_page() if settings.graphiql else None
        self.documents: PersistedQueries | TrustedDocuments = (
            TrustedDocuments(settings.trusted_documents)
            if settings.trusted_documents is not None
            else PersistedQueries(settings.limits.persisted_queries)
        )

    async def handle(self, request: Request) -> Response:
        headers = {"X-Request-Id": uuid.uuid4().hex}
        if (
            request.method in ("GET", "HEAD")
            and self.graphiql_html is not None
            and "query" not in request.query_params
            and "extensions" not in request.query_params
            and "text/html" in request.headers.get("accept", "")
        ):
            return HTMLResponse(self.graphiql_html)
        media_type = JSON
        try:
            media_type = negotiate(request.headers.get("accept"))
            params = await request_params(request, self.settings.limits.max_body_bytes)
            query = self.documents.document(params)
        except RequestError as error:
            return error_response(error, media_type, headers)
        conn = open_snapshot(self.settings.db_path, self.settings.limits)
        try:
            if request.method != "POST":  # GET and HEAD are cacheable; a POST never is
                headers["Vary"] = "Accept, Accept-Encoding"
                build = build_id(conn)  # one row, read once per request, in the snapshot that answers it
                if build is not None:
                    headers["ETag"] = etag(build, params, media_type)
                    if not_modified(request.headers.get("if-none-match"), headers["ETag"]):
                        headers["Cache-Control"] = self.settings.cache_control
                        return Response(status_code=304, headers=headers)
            body = await self.execute(conn, query, params.variables, params.operation_name, headers["X-Request-Id"])
        finally:
            conn.close()
        if "ETag" in headers:
            headers["Cache-Control"] = self.settings.cache_control if "errors" not in body else "no-store"
            if "errors" in body:
                del headers["ETag"]
        return graphql_response(body, media_type, headers)

    async def execute(
        self,
        conn: sqlite3.Connection,
        query: str,
        variables: dict[str, Any] | None,
        operation: str | None,
        request_id: str,
    ) -> dict[str, Any]:
        limits = self.settings.limits
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
        ],
        middleware=middleware,
    )
    app.state.settings = settings
    return app

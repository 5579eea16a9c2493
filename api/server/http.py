"""GraphQL over HTTP, as its spec says: request parameters parsed strictly, the response media type negotiated,
persisted operations (Apollo's automatic protocol, or trusted documents only), and caching headers for GET.

Nothing here executes GraphQL: `api/server/app.py` calls these before and after the schema runs, so that every
malformed request is a 4xx with a clear message and nothing reaches the schema that it would answer with a 500.
"""

import hashlib
import json
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
from graphql import GraphQLError, parse, print_ast
from starlette.requests import Request
from starlette.responses import Response

from ..graphql.errors import (
    BAD_USER_INPUT,
    GRAPHQL_PARSE_FAILED,
    GRAPHQL_VALIDATION_FAILED,
    OPERATION_NOT_TRUSTED,
    PERSISTED_QUERY_NOT_FOUND,
    QUERY_TOO_COMPLEX,
)

GRAPHQL_RESPONSE = "application/graphql-response+json"
JSON = "application/json"
# Errors raised before execution: with the spec's media type their answer is a 400 without a `data` entry.
REQUEST_ERROR_CODES = frozenset({GRAPHQL_PARSE_FAILED, GRAPHQL_VALIDATION_FAILED, BAD_USER_INPUT, QUERY_TOO_COMPLEX})


class RequestError(Exception):
    """A request the GraphQL endpoint cannot take, answered with `status` before any GraphQL work."""

    def __init__(self, status: int, message: str, code: str = BAD_USER_INPUT) -> None:
        self.status = status
        self.message = message
        self.code = code


@dataclass(frozen=True)
class GraphQLRequest:
    """The four parameters of the spec, each of its type; `query` is None for a hash-only persisted query."""

    query: str | None
    variables: dict[str, Any] | None
    operation_name: str | None
    extensions: dict[str, Any] | None

    def persisted_hash(self) -> str | None:
        """The sha256 of Apollo's `extensions.persistedQuery` (version 1), checked for its form."""
        persisted = (self.extensions or {}).get("persistedQuery")
        if persisted is None:
            return None
        digest = persisted.get("sha256Hash") if isinstance(persisted, dict) else None
        if not isinstance(digest, str) or len(digest) != 64 or persisted.get("version") != 1:
            raise RequestError(400, "`extensions.persistedQuery` must be {version: 1, sha256Hash: 64 hex digits}")
        return digest.lower()

    def cache_key(self) -> bytes:
        parameters = [self.query, self.variables, self.operation_name, self.extensions]
        return json.dumps(parameters, sort_keys=True).encode()


def parse_params(raw: Any) -> GraphQLRequest:
    """`query`, `variables`, `operationName` and `extensions` of a GraphQL request, each checked for its type."""
    if isinstance(raw, list):
        raise RequestError(400, "batched requests are not supported; send one operation per request")
    if not isinstance(raw, dict):
        raise RequestError(400, "the body must be a JSON object with a `query`")
    query, variables = raw.get("query"), raw.get("variables")
    operation, extensions = raw.get("operationName"), raw.get("extensions")
    if extensions is not None and not isinstance(extensions, dict):
        raise RequestError(400, "`extensions` must be a JSON object")
    if query is None and isinstance(extensions, dict) and "persistedQuery" in extensions:
        pass  # Apollo's hash-only request: the document comes from the persisted store
    elif not isinstance(query, str) or not query.strip():
        raise RequestError(400, "`query` must be a non-empty string")
    if variables is not None and not isinstance(variables, dict):
        raise RequestError(400, "`variables` must be a JSON object")
    if operation is not None and not isinstance(operation, str):
        raise RequestError(400, "`operationName` must be a string")
    return GraphQLRequest(query, variables, operation, extensions)


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


def _json_param(params: Mapping[str, str], name: str) -> Any:
    value = params.get(name)
    return decode_json(value, f"`{name}`") if value else None


async def request_params(request: Request, max_body_bytes: int) -> GraphQLRequest:
    """The parameters of a GET (or HEAD) from its URL, of a POST from its JSON body."""
    if request.method in ("GET", "HEAD"):
        params = request.query_params
        if len(str(request.url)) > max_body_bytes:
            raise RequestError(414, f"URL over the limit of {max_body_bytes} bytes; POST long operations")
        return parse_params(
            {
                "query": params.get("query"),
                "variables": _json_param(params, "variables"),
                "operationName": params.get("operationName"),
                "extensions": _json_param(params, "extensions"),
            }
        )
    media, _, parameters = request.headers.get("content-type", "").partition(";")
    charset = parameters.strip().lower().removeprefix("charset=").strip('"') if "charset" in parameters else "utf-8"
    if media.strip().lower() != JSON or charset.replace("-", "") != "utf8":
        raise RequestError(415, "POST requests must be `Content-Type: application/json` (UTF-8)")
    return parse_params(decode_json(await read_body(request, max_body_bytes), "the body"))


# --- media types -----------------------------------------------------------------------------------------------


def negotiate(accept: str | None) -> str:
    """The response media type for an `Accept` header: the spec's own when the client names it, JSON for a
    missing header or `*/*` (the spec's watershed for older clients); RequestError 406 when neither is accepted."""
    if not accept or not accept.strip():
        return JSON
    best: tuple[float, int, bool] = (0.0, -1, False)
    chosen = None
    for candidate in (JSON, GRAPHQL_RESPONSE):
        for item in accept.split(","):
            media, *params = (part.strip().lower() for part in item.split(";"))
            q = next((_quality(p[2:]) for p in params if p.startswith("q=")), 1.0)
            specificity = {candidate: 2, "application/*": 1, "*/*": 0}.get(media, -1)
            key = (q, specificity, candidate == GRAPHQL_RESPONSE and specificity == 2)
            if specificity >= 0 and q > 0 and key > best:
                best, chosen = key, candidate
    if chosen is None:
        raise RequestError(406, f"this endpoint answers `{GRAPHQL_RESPONSE}` or `{JSON}`; accept one of them")
    return chosen


def _quality(value: str) -> float:
    try:
        return min(max(float(value), 0.0), 1.0)
    except ValueError:
        return 0.0


def is_request_error(body: dict[str, Any]) -> bool:
    """Whether the operation failed before it executed (parse, validation, variables, limits): no error has a
    path, and there is no data."""
    errors = body.get("errors") or []
    return (
        body.get("data") is None
        and bool(errors)
        and all("path" not in e and e["extensions"]["code"] in REQUEST_ERROR_CODES for e in errors)
    )


def graphql_response(body: dict[str, Any], media_type: str, headers: dict[str, str]) -> Response:
    """The answer in the negotiated media type: with the spec's own, a request error is a 400 without `data`;
    with plain JSON, every GraphQL answer is a 200 (as older clients expect)."""
    status = 200
    if media_type == GRAPHQL_RESPONSE and is_request_error(body):
        status = 400
        body = {k: v for k, v in body.items() if k != "data"}
    try:
        content = orjson.dumps(body)  # several times json.dumps on a large response
    except TypeError:  # a lone surrogate echoed from the request in an error message: orjson refuses it
        content = json.dumps(body).encode()
    return Response(content, status, headers, media_type=f"{media_type}; charset=utf-8")


def error_response(error: RequestError, media_type: str, headers: dict[str, str]) -> Response:
    body = {"errors": [{"message": error.message, "extensions": {"code": error.code}}]}
    return Response(orjson.dumps(body), error.status, headers, media_type=f"{media_type}; charset=utf-8")


# --- persisted operations ------------------------------------------------------------------------------------


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


class PersistedQueries:
    """Apollo's automatic persisted queries: a hash-only request finds its document here or gets
    PERSISTED_QUERY_NOT_FOUND, and the client sends hash and document once to register it. The store keeps the
    `capacity` most recently used documents; only documents that parse are registered."""

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self.documents: OrderedDict[str, str] = OrderedDict()

    def document(self, request: GraphQLRequest) -> str:
        digest = request.persisted_hash()
        if digest is None:
            assert request.query is not None  # parse_params lets only hash-only requests through without one
            return request.query
        if request.query is None:
            if digest not in self.documents:
                raise RequestError(200, "PersistedQueryNotFound", PERSISTED_QUERY_NOT_FOUND)
            self.documents.move_to_end(digest)
            return self.documents[digest]
        if sha256(request.query) != digest:
            raise RequestError(400, "`extensions.persistedQuery.sha256Hash` is not the sha256 of `query`")
        self._register(digest, request.query)
        return request.query

    def _register(self, digest: str, query: str) -> None:
        try:
            parse(query)
        except GraphQLError:
            return  # the schema reports the syntax error; nothing worth keeping
        self.documents[digest] = query
        self.documents.move_to_end(digest)
        while len(self.documents) > self.capacity:
            self.documents.popitem(last=False)


class TrustedDocuments:
    """Only known operations run: the `.graphql` files of a folder (such as `schema/operations/`), found by the
    sha256 of their text or of its canonical print (what Apollo Client hashes), sent as a hash or in full."""

    def __init__(self, folder: Path) -> None:
        self.documents: dict[str, str] = {}
        for path in sorted(folder.rglob("*.graphql")):
            text = path.read_text(encoding="utf-8")
            try:
                printed = print_ast(parse(text))
            except GraphQLError as error:
                raise ValueError(f"{path}: {error.message}") from None
            for form in (text, printed):
                self.documents[sha256(form)] = text
        if not self.documents:
            raise ValueError(f"{folder}: no .graphql documents to trust")

    def document(self, request: GraphQLRequest) -> str:
        digest = request.persisted_hash()
        if digest is None and request.query is not None:
            digest = sha256(request.query)
        if digest is None or digest not in self.documents:
            if request.query is None:
                raise RequestError(200, "PersistedQueryNotFound", PERSISTED_QUERY_NOT_FOUND)
            raise RequestError(
                403, "only trusted operations run on this server; this one is not", OPERATION_NOT_TRUSTED
            )
        return self.documents[digest]


# --- caching ---------------------------------------------------------------------------------------------------


def etag(build_id: str, request: GraphQLRequest, media_type: str) -> str:
    """Weak (the bytes differ with compression): the same data and the same request give the same answer."""
    digest = hashlib.sha256(build_id.encode() + b"\0" + media_type.encode() + b"\0" + request.cache_key())
    return f'W/"{digest.hexdigest()[:32]}"'


def not_modified(if_none_match: str | None, tag: str) -> bool:
    if not if_none_match:
        return False
    tags = {t.strip().removeprefix("W/") for t in if_none_match.split(",")}
    return "*" in tags or tag.removeprefix("W/") in tags

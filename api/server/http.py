"""GraphQL over HTTP, as its spec says: request parameters parsed strictly, the response media type negotiated,
persisted operations (Apollo's automatic protocol, or trusted documents only), and caching headers for GET.

Nothing here executes GraphQL: `api/server/app.py` calls these before and after the schema runs, so that every
malformed request is a 4xx with a clear message and nothing reaches the schema that it would answer with a 500.
"""

import hashlib
import json
import re
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
    format_error,
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
    """The four parameters of the spec, each of its type; `query` is None for a hash-only persisted query, whose
    hash is `persisted_hash` (Apollo's `extensions.persistedQuery`, checked for its form)."""

    query: str | None
    variables: dict[str, Any] | None
    operation_name: str | None
    extensions: dict[str, Any] | None
    persisted_hash: str | None = None

    def cache_key(self) -> bytes:
        parameters = [self.query, self.variables, self.operation_name, self.extensions]
        return json.dumps(parameters, sort_keys=True).encode()


_SHA256 = re.compile(r"[0-9a-fA-F]{64}")


def persisted_hash(extensions: dict[str, Any] | None) -> str | None:
    """The sha256 of Apollo's `extensions.persistedQuery` (version 1), lower-cased; None when there is none."""
    if extensions is None or "persistedQuery" not in extensions:
        return None
    persisted = extensions["persistedQuery"]
    digest = persisted.get("sha256Hash") if isinstance(persisted, dict) else None
    version = persisted.get("version") if isinstance(persisted, dict) else None
    if type(version) is not int or version != 1 or not isinstance(digest, str) or not _SHA256.fullmatch(digest):
        raise RequestError(400, "`extensions.persistedQuery` must be {version: 1, sha256Hash: 64 hex digits}")
    return digest.lower()


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
    digest = persisted_hash(extensions)
    if query is None and digest is not None:
        pass  # Apollo's hash-only request: the document comes from the persisted store
    elif not isinstance(query, str) or not query.strip():
        raise RequestError(400, "`query` must be a non-empty string")
    if variables is not None and not isinstance(variables, dict):
        raise RequestError(400, "`variables` must be a JSON object")
    if operation is not None and not isinstance(operation, str):
        raise RequestError(400, "`operationName` must be a string")
    return GraphQLRequest(query, variables, operation, extensions, digest)


# A lone surrogate reaches a decoded string only through a JSON escape (`\ud800`): UTF-8 cannot carry one.
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")


def is_text(string: str) -> bool:
    """Whether `string` is Unicode text, which UTF-8 can carry: no lone surrogate."""
    if string.isascii():
        return True
    try:
        string.encode()
    except UnicodeEncodeError:
        return False
    return True


def not_unicode(value: Any, where: str) -> str | None:
    """Which string of decoded JSON `value` (at `where`, the body's fields when empty) is not Unicode text, or None.
    Iterative: the JSON may nest as deeply as its decoder allowed. Keys are checked before their values, so the
    answer names only keys that are text."""
    stack: list[tuple[str, Any]] = [(where, value)]
    while stack:
        path, item = stack.pop()
        if isinstance(item, str) and not is_text(item):
            return f"`{path}`" if path else "the body"
        if isinstance(item, dict):
            for key, member in item.items():
                if not is_text(key):
                    return f"a key in `{path}`" if path else "a key of the body"
                stack.append((f"{path}.{key}" if path else key, member))
        elif isinstance(item, list):
            stack.extend((f"{path}[{i}]", member) for i, member in enumerate(item))
    return None


def decode_json(data: bytes | str, what: str, where: str = "") -> Any:
    """JSON `data` (the body, or a URL parameter at `where`), decoded; RequestError 400 for anything that is not
    JSON of Unicode text."""
    try:
        text = data.decode("utf-8") if isinstance(data, bytes) else data
        value = json.loads(text)
    except UnicodeDecodeError:
        raise RequestError(400, f"{what} is not valid UTF-8") from None
    except RecursionError:
        raise RequestError(400, f"{what} is nested too deeply") from None
    except ValueError:
        raise RequestError(400, f"{what} is not valid JSON") from None
    found = not_unicode(value, where) if _SURROGATE_ESCAPE.search(text) else None
    if found is not None:
        raise RequestError(
            400,
            f"{found} is not Unicode text: it holds a lone surrogate (`\\ud800`-`\\udfff` outside a pair); "
            "encode the text as UTF-8",
        )
    return value


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
    return decode_json(value, f"`{name}`", name) if value else None


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
    # orjson: several times json.dumps on a large response. It refuses a lone surrogate, which `decode_json` keeps
    # out of every request, so out of every message that echoes one.
    return Response(orjson.dumps(body), status, headers, media_type=f"{media_type}; charset=utf-8")


# What a GET or HEAD answer varies with besides its URL: its media type, and its encoding.
VARY = "Accept, Accept-Encoding"


def error_response(error: RequestError, media_type: str, headers: dict[str, str]) -> Response:
    """An answer without a GraphQL result (a request refused before any GraphQL work, or a bug), in the shape of
    every other error (`format_error`). Never stored by a cache (a `PERSISTED_QUERY_NOT_FOUND` kept by a browser or
    a CDN would answer the client's next try, which registers the document), and it varies as every answer does."""
    shown = format_error(GraphQLError(error.message, extensions={"code": error.code}), headers["X-Request-Id"], True)
    headers = headers | {"Cache-Control": "no-store", "Vary": VARY}
    return Response(orjson.dumps({"errors": [shown]}), error.status, headers, media_type=f"{media_type}; charset=utf-8")


# --- persisted operations ------------------------------------------------------------------------------------


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


NEW_SHARE = 0.2  # of the store's count and bytes: what documents not yet requested by their hash may hold


class PersistedQueries:
    """Apollo's automatic persisted queries: a hash-only request finds its document here or gets
    PERSISTED_QUERY_NOT_FOUND, and the client sends hash and document once to register it.

    Nothing is parsed here: a document is kept (`keep`) once its operation has been answered without errors, so it
    went through the parser's limits, in the worker's thread, as every operation does. The store holds at most
    `capacity` documents and `max_bytes` of them (UTF-8). A new document waits in a probationary part until a
    hash-only request uses it; when the store is full, the least recently used probationary document goes first
    while they hold over NEW_SHARE of it (else the least recently used of the others), so a flood of one-off
    registrations churns that part and leaves the documents clients use by their hash in place. A document over
    NEW_SHARE of `max_bytes` is not kept."""

    def __init__(self, capacity: int, max_bytes: int) -> None:
        self.capacity = capacity
        self.max_bytes = max_bytes
        self.new: OrderedDict[str, str] = OrderedDict()  # registered, not yet requested by hash
        self.used: OrderedDict[str, str] = OrderedDict()  # requested by hash since registered
        self.new_bytes = self.used_bytes = 0

    def __len__(self) -> int:
        return len(self.new) + len(self.used)

    def document(self, request: GraphQLRequest) -> str:
        """The document to run: the request's own (checked against its hash when it has one), or the stored one."""
        digest = request.persisted_hash
        if request.query is not None:
            if digest is not None and sha256(request.query) != digest:
                raise RequestError(400, "`extensions.persistedQuery.sha256Hash` is not the sha256 of `query`")
            return request.query
        assert digest is not None  # parse_params lets only hash-only requests through without a query
        if digest in self.used:
            self.used.move_to_end(digest)
            return self.used[digest]
        if digest not in self.new:
            raise RequestError(200, "PersistedQueryNotFound", PERSISTED_QUERY_NOT_FOUND)
        query = self.used[digest] = self.new.pop(digest)
        size = len(query.encode())
        self.new_bytes -= size
        self.used_bytes += size
        return query

    def keep(self, request: GraphQLRequest) -> None:
        """Register the request's document under its hash; called once it has been answered without errors."""
        digest, query = request.persisted_hash, request.query
        if digest is None or query is None or digest in self.new or digest in self.used:
            return
        size = len(query.encode())
        if size > NEW_SHARE * self.max_bytes:
            return  # it would push out more than its share
        self.new[digest] = query
        self.new_bytes += size
        while len(self) > self.capacity or self.new_bytes + self.used_bytes > self.max_bytes:
            crowded = len(self.new) > NEW_SHARE * self.capacity or self.new_bytes > NEW_SHARE * self.max_bytes
            if not self.used or (len(self.new) > 1 and crowded):
                self.new_bytes -= len(self.new.popitem(last=False)[1].encode())
            else:
                self.used_bytes -= len(self.used.popitem(last=False)[1].encode())


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
        digest = request.persisted_hash
        if digest is None and request.query is not None:
            digest = sha256(request.query)
        if digest is None or digest not in self.documents:
            if request.query is None:
                raise RequestError(200, "PersistedQueryNotFound", PERSISTED_QUERY_NOT_FOUND)
            raise RequestError(
                403, "only trusted operations run on this server; this one is not", OPERATION_NOT_TRUSTED
            )
        return self.documents[digest]

    def keep(self, request: GraphQLRequest) -> None:
        """Nothing to register: the trusted documents are all there is."""


# --- caching ---------------------------------------------------------------------------------------------------


def etag(build_id: str, request: GraphQLRequest, media_type: str) -> str:
    """Weak (the bytes differ with compression): the same data and the same request give the same answer."""
    digest = hashlib.sha256(build_id.encode() + b"\0" + media_type.encode() + b"\0" + request.cache_key())
    return f'W/"{digest.hexdigest()[:32]}"'


def not_modified(if_none_match: str | None, tag: str, answered: bool) -> bool:
    """Whether `If-None-Match` holds `tag`, or `*` once the operation has `answered` without errors (`*` matches any
    current representation, and a request answered with errors has none: it is not cached)."""
    if not if_none_match:
        return False
    tags = {t.strip().removeprefix("W/") for t in if_none_match.split(",")}
    return ("*" in tags and answered) or tag.removeprefix("W/") in tags

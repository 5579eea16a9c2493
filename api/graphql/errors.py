"""Errors a client can cause and act on: each a GraphQLError with a stable `extensions.code`."""

import re
import sqlite3
from typing import Any

from graphql import GraphQLError, GraphQLSyntaxError

BAD_USER_INPUT = "BAD_USER_INPUT"
QUERY_TOO_COMPLEX = "QUERY_TOO_COMPLEX"
TIMEOUT = "TIMEOUT"
GRAPHQL_VALIDATION_FAILED = "GRAPHQL_VALIDATION_FAILED"
GRAPHQL_PARSE_FAILED = "GRAPHQL_PARSE_FAILED"
INTERNAL_SERVER_ERROR = "INTERNAL_SERVER_ERROR"
PERSISTED_QUERY_NOT_FOUND = "PERSISTED_QUERY_NOT_FOUND"
OPERATION_NOT_TRUSTED = "OPERATION_NOT_TRUSTED"


def bad_input(message: str) -> GraphQLError:
    return GraphQLError(message, extensions={"code": BAD_USER_INPUT})


_SUGGESTION = re.compile(r" Did you mean .*\?$", re.DOTALL)
INTERNAL_MESSAGE = "Internal server error; quote the request id when reporting it."


def error_code(error: GraphQLError) -> str:
    """The code of any error an operation produced; anything not foreseen is internal."""
    code = (error.extensions or {}).get("code")
    if isinstance(code, str):
        return code
    original = error.original_error
    if isinstance(original, sqlite3.OperationalError) and str(original) == "interrupted":
        return TIMEOUT  # the progress handler stopped a statement past its time limit
    if original is not None and not isinstance(original, GraphQLError):
        return INTERNAL_SERVER_ERROR
    if isinstance(error, GraphQLSyntaxError):
        return QUERY_TOO_COMPLEX if " contains more than " in error.message else GRAPHQL_PARSE_FAILED
    if error.path is None:
        return BAD_USER_INPUT if error.message.startswith("Variable '$") else GRAPHQL_VALIDATION_FAILED
    return INTERNAL_SERVER_ERROR


def format_error(error: GraphQLError, request_id: str, suggestions: bool) -> dict[str, Any]:
    """The error as the client sees it: a code, and nothing internal (no exception text, SQL or path)."""
    code = error_code(error)
    formatted: dict[str, Any] = {"message": error.message}
    if code == INTERNAL_SERVER_ERROR:
        formatted["message"] = INTERNAL_MESSAGE
    elif code == TIMEOUT and not error.extensions:
        formatted["message"] = "The query took too long; ask for less (lower `first`, add filters)."
    elif not suggestions:
        formatted["message"] = _SUGGESTION.sub("", error.message)
    if error.locations:
        formatted["locations"] = [{"line": loc.line, "column": loc.column} for loc in error.locations]
    if error.path:
        formatted["path"] = error.path
    formatted["extensions"] = {"code": code}
    if code == INTERNAL_SERVER_ERROR:
        formatted["extensions"]["requestId"] = request_id
    return formatted

"""The compiled read path's entry: a bounded cache of parsed, limit-checked and validated operations, and
`execute`, which answers a request with one SQL statement per root field, or with the errors that refuse it, or
says that the resolver path must.

Parsing, the limits of the document's shape (`check_shape`, before validation, which they bound) and validation
are done once per document and operation name, and so, for a document without variables, are the size limits and
the SQL. A document refused by its parser or its limits is remembered as refused, and answered again from the
cache. A document with variables has its size limits checked per request (`check_size`, as the resolver path does)
and its SQL compiled once per variant: per set of facts the SQL's text depends on in the variables (an `@include`,
an `orderBy`, which filters are set), the parameters bound from each request's.
"""

import logging
import sqlite3
import time
from dataclasses import dataclass, field
from typing import Any

import orjson
from graphql import (
    DocumentNode,
    FragmentDefinitionNode,
    GraphQLError,
    OperationDefinitionNode,
    OperationType,
    parse,
    specified_rules,
)
from graphql.execution.collect_fields import FragmentDetails
from graphql.execution.values import VariableValues, get_variable_values
from graphql.utilities import get_operation_ast
from strawberry import Schema
from strawberry.schema.schema import validate_document

from . import dialect
from .admission import AdmittingCache
from .compiler import Compiler, Fact, RootSQL, Unsupported
from .errors import format_error
from .limits import Limits, check_shape, check_size

logger = logging.getLogger("diplo")
PLAN_CACHE_SIZE = 256  # each document is at most `max_document_chars`, so this bounds the cache's memory
VARIANTS_PER_PLAN = 16  # and so does this, the SQL compiled for one document (the oldest variant goes first)

MISSING: Any = object()  # not in the cache (None is there: the resolver path answers)
Compiled = list[tuple[str, str, dict[str, Any]]]  # (response key, SQL, parameters) per root field


@dataclass(frozen=True)
class Variant:
    """The operation's SQL for the requests whose variables give these facts."""

    facts: tuple[Fact, ...]
    statements: list[RootSQL]

    def fits(self, variables: VariableValues) -> bool:
        # In the order the compiler met them: a fact that raises (an id the resolver path refuses) after those
        # before it held is where compiling these variables would have stopped too.
        return all(probe(variables) == value for probe, value in self.facts)

    def bound(self, variables: VariableValues) -> Compiled:
        return [
            (key, sql, {n: bind(variables) for n, bind in binders.items()}) for key, sql, binders in self.statements
        ]


@dataclass(frozen=True)
class Refusal:
    """A document refused whatever is asked of it: it does not parse, or its shape is over a limit, or it has no
    variables and its size is (`by_size`: then a request's own variables, which it does not declare, are checked
    first for their strings, as the resolver path does)."""

    errors: list[GraphQLError]
    by_size: bool = False


class PastDeadline(Exception):
    """A new document's planning stopped before validation: the operation's deadline has passed."""


def refused(errors: list[GraphQLError]) -> dict[str, Any]:
    """The body the resolver path answers these errors with: the parser's and the limits' errors carry no
    suggestion and none is internal, so neither `--no-graphiql` nor the request id changes it."""
    return {"data": None, "errors": [format_error(error, "", suggestions=True) for error in errors]}


@dataclass
class Plan:
    """A document parsed and validated once, with the operation a request names in it and its SQL, per variant."""

    document: DocumentNode
    operation: OperationDefinitionNode
    fragments: dict[str, FragmentDetails]
    variants: list[Variant] = field(default_factory=list)  # replaced whole, never changed: threads share it
    fixed: bool = False  # no operation of the document has variables: checked and compiled once, when planned
    on_loop: bool = True  # False once its SQL ran past `inline_seconds` on the event loop: the thread answers it


class Plans:
    """Plans by document and operation name, in a cache that keeps the ones asked for often (`AdmittingCache`). One
    per schema and limits: a plan is never reused under other limits. A document refused before validation is
    remembered as its `Refusal`; one the resolver path must answer (it is not valid, is not one query, or the
    compiler does not cover it) as None."""

    def __init__(self, schema: Schema, limits: Limits, size: int = PLAN_CACHE_SIZE) -> None:
        self.schema = schema
        self.limits = limits
        self.size = size
        self.plans: AdmittingCache[tuple[str, str | None], Plan | Refusal | None] = AdmittingCache(size)

    def __len__(self) -> int:
        return len(self.plans)

    def get(self, query: str, operation_name: str | None, deadline: float | None = None) -> Plan | Refusal | None:
        """The plan, made now if there is none (and kept, if the cache admits it); None also when `deadline`
        (monotonic) has passed before validation, which cannot be interrupted, so does not start then."""
        cached = self.plans.get((query, operation_name), MISSING)
        if cached is not MISSING:
            return cached
        try:
            plan = self._plan(query, operation_name, deadline)  # no lock held: the event loop never waits for it
        except PastDeadline:
            return None
        self.plans.put((query, operation_name), plan)
        return plan

    def planned(self, query: str, operation_name: str | None) -> Plan | None:
        """The plan made before for this document and operation, if any; never plans one."""
        cached = self.cached(query, operation_name)
        return cached if isinstance(cached, Plan) else None

    def cached(self, query: str, operation_name: str | None) -> Plan | Refusal | None:
        """What planning this document and operation gave before, if it is kept; never plans one."""
        cached = self.plans.get((query, operation_name), MISSING)
        return None if cached is MISSING else cached

    def _plan(self, query: str, operation_name: str | None, deadline: float | None) -> Plan | Refusal | None:
        """In the resolver path's order, so that a document gets the same answer from both: parse, the operation
        to run, the limits (the size's only for a document without variables), validation, and the SQL of a
        document without variables."""
        limits = self.limits
        try:
            document = parse(
                query,
                max_lexical_tokens=limits.max_tokens,
                max_comments=limits.max_comments,
                max_source_length=limits.max_document_chars,
            )
        except GraphQLError as error:
            return Refusal([error])
        except RecursionError:
            return None
        operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
        if len(operations) > 1 and operation_name is None:
            return None  # the resolver path says which to name
        operation = get_operation_ast(document, operation_name)
        if operation is None or operation.operation != OperationType.QUERY:
            return None
        fixed = not any(o.variable_definitions for o in operations)  # nothing reads variables: checked once, here
        refusal = check_shape(document.definitions, self.schema, limits)
        if refusal:
            return Refusal(refusal)
        refusal = check_size(document.definitions, self.schema, {}, limits) if fixed else []
        if refusal:
            return Refusal(refusal, by_size=True)
        if deadline is not None and time.monotonic() > deadline:
            raise PastDeadline
        if validate_document(self.schema._schema, document, tuple(specified_rules)):
            return None
        # Kept without locations: each holds the lexer's tokens, all of them linked, so a plan of an 8 KB document
        # held 830 KB and two million objects for the collector to walk. A valid plan needs none (an error on the
        # compiled path falls back to the resolver path, which parses again); parsing twice costs a new plan ~1 ms.
        document = parse(query, no_location=True, max_lexical_tokens=limits.max_tokens,
                         max_comments=limits.max_comments, max_source_length=limits.max_document_chars)  # fmt: skip
        operation = get_operation_ast(document, operation_name)
        assert operation is not None  # found in the same text before
        fragments = {
            d.name.value: FragmentDetails(d) for d in document.definitions if isinstance(d, FragmentDefinitionNode)
        }
        plan = Plan(document, operation, fragments)
        if fixed:
            if self.compile(plan, {}) is None:  # the SQL too is compiled once
                return None
            plan.fixed = True
        return plan

    def compile(self, plan: Plan, variables: dict[str, Any], new_variant: bool = True) -> Compiled | None:
        """The operation's SQL and parameters for these variables, from the variant their facts select (compiled
        now if there is none yet, and `new_variant`); None where the resolver path must answer."""
        schema = self.schema._schema
        coerced = get_variable_values(schema, plan.operation.variable_definitions or (), variables)
        if not isinstance(coerced, VariableValues):
            return None
        try:
            variant = next((v for v in plan.variants if v.fits(coerced)), None)
            if variant is None:
                if not new_variant:
                    return None
                compiler = Compiler(schema, plan.fragments, coerced, plan.operation)
                statements = compiler.statements()
                variant = Variant(tuple(compiler.facts), statements)
                plan.variants = [*plan.variants[1 - VARIANTS_PER_PLAN :], variant]
            return variant.bound(coerced)
        except (Unsupported, GraphQLError):
            return None
        except Exception:  # a bug in the compiler: logged, and the reference executor answers
            logger.exception("the compiled path failed; the resolver path answers")
            return None


def execute(
    plans: Plans,
    conn: sqlite3.Connection,
    query: str,
    variables: dict[str, Any] | None,
    operation_name: str | None,
    planned_only: bool = False,
    deadline: float | None = None,
) -> dict[str, Any] | None:
    """The response body, from one statement per root field on `conn`, or the errors of a request refused by a
    limit; None when the resolver path must answer (something not compiled, an argument it refuses, a statement
    stopped past its time limit, a new document past `deadline`). `planned_only`: None too unless the document was
    planned and these variables' SQL compiled before (parsing, validating and compiling a new document take time in
    proportion to it; this is what runs on the event loop)."""
    plan = plans.cached(query, operation_name) if planned_only else plans.get(query, operation_name, deadline)
    inputs = variables or {}
    if isinstance(plan, Refusal):
        undeclared = check_size((), plans.schema, inputs, plans.limits) if plan.by_size and inputs else []
        return refused(undeclared or plan.errors)
    if plan is None or (planned_only and not plan.on_loop):
        return None
    # Variables the operation does not declare are still checked for their strings, as the resolver path does.
    size = check_size(() if plan.fixed else plan.document.definitions, plans.schema, inputs, plans.limits)
    if size:
        return refused(size)
    compiled = plans.compile(plan, inputs, new_variant=not planned_only)
    if compiled is None:
        return None
    dialect.register(conn)
    members = []  # each root field's `"key":value`, as SQLite wrote it
    try:
        for _key, sql, params in compiled:
            members.append(conn.execute(sql, params).fetchone()[0][1:-1])
    except sqlite3.Error:
        return None
    # The JSON goes out as SQLite wrote it: orjson copies a Fragment, so a large answer is never parsed again
    # (nor holds the GIL for as long), and SQLite escapes strings as orjson does (the differential tests compare
    # the bytes).
    return {"data": orjson.Fragment("{" + ",".join(members) + "}")}

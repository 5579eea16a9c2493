"""The compiled read path's entry: a bounded cache of parsed, validated and limit-checked operations, and
`execute`, which answers a request with one SQL statement per root field or says that the resolver path must.

Parsing and validation are done once per document and operation name, and so, for a document without variables,
are the limit checks and the SQL. A document with variables has its limits checked per request (`check_document`,
as the resolver path does) and its SQL compiled once per variant: per set of facts the SQL's text depends on in
the variables (an `@include`, an `orderBy`, which filters are set), the parameters bound from each request's.
"""

import logging
import sqlite3
import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any, cast

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
from .compiler import Compiler, Fact, RootSQL, Unsupported
from .limits import Limits, check_document, long_strings

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
    """Plans by document and operation name, least recently used dropped first. One per schema and limits: a plan
    is never reused under other limits. A document the resolver path must answer (it does not parse, is not
    valid, is not one query, or has no variables and is over a limit) is remembered as None."""

    def __init__(self, schema: Schema, limits: Limits, size: int = PLAN_CACHE_SIZE) -> None:
        self.schema = schema
        self.limits = limits
        self.size = size
        self.plans: OrderedDict[tuple[str, str | None], Plan | None] = OrderedDict()
        self.lock = threading.Lock()  # the event loop and the worker's thread both read and reorder it

    def __len__(self) -> int:
        return len(self.plans)

    def get(self, query: str, operation_name: str | None) -> Plan | None:
        cached = self._cached(query, operation_name)
        if cached is not MISSING:
            return cast(Plan | None, cached)
        plan = self._plan(query, operation_name)  # outside the lock: the event loop never waits for a planning
        with self.lock:
            self.plans[query, operation_name] = plan
            if len(self.plans) > self.size:
                self.plans.popitem(last=False)
        return plan

    def planned(self, query: str, operation_name: str | None) -> Plan | None:
        """The plan made before for this document and operation, if any; never plans one."""
        cached = self._cached(query, operation_name)
        return None if cached is MISSING else cast(Plan | None, cached)

    def _cached(self, query: str, operation_name: str | None) -> Any:
        with self.lock:
            plan = self.plans.get((query, operation_name), MISSING)
            if plan is not MISSING:
                self.plans.move_to_end((query, operation_name))
            return plan

    def _plan(self, query: str, operation_name: str | None) -> Plan | None:
        limits = self.limits
        try:
            document = parse(
                query,
                max_lexical_tokens=limits.max_tokens,
                max_comments=limits.max_comments,
                max_source_length=limits.max_document_chars,
            )
        except (GraphQLError, RecursionError):
            return None
        if validate_document(self.schema._schema, document, tuple(specified_rules)):
            return None
        operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
        if len(operations) > 1 and operation_name is None:
            return None  # the resolver path says which to name
        operation = get_operation_ast(document, operation_name)
        if operation is None or operation.operation != OperationType.QUERY:
            return None
        fragments = {
            d.name.value: FragmentDetails(d) for d in document.definitions if isinstance(d, FragmentDefinitionNode)
        }
        plan = Plan(document, operation, fragments)
        if not any(o.variable_definitions for o in operations):
            # Nothing in the document reads variables: every limit check and the SQL are done once, here.
            if check_document(document.definitions, self.schema, {}, limits) or self.compile(plan, {}) is None:
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
) -> dict[str, Any] | None:
    """The response body, from one statement per root field on `conn`; None when the resolver path must answer
    (something not compiled, an argument it refuses, a statement stopped past its time limit). `planned_only`: None
    too unless the document was planned and these variables' SQL compiled before (parsing, validating and compiling
    a new document take time in proportion to it; this is what runs on the event loop)."""
    plan = plans.planned(query, operation_name) if planned_only else plans.get(query, operation_name)
    if plan is None or (planned_only and not plan.on_loop):
        return None
    inputs = variables or {}
    if plan.fixed:
        if inputs and long_strings((), inputs, plans.limits.max_string_chars):
            return None  # variables the operation does not declare are still checked
    elif check_document(plan.document.definitions, plans.schema, inputs, plans.limits):
        return None
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

"""The compiled read path's entry: a bounded cache of parsed, validated and limit-checked operations, and
`execute`, which answers a request with one SQL statement per root field or says that the resolver path must.

What depends on the document alone (parsing, validation, depth, aliases, string literals, and for an operation
without variables its node estimate and its SQL) is done once per document and operation name; what reads the
variables (their string lengths, the node estimate, the SQL) is done per request.
"""

import logging
import sqlite3
from collections import OrderedDict
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
from .compile import Compiler, Unsupported
from .limits import Limits, aliases, depth, estimated_nodes, long_strings

logger = logging.getLogger("diplo")
PLAN_CACHE_SIZE = 256  # each document is at most `max_document_chars`, so this bounds the cache's memory

Compiled = list[tuple[str, str, dict[str, Any]]]  # (response key, SQL, parameters) per root field


@dataclass
class Plan:
    """A document parsed, validated and checked against the document-level limits once, with the operation a
    request names in it; for an operation without variables, its SQL too (None: it is not compiled)."""

    document: DocumentNode
    operation: OperationDefinitionNode
    fragments: dict[str, FragmentDetails]
    compiled: Compiled | None = field(default=None)
    fixed: bool = False  # no operation of the document has variables: `compiled` holds the SQL


class Plans:
    """Plans by document and operation name, least recently used dropped first. One per schema and limits: a plan
    is never reused under other limits. A document the resolver path must answer (it does not parse, is not
    valid, is over a document-level limit, is not one query) is remembered as None."""

    def __init__(self, schema: Schema, limits: Limits, size: int = PLAN_CACHE_SIZE) -> None:
        self.schema = schema
        self.limits = limits
        self.size = size
        self.plans: OrderedDict[tuple[str, str | None], Plan | None] = OrderedDict()

    def __len__(self) -> int:
        return len(self.plans)

    def get(self, query: str, operation_name: str | None) -> Plan | None:
        key = (query, operation_name)
        if key in self.plans:
            self.plans.move_to_end(key)
            return self.plans[key]
        plan = self._plan(query, operation_name)
        self.plans[key] = plan
        if len(self.plans) > self.size:
            self.plans.popitem(last=False)
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
        if not self._within_document_limits(plan, operations):
            return None
        if not any(o.variable_definitions for o in operations):
            if not self.within_request_limits(plan, {}):
                return None
            plan.compiled, plan.fixed = self.compile(plan, {}), True
        return plan

    def _within_document_limits(self, plan: Plan, operations: list[OperationDefinitionNode]) -> bool:
        """Depth, aliases and string literals, over every operation of the document (as `check_document`)."""
        limits = self.limits
        if long_strings(plan.document.definitions, None, limits.max_string_chars):
            return False
        try:
            return all(
                depth(o.selection_set, _definitions(plan), limits.max_depth) <= limits.max_depth
                and aliases(o.selection_set, _definitions(plan)) <= limits.max_aliases
                for o in operations
            )
        except RecursionError:
            return False

    def within_request_limits(self, plan: Plan, variables: dict[str, Any]) -> bool:
        """The variables' string lengths and the node estimate, over every operation of the document."""
        limits = self.limits
        if long_strings((), variables, limits.max_string_chars):
            return False
        schema = self.schema._schema
        for operation in plan.document.definitions:
            if isinstance(operation, OperationDefinitionNode):
                root = schema.get_root_type(operation.operation)
                estimate = estimated_nodes(
                    operation.selection_set, root, schema.get_type, _definitions(plan), variables
                )
                if estimate > limits.max_nodes:
                    return False
        return True

    def compile(self, plan: Plan, variables: dict[str, Any]) -> Compiled | None:
        """The operation's SQL with these variables; None where the resolver path must answer."""
        schema = self.schema._schema
        coerced = get_variable_values(schema, plan.operation.variable_definitions or (), variables)
        if not isinstance(coerced, VariableValues):
            return None
        try:
            return Compiler(schema, plan.fragments, coerced, plan.operation).statements()
        except (Unsupported, GraphQLError):
            return None
        except Exception:  # a bug in the compiler: logged, and the reference executor answers
            logger.exception("the compiled path failed; the resolver path answers")
            return None


def _definitions(plan: Plan) -> dict[str, FragmentDefinitionNode]:
    return {name: details.definition for name, details in plan.fragments.items()}


def execute(
    plans: Plans, conn: sqlite3.Connection, query: str, variables: dict[str, Any] | None, operation_name: str | None
) -> dict[str, Any] | None:
    """The response body, from one statement per root field on `conn`; None when the resolver path must answer
    (something not compiled, an argument it refuses, a statement stopped past its time limit)."""
    plan = plans.get(query, operation_name)
    if plan is None:
        return None
    inputs = variables or {}
    if plan.fixed:
        if inputs and long_strings((), inputs, plans.limits.max_string_chars):
            return None  # variables the operation does not declare are still checked
        compiled = plan.compiled
    elif plans.within_request_limits(plan, inputs):
        compiled = plans.compile(plan, inputs)
    else:
        return None
    if compiled is None:
        return None
    dialect.register(conn)
    data: dict[str, Any] = {}
    try:
        for _key, sql, params in compiled:
            data.update(orjson.loads(conn.execute(sql, params).fetchone()[0]))
    except sqlite3.Error:
        return None
    return {"data": data}

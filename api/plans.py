"""The compiled read path's entry: a bounded cache of parsed and validated operations, and `execute`, which
answers a request with one SQL statement per root field or says that the resolver path must answer it.
"""

import logging
import sqlite3
from collections import OrderedDict
from dataclasses import dataclass
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
from .limits import Limits, check_document

logger = logging.getLogger("diplo")
PLAN_CACHE_SIZE = 256  # documents are at most `max_document_chars` each, so this bounds the cache's memory


@dataclass(frozen=True)
class Plan:
    """A document parsed and validated once, with the operation a request names in it."""

    document: DocumentNode
    operation: OperationDefinitionNode
    fragments: dict[str, FragmentDetails]


class Plans:
    """Plans by document and operation name, least recently used dropped first. One per schema and limits: a plan
    is never reused under other limits. A document the resolver path must answer (it does not parse, is not
    valid, is not one query) is remembered as None."""

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
        return Plan(document, operation, fragments)


def execute(
    plans: Plans, conn: sqlite3.Connection, query: str, variables: dict[str, Any] | None, operation_name: str | None
) -> dict[str, Any] | None:
    """The response body, from one statement per root field on `conn`; None when the resolver path must answer
    (something not compiled, an argument it refuses, a statement stopped past its time limit)."""
    plan = plans.get(query, operation_name)
    if plan is None:
        return None
    inputs = variables or {}
    if check_document(plan.document.definitions, plans.schema, inputs, plans.limits):
        return None
    coerced = get_variable_values(plans.schema._schema, plan.operation.variable_definitions or (), inputs)
    if not isinstance(coerced, VariableValues):
        return None
    try:
        compiled = Compiler(plans.schema._schema, plan.fragments, coerced, plan.operation).statements()
    except (Unsupported, GraphQLError):
        return None
    except Exception:  # a bug in the compiler: logged, and the reference executor answers
        logger.exception("the compiled path failed; the resolver path answers")
        return None
    dialect.register(conn)
    data: dict[str, Any] = {}
    try:
        for _key, sql, params in compiled:
            data.update(orjson.loads(conn.execute(sql, params).fetchone()[0]))
    except sqlite3.Error:
        return None
    return {"data": data}

"""Request limits for a public API: each bounded before any resolver runs, each configurable.

Parser limits (document length, tokens, comments) stop hostile documents before an AST is built. The shape limits
(selections with fragments expanded, fields of one name merged into one selection set, depth, aliases) are checked
on the AST before graphql-core validates it: validation cannot be interrupted, and its overlapping-fields rule is
quadratic in the fields of one name that merge (a 9 KB document repeating one field 270 times took 0.7 s in it).
The result-size limit (GitHub's method: multiply the `first` or `last` of nested connections) is checked per
request, as it depends on the variables. A rejected query costs no SQL.
"""

from collections.abc import Callable, Iterator
from dataclasses import dataclass, fields
from typing import Any, cast

import graphql
from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLInterfaceType,
    GraphQLNamedType,
    GraphQLObjectType,
    InlineFragmentNode,
    IntValueNode,
    OperationDefinitionNode,
    SelectionSetNode,
    VariableNode,
    get_named_type,
)
from strawberry.extensions import SchemaExtension

from .errors import QUERY_TOO_COMPLEX, bad_input
from .pagination import DEFAULT_FIRST, MAX_FIRST


@dataclass(frozen=True)
class Limits:
    """Every limit with its default; `diplo serve` takes each as `--limit NAME=VALUE`."""

    max_depth: int = 10
    max_aliases: int = 15
    max_tokens: int = 2000
    max_comments: int = 100
    max_document_chars: int = 20_000
    max_nodes: int = 10_000
    max_selections: int = 1000
    max_same_name_fields: int = 30
    max_body_bytes: int = 64 * 1024
    max_string_chars: int = 200
    max_response_bytes: int = 4 * 1024 * 1024
    sql_statement_seconds: float = 1.0
    operation_seconds: float = 3.0
    inline_seconds: float = 0.002
    request_read_seconds: float = 10.0
    persisted_queries: int = 1000
    persisted_query_bytes: int = 4 * 1024 * 1024

    @classmethod
    def parse(cls, items: list[str]) -> "Limits":
        """`["max_depth=12", ...]` over the defaults; unknown names and bad values raise ValueError."""
        types = {f.name: f.type for f in fields(cls)}
        values: dict[str, Any] = {}
        for item in items:
            name, _, raw = item.partition("=")
            if name not in types:
                raise ValueError(f"unknown limit {name!r}; known: {', '.join(types)}")
            values[name] = float(raw) if types[name] in (float, "float") else int(raw)
            if values[name] <= 0:
                raise ValueError(f"limit {name} must be positive")
        return cls(**values)


def too_complex(message: str) -> GraphQLError:
    return GraphQLError(message, extensions={"code": QUERY_TOO_COMPLEX})


def nested_too_deeply() -> GraphQLError:
    return too_complex("fragments nest too deeply; spread them less deep")


_Fragments = dict[str, FragmentDefinitionNode]


def _fields(
    selection_set: SelectionSetNode | None, fragments: _Fragments, seen: frozenset[str] = frozenset()
) -> Iterator[tuple[FieldNode, str | None]]:
    """The fields of a selection set with fragments expanded, each with the type condition it sits under."""
    if selection_set is None:
        return
    for selection in selection_set.selections:
        if isinstance(selection, FieldNode):
            yield selection, None
        elif isinstance(selection, InlineFragmentNode):
            condition = selection.type_condition.name.value if selection.type_condition else None
            for node, inner in _fields(selection.selection_set, fragments, seen):
                yield node, inner or condition
        elif isinstance(selection, FragmentSpreadNode):
            name = selection.name.value
            fragment = fragments.get(name)
            if fragment is not None and name not in seen:  # a fragment cycle is a validation error, not a hang
                for node, inner in _fields(fragment.selection_set, fragments, seen | {name}):
                    yield node, inner or fragment.type_condition.name.value


class Expansion:
    """Selections counted with fragments expanded (fields, inline fragments and spreads, one each), each fragment's
    count made once and reused, so a fragment spread many times costs one count and a document costs a walk of its
    own text. Counting stops once past `cap`. A fragment that spreads itself sets `cycle` and adds nothing more."""

    def __init__(self, fragments: _Fragments, cap: int) -> None:
        self.fragments = fragments
        self.cap = cap
        self.counts: dict[str, int] = {}
        self.open: set[str] = set()  # the fragments being counted: a spread to one of them closes a cycle
        self.cycle = False

    def selections(self, selection_set: SelectionSetNode) -> int:
        total = 0
        for selection in selection_set.selections:
            total += 1
            if isinstance(selection, FragmentSpreadNode):
                total += self.fragment(selection.name.value)
            elif isinstance(selection, FieldNode | InlineFragmentNode) and selection.selection_set is not None:
                total += self.selections(selection.selection_set)
            if total > self.cap:
                break
        return total

    def fragment(self, name: str) -> int:
        """The selections the fragment `name` expands to; 0 for one not defined (validation reports it)."""
        if name in self.counts:
            return self.counts[name]
        definition = self.fragments.get(name)
        if definition is None:
            return 0
        if name in self.open:
            self.cycle = True
            return 0
        self.open.add(name)
        self.counts[name] = self.selections(definition.selection_set)
        self.open.discard(name)
        return self.counts[name]


def merged_fields(
    selection_sets: list[SelectionSetNode], fragments: _Fragments
) -> Iterator[tuple[str, list[FieldNode]]]:
    """Each response name with the fields answering to it that merge into one: those of the same selection set,
    fragments expanded, and those of the selection sets of fields that merge (the executor, and validation's
    overlapping-fields rule, take them as one); all the way down. Visits each field once per place it is expanded."""
    stack = [selection_sets]
    while stack:
        groups: dict[str, list[FieldNode]] = {}
        for selection_set in stack.pop():
            for node, _ in _fields(selection_set, fragments):
                groups.setdefault((node.alias or node.name).value, []).append(node)
        for key, group in groups.items():
            yield key, group
            inner = [node.selection_set for node in group if node.selection_set is not None]
            if inner:
                stack.append(inner)


def depth(selection_set: SelectionSetNode | None, fragments: _Fragments, cap: int) -> int:
    """Nesting of fields, counted no further than `cap` + 1; introspection (`__schema`, `__type`) is not
    counted, so GraphiQL keeps working."""
    if cap < 0:
        return 1
    return max(
        (1 + depth(f.selection_set, fragments, cap - 1) for f, _ in _fields(selection_set, fragments)
         if not f.name.value.startswith("__")),
        default=0,
    )  # fmt: skip


def aliases(selection_set: SelectionSetNode | None, fragments: _Fragments) -> int:
    return sum(
        (1 if f.alias else 0) + aliases(f.selection_set, fragments) for f, _ in _fields(selection_set, fragments)
    )


@dataclass
class Estimate:
    """The most a response may hold: objects, and bytes that its field names and punctuation alone take."""

    nodes: int = 0
    bytes: int = 0


def estimate(
    selection_set: SelectionSetNode | None,
    parent: GraphQLNamedType | None,
    resolve_type: Callable[[str], GraphQLNamedType | None],
    fragments: _Fragments,
    variables: dict[str, Any],
    multiplier: int = 1,
    found: Estimate | None = None,
) -> Estimate:
    """Each connection multiplies by its page size (`first` or `last`, default 20) the count above it; each field
    adds, per object it sits in, its name and the quotes, colon and comma around it (a lower bound on its size:
    values come on top)."""
    found = found or Estimate()
    for node, condition in _fields(selection_set, fragments):
        owner = resolve_type(condition) if condition else parent
        if not isinstance(owner, GraphQLObjectType | GraphQLInterfaceType):
            continue
        definition = owner.fields.get(node.name.value)
        if definition is None:
            continue
        found.bytes += multiplier * (len((node.alias or node.name).value) + 4)
        field_type = get_named_type(definition.type)
        factor = multiplier
        if "first" in definition.args and field_type.name.endswith("Connection"):
            factor = multiplier * _page_size(node, variables)
            found.nodes += factor
        estimate(node.selection_set, field_type, resolve_type, fragments, variables, factor, found)
    return found


def _page_size(node: FieldNode, variables: dict[str, Any]) -> int:
    """A connection's page size: its `last` or its `first` (the larger, when both are given, which is refused when
    the field runs), 20 when neither is."""
    sizes = [_argument(node, variables, name) for name in ("first", "last")]
    given = [size for size in sizes if size is not None]
    return max(given) if given else DEFAULT_FIRST


def _argument(node: FieldNode, variables: dict[str, Any], name: str) -> int | None:
    value: Any = None
    for argument in node.arguments or ():
        if argument.name.value == name:
            if isinstance(argument.value, IntValueNode):
                value = int(argument.value.value)
            elif isinstance(argument.value, VariableNode):
                value = variables.get(argument.value.name.value)
    if value is None:
        return None
    # Out-of-range values are refused as BAD_USER_INPUT when the field runs, which says more than a size estimate.
    return min(max(value, 0), MAX_FIRST) if isinstance(value, int) else 0


def limits_extension(limits: Limits) -> Callable[[], SchemaExtension]:
    """A factory for the extension that enforces `limits` (a factory: strawberry makes one per operation)."""

    class RequestLimits(SchemaExtension):
        def on_operation(self) -> Iterator[None]:
            parse_options = cast(dict[str, Any], self.execution_context.parse_options)  # graphql-core 3.3 options
            parse_options.update(
                max_lexical_tokens=limits.max_tokens,
                max_comments=limits.max_comments,
                max_source_length=limits.max_document_chars,
            )
            yield

        def on_validate(self) -> Iterator[None]:
            context = self.execution_context
            document = context.graphql_document
            # Validation cannot be interrupted, so it does not start past the operation's deadline (the budget of
            # `diplo.server.worker`, on the context the app passes); the app answers TIMEOUT.
            budget = getattr(context.context, "budget", None)
            stopped = budget.stopped() if budget is not None else None
            if stopped is not None:
                context.pre_execution_errors = [GraphQLError(stopped.message, extensions={"code": stopped.code})]
            elif document is not None:
                errors = check_document(document.definitions, context.schema, context.variables or {}, limits)
                operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
                named = all(o.name for o in operations)  # else validation reports the anonymous one
                # The spec's rule; strawberry would run the first. The name as sent is on our context object.
                requested = getattr(context.context, "operation_name", None)
                if len(operations) > 1 and named and requested is None:
                    errors.append(bad_input("the document has several operations: name one in `operationName`"))
                if errors:
                    context.pre_execution_errors = errors  # strawberry then skips validation and execution
            yield

    return RequestLimits


def long_strings(definitions: Any, variables: Any, limit: int) -> list[str]:
    """Descriptions of the string arguments and variable values longer than `limit` characters."""
    found: list[str] = []

    class Visitor(graphql.Visitor):
        def enter_string_value(self, node: graphql.StringValueNode, *_: Any) -> None:
            if len(node.value) > limit:
                found.append(f"a string argument of {len(node.value)} characters")

    for definition in definitions:
        graphql.visit(definition, Visitor())
    stack: list[tuple[str, Any]] = [("$" + name, value) for name, value in (variables or {}).items()]
    while stack:
        where, value = stack.pop()
        if isinstance(value, str) and len(value) > limit:
            found.append(f"variable {where} of {len(value)} characters")
        elif isinstance(value, dict):
            stack.extend((f"{where}.{key}", item) for key, item in value.items())
        elif isinstance(value, list):
            stack.extend((f"{where}[{i}]", item) for i, item in enumerate(value))
    return found


def check_document(definitions: Any, schema: Any, variables: dict[str, Any], limits: Limits) -> list[GraphQLError]:
    """Every limit on a document and its variables: its shape's, then (when the shape is within them) its size's."""
    return check_shape(definitions, schema, limits) or check_size(definitions, schema, variables, limits)


def _string_too_long(what: str, limits: Limits) -> GraphQLError:
    return bad_input(f"{what} is over the limit of {limits.max_string_chars}")


def check_shape(definitions: Any, schema: Any, limits: Limits) -> list[GraphQLError]:
    """The limits the document alone decides, the same for every request of it (a plan keeps the answer), checked
    before graphql-core validates it. Every walk is bounded before it runs: the selections are counted first, each
    fragment once, and the walks that expand fragments run only on a document within `max_selections` and without
    a fragment cycle. The roots are the operations and the fragments no operation spreads (validation reads those
    too)."""
    too_long = long_strings(definitions, {}, limits.max_string_chars)
    if too_long:
        return [_string_too_long(what, limits) for what in too_long]
    fragments = {d.name.value: d for d in definitions if isinstance(d, FragmentDefinitionNode)}
    operations = [d for d in definitions if isinstance(d, OperationDefinitionNode)]
    roots = [(_name(o), o.selection_set) for o in operations]
    expansion = Expansion(fragments, limits.max_selections)
    try:
        total = 0
        for _, selection_set in roots:
            total += expansion.selections(selection_set)
            if total > limits.max_selections:
                break
        for name, fragment in fragments.items():
            if total <= limits.max_selections and name not in expansion.counts:
                roots.append((f"fragment {name}", fragment.selection_set))
                total += expansion.fragment(name)
        if expansion.cycle:  # the walks below would follow it round: graphql-core's rule says where it is
            document = DocumentNode(definitions=tuple(definitions))
            return graphql.validate(schema._schema, document, [graphql.NoFragmentCyclesRule])
        if total > limits.max_selections:
            return [too_complex(
                f"the document has more than {limits.max_selections} selections, its fragments expanded where "
                "they are spread; select fewer fields or send several requests"
            )]  # fmt: skip
        return _repeated_fields(roots, fragments, limits) or [
            error for operation in operations for error in _nesting(operation, fragments, limits)
        ]
    except RecursionError:  # fragments spreading fragments, hundreds deep
        return [nested_too_deeply()]


def _name(operation: OperationDefinitionNode) -> str:
    return operation.name.value if operation.name else "anonymous operation"


def _repeated_fields(
    roots: list[tuple[str, SelectionSetNode]], fragments: _Fragments, limits: Limits
) -> list[GraphQLError]:
    errors: list[GraphQLError] = []
    for root, selection_set in roots:
        for key, group in merged_fields([selection_set], fragments):
            if len(group) > limits.max_same_name_fields:
                errors.append(too_complex(
                    f"{root}: `{key}` is selected {len(group)} times in one selection set (counting those of fields "
                    f"merged with it), over the limit of {limits.max_same_name_fields}; select each field once"
                ))  # fmt: skip
                break
    return errors


def _nesting(operation: OperationDefinitionNode, fragments: _Fragments, limits: Limits) -> list[GraphQLError]:
    name = _name(operation)
    if depth(operation.selection_set, fragments, limits.max_depth) > limits.max_depth:
        return [too_complex(f"{name}: depth exceeds the limit of {limits.max_depth}")]
    found = aliases(operation.selection_set, fragments)
    if found > limits.max_aliases:
        return [too_complex(f"{name}: {found} aliases exceed the limit of {limits.max_aliases}")]
    return []


def check_size(definitions: Any, schema: Any, variables: dict[str, Any], limits: Limits) -> list[GraphQLError]:
    """The limits that depend on the variables: their strings' length, and the response's size (each connection at
    its `first` or `last`). For a document within `check_shape`'s limits, which bound the walk."""
    too_long = long_strings((), variables, limits.max_string_chars)
    if too_long:
        return [_string_too_long(what, limits) for what in too_long]
    fragments = {d.name.value: d for d in definitions if isinstance(d, FragmentDefinitionNode)}
    graphql_schema = schema._schema
    errors: list[GraphQLError] = []
    for operation in (d for d in definitions if isinstance(d, OperationDefinitionNode)):
        name = _name(operation)
        root = graphql_schema.get_root_type(operation.operation)
        try:
            most = estimate(operation.selection_set, root, graphql_schema.get_type, fragments, variables)
        except RecursionError:
            errors.append(nested_too_deeply())
            continue
        if most.nodes > limits.max_nodes:
            errors.append(too_complex(
                f"{name}: up to {most.nodes} objects could be returned, over the limit of {limits.max_nodes}; "
                "lower `first` or `last` on nested connections"
            ))  # fmt: skip
        elif most.bytes > limits.max_response_bytes:
            errors.append(too_complex(
                f"{name}: the response could take {most.bytes} bytes before any value, over the limit of "
                f"{limits.max_response_bytes}; lower `first` or `last` on nested connections or select fewer fields"
            ))  # fmt: skip
    return errors

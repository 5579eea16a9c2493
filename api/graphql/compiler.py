"""The compiled read path: a validated operation becomes one SQL statement per root field that builds that field's
JSON in SQLite, so no Python runs per field of the response.

The compiler covers the types declared in `api/graphql/catalog.py`. Anything else (introspection, a field not declared
there) raises `Unsupported`, and any argument the resolver path would refuse raises its GraphQLError: the resolver
path then answers the whole request, so error messages, paths and partial data are exactly the reference executor's.

The SQL's text is compiled once per variant: what it depends on in the variables (an `@include`, an `orderBy`,
which filters are set) is recorded as facts while compiling, and each parameter's value (a `first`, a cursor's
position, a search, an id) is a binder that computes it again from each request's variables.
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import Enum
from typing import Any, TypeVar

from graphql import (
    GraphQLField,
    GraphQLObjectType,
    GraphQLSchema,
    Node,
    OperationDefinitionNode,
    VariableNode,
    get_named_type,
)
from graphql.execution.collect_fields import (
    FieldDetails,
    FragmentDetails,
    collect_fields,
    collect_subfields,
)
from graphql.execution.values import VariableValues, get_argument_values

from . import dialect, queries
from .catalog import TABLES, Column, Countries, CountryOf, Field, Id, Localized, Many, One
from .pagination import Position, check_first, decode_cursor
from .queries import NESTED_ORDER, Listing, plain_text
from .schema import RECORDS
from .types import parse_global_id

Details = list[FieldDetails]
T = TypeVar("T")
Probe = Callable[[VariableValues], Any]  # something computed from a request's coerced variables
Fact = tuple[Probe, Any]  # something the SQL's text depends on, and what it was when compiled
Statement = tuple[str, str, dict[str, Probe]]  # (response key, SQL, each parameter's binder) per root field


class Unsupported(Exception):
    """The compiler does not answer this request; the resolver path does."""


# Root connection fields: (listing, how its `filter` argument becomes conditions, the node type). A listing with
# an `orderBy` argument sorts by date (oldest first by default), the others by key.
ROOT_LISTINGS: dict[str, tuple[Listing, Callable[[dict[str, Any]], queries.Where], str]] = {
    "meetings": (queries.MEETINGS, queries.meeting_where, "Meeting"),
    "statements": (queries.STATEMENTS, queries.statement_where, "Statement"),
    "delegations": (queries.DELEGATIONS, queries.delegation_where, "Delegation"),
    "topics": (queries.TOPICS, lambda _: queries.Where(), "Topic"),
    "persons": (queries.PERSONS, lambda _: queries.Where(), "Person"),
    "organizations": (queries.ORGANIZATIONS, lambda _: queries.Where(), "Organization"),
    "sources": (queries.SOURCES, lambda _: queries.Where(), "Source"),
}
ROOT_RECORDS = {"meeting": "Meeting", "statement": "Statement", "topic": "Topic", "person": "Person",
                "organization": "Organization", "source": "Source"}  # fmt: skip
COUNTRIES = f"SELECT country AS code FROM ({queries.COUNTRY_CODES}) WHERE country IS NOT NULL ORDER BY country"
# How a Column's value is encoded in the response, by its kind.
ENCODINGS: dict[str, Callable[[str], str]] = {
    "plain": lambda value: value,
    "enum": dialect.enum,
    "json": dialect.json_text,
    "timestamp": dialect.timestamp,
}


def _snake(name: str) -> str:
    return "".join("_" + c.lower() if c.isupper() else c for c in name)


def _filter_values(value: dict[str, Any] | None) -> dict[str, Any]:
    """A coerced filter argument as the resolver path hands it to `api.queries`: snake-case names, enum values."""
    return {_snake(k): (v.value if isinstance(v, Enum) else v) for k, v in (value or {}).items()}


def _where_sql(where: queries.Where) -> tuple[str, Sequence[Any]]:
    return where.sql(), where.params


def _reads_variables(node: Any) -> bool:
    if isinstance(node, VariableNode):
        return True
    if isinstance(node, Node):
        return any(_reads_variables(getattr(node, k)) for k in node.keys)
    return isinstance(node, tuple | list) and any(_reads_variables(n) for n in node)


def _variable(name: str) -> Probe:
    return lambda variables: (name in variables.coerced, variables.coerced.get(name))


def _constant(value: Any) -> Probe:
    return lambda _: value


def _bindable(value: Any) -> Any:
    return plain_text(value) if isinstance(value, str) else value


@dataclass(frozen=True)
class Args:
    """A field's arguments as a function of the variables; `dynamic` when they read any."""

    definition: GraphQLField
    details: Details
    dynamic: bool

    def of(self, variables: VariableValues) -> dict[str, Any]:
        return get_argument_values(self.definition, self.details[0].node, variables)


class Reads(dict[str, Any]):
    """Coerced variables that note each one looked up: what `@include` and `@skip` make of them is a fact."""

    def __init__(self, values: dict[str, Any], noted: Callable[[str], None]) -> None:
        super().__init__(values)
        self.noted = noted

    def __contains__(self, name: object) -> bool:
        self.noted(str(name))
        return super().__contains__(name)

    def __getitem__(self, name: str) -> Any:
        self.noted(name)
        return super().__getitem__(name)

    def get(self, name: str, default: Any = None) -> Any:
        self.noted(name)
        return super().get(name, default)


class Compiler:
    """Compiles one operation into `(response key, SQL, binders)` per root field: the SQL these variables need, and
    `facts`, what its text depends on in them (a request whose variables give the same facts can reuse it)."""

    def __init__(
        self,
        schema: GraphQLSchema,
        fragments: dict[str, FragmentDetails],
        variables: VariableValues,
        operation: OperationDefinitionNode,
    ) -> None:
        self.schema = schema
        self.fragments = fragments
        self.variables = variables
        self.operation = operation
        self.binders: dict[str, Probe] = {}
        self.aliases = 0
        self.facts: list[Fact] = []
        self.noted: set[str] = set()
        # Fields are collected through variables that note what `@include` and `@skip` read.
        self.collecting = VariableValues(variables.sources, Reads(variables.coerced, self.note))

    # --- bookkeeping ----------------------------------------------------------------------------------------

    def note(self, name: str) -> None:
        if name not in self.noted:
            self.noted.add(name)
            probe = _variable(name)
            self.facts.append((probe, probe(self.variables)))

    def shape(self, args: Args, of: Callable[[dict[str, Any]], T]) -> T:
        """What `of` makes of the arguments, which the SQL's text is made of: a fact when they read variables."""
        value = of(args.of(self.variables))
        if args.dynamic:
            self.facts.append((lambda variables: of(args.of(variables)), value))
        return value

    def param(self, args: Args, of: Callable[[dict[str, Any]], Any]) -> str:
        """A parameter holding what `of` makes of the arguments, computed again from each request's variables.
        It is computed now too: a value the resolver path refuses stops the compiling."""
        value = of(args.of(self.variables))
        name = f"p{len(self.binders)}"
        if args.dynamic:
            self.binders[name] = lambda variables: _bindable(of(args.of(variables)))
        else:
            self.binders[name] = _constant(_bindable(value))
        return ":" + name

    def bind(self, args: Args, of: Callable[[dict[str, Any]], tuple[str, Sequence[Any]]]) -> str:
        """The SQL `of` makes of the arguments, each `?` bound to the next of its values as a named parameter."""
        values = of(args.of(self.variables))[1]
        parts = self.shape(args, lambda a: of(a)[0]).split("?")
        if len(parts) != len(values) + 1:
            raise Unsupported("placeholders and values differ")
        out = parts[0]
        for i, part in enumerate(parts[1:]):
            out += self.param(args, lambda a, i=i: of(a)[1][i]) + part  # type: ignore[misc]
        return out

    def alias(self) -> str:
        self.aliases += 1
        return f"r{self.aliases}"

    def arguments(self, definition: GraphQLField, details: Details) -> Args:
        return Args(definition, details, _reads_variables(details[0].node.arguments))

    def _object_type(self, name: str) -> GraphQLObjectType:
        found = self.schema.get_type(name)
        if not isinstance(found, GraphQLObjectType):
            raise Unsupported(f"{name} is not an object type")
        return found

    # --- the operation ----------------------------------------------------------------------------------------

    def statements(self) -> list[Statement]:
        query_type = self.schema.query_type
        if query_type is None:
            raise Unsupported("no query type")
        grouped = collect_fields(
            self.schema, self.fragments, self.collecting, query_type, self.operation
        ).grouped_field_set
        compiled = []
        for key, details in grouped.items():
            self.binders = {}
            self.aliases = 0
            expression = self.root_field(query_type, details)
            compiled.append((key, f"SELECT {dialect.json_object([(key, expression)])}", self.binders))
        return compiled

    def root_field(self, query_type: GraphQLObjectType, details: Details) -> str:
        name = details[0].node.name.value
        if name == "__typename":
            return dialect.quote(query_type.name)
        definition = query_type.fields.get(name)
        if definition is None or name.startswith("__"):
            raise Unsupported(f"root field {name}")
        args = self.arguments(definition, details)
        if name in ROOT_LISTINGS:
            listing, where_of, target = ROOT_LISTINGS[name]
            condition = self.bind(args, lambda a: _where_sql(where_of(_filter_values(a.get("filter")))))
            order = queries.BY_KEY
            if "orderBy" in definition.args:
                default = definition.args["orderBy"].default_value
                order = self.shape(args, lambda a: (a.get("orderBy") or default).value)
            conn_type = self._object_type(get_named_type(definition.type).name)
            return self.connection(conn_type, listing, order, condition, target, args, details)
        if name in ROOT_RECORDS:
            target = ROOT_RECORDS[name]
            return self.lookup(target, f"{{r}}.key = {self.param(args, lambda a: a['key'])}", details)
        if name == "node":
            return self.node(args, details)
        if name == "countries":
            return self.countries(COUNTRIES, details)
        raise Unsupported(f"root field {name}")

    def node(self, args: Args, details: Details) -> str:
        # An id the resolver path refuses raises GraphQLError: it answers.
        type_name = self.shape(args, lambda a: parse_global_id(a["id"])[0])
        if type_name == "Country":  # not a table: one of the codes the data refers to
            r = self.alias()
            country = self.country(f"{r}.code", details)
            key = self.param(args, lambda a: parse_global_id(a["id"])[1])
            return dialect.nested(f"SELECT {country} FROM ({COUNTRIES}) {r} WHERE {r}.code = {key}")
        if type_name in RECORDS:
            columns = TABLES[type_name].id.columns
            if not self.shape(args, lambda a: len(parse_global_id(a["id"])[1].split("/")) == len(columns)):
                return "NULL"
            condition = " AND ".join(
                f"{{r}}.{c} = {self.param(args, lambda a, i=i: parse_global_id(a['id'])[1].split('/')[i])}"  # type: ignore[misc]
                for i, c in enumerate(columns)
            )
        elif type_name in self._node_types():
            raise Unsupported(f"node of type {type_name}")  # one the resolver path finds some other way
        else:
            return "NULL"  # no such type: no such object
        return self.lookup(type_name, condition, details)

    def _node_types(self) -> set[str]:
        return {t.name for t in self.schema.type_map.values()
                if isinstance(t, GraphQLObjectType) and any(i.name == "Node" for i in t.interfaces)}  # fmt: skip

    # --- objects and their fields -------------------------------------------------------------------------------

    def lookup(self, type_name: str, condition: str, details: Details) -> str:
        """The object of `type_name` whose row meets `condition` (over `{r}`), or null."""
        r = self.alias()
        table = TABLES[type_name].name
        obj = self.obj(type_name, r, details)
        return dialect.nested(f"SELECT {obj} FROM {table} {r} WHERE {condition.format(r=r)}")

    def obj(self, type_name: str, a: str, details: Details) -> str:
        """The JSON object for the selection `details` on a row of `type_name` aliased `a`."""
        object_type = self._object_type(type_name)
        table = TABLES.get(type_name)
        if table is None:
            raise Unsupported(f"type {type_name}")
        grouped = self.subfields(object_type, details)
        pairs = []
        for key, sub in grouped.items():
            name = sub[0].node.name.value
            if name == "__typename":
                pairs.append((key, dialect.quote(type_name)))
                continue
            spec = table.fields.get(name)
            if spec is None:
                raise Unsupported(f"field {type_name}.{name}")
            pairs.append((key, self.field(type_name, object_type.fields[name], spec, a, sub)))
        return self.json_object(pairs)

    def subfields(self, object_type: GraphQLObjectType, details: Details) -> dict[str, Details]:
        return collect_subfields(
            self.schema, self.fragments, self.collecting, self.operation, object_type, details
        ).grouped_field_set

    def json_object(self, pairs: list[tuple[str, str]]) -> str:
        if len(pairs) > dialect.MAX_OBJECT_KEYS:
            raise Unsupported("more fields on one object than an SQL function takes arguments")
        return dialect.json_object(pairs)

    def field(self, type_name: str, definition: GraphQLField, spec: Field, a: str, details: Details) -> str:
        if isinstance(spec, Column):
            return ENCODINGS[spec.kind](spec.sql.format(a=a))
        if isinstance(spec, Id):
            return dialect.node_id(type_name, spec.key.format(a=a))
        if isinstance(spec, CountryOf):
            code = spec.code.format(a=a)
            return f"CASE WHEN {code} IS NULL THEN NULL ELSE {self.country(code, details)} END"
        if isinstance(spec, Countries):
            return self.countries(spec.sql.format(a=a), details)
        if isinstance(spec, Localized):
            args = self.arguments(definition, details)
            if spec.fallback is None:
                return dialect.json_member(spec.texts.format(a=a), self.param(args, lambda a: a.get("language")))
            fallback = spec.fallback.format(a=a)
            if not self.shape(args, lambda a: bool(a.get("language"))):
                return fallback
            language = self.param(args, lambda a: a.get("language"))
            return f"coalesce({dialect.json_member(spec.texts.format(a=a), language)}, {fallback})"
        if isinstance(spec, One):
            return self.lookup(spec.target, spec.condition.replace("{a}", a), details)
        if isinstance(spec, Many):
            r = self.alias()
            element = self.obj(spec.target, r, details)
            return dialect.nested(f"SELECT {dialect.json_array(element)} FROM ({spec.sql.format(a=a)}) {r}")
        args = self.arguments(definition, details)
        conn_type = self._object_type(get_named_type(definition.type).name)
        condition = spec.condition.format(a=a)
        return self.connection(conn_type, spec.listing, NESTED_ORDER, condition, spec.target, args, details)

    def country(self, code: str, details: Details) -> str:
        country_type = self._object_type("Country")
        pairs = []
        for key, sub in self.subfields(country_type, details).items():
            name = sub[0].node.name.value
            if name == "code":
                pairs.append((key, code))
            elif name == "id":
                pairs.append((key, dialect.node_id("Country", code)))
            elif name == "name":
                pairs.append((key, dialect.country_name(code)))
            elif name == "__typename":
                pairs.append((key, dialect.quote("Country")))
            else:
                raise Unsupported(f"field Country.{name}")
        return self.json_object(pairs)

    def countries(self, codes: str, details: Details) -> str:
        r = self.alias()
        element = self.country(f"{r}.code", details)
        return dialect.nested(f"SELECT {dialect.json_array(element)} FROM ({codes}) {r}")

    # --- connections ----------------------------------------------------------------------------------------------

    def connection(
        self,
        conn_type: GraphQLObjectType,
        listing: Listing,
        order: str,
        condition: str,
        target: str,
        args: Args,
        details: Details,
    ) -> str:
        """A page of `listing` where `condition`, keyset after the `after` argument, as the connection's JSON.
        A `first` or a cursor the resolver path refuses raises GraphQLError: it answers."""

        def after(a: dict[str, Any]) -> Position | None:
            cursor = a.get("after")
            return None if cursor is None else decode_cursor(cursor, listing.name, order)

        first = self.param(args, lambda a: check_first(a.get("first")))
        after_sql = self.bind(args, lambda a: queries.after_condition(listing, order, after(a)))
        paging = self.shape(args, lambda a: a.get("after") is not None)
        sort, tie, direction = listing.orders[order]
        r = self.alias()
        grouped = self.subfields(conn_type, details)
        names = {sub[0].node.name.value for sub in grouped.values()}
        # pageInfo needs one row more (is there a next page?) and each row's place; nodes alone need neither.
        numbered = "pageInfo" in names
        inner = (
            f"SELECT {listing.alias}.*, {sort} AS _sort, {tie} AS _tie FROM {listing.select()} "
            f"WHERE {condition} AND {after_sql} "
            f"ORDER BY {sort} {direction}, {tie} {direction} LIMIT {first + ' + 1' if numbered else first}"
        )
        ordered = f"ORDER BY _sort {direction}, _tie {direction}"
        page = f"SELECT *, row_number() OVER ({ordered}) AS _n, count(*) OVER () AS _rows FROM ({inner}) {ordered}"
        cursor = dialect.cursor(listing.name, order, f"{r}._sort", f"{r}._tie")
        shown = f"{r}._n <= {first}" if numbered else None
        pairs = []
        for key, sub in grouped.items():
            name = sub[0].node.name.value
            if name == "__typename":
                value = dialect.quote(conn_type.name)
            elif name == "totalCount":
                value = f"(SELECT count(*) FROM {listing.select()} WHERE {condition})"
            elif name == "nodes":
                value = dialect.json_array(self.obj(target, r, sub), shown)
            elif name == "edges":
                value = dialect.json_array(self.edge(conn_type, target, r, cursor, sub), shown)
            elif name == "pageInfo":
                value = self.page_info(r, first, paging, cursor, sub)
            else:
                raise Unsupported(f"field {conn_type.name}.{name}")
            pairs.append((key, value))
        # Rows are read only for what aggregates them: without nodes, edges or pageInfo there is no page, and an
        # aggregate over no rows still gives its one row.
        source = ""
        if names & {"nodes", "edges", "pageInfo"}:
            source = f" FROM ({page if numbered else inner}) {r}"
        return dialect.nested(f"SELECT {self.json_object(pairs)}{source}")

    def edge(self, conn_type: GraphQLObjectType, target: str, r: str, cursor: str, details: Details) -> str:
        edge_type = self._object_type(get_named_type(conn_type.fields["edges"].type).name)
        pairs = []
        for key, sub in self.subfields(edge_type, details).items():
            name = sub[0].node.name.value
            if name == "__typename":
                pairs.append((key, dialect.quote(edge_type.name)))
            elif name == "cursor":
                pairs.append((key, cursor))
            elif name == "node":
                pairs.append((key, self.obj(target, r, sub)))
            else:
                raise Unsupported(f"field {edge_type.name}.{name}")
        return self.json_object(pairs)

    def page_info(self, r: str, first: str, paging: bool, cursor: str, details: Details) -> str:
        values = {
            "__typename": dialect.quote("PageInfo"),
            "hasNextPage": dialect.boolean(f"coalesce(max({r}._rows), 0) > {first}"),
            "hasPreviousPage": dialect.boolean("1" if paging else "0"),
            "startCursor": f"max(CASE WHEN {r}._n = 1 AND {r}._n <= {first} THEN {cursor} END)",
            "endCursor": f"max(CASE WHEN {r}._n = min({r}._rows, {first}) THEN {cursor} END)",
        }
        pairs = []
        for key, sub in self.subfields(self._object_type("PageInfo"), details).items():
            name = sub[0].node.name.value
            if name not in values:
                raise Unsupported(f"field PageInfo.{name}")
            pairs.append((key, values[name]))
        return self.json_object(pairs)

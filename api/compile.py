"""The compiled read path: a validated operation becomes one SQL statement per root field that builds that field's
JSON in SQLite, so no Python runs per field of the response.

The compiler covers the types declared in `api/relations.py`. Anything else (introspection, a field not declared
there) raises `Unsupported`, and so does any argument the resolver path would refuse: the resolver path then
answers the whole request, so error messages, paths and partial data are exactly the reference executor's.
"""

from collections.abc import Callable, Sequence
from enum import Enum
from typing import Any

from graphql import (
    GraphQLError,
    GraphQLField,
    GraphQLObjectType,
    GraphQLSchema,
    OperationDefinitionNode,
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
from .pagination import Position, check_first, decode_cursor
from .queries import NESTED_ORDER, Listing, plain_text
from .relations import TABLES, Column, Countries, CountryOf, Field, Id, Localized, Many, One
from .schema import RECORDS
from .types import parse_global_id

Details = list[FieldDetails]


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


class Compiler:
    """Compiles one operation, with its variables, into `(response key, SQL, parameters)` per root field."""

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
        self.params: dict[str, Any] = {}
        self.aliases = 0

    # --- bookkeeping ----------------------------------------------------------------------------------------

    def param(self, value: Any) -> str:
        name = f"p{len(self.params)}"
        self.params[name] = plain_text(value) if isinstance(value, str) else value
        return ":" + name

    def bind(self, sql: str, values: Sequence[Any]) -> str:
        """`sql` with each `?` bound to the next of `values` as a named parameter."""
        parts = sql.split("?")
        if len(parts) != len(values) + 1:
            raise Unsupported("placeholders and values differ")
        out = parts[0]
        for value, part in zip(values, parts[1:], strict=True):
            out += self.param(value) + part
        return out

    def alias(self) -> str:
        self.aliases += 1
        return f"r{self.aliases}"

    def arguments(self, definition: GraphQLField, details: Details) -> dict[str, Any]:
        return get_argument_values(definition, details[0].node, self.variables)

    def _object_type(self, name: str) -> GraphQLObjectType:
        found = self.schema.get_type(name)
        if not isinstance(found, GraphQLObjectType):
            raise Unsupported(f"{name} is not an object type")
        return found

    # --- the operation ----------------------------------------------------------------------------------------

    def statements(self) -> list[tuple[str, str, dict[str, Any]]]:
        query_type = self.schema.query_type
        if query_type is None:
            raise Unsupported("no query type")
        grouped = collect_fields(
            self.schema, self.fragments, self.variables, query_type, self.operation
        ).grouped_field_set
        compiled = []
        for key, details in grouped.items():
            self.params = {}
            self.aliases = 0
            expression = self.root_field(query_type, details)
            compiled.append((key, f"SELECT {dialect.json_object([(key, expression)])}", self.params))
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
            where = where_of(_filter_values(args.get("filter")))
            order = queries.BY_KEY
            if "orderBy" in definition.args:
                order = (args.get("orderBy") or definition.args["orderBy"].default_value).value
            condition = self.bind(where.sql(), where.params)
            conn_type = self._object_type(get_named_type(definition.type).name)
            return self.connection(conn_type, listing, order, condition, target, args, details)
        if name in ROOT_RECORDS:
            target = ROOT_RECORDS[name]
            return self.lookup(target, f"{{r}}.key = {self.param(args['key'])}", details)
        if name == "node":
            return self.node(args["id"], details)
        if name == "countries":
            return self.countries(COUNTRIES, details)
        raise Unsupported(f"root field {name}")

    def node(self, global_id: str, details: Details) -> str:
        try:
            type_name, key = parse_global_id(global_id)
        except GraphQLError as error:
            raise Unsupported("an id the resolver path refuses") from error
        if type_name == "Country":  # not a table: one of the codes the data refers to
            r = self.alias()
            country = self.country(f"{r}.code", details)
            return dialect.nested(f"SELECT {country} FROM ({COUNTRIES}) {r} WHERE {r}.code = {self.param(key)}")
        if type_name in RECORDS:
            columns = TABLES[type_name].id.columns
            parts = key.split("/")
            if len(parts) != len(columns):
                return "NULL"
            condition = " AND ".join(f"{{r}}.{c} = {self.param(p)}" for c, p in zip(columns, parts, strict=True))
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
            self.schema, self.fragments, self.variables, self.operation, object_type, details
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
            language = self.arguments(definition, details).get("language")
            if spec.fallback is None:
                return dialect.json_member(spec.texts.format(a=a), self.param(language))
            fallback = spec.fallback.format(a=a)
            if not language:
                return fallback
            return f"coalesce({dialect.json_member(spec.texts.format(a=a), self.param(language))}, {fallback})"
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
        args: dict[str, Any],
        details: Details,
    ) -> str:
        """A page of `listing` where `condition`, keyset after `args['after']`, as the connection's JSON."""
        try:
            first = check_first(args.get("first"))
            after_arg = args.get("after")
            after = decode_cursor(after_arg, listing.name, order) if after_arg is not None else None
        except GraphQLError as error:
            raise Unsupported("page arguments the resolver path refuses") from error
        sort, tie, direction = listing.orders[order]
        after_sql, after_params = queries.after_condition(listing, order, after)
        r = self.alias()
        grouped = self.subfields(conn_type, details)
        names = {sub[0].node.name.value for sub in grouped.values()}
        # pageInfo needs one row more (is there a next page?) and each row's place; nodes alone need neither.
        numbered = "pageInfo" in names
        inner = (
            f"SELECT {listing.alias}.*, {sort} AS _sort, {tie} AS _tie FROM {listing.select()} "
            f"WHERE {condition} AND {self.bind(after_sql, after_params)} "
            f"ORDER BY {sort} {direction}, {tie} {direction} LIMIT {first + 1 if numbered else first}"
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
                value = self.page_info(r, first, after, cursor, sub)
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

    def page_info(self, r: str, first: int, after: Position | None, cursor: str, details: Details) -> str:
        values = {
            "__typename": dialect.quote("PageInfo"),
            "hasNextPage": dialect.boolean(f"coalesce(max({r}._rows), 0) > {first}"),
            "hasPreviousPage": dialect.boolean("1" if after is not None else "0"),
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

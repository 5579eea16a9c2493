"""The compiled read path: a validated operation becomes one SQL statement per root field that builds that field's
JSON in SQLite, so no Python runs per field of the response.

The compiler covers the types declared in `api/graphql/catalog.py`. Anything else (introspection, a field not declared
there) raises `Unsupported`, and any argument the resolver path would refuse raises its GraphQLError: the resolver
path then answers the whole request, so error messages, paths and partial data are exactly the reference executor's.

The SQL's text is compiled once per variant: what it depends on in the variables (an `@include`, an `orderBy`,
which filters are set) is recorded as facts while compiling, and each parameter's value (a `first`, a cursor's
position, a search, an id) is a binder that computes it again from each request's variables.
"""

from collections.abc import Callable, Mapping, Sequence
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
from .catalog import (
    FACETS,
    LISTINGS,
    LOOKUPS,
    RELATED,
    ROSTERS,
    TYPES,
    Column,
    Embedded,
    EmbeddedList,
    Facets,
    Field,
    Id,
    Localized,
    Many,
    One,
    facet_sql,
    filter_where,
    python_name,
)
from .ids import parse_global_id, path_condition, path_parts
from .pagination import Paging
from .pagination import paging as check_paging
from .queries import NESTED_ORDER, Listing, plain_text

Details = list[FieldDetails]
T = TypeVar("T")
Probe = Callable[[VariableValues], Any]  # something computed from a request's coerced variables
Fact = tuple[Probe, Any]  # something the SQL's text depends on, and what it was when compiled
RootSQL = tuple[str, str, dict[str, Probe]]  # (response key, SQL, each parameter's binder) per root field


class Unsupported(Exception):
    """The compiler does not answer this request; the resolver path does."""


@dataclass(frozen=True)
class Alias:
    """Where the columns of an object's row are in the SQL: the row aliased `name`, or, for a value object embedded
    in another row, that row's `columns` that hold its own."""

    name: str
    columns: Mapping[str, str] | None = None

    def column(self, column: str) -> str:
        return f"{self.name}.{self._own(column)}"

    def embedded(self, columns: Mapping[str, str]) -> "Alias":
        """Where an object embedded in this row, made of its `columns` (its own name to this row's), has them."""
        return Alias(self.name, {own: self._own(theirs) for own, theirs in columns.items()})

    def _own(self, column: str) -> str:
        return self.columns[column] if self.columns is not None else column


def _filter_values(value: dict[str, Any] | None) -> dict[str, Any]:
    """A coerced filter argument as the resolver path hands it to `api.queries`: snake-case names, enum values."""
    return {python_name(k): (v.value if isinstance(v, Enum) else v) for k, v in (value or {}).items()}


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

    def statements(self) -> list[RootSQL]:
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
        if name in LISTINGS:
            declared, target = LISTINGS[name]
            order = self.order(args, queries.BY_KEY)

            def rows(a: dict[str, Any]) -> tuple[Listing, queries.Where]:
                return declared.rows(_filter_values(a.get("filter")), order)

            listing = self.shape(args, lambda a: rows(a)[0])
            condition = self.bind(args, lambda a: _where_sql(rows(a)[1]))
            conn_type = self._object_type(get_named_type(definition.type).name)
            return self.connection(conn_type, listing, order, condition, target, args, details)
        if name in FACETS:
            return self.facets(FACETS[name], args, details)
        if name in LOOKUPS:
            return self.lookup(LOOKUPS[name], f"{{r}}.key = {self.param(args, lambda a: a['key'])}", details)
        if name in ROSTERS:
            target = ROSTERS[name]
            r = self.alias()
            element = self.obj(target, Alias(r), details)
            declared_rows = TYPES[target]
            every = f"SELECT * FROM {declared_rows.rows} ORDER BY {', '.join(declared_rows.id.columns)}"
            return dialect.nested(f"SELECT {dialect.json_array(element)} FROM ({every}) {r}")
        if name == "node":
            return self.node(args, details)
        raise Unsupported(f"root field {name}")

    def node(self, args: Args, details: Details) -> str:
        # An id the resolver path refuses raises GraphQLError: it answers.
        type_name = self.shape(args, lambda a: parse_global_id(a["id"])[0])
        if type_name not in TYPES or not TYPES[type_name].node:
            return "NULL"  # no such type (or none with ids): no such object
        columns = TYPES[type_name].id.columns

        def parts(a: dict[str, Any]) -> list[str] | None:
            return path_parts(parse_global_id(a["id"])[1], columns)

        if not self.shape(args, lambda a: parts(a) is not None):
            return "NULL"
        values = [self.param(args, lambda a, i=i: parts(a)[i]) for i in range(len(columns))]  # type: ignore[misc, index]
        return self.lookup(type_name, path_condition(columns, "{r}", values), details)

    def facets(self, declared: Facets, args: Args, details: Details) -> str:
        """Each facet group selected: one subquery that counts its values, under the filter but its own dimension."""
        object_type = self._object_type(declared.type)
        pairs = []
        for key, sub in self.subfields(object_type, details).items():
            name = sub[0].node.name.value
            if name == "__typename":
                pairs.append((key, dialect.quote(declared.type)))
                continue
            facet = declared.groups.get(name)
            if facet is None:
                raise Unsupported(f"field {declared.type}.{name}")
            counts = self.bind(args, lambda a, g=name: facet_sql(declared, g, _filter_values(a.get("filter"))))  # type: ignore[misc]
            r = self.alias()
            count_type = self._object_type(get_named_type(object_type.fields[name].type).name)
            values = {"value": dialect.ENCODERS[facet.encoding.kind](f"{r}.value"), "count": f"{r}.n",
                      "__typename": dialect.quote(count_type.name)}  # fmt: skip
            element = []
            for count_key, count_sub in self.subfields(count_type, sub).items():
                field_name = count_sub[0].node.name.value
                if field_name not in values:
                    raise Unsupported(f"field {count_type.name}.{field_name}")
                element.append((count_key, values[field_name]))
            array = dialect.json_array(self.json_object(element))
            pairs.append((key, dialect.nested(f"SELECT {array} FROM ({counts}) {r}")))
        return self.json_object(pairs)

    # --- objects and their fields -------------------------------------------------------------------------------

    def lookup(self, type_name: str, condition: str, details: Details) -> str:
        """The object of `type_name` whose row meets `condition` (over `{r}`), or null."""
        r = self.alias()
        obj = self.obj(type_name, Alias(r), details)
        return dialect.nested(f"SELECT {obj} FROM {TYPES[type_name].rows} {r} WHERE {condition.format(r=r)}")

    def obj(self, type_name: str, a: Alias, details: Details) -> str:
        """The JSON object for the selection `details` on a row of `type_name` at `a`."""
        object_type = self._object_type(type_name)
        declared = TYPES.get(type_name)
        if declared is None:
            raise Unsupported(f"type {type_name}")
        pairs = []
        for key, sub in self.subfields(object_type, details).items():
            name = sub[0].node.name.value
            if name == "__typename":
                pairs.append((key, dialect.quote(type_name)))
                continue
            spec = declared.fields.get(name)
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

    def field(self, type_name: str, definition: GraphQLField, spec: Field, a: Alias, details: Details) -> str:
        if isinstance(spec, Column):
            return dialect.ENCODERS[spec.encoding.kind](a.column(spec.column))
        if isinstance(spec, Id):
            return dialect.node_id(type_name, " || '/' || ".join(a.column(c) for c in spec.columns))
        if isinstance(spec, Embedded):
            first = a.column(next(iter(spec.columns.values())))
            obj = self.obj(spec.target, a.embedded(spec.columns), details)
            return f"CASE WHEN {first} IS NULL THEN NULL ELSE {obj} END"
        if isinstance(spec, EmbeddedList):
            r = self.alias()
            element = self.obj(spec.target, Alias(r), details)
            return dialect.nested(f"SELECT {dialect.json_array(element)} FROM ({spec.sql.format(a=a.name)}) {r}")
        if isinstance(spec, Localized):
            args = self.arguments(definition, details)
            texts = a.column(spec.texts)
            if spec.fallback is None:
                return dialect.json_member(texts, self.param(args, lambda a: a.get("language")))
            fallback = a.column(spec.fallback)
            if not self.shape(args, lambda a: bool(a.get("language"))):
                return fallback
            language = self.param(args, lambda a: a.get("language"))
            return f"coalesce({dialect.json_member(texts, language)}, {fallback})"
        if isinstance(spec, One):
            return self.lookup(spec.target, spec.condition.replace("{a}", a.name), details)
        if isinstance(spec, Many):
            r = self.alias()
            element = self.obj(spec.target, Alias(r), details)
            args = self.arguments(definition, details)
            kept = [name for name, _ in spec.filters if self.shape(args, lambda a, n=name: a.get(n) is not None)]  # type: ignore[misc]
            condition = " AND ".join(
                f"{RELATED}.{name} = {self.param(args, lambda a, n=name: a[n])}"  # type: ignore[misc]
                for name in kept
            )
            rows = spec.select(f"{RELATED}.*", condition).format(a=a.name)
            return dialect.nested(f"SELECT {dialect.json_array(element)} FROM ({rows}) {r}")
        args = self.arguments(definition, details)
        conn_type = self._object_type(get_named_type(definition.type).name)
        condition, order = spec.condition.format(a=a.name), NESTED_ORDER
        if spec.filtered:
            target = spec.target
            filtered = self.bind(args, lambda a: _where_sql(filter_where(target, _filter_values(a.get("filter")))))
            condition, order = f"{condition} AND {filtered}", self.order(args, NESTED_ORDER)
        return self.connection(conn_type, spec.listing, order, condition, spec.target, args, details)

    def order(self, args: Args, default: str) -> str:
        """The order the `orderBy` argument gives (a null one, the field's default), or `default` without one."""
        if "orderBy" not in args.definition.args:
            return default
        declared = args.definition.args["orderBy"].default_value
        fallback = declared.value if isinstance(declared, Enum) else default
        return self.shape(args, lambda a: a["orderBy"].value if a.get("orderBy") is not None else fallback)

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
        """A page of `listing` where `condition`, keyset from its cursor (`after` or `before`) forwards (`first`) or
        backwards (`last`), as the connection's JSON. Paging arguments the resolver path refuses raise GraphQLError:
        it answers."""

        def paging(a: dict[str, Any]) -> Paging:
            return check_paging(a, listing.name, order)

        backward, cursor_given, cursor_behind = self.shape(
            args, lambda a: (lambda p: (p.backward, p.cursor is not None, p.cursor_behind))(paging(a))
        )
        size = self.param(args, lambda a: paging(a).size)
        window = self.bind(args, lambda a: queries.window_condition(listing, order, paging(a)))
        direction = listing.orders[order][2]
        reading = direction if not backward else ("ASC" if direction == "DESC" else "DESC")
        r = self.alias()
        grouped = self.subfields(conn_type, details)
        names = {sub[0].node.name.value for sub in grouped.values()}
        # pageInfo needs one row more (is there a next page?) and each row's place; nodes alone need neither. Rows
        # are read from the window's end when paging backwards, and put back in the listing's order.
        numbered = "pageInfo" in names
        limit = f"{size} + 1" if numbered else size
        inner = queries.page_select(listing, order, condition, window, limit, backward)
        ordered = f"ORDER BY _sort {direction}, _tie {direction}"
        numbering = f"row_number() OVER (ORDER BY _sort {reading}, _tie {reading}) AS _n, count(*) OVER () AS _rows"
        page = f"SELECT *, {numbering} FROM ({inner}) {ordered}"
        if not numbered and backward:
            inner = f"SELECT * FROM ({inner}) {ordered}"
        cursor = dialect.cursor(listing.name, order, f"{r}._sort", f"{r}._tie")
        shown = f"{r}._n <= {size}" if numbered else None
        outside = "0"
        if cursor_given and numbered:
            rows = f"SELECT 1 FROM {listing.select()} WHERE {condition} AND " + self.bind(
                args, lambda a: queries.outside_condition(listing, order, paging(a))
            )
            outside = f"EXISTS ({rows})"
        more = f"coalesce(max({r}._rows), 0) > {size}"
        ahead = more if cursor_behind or not cursor_given else f"({more} OR {outside})"
        behind = outside if cursor_behind else "0"
        first_n, last_n = f"{r}._n = 1 AND {r}._n <= {size}", f"{r}._n = min({r}._rows, {size})"
        info = {
            "hasNextPage": behind if backward else ahead,
            "hasPreviousPage": ahead if backward else behind,
            "startCursor": f"max(CASE WHEN {last_n if backward else first_n} THEN {cursor} END)",
            "endCursor": f"max(CASE WHEN {first_n if backward else last_n} THEN {cursor} END)",
        }
        pairs = []
        for key, sub in grouped.items():
            name = sub[0].node.name.value
            if name == "__typename":
                value = dialect.quote(conn_type.name)
            elif name == "totalCount":
                value = f"({queries.count_select(listing, condition)})"
            elif name == "nodes":
                value = dialect.json_array(self.obj(target, Alias(r), sub), shown)
            elif name == "edges":
                value = dialect.json_array(self.edge(conn_type, target, r, cursor, sub), shown)
            elif name == "pageInfo":
                value = self.page_info(info, sub)
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
                pairs.append((key, self.obj(target, Alias(r), sub)))
            else:
                raise Unsupported(f"field {edge_type.name}.{name}")
        return self.json_object(pairs)

    def page_info(self, info: dict[str, str], details: Details) -> str:
        """PageInfo's fields from `info`, their SQL (over the page's rows) by name; its booleans are conditions."""
        values = {"__typename": dialect.quote("PageInfo")}
        values |= {name: dialect.boolean(sql) if name.startswith("has") else sql for name, sql in info.items()}
        pairs = []
        for key, sub in self.subfields(self._object_type("PageInfo"), details).items():
            name = sub[0].node.name.value
            if name not in values:
                raise Unsupported(f"field PageInfo.{name}")
            pairs.append((key, values[name]))
        return self.json_object(pairs)

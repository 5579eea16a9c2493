"""The GraphQL object types of the resolver path. What each field reads is declared once, in `catalog.py`: each
type's scalars and embedded objects are set from its row by `from_row`, and every relation resolver finds its
declaration by the field's type and name and loads through a per-request DataLoader (`batching.py`), so a response
costs one query per level, not per item. The classes here give the GraphQL shape: names, types, arguments and
descriptions."""

import dataclasses
import inspect
import json
from collections.abc import Awaitable, Callable, Coroutine, Hashable
from enum import Enum
from functools import cache
from typing import Annotated, Any, Generic, Self, TypeVar

import strawberry

from ..vocabulary import Basis, DatePrecision, MeetingFormat, MeetingStatus, StatementKind
from .batching import Context, Row
from .catalog import (
    FACETS,
    TYPES,
    Column,
    Embedded,
    EmbeddedList,
    Id,
    Localized,
    Many,
    Nested,
    One,
    facet_sql,
    filter_where,
    python_name,
)
from .ids import global_id, path_of
from .pagination import Position, encode_cursor
from .pagination import paging as check_paging
from .queries import NESTED_ORDER, RowPage

Info = strawberry.Info[Context, None]
T = TypeVar("T")
K = TypeVar("K", bound=Hashable)

# The vocabulary's enums as GraphQL enums (strawberry marks the classes themselves): the API spells a value by its
# member's name (`IN_PERSON`), the store by its value (`in_person`).
for _enum in (MeetingStatus, MeetingFormat, StatementKind, Basis, DatePrecision):
    strawberry.enum(_enum)


# --- objects from their declarations ------------------------------------------------------------------------------


Reader = Callable[[Row], Any]


def _reader(type_name: str, spec: Column | Id | Embedded) -> Reader:
    if isinstance(spec, Column):
        column, value = spec.column, spec.encoding.value
        return lambda row: value(row[column])
    if isinstance(spec, Id):
        columns = spec.columns
        return lambda row: global_id(type_name, path_of([row[c] for c in columns]))
    columns_of = tuple(spec.columns.items())
    first = columns_of[0][1]
    build = CLASSES[spec.target].from_row
    return lambda row: None if row[first] is None else build({own: row[theirs] for own, theirs in columns_of})


@cache
def _readers(type_name: str) -> tuple[tuple[str, Reader], ...]:
    """The attributes `from_row` sets on an object of `type_name`, each with how it is read from the row."""
    fields = TYPES[type_name].fields.items()
    return tuple(
        (python_name(name), _reader(type_name, spec))
        for name, spec in fields
        if isinstance(spec, Column | Id | Embedded)
    )


CLASSES: dict[str, Any] = {}  # each declared type's class, by name


def _annotation(spec: Column | Embedded) -> Any:
    output = spec.encoding.output if isinstance(spec, Column) else CLASSES[spec.target]
    return output | None if spec.null else output


Resolved = Localized | One | Many | Nested | EmbeddedList
_ARGUMENT = inspect.Parameter.POSITIONAL_OR_KEYWORD


def _arguments(spec: Resolved) -> list[inspect.Parameter]:
    """The field's GraphQL arguments, as its resolver's parameters."""
    if isinstance(spec, Localized):
        if spec.fallback is None:
            return [inspect.Parameter("language", _ARGUMENT, annotation=str)]
        return [inspect.Parameter("language", _ARGUMENT, annotation=str | None, default=None)]
    if isinstance(spec, Nested):
        paging = [inspect.Parameter(name, _ARGUMENT, annotation=about, default=None) for name, about in PAGING.items()]
        if not spec.filtered:
            return paging
        # The root listing's arguments, declared with it in `schema.py` (which imports this module).
        lazy: Any = Annotated  # of a name, which mypy cannot read as a type
        filter_ = lazy[f"{spec.target}Filter", strawberry.lazy("diplo.graphql.schema")] | None
        order = lazy[f"{spec.target}Order", strawberry.lazy("diplo.graphql.schema")] | None
        return [inspect.Parameter("filter", _ARGUMENT, annotation=filter_, default=None),
                inspect.Parameter("order_by", _ARGUMENT, annotation=order, default=None), *paging]  # fmt: skip
    if isinstance(spec, Many):
        return [
            inspect.Parameter(
                name, _ARGUMENT, default=None, annotation=Annotated[str | None, strawberry.argument(description=about)]
            )
            for name, about in spec.filters
        ]
    return []


def _output(spec: Resolved) -> str:
    """The field's type, as strawberry reads it in this module (the types may be declared later in it)."""
    if isinstance(spec, Localized):
        return "str" if spec.fallback is not None else "str | None"
    if isinstance(spec, One):
        return f"{spec.target} | None" if spec.null else spec.target
    if isinstance(spec, Nested):
        return f"Connection[{spec.target}]"
    return f"list[{spec.target}]"


def _resolver(spec: Resolved) -> Callable[..., Any]:
    """The field's resolver: the declaration's kind says how it reads the object's row."""

    def resolve(self: Value, info: Info, **arguments: Any) -> Any:
        if isinstance(spec, Localized):
            return localized(info, self.row, arguments.get("language"))
        if isinstance(spec, One):
            return one(info, self.row)
        if isinstance(spec, Many):
            return many(info, self.row, **arguments)
        if isinstance(spec, EmbeddedList):
            return embedded_list(info, self.row)
        return page(info, self.row, arguments)

    parameters = [inspect.Parameter("self", _ARGUMENT), inspect.Parameter("info", _ARGUMENT, annotation=Info)]
    parameters += _arguments(spec)
    resolve.__signature__ = inspect.Signature(parameters, return_annotation=_output(spec))  # type: ignore[attr-defined]
    resolve.__annotations__ = {p.name: p.annotation for p in parameters[1:]} | {"return": _output(spec)}
    return resolve


def declared(description: str | None = None) -> Callable[[type[T]], type[T]]:
    """A strawberry type whose fields are those `catalog.TYPES` declares for it, in their order: scalars and
    embedded objects set from the row by `from_row`, the other fields resolved from it as their declaration says."""

    def wrap(cls: type[T]) -> type[T]:
        fields: dict[str, Any] = {}
        for name, spec in TYPES[cls.__name__].fields.items():
            attribute = python_name(name)
            if isinstance(spec, Id):
                continue  # Node's
            if isinstance(spec, Column | Embedded):
                fields[attribute] = _annotation(spec)
                deprecation = spec.deprecation if isinstance(spec, Column) else None
                if spec.description is not None or deprecation is not None:
                    setattr(
                        cls, attribute, strawberry.field(description=spec.description, deprecation_reason=deprecation)
                    )
            else:
                fields[attribute] = _output(spec)
                setattr(cls, attribute, strawberry.field(resolver=_resolver(spec)))
        cls.__annotations__ = fields | inspect.get_annotations(cls)
        return strawberry.type(cls, description=description)

    return wrap


@strawberry.interface(description="An object with a global id, fetchable with `node(id:)`.")
class Node:
    id: strawberry.ID


@strawberry.type
class Value:
    """Not in the schema: what every declared type's class has. `row` is what its resolvers read."""

    row: strawberry.Private[Row]

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        CLASSES[cls.__name__] = cls

    @classmethod
    def from_row(cls, row: Row) -> Self:
        return cls(**{name: read(row) for name, read in _readers(cls.__name__)}, row=row)


@strawberry.type
class Declared(Value, Node):
    """Not in the schema: a declared type with a global id."""


@declared(description="A country, by ISO 3166-1 alpha-2 code; its id lets client caches normalize it.")
class Country(Declared):
    pass


# --- connections --------------------------------------------------------------------------------------------


@strawberry.type
class PageInfo:
    has_next_page: bool
    has_previous_page: bool
    start_cursor: str | None
    end_cursor: str | None


@strawberry.type
class Edge(Generic[T]):
    cursor: str
    node: T


@strawberry.type(description="A page of a listing, in keyset order; pass `pageInfo.endCursor` as `after`.")
class Connection(Generic[T]):
    edges: list[Edge[T]]
    nodes: list[T]
    page_info: PageInfo
    counter: strawberry.Private[Callable[[], Awaitable[int]]]

    @strawberry.field(description="How many records match, across all pages.")
    async def total_count(self) -> int:
        return await self.counter()


def connection(
    page: RowPage, listing: str, order: str, node: Callable[[Row], T], counter: Callable[[], Awaitable[int]]
) -> Connection[T]:
    nodes = [node(row) for row in page.rows]
    cursors = [encode_cursor(listing, order, Position(row["_sort"], row["_tie"])) for row in page.rows]
    return Connection(
        edges=[Edge(cursor=c, node=n) for c, n in zip(cursors, nodes, strict=True)],
        nodes=nodes,
        page_info=PageInfo(
            has_next_page=page.has_next,
            has_previous_page=page.has_previous,
            start_cursor=cursors[0] if cursors else None,
            end_cursor=cursors[-1] if cursors else None,
        ),
        counter=counter,
    )


First = Annotated[int | None, strawberry.argument(
    description="Page size from the start, 0 to 100 (null means 20, or is ignored when `last` is given)."
)]  # fmt: skip
After = Annotated[str | None, strawberry.argument(description="A cursor from `pageInfo.endCursor` or an edge.")]
Last = Annotated[int | None, strawberry.argument(
    description="Page size from the end, 0 to 100, paging backwards; not with `first`."
)]  # fmt: skip
Before = Annotated[str | None, strawberry.argument(
    description="A cursor from `pageInfo.startCursor` or an edge: the rows before it; not with `after`."
)]  # fmt: skip
# A connection's paging arguments, in the order fields declare them.
PAGING: dict[str, Any] = {"first": First, "after": After, "last": Last, "before": Before}


# --- fields with arguments and relations: each found in `catalog.py` by the field's type and name --------------


def deferred(awaitable: Coroutine[Any, Any, T]) -> T:
    """Hand graphql-core an awaitable from a sync resolver: it awaits whatever a resolver returns that is
    awaitable, and the field keeps its declared type for the schema."""
    return awaitable  # type: ignore[return-value]


def _parent(info: Info) -> str:
    """The name of the type whose field is resolved."""
    assert info.path.typename is not None
    return info.path.typename


def _declared(info: Info, kind: type[K]) -> K:
    spec = TYPES[_parent(info)].fields[info.field_name]
    assert isinstance(spec, kind), f"{_parent(info)}.{info.field_name} is not declared as a {kind.__name__}"
    return spec


def _build(spec: One | Many | Nested) -> Callable[[Row], Any]:
    return CLASSES[spec.target].from_row  # type: ignore[no-any-return]


def localized(info: Info, row: Row, language: str | None) -> str | None:
    """A text in `language` from the row's JSON object of texts, or the fallback column's."""
    spec = _declared(info, Localized)
    fallback = row[spec.fallback] if spec.fallback is not None else None
    if not language:
        return fallback
    found: str | None = json.loads(row[spec.texts]).get(language)
    return found if found is not None else fallback


def one(info: Info, row: Row) -> Any:
    """A to-one relation of the object read from `row`."""
    spec = _declared(info, One)
    pending = info.context.loaders.one(spec, row)
    build = _build(spec)

    async def resolve() -> Any:
        found = await pending if pending is not None else None
        return build(found) if found is not None else None

    return deferred(resolve())


def many(info: Info, row: Row, **filters: Any) -> Any:
    """A to-many relation of the object read from `row`; `filters` (its declared ones) keep the rows whose column
    of that name equals the argument, when it is given."""
    spec = _declared(info, Many)
    assert set(filters) <= {name for name, _ in spec.filters}
    given = {name: value for name, value in filters.items() if value is not None}
    pending = info.context.loaders.many(_parent(info), spec, row)
    build = _build(spec)

    async def resolve() -> list[Any]:
        found = await pending
        return [build(r) for r in found if all(r[name] == value for name, value in given.items())]

    return deferred(resolve())


def embedded_list(info: Info, row: Row) -> Any:
    """Value objects, one per row of a to-many relation of the object read from `row`."""
    spec = _declared(info, EmbeddedList)
    pending = info.context.loaders.many(_parent(info), spec.rows, row)
    build, columns = CLASSES[spec.target].from_row, tuple(spec.columns.items())

    async def resolve() -> list[Any]:
        return [build({own: found[theirs] for own, theirs in columns}) for found in await pending]

    return deferred(resolve())


def page(info: Info, row: Row, arguments: dict[str, Any]) -> Any:
    """A nested connection of the object read from `row`, batched with every other parent's in the response."""
    spec = _declared(info, Nested)
    loaders, parent_type = info.context.loaders, _parent(info)
    order_by = arguments.get("order_by")
    order = order_by.value if order_by is not None else NESTED_ORDER
    where = filter_where(spec.target, filter_values(arguments.get("filter")))
    paging = check_paging(arguments, spec.listing.name, order)
    pending = loaders.page(parent_type, spec, row, order, where, paging)
    build = _build(spec)

    async def resolve() -> Connection[Any]:
        counter = lambda: loaders.count(parent_type, spec, row, where)  # noqa: E731
        return connection(await pending, spec.listing.name, order, build, counter)

    return deferred(resolve())


def filter_values(filter_: object | None) -> dict[str, Any]:
    """A filter argument's fields by their Python names, enums by their values, as `queries` takes them."""
    if filter_ is None:
        return {}
    return {
        f.name: (v.value if isinstance(v := getattr(filter_, f.name), Enum) else v)
        for f in dataclasses.fields(filter_)  # type: ignore[arg-type]
    }


# --- the declared types: their fields are their declarations' (`catalog.TYPES`) ------------------------------


@declared(
    description="A date as a source gives it, to the precision it gives it: EDTF text and the span of days it allows "
    "(ACLED's precision code and UCDP's start and end in one)."
)
class DateSpan(Value):
    pass


@declared(description="A statement's text translated into one language.")
class Translation(Value):
    pass


@declared(description="A quote of a source's text, as W3C Web Annotation's TextQuote and TextPosition selectors.")
class TextQuote(Value):
    pass


@declared(description="How one field of a record is known from one source: its basis, and the source's words.")
class Evidence(Value):
    pass


@declared(description="A fact the reports of a record disagree on, with every value given and the editors' choice.")
class Dispute(Value):
    pass


@declared(description="One value of a disputed fact, and the sources that give it, in report order.")
class DisputedValue(Value):
    pass


@declared(
    description="A decision of the editors who publish the database: the value to publish for one field, "
    "and why (an `editorial:` seed file)."
)
class EditorialDecision(Value):
    pass


@declared(description="One spelling of a name, and the sources that use it, in report order.")
class NameReport(Value):
    pass


@declared(description="A published document that reports meetings and statements.")
class Source(Declared):
    pass


@declared()
class Person(Declared):
    pass


@declared()
class Organization(Declared):
    pass


@declared()
class Topic(Declared):
    pass


@declared(description="A country's delegation to a meeting.")
class Delegation(Declared):
    pass


@declared(description="A meeting between delegations of two or more countries, held or planned.")
class Meeting(Declared):
    pass


@declared(
    description="One source's statement of one delegation, as that source gave it. Its id differs from the "
    "merged Delegation's, so that normalized client caches keep the two apart."
)
class DelegationReport(Declared):
    pass


@declared(
    description="What one source said about one meeting, as its seed file gives it; the Meeting is the merge of "
    "every source's report."
)
class MeetingReport(Declared):
    pass


@declared(description="Something said, quoted verbatim or paraphrased, in its original language.")
class Statement(Declared):
    pass


@declared(
    description="What one source said of one statement, as its seed file gives it; the Statement is the merge of "
    "every source's report."
)
class StatementReport(Declared):
    pass


# --- facets: counts per value, each group as `catalog.FACETS` declares it -----------------------------------------


@strawberry.type(description="One value of a facet group and how many records have it.")
class FacetCount:
    value: str = strawberry.field(
        description="The value as the filter takes it: a key, a code, an enum value (`HELD`), a year or a month."
    )
    count: int = strawberry.field(description="How many records the filter keeps have it.")


def _facet_resolver(root: str, group: str) -> Callable[..., list[FacetCount]]:
    def resolve(self: Any, info: Info) -> list[FacetCount]:
        sql, params = facet_sql(FACETS[root], group, self.values)
        decode = FACETS[root].groups[group].encoding.value
        counts = []
        for stored, n in info.context.conn.execute(sql, params):
            value = decode(stored)
            counts.append(FacetCount(value=value.name if isinstance(value, Enum) else value, count=n))
        return counts

    return resolve


def _facets(root: str) -> Any:
    """The object type of a facet root field: a resolver per group, each one SQL statement."""
    declared = FACETS[root]
    namespace: dict[str, Any] = {"__annotations__": {"values": strawberry.Private[dict[str, Any]]}}
    for group, facet in declared.groups.items():
        resolver = _facet_resolver(root, group)
        namespace[python_name(group)] = strawberry.field(resolver=resolver, description=facet.description)
    return strawberry.type(type(declared.type, (), namespace), description=declared.description)


MeetingFacets = _facets("meetingFacets")
StatementFacets = _facets("statementFacets")
CLASSES.update({FACETS[root].type: cls for root, cls in (("meetingFacets", MeetingFacets),
                                                          ("statementFacets", StatementFacets))})  # fmt: skip

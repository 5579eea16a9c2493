"""The GraphQL schema: the Query root, its filters and orders, and the SDL that is the public contract."""

import datetime as dt
from collections.abc import Callable, Sequence
from enum import Enum
from typing import Annotated, Any

import strawberry
from graphql import GraphQLError
from strawberry.extensions import SchemaExtension
from strawberry.types import ExecutionContext

from ..vocabulary import MeetingFormat, MeetingStatus, StatementKind
from . import queries
from .catalog import FACETS, LISTINGS, LOOKUPS, ROSTERS, TYPES
from .descriptions import describe
from .ids import parse_global_id
from .pagination import paging as check_paging
from .scalars import SCALARS
from .types import (
    CLASSES,
    After,
    Before,
    Connection,
    Country,
    Delegation,
    First,
    Info,
    Last,
    Meeting,
    MeetingFacets,
    Node,
    Organization,
    Person,
    Source,
    Statement,
    StatementFacets,
    Topic,
    connection,
    filter_values,
)


@strawberry.enum(description="Undated meetings sort last in both orders.")
class MeetingOrder(Enum):
    DATE_ASC = "DATE_ASC"
    DATE_DESC = "DATE_DESC"


@strawberry.enum(description="Undated statements sort last in both orders.")
class StatementOrder(Enum):
    DATE_ASC = "DATE_ASC"
    DATE_DESC = "DATE_DESC"


@strawberry.enum(description="The order of persons, organizations or topics.")
class NameOrder(Enum):
    KEY_ASC = strawberry.enum_value(queries.BY_KEY, description="By key (the default).")
    NAME_ASC = strawberry.enum_value(
        "NAME_ASC", description="By the published name or label, case and accents folded, then by key."
    )
    NAME_DESC = strawberry.enum_value("NAME_DESC", description="By the published name or label, folded, descending.")
    RELEVANCE = strawberry.enum_value(
        queries.RELEVANCE, description="Best match to `filter.search` first (which it needs), then by key."
    )


SEARCH = (
    "Words to find, in any order, each a whole word but the last, which may also be the start of one (a "
    "typeahead); case and accents are folded."
)


@strawberry.input(description="All given conditions must hold.")
class PersonFilter:
    search: str | None = strawberry.field(
        default=None, description=f"{SEARCH} Matches the name, its aliases and every report's spelling."
    )


@strawberry.input(description="All given conditions must hold.")
class OrganizationFilter:
    search: str | None = strawberry.field(
        default=None, description=f"{SEARCH} Matches the name, its aliases and every report's spelling."
    )


@strawberry.input(description="All given conditions must hold.")
class TopicFilter:
    search: str | None = strawberry.field(
        default=None, description=f"{SEARCH} Matches every label, in every language, of every report."
    )


@strawberry.input(description="All given conditions must hold. Dates bounds are inclusive.")
class MeetingFilter:
    search: str | None = strawberry.field(
        default=None, description=f"{SEARCH} Matches the title and summary, every report's wording included."
    )
    status: MeetingStatus | None = None
    format: MeetingFormat | None = None
    country: str | None = strawberry.field(default=None, description="Any delegation is of this country.")
    host_country: str | None = None
    city: str | None = strawberry.field(default=None, description="Case-insensitive.")
    date_from: dt.date | None = None
    date_to: dt.date | None = None
    topic: str | None = strawberry.field(default=None, description="A topic key.")
    person: str | None = strawberry.field(default=None, description="A person key: a head or member of a delegation.")
    source: str | None = strawberry.field(default=None, description="A source key: some report comes from it.")


@strawberry.input(description="All given conditions must hold. Date bounds are inclusive.")
class StatementFilter:
    search: str | None = strawberry.field(
        default=None, description="Full-text search of the text and its translations; every word must match."
    )
    speaker: str | None = None
    organization: str | None = None
    meeting: str | None = None
    topic: str | None = None
    kind: StatementKind | None = None
    language: str | None = None
    date_from: dt.date | None = None
    date_to: dt.date | None = None
    source: str | None = strawberry.field(default=None, description="A source key: one of the sources that report it.")


@strawberry.input
class DelegationFilter:
    country: str | None = None
    person: str | None = strawberry.field(default=None, description="A person key: the head or a member.")


def listing(info: Info, filter_: object | None, order_by: Enum | None, **paging: Any) -> Connection[Any]:
    """A page of the root listing the field is declared as in `catalog.LISTINGS`."""
    declared, type_name = LISTINGS[info.field_name]
    order = order_by.value if order_by is not None else queries.BY_KEY
    rows, where = declared.rows(filter_values(filter_), order)
    conn = info.context.conn
    page = queries.fetch_page(conn, rows, order, where, check_paging(paging, rows.name, order))

    async def total() -> int:
        return queries.count(conn, rows, where)

    return connection(page, rows.name, order, CLASSES[type_name].from_row, total)


ByName = Annotated[NameOrder | None, strawberry.argument(description="The order; `RELEVANCE` needs `filter.search`.")]


def facets(info: Info, filter_: object | None) -> Any:
    """The facet groups of the root field, as `catalog.FACETS` declares them, for the filter's values."""
    return CLASSES[FACETS[info.field_name].type](values=filter_values(filter_))


async def find(info: Info, type_name: str, key: str) -> Any:
    """The object of a declared type with this key (a path for a key of several columns), or None."""
    if type_name not in TYPES or not TYPES[type_name].node:
        return None
    declared = TYPES[type_name]
    if declared.id.columns == ("key",):  # batched with the other lookups of the response
        row = await info.context.loaders.by_key(type_name).load(key)
    else:  # a path (`meeting/country`): one direct lookup, as `node(id:)` asks for one at a time
        row = queries.row_by_path(info.context.conn, declared.rows, declared.id.columns, key)
    return CLASSES[type_name].from_row(row) if row else None


async def lookup(info: Info, key: str) -> Any:
    """The object the root field finds by key, as `catalog.LOOKUPS` declares it."""
    return await find(info, LOOKUPS[info.field_name], key)


def roster(info: Info) -> list[Any]:
    """Every object of the type the root field lists, as `catalog.ROSTERS` declares it."""
    declared = TYPES[ROSTERS[info.field_name]]
    rows = queries.roster(info.context.conn, declared.rows, declared.id.columns)
    return [CLASSES[ROSTERS[info.field_name]].from_row(row) for row in rows]


@strawberry.type
class Query:
    @strawberry.field(description="Any object by its global id.")
    async def node(self, info: Info, id: strawberry.ID) -> Node | None:
        return await find(info, *parse_global_id(id))  # type: ignore[no-any-return]

    @strawberry.field
    def meetings(
        self,
        info: Info,
        filter: MeetingFilter | None = None,
        order_by: MeetingOrder | None = MeetingOrder.DATE_ASC,
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
    ) -> Connection[Meeting]:
        return listing(
            info, filter, order_by or MeetingOrder.DATE_ASC, first=first, after=after, last=last, before=before
        )

    @strawberry.field
    def statements(
        self,
        info: Info,
        filter: StatementFilter | None = None,
        order_by: StatementOrder | None = StatementOrder.DATE_ASC,
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
    ) -> Connection[Statement]:
        return listing(
            info, filter, order_by or StatementOrder.DATE_ASC, first=first, after=after, last=last, before=before
        )

    @strawberry.field(description="Delegations, by meeting key and country.")
    def delegations(
        self,
        info: Info,
        filter: DelegationFilter | None = None,
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
    ) -> Connection[Delegation]:
        return listing(info, filter, None, first=first, after=after, last=last, before=before)

    @strawberry.field(description="Topics, by key unless `orderBy` says otherwise.")
    def topics(
        self,
        info: Info,
        filter: Annotated[TopicFilter | None, strawberry.argument(description="Which topics.")] = None,
        order_by: ByName = NameOrder.KEY_ASC,
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
    ) -> Connection[Topic]:
        return listing(info, filter, order_by or NameOrder.KEY_ASC, first=first, after=after, last=last, before=before)

    @strawberry.field(description="Persons, by key unless `orderBy` says otherwise.")
    def persons(
        self,
        info: Info,
        filter: Annotated[PersonFilter | None, strawberry.argument(description="Which persons.")] = None,
        order_by: ByName = NameOrder.KEY_ASC,
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
    ) -> Connection[Person]:
        return listing(info, filter, order_by or NameOrder.KEY_ASC, first=first, after=after, last=last, before=before)

    @strawberry.field(description="Organizations, by key unless `orderBy` says otherwise.")
    def organizations(
        self,
        info: Info,
        filter: Annotated[OrganizationFilter | None, strawberry.argument(description="Which organizations.")] = None,
        order_by: ByName = NameOrder.KEY_ASC,
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
    ) -> Connection[Organization]:
        return listing(info, filter, order_by or NameOrder.KEY_ASC, first=first, after=after, last=last, before=before)

    @strawberry.field(description=FACETS["meetingFacets"].description)
    def meeting_facets(
        self,
        info: Info,
        filter: Annotated[MeetingFilter | None, strawberry.argument(description="Which meetings to count.")] = None,
    ) -> MeetingFacets:
        return facets(info, filter)

    @strawberry.field(description=FACETS["statementFacets"].description)
    def statement_facets(
        self,
        info: Info,
        filter: Annotated[StatementFilter | None, strawberry.argument(description="Which statements to count.")] = None,
    ) -> StatementFacets:
        return facets(info, filter)

    @strawberry.field(description="Sources, by key.")
    def sources(
        self, info: Info, first: First = None, after: After = None, last: Last = None, before: Before = None
    ) -> Connection[Source]:
        return listing(info, None, None, first=first, after=after, last=last, before=before)

    @strawberry.field(description="The countries the data refers to, by code.")
    def countries(self, info: Info) -> list[Country]:
        return roster(info)

    @strawberry.field
    async def meeting(self, info: Info, key: str) -> Meeting | None:
        return await lookup(info, key)  # type: ignore[no-any-return]

    @strawberry.field
    async def statement(self, info: Info, key: str) -> Statement | None:
        return await lookup(info, key)  # type: ignore[no-any-return]

    @strawberry.field
    async def topic(self, info: Info, key: str) -> Topic | None:
        return await lookup(info, key)  # type: ignore[no-any-return]

    @strawberry.field
    async def person(self, info: Info, key: str) -> Person | None:
        return await lookup(info, key)  # type: ignore[no-any-return]

    @strawberry.field
    async def organization(self, info: Info, key: str) -> Organization | None:
        return await lookup(info, key)  # type: ignore[no-any-return]

    @strawberry.field
    async def source(self, info: Info, key: str) -> Source | None:
        return await lookup(info, key)  # type: ignore[no-any-return]


# Every declared type's class, for the schema to know those no field names (all are reachable today).
NODE_TYPES: Sequence[type] = tuple(CLASSES[name] for name in TYPES)


class DiploSchema(strawberry.Schema):
    def process_errors(self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None) -> None:
        """Not here: the app logs unexpected errors with the request id; client mistakes are not server errors."""


def build_schema(extensions: Sequence[Callable[[], SchemaExtension]] = ()) -> strawberry.Schema:
    schema = DiploSchema(
        query=Query, types=list(NODE_TYPES), extensions=list(extensions), scalar_overrides=dict(SCALARS)
    )
    describe(schema._schema)
    return schema


def print_sdl() -> str:
    return build_schema().as_str() + "\n"

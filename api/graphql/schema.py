"""The GraphQL schema: the Query root, its filters and orders, and the SDL that is the public contract."""

import dataclasses
import datetime as dt
from collections.abc import Callable, Sequence
from enum import Enum
from typing import Any

import strawberry
from graphql import GraphQLError
from strawberry.extensions import SchemaExtension
from strawberry.types import ExecutionContext

from ..vocabulary import MeetingFormat, MeetingStatus, StatementKind
from . import queries
from .catalog import TABLES
from .descriptions import describe
from .pagination import check_first, decode_cursor
from .scalars import SCALARS
from .types import (
    After,
    Connection,
    Country,
    Delegation,
    DelegationReport,
    First,
    Info,
    Meeting,
    MeetingReport,
    Node,
    Organization,
    Person,
    Source,
    Statement,
    Topic,
    connection,
    country,
    parse_global_id,
)


@strawberry.enum(description="Undated meetings sort last in both orders.")
class MeetingOrder(Enum):
    DATE_ASC = "DATE_ASC"
    DATE_DESC = "DATE_DESC"


@strawberry.enum(description="Undated statements sort last in both orders.")
class StatementOrder(Enum):
    DATE_ASC = "DATE_ASC"
    DATE_DESC = "DATE_DESC"


@strawberry.input(description="All given conditions must hold. Dates bounds are inclusive.")
class MeetingFilter:
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
    source: str | None = strawberry.field(default=None, description="A source key: the source that reports it.")


@strawberry.input
class DelegationFilter:
    country: str | None = None
    person: str | None = strawberry.field(default=None, description="A person key: the head or a member.")


def _values(filter_: object | None) -> dict[str, Any]:
    if filter_ is None:
        return {}
    return {
        f.name: (v.value if isinstance(v := getattr(filter_, f.name), Enum) else v)
        for f in dataclasses.fields(filter_)  # type: ignore[arg-type]
    }


def _listing_page(
    info: Info,
    listing: queries.Listing,
    order: str,
    where: queries.Where,
    first: int | None,
    after: str | None,
    node_type: Any,
) -> Connection[Any]:
    position = decode_cursor(after, listing.name, order) if after is not None else None
    conn = info.context.conn
    page = queries.fetch_page(conn, listing, order, where, check_first(first), position)

    async def total() -> int:
        return queries.count(conn, listing, where)

    return connection(page, listing.name, order, position, node_type.from_row, total)


# The record types `node(id:)` finds, each by the key its declaration in `api/graphql/catalog.py` gives.
RECORDS: dict[str, Any] = {
    record.__name__: record
    for record in (Meeting, Statement, Topic, Person, Organization, Source, Delegation, MeetingReport, DelegationReport)
}


async def _one(info: Info, type_name: str, key: str) -> Any:
    if type_name == "Country":  # not a table: the codes the data refers to
        return country(key) if key in queries.countries(info.context.conn) else None
    if type_name not in RECORDS:
        return None
    table = TABLES[type_name]
    if table.id.columns == ("key",):  # batched with the other lookups of the response
        row = await info.context.loaders.by_key(type_name).load(key)
    else:  # a path (`meeting/country`): one direct lookup, as `node(id:)` asks for one at a time
        row = queries.row_by_path(info.context.conn, table.name, table.id.columns, key)
    return RECORDS[type_name].from_row(row) if row else None


@strawberry.type
class Query:
    @strawberry.field(description="Any object by its global id.")
    async def node(self, info: Info, id: strawberry.ID) -> Node | None:
        return await _one(info, *parse_global_id(id))  # type: ignore[no-any-return]

    @strawberry.field
    def meetings(
        self,
        info: Info,
        filter: MeetingFilter | None = None,
        order_by: MeetingOrder | None = MeetingOrder.DATE_ASC,
        first: First = 20,
        after: After = None,
    ) -> Connection[Meeting]:
        where = queries.meeting_where(_values(filter))
        order = (order_by or MeetingOrder.DATE_ASC).value
        return _listing_page(info, queries.MEETINGS, order, where, first, after, Meeting)

    @strawberry.field
    def statements(
        self,
        info: Info,
        filter: StatementFilter | None = None,
        order_by: StatementOrder | None = StatementOrder.DATE_ASC,
        first: First = 20,
        after: After = None,
    ) -> Connection[Statement]:
        where = queries.statement_where(_values(filter))
        order = (order_by or StatementOrder.DATE_ASC).value
        return _listing_page(info, queries.STATEMENTS, order, where, first, after, Statement)

    @strawberry.field(description="Delegations, by meeting key and country.")
    def delegations(
        self, info: Info, filter: DelegationFilter | None = None, first: First = 20, after: After = None
    ) -> Connection[Delegation]:
        where = queries.delegation_where(_values(filter))
        return _listing_page(info, queries.DELEGATIONS, queries.BY_KEY, where, first, after, Delegation)

    @strawberry.field(description="Topics, by key.")
    def topics(self, info: Info, first: First = 20, after: After = None) -> Connection[Topic]:
        return _listing_page(info, queries.TOPICS, queries.BY_KEY, queries.Where(), first, after, Topic)

    @strawberry.field(description="Persons, by key.")
    def persons(self, info: Info, first: First = 20, after: After = None) -> Connection[Person]:
        return _listing_page(info, queries.PERSONS, queries.BY_KEY, queries.Where(), first, after, Person)

    @strawberry.field(description="Organizations, by key.")
    def organizations(self, info: Info, first: First = 20, after: After = None) -> Connection[Organization]:
        listing = queries.ORGANIZATIONS
        return _listing_page(info, listing, queries.BY_KEY, queries.Where(), first, after, Organization)

    @strawberry.field(description="Sources, by key.")
    def sources(self, info: Info, first: First = 20, after: After = None) -> Connection[Source]:
        return _listing_page(info, queries.SOURCES, queries.BY_KEY, queries.Where(), first, after, Source)

    @strawberry.field(description="The countries the data refers to, by code.")
    def countries(self, info: Info) -> list[Country]:
        return [country(code) for code in queries.countries(info.context.conn)]

    @strawberry.field
    async def meeting(self, info: Info, key: str) -> Meeting | None:
        return await _one(info, "Meeting", key)  # type: ignore[no-any-return]

    @strawberry.field
    async def statement(self, info: Info, key: str) -> Statement | None:
        return await _one(info, "Statement", key)  # type: ignore[no-any-return]

    @strawberry.field
    async def topic(self, info: Info, key: str) -> Topic | None:
        return await _one(info, "Topic", key)  # type: ignore[no-any-return]

    @strawberry.field
    async def person(self, info: Info, key: str) -> Person | None:
        return await _one(info, "Person", key)  # type: ignore[no-any-return]

    @strawberry.field
    async def organization(self, info: Info, key: str) -> Organization | None:
        return await _one(info, "Organization", key)  # type: ignore[no-any-return]

    @strawberry.field
    async def source(self, info: Info, key: str) -> Source | None:
        return await _one(info, "Source", key)  # type: ignore[no-any-return]


NODE_TYPES: Sequence[type] = (
    Meeting, Delegation, Statement, Topic, Person, Organization, Source, MeetingReport, DelegationReport,
)  # fmt: skip


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

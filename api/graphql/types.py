"""The GraphQL object types. Scalars are plain attributes set from a row; only relations are resolvers, and
each relation goes through a per-request DataLoader, so a response costs one query per level, not per item."""

import base64
import binascii
import datetime as dt
import json
import sqlite3
from collections.abc import Awaitable, Callable, Coroutine, Hashable
from functools import cache
from typing import Annotated, Any, Generic, TypeVar

import strawberry

from ..vocabulary import COUNTRY_NAMES, MeetingFormat, MeetingStatus, StatementKind
from . import catalog as relations
from .batching import Context
from .catalog import TABLES, Countries, Many, One
from .errors import bad_input
from .pagination import Position, check_first, decode_cursor, encode_cursor
from .queries import NESTED_ORDER, Page

Row = sqlite3.Row
Info = strawberry.Info[Context, None]
T = TypeVar("T")
K = TypeVar("K", bound=Hashable)


# --- global ids -----------------------------------------------------------------------------------------------


def global_id(type_name: str, key: str) -> strawberry.ID:
    return strawberry.ID(base64.urlsafe_b64encode(f"{type_name}:{key}".encode()).decode())


def parse_global_id(value: str) -> tuple[str, str]:
    try:
        type_name, _, key = base64.urlsafe_b64decode(value.encode("ascii")).decode().partition(":")
    except (UnicodeError, binascii.Error, ValueError):
        raise bad_input("`id` is not an id returned by this API") from None
    if not key:
        raise bad_input("`id` is not an id returned by this API")
    return type_name, key


@strawberry.interface(description="An object with a global id, fetchable with `node(id:)`.")
class Node:
    id: strawberry.ID


# --- enums and small types ----------------------------------------------------------------------------------


# The vocabulary's enums as GraphQL enums (strawberry marks the classes themselves): the API spells a value by its
# member's name (`IN_PERSON`), the store by its value (`in_person`).
for _enum in (MeetingStatus, MeetingFormat, StatementKind):
    strawberry.enum(_enum)


@strawberry.type(description="A country, by ISO 3166-1 alpha-2 code; its id lets client caches normalize it.")
class Country(Node):
    code: str = strawberry.field(description="The ISO 3166-1 alpha-2 code, such as `RU`.")
    name: str = strawberry.field(description="The English short name (ISO 3166-1).")


@cache
def country(code: str) -> Country:
    return Country(id=global_id("Country", code), code=code, name=COUNTRY_NAMES.get(code, code))


def _country(code: str | None) -> Country | None:
    return country(code) if code else None


def _date(value: str | None) -> dt.date | None:
    return dt.date.fromisoformat(value) if value else None


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
    page: Page,
    listing: str,
    order: str,
    after: Position | None,
    node: Callable[[Row], T],
    counter: Callable[[], Awaitable[int]],
) -> Connection[T]:
    nodes = [node(row) for row in page.rows]
    cursors = [encode_cursor(listing, order, Position(row["_sort"], row["_tie"])) for row in page.rows]
    return Connection(
        edges=[Edge(cursor=c, node=n) for c, n in zip(cursors, nodes, strict=True)],
        nodes=nodes,
        page_info=PageInfo(
            has_next_page=page.has_next,
            has_previous_page=after is not None,
            start_cursor=cursors[0] if cursors else None,
            end_cursor=cursors[-1] if cursors else None,
        ),
        counter=counter,
    )


First = Annotated[int | None, strawberry.argument(description="Page size, 0 to 100 (null means 20).")]
After = Annotated[str | None, strawberry.argument(description="A cursor from `pageInfo.endCursor` or an edge.")]


# --- relations: each declared in `api/graphql/catalog.py`, found by the field's type and name, loaded in batches ------


def deferred(awaitable: Coroutine[Any, Any, T]) -> T:
    """Hand graphql-core an awaitable from a sync resolver: it awaits whatever a resolver returns that is
    awaitable, and the field keeps its declared type for the schema."""
    return awaitable  # type: ignore[return-value]


def _parent(info: Info) -> str:
    """The name of the type whose field is resolved."""
    assert info.path.typename is not None
    return info.path.typename


def _declared(info: Info, kind: type[K]) -> K:
    spec = TABLES[_parent(info)].fields[info.field_name]
    assert isinstance(spec, kind), f"{_parent(info)}.{info.field_name} is not declared as a {kind.__name__}"
    return spec


def one(info: Info, row: Row, build: Callable[[Row], T]) -> T | None:
    """A to-one relation of the object read from `row`."""
    pending = info.context.loaders.one(_declared(info, One), row)

    async def resolve() -> T | None:
        found = await pending if pending is not None else None
        return build(found) if found is not None else None

    return deferred(resolve())


def many(info: Info, row: Row, build: Callable[[Row], T]) -> list[T]:
    """A to-many relation of the object read from `row`."""
    pending = info.context.loaders.many(_parent(info), _declared(info, Many), row)

    async def resolve() -> list[T]:
        return [build(found) for found in await pending]

    return deferred(resolve())


def countries(info: Info, row: Row) -> list[Country]:
    spec = _declared(info, Countries)
    pending = info.context.loaders.many(_parent(info), spec.rows, row)

    async def resolve() -> list[Country]:
        return [country(found[spec.column]) for found in await pending]

    return deferred(resolve())


def page(info: Info, row: Row, first: int | None, after: str | None, build: Callable[[Row], T]) -> Connection[T]:
    """A nested connection of the object read from `row`, batched with every other parent's in the response."""
    spec = _declared(info, relations.Page)
    loaders, parent_type = info.context.loaders, _parent(info)
    position = decode_cursor(after, spec.listing.name, NESTED_ORDER) if after is not None else None
    pending = loaders.page(parent_type, spec, row, check_first(first), position)

    async def resolve() -> Connection[T]:
        counter = lambda: loaders.count(parent_type, spec, row)  # noqa: E731
        return connection(await pending, spec.listing.name, NESTED_ORDER, position, build, counter)

    return deferred(resolve())


# --- records ------------------------------------------------------------------------------------------------


@strawberry.type(description="A published document that reports meetings and statements.")
class Source(Node):
    key: str
    outlet: str
    title: str
    url: str | None
    published_at: dt.datetime
    language: str = strawberry.field(description="BCP 47 language tag.")
    dateline: str | None
    via: list[str] = strawberry.field(description="Attribution chain, nearest first.")
    text: str | None
    row: strawberry.Private[Row]

    @classmethod
    def from_row(cls, row: Row) -> "Source":
        return cls(
            id=global_id("Source", row["key"]), key=row["key"], outlet=row["outlet"], title=row["title"],
            url=row["url"], published_at=dt.datetime.fromisoformat(row["published_at"]), language=row["language"],
            dateline=row["dateline"], via=json.loads(row["via"]), text=row["text"], row=row,
        )  # fmt: skip

    @strawberry.field(description="Meetings this source reports, oldest first.")
    def meetings(self, info: Info, first: First = 20, after: After = None) -> Connection["Meeting"]:
        return page(info, self.row, first, after, Meeting.from_row)

    @strawberry.field(description="Statements this source reports, oldest first.")
    def statements(self, info: Info, first: First = 20, after: After = None) -> Connection["Statement"]:
        return page(info, self.row, first, after, Statement.from_row)


@strawberry.type
class Person(Node):
    key: str
    name: str = strawberry.field(description="The name as the earliest report spells it.")
    aliases: list[str] = strawberry.field(description="Other spellings of the name, as later reports give it.")
    country: Country | None
    wikidata_id: str | None
    row: strawberry.Private[Row]

    @classmethod
    def from_row(cls, row: Row) -> "Person":
        return cls(
            id=global_id("Person", row["key"]), key=row["key"], name=row["name"], aliases=json.loads(row["aliases"]),
            country=_country(row["country"]), wikidata_id=row["wikidata"], row=row,
        )  # fmt: skip

    @strawberry.field(description="Delegations this person headed or belonged to.")
    def delegations(self, info: Info) -> list["Delegation"]:
        return many(info, self.row, Delegation.from_row)

    @strawberry.field(description="Statements this person made, oldest first.")
    def statements(self, info: Info, first: First = 20, after: After = None) -> Connection["Statement"]:
        return page(info, self.row, first, after, Statement.from_row)


@strawberry.type
class Organization(Node):
    key: str
    name: str = strawberry.field(description="The name as the earliest report spells it.")
    aliases: list[str] = strawberry.field(description="Other spellings of the name, as later reports give it.")
    country: Country | None
    wikidata_id: str | None
    row: strawberry.Private[Row]

    @classmethod
    def from_row(cls, row: Row) -> "Organization":
        return cls(
            id=global_id("Organization", row["key"]), key=row["key"], name=row["name"],
            aliases=json.loads(row["aliases"]), country=_country(row["country"]), wikidata_id=row["wikidata"], row=row,
        )  # fmt: skip

    @strawberry.field(description="Statements attributed to this organization, oldest first.")
    def statements(self, info: Info, first: First = 20, after: After = None) -> Connection["Statement"]:
        return page(info, self.row, first, after, Statement.from_row)


@strawberry.type
class Topic(Node):
    key: str
    labels: strawberry.Private[dict[str, str]]
    english: strawberry.Private[str]
    row: strawberry.Private[Row]

    @classmethod
    def from_row(cls, row: Row) -> "Topic":
        return cls(id=global_id("Topic", row["key"]), key=row["key"], labels=json.loads(row["labels"]),
                   english=row["label"], row=row)  # fmt: skip

    @strawberry.field(description="The label in `language` (BCP 47) when there is one, else in English.")
    def label(self, language: str | None = None) -> str:
        return self.labels.get(language, self.english) if language else self.english

    @strawberry.field(description="Meetings about this topic, oldest first.")
    def meetings(self, info: Info, first: First = 20, after: After = None) -> Connection["Meeting"]:
        return page(info, self.row, first, after, Meeting.from_row)

    @strawberry.field(description="Statements about this topic, oldest first.")
    def statements(self, info: Info, first: First = 20, after: After = None) -> Connection["Statement"]:
        return page(info, self.row, first, after, Statement.from_row)


@strawberry.type(description="A country's delegation to a meeting.")
class Delegation(Node):
    country: Country
    head_role: str | None
    row: strawberry.Private[Row]

    @classmethod
    def from_row(cls, row: Row) -> "Delegation":
        return cls(
            id=global_id("Delegation", f"{row['meeting']}/{row['country']}"), country=country(row["country"]),
            head_role=row["head_role"], row=row,
        )  # fmt: skip

    @strawberry.field
    def meeting(self, info: Info) -> "Meeting":
        return one(info, self.row, Meeting.from_row)  # type: ignore[return-value]

    @strawberry.field
    def head(self, info: Info) -> Person | None:
        return one(info, self.row, Person.from_row)

    @strawberry.field
    def members(self, info: Info) -> list[Person]:
        return many(info, self.row, Person.from_row)

    @strawberry.field(description="The sources that state this delegation, in report order.")
    def sources(self, info: Info) -> list[Source]:
        return many(info, self.row, Source.from_row)


@strawberry.type(description="A meeting between delegations of two or more countries, held or planned.")
class Meeting(Node):
    key: str
    title: str
    status: MeetingStatus
    format: MeetingFormat
    date: dt.date | None
    city: str | None
    host_country: Country | None
    round: int | None
    summary: str | None
    row: strawberry.Private[Row]

    @classmethod
    def from_row(cls, row: Row) -> "Meeting":
        return cls(
            id=global_id("Meeting", row["key"]), key=row["key"], title=row["title"],
            status=MeetingStatus(row["status"]), format=MeetingFormat(row["format"]), date=_date(row["date"]),
            city=row["city"], host_country=_country(row["host_country"]), round=row["round"],
            summary=row["summary"], row=row,
        )  # fmt: skip

    @strawberry.field(description="The meeting this one follows up.")
    def previous(self, info: Info) -> "Meeting | None":
        return one(info, self.row, Meeting.from_row)

    @strawberry.field(description="Meetings that follow this one up, oldest first.")
    def follow_ups(self, info: Info) -> list["Meeting"]:
        return many(info, self.row, Meeting.from_row)

    @strawberry.field
    def delegations(self, info: Info) -> list[Delegation]:
        return many(info, self.row, Delegation.from_row)

    @strawberry.field(description="The countries of the delegations.")
    def participants(self, info: Info) -> list[Country]:
        return countries(info, self.row)

    @strawberry.field
    def topics(self, info: Info) -> list[Topic]:
        return many(info, self.row, Topic.from_row)

    @strawberry.field(description="Statements about this meeting, oldest first.")
    def statements(self, info: Info, first: First = 20, after: After = None) -> Connection["Statement"]:
        return page(info, self.row, first, after, Statement.from_row)

    @strawberry.field(description="The sources that report this meeting.")
    def sources(self, info: Info) -> list[Source]:
        return many(info, self.row, Source.from_row)

    @strawberry.field(
        description="What each source said about this meeting, in report order (publication time, then source key)."
    )
    def reports(self, info: Info) -> list["MeetingReport"]:
        return many(info, self.row, MeetingReport.from_row)


# --- reports: what one source said, before merging --------------------------------------------------------------


@strawberry.type(
    description="One source's statement of one delegation, as that source gave it. Its id differs from the "
    "merged Delegation's, so that normalized client caches keep the two apart."
)
class DelegationReport(Node):
    country: Country = strawberry.field(description="The delegation's country.")
    head_role: str | None = strawberry.field(description="The head's role, as this source words it.")
    row: strawberry.Private[Row]

    @classmethod
    def from_row(cls, row: Row) -> "DelegationReport":
        path = f"{row['meeting']}/{row['source']}/{row['country']}"
        return cls(
            id=global_id("DelegationReport", path), country=country(row["country"]), head_role=row["head_role"],
            row=row,
        )  # fmt: skip

    @strawberry.field(description="The head of the delegation this source names.")
    def head(self, info: Info) -> Person | None:
        return one(info, self.row, Person.from_row)

    @strawberry.field(description="The members this source names, in its order.")
    def members(self, info: Info) -> list[Person]:
        return many(info, self.row, Person.from_row)

    @strawberry.field(description="The source that states this delegation.")
    def source(self, info: Info) -> Source:
        return one(info, self.row, Source.from_row)  # type: ignore[return-value]


@strawberry.type(
    description="What one source said about one meeting, as its seed file gives it; the Meeting is the merge of "
    "every source's report."
)
class MeetingReport(Node):
    title: str | None = strawberry.field(description="The title as this source words it, if it gives one.")
    status: MeetingStatus = strawberry.field(description="Held or planned, as of this source.")
    format: MeetingFormat | None = strawberry.field(description="The format, if this source gives it.")
    date: dt.date | None = strawberry.field(description="The date, if this source gives it.")
    city: str | None = strawberry.field(description="The city, if this source gives it.")
    host_country: Country | None = strawberry.field(description="The host country, if this source gives it.")
    round: int | None = strawberry.field(description="The round of talks, if this source gives it.")
    summary: str | None = strawberry.field(description="This source's summary.")
    row: strawberry.Private[Row]

    @classmethod
    def from_row(cls, row: Row) -> "MeetingReport":
        return cls(
            id=global_id("MeetingReport", f"{row['meeting']}/{row['source']}"), title=row["title"],
            status=MeetingStatus(row["status"]), format=MeetingFormat(row["format"]) if row["format"] else None,
            date=_date(row["date"]), city=row["city"], host_country=_country(row["host_country"]),
            round=row["round"], summary=row["summary"], row=row,
        )  # fmt: skip

    @strawberry.field(description="The source that gives this report.")
    def source(self, info: Info) -> Source:
        return one(info, self.row, Source.from_row)  # type: ignore[return-value]

    @strawberry.field(description="The meeting this one follows up, according to this source.")
    def previous(self, info: Info) -> "Meeting | None":
        return one(info, self.row, Meeting.from_row)

    @strawberry.field(description="The delegations as this source states them, in its order.")
    def delegations(self, info: Info) -> list[DelegationReport]:
        return many(info, self.row, DelegationReport.from_row)

    @strawberry.field(description="The topics as this source lists them, in its order.")
    def topics(self, info: Info) -> list[Topic]:
        return many(info, self.row, Topic.from_row)


@strawberry.type(description="Something said, quoted verbatim or paraphrased, in its original language.")
class Statement(Node):
    key: str
    text: str
    language: str = strawberry.field(description="BCP 47 language tag of `text`.")
    kind: StatementKind
    date: dt.date | None
    occasion: str | None
    translations: strawberry.Private[dict[str, str]]
    row: strawberry.Private[Row]

    @classmethod
    def from_row(cls, row: Row) -> "Statement":
        return cls(
            id=global_id("Statement", row["key"]), key=row["key"], text=row["text"], language=row["language"],
            kind=StatementKind(row["kind"]), date=_date(row["date"]), occasion=row["occasion"],
            translations=json.loads(row["translations"]), row=row,
        )  # fmt: skip

    @strawberry.field(description="The text translated into `language` (BCP 47), when a translation exists.")
    def translation(self, language: str) -> str | None:
        return self.translations.get(language)

    @strawberry.field
    def speaker(self, info: Info) -> Person | None:
        return one(info, self.row, Person.from_row)

    @strawberry.field
    def organization(self, info: Info) -> Organization | None:
        return one(info, self.row, Organization.from_row)

    @strawberry.field(description="The meeting the statement is about.")
    def meeting(self, info: Info) -> Meeting | None:
        return one(info, self.row, Meeting.from_row)

    @strawberry.field
    def topics(self, info: Info) -> list[Topic]:
        return many(info, self.row, Topic.from_row)

    @strawberry.field
    def source(self, info: Info) -> Source:
        return one(info, self.row, Source.from_row)  # type: ignore[return-value]

"""The GraphQL object types. Scalars are plain attributes set from a row; only relations are resolvers, and
each relation goes through a per-request DataLoader, so a response costs one query per level, not per item."""

import base64
import binascii
import datetime as dt
import json
import sqlite3
from collections.abc import Awaitable, Callable
from enum import Enum
from functools import cache
from typing import Annotated, Generic, TypeVar

import pycountry
import strawberry

from .errors import bad_input
from .loaders import ChildPageKey, Context
from .pagination import Position, check_first, decode_cursor, encode_cursor
from .queries import NESTED_ORDER, Page

Row = sqlite3.Row
Info = strawberry.Info[Context, None]
T = TypeVar("T")


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


@strawberry.enum
class MeetingStatus(Enum):
    HELD = "held"
    PLANNED = "planned"


@strawberry.enum
class MeetingFormat(Enum):
    IN_PERSON = "in_person"
    PHONE_CALL = "phone_call"
    VIDEO_CALL = "video_call"


@strawberry.enum
class StatementKind(Enum):
    DIRECT_QUOTE = "direct_quote"
    PARAPHRASE = "paraphrase"


@strawberry.type(description="A country, by ISO 3166-1 alpha-2 code.")
class Country:
    code: str
    name: str


@cache
def country(code: str) -> Country:
    found = pycountry.countries.get(alpha_2=code)
    return Country(code=code, name=found.name if found else code)


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


async def child_connection(
    info: Info, link: str, parent: str, first: int | None, after: str | None, node: Callable[[Row], T]
) -> Connection[T]:
    """A nested connection, batched with every other parent's in the same response."""
    listing = link.split(".")[1]
    position = decode_cursor(after, listing, NESTED_ORDER) if after is not None else None
    key = ChildPageKey(link, parent, check_first(first), position)
    page = await info.context.loaders.child_page.load(key)
    return connection(
        page, listing, NESTED_ORDER, position, node, lambda: info.context.loaders.child_count.load((link, parent))
    )


First = Annotated[int | None, strawberry.argument(description="Page size, 0 to 100 (null means 20).")]
After = Annotated[str | None, strawberry.argument(description="A cursor from `pageInfo.endCursor` or an edge.")]


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

    @classmethod
    def from_row(cls, row: Row) -> "Source":
        return cls(
            id=global_id("Source", row["key"]), key=row["key"], outlet=row["outlet"], title=row["title"],
            url=row["url"], published_at=dt.datetime.fromisoformat(row["published_at"]), language=row["language"],
            dateline=row["dateline"], via=json.loads(row["via"]), text=row["text"],
        )  # fmt: skip


@strawberry.type
class Person(Node):
    key: str
    name: str
    country: Country | None
    wikidata_id: str | None

    @classmethod
    def from_row(cls, row: Row) -> "Person":
        return cls(
            id=global_id("Person", row["key"]), key=row["key"], name=row["name"],
            country=_country(row["country"]), wikidata_id=row["wikidata"],
        )  # fmt: skip

    @strawberry.field(description="Delegations this person headed or belonged to.")
    async def delegations(self, info: Info) -> list["Delegation"]:
        return [Delegation.from_row(r) for r in await info.context.loaders.delegations_of_person.load(self.key)]

    @strawberry.field(description="Statements this person made, oldest first.")
    async def statements(self, info: Info, first: First = 20, after: After = None) -> Connection["Statement"]:
        return await child_connection(info, "person.statements", self.key, first, after, Statement.from_row)


@strawberry.type
class Organization(Node):
    key: str
    name: str
    country: Country | None
    wikidata_id: str | None

    @classmethod
    def from_row(cls, row: Row) -> "Organization":
        return cls(
            id=global_id("Organization", row["key"]), key=row["key"], name=row["name"],
            country=_country(row["country"]), wikidata_id=row["wikidata"],
        )  # fmt: skip

    @strawberry.field(description="Statements attributed to this organization, oldest first.")
    async def statements(self, info: Info, first: First = 20, after: After = None) -> Connection["Statement"]:
        return await child_connection(info, "organization.statements", self.key, first, after, Statement.from_row)


@strawberry.type
class Topic(Node):
    key: str
    labels: strawberry.Private[dict[str, str]]
    english: strawberry.Private[str]

    @classmethod
    def from_row(cls, row: Row) -> "Topic":
        return cls(id=global_id("Topic", row["key"]), key=row["key"], labels=json.loads(row["labels"]),
                   english=row["label"])  # fmt: skip

    @strawberry.field(description="The label in `language` (BCP 47) when there is one, else in English.")
    def label(self, language: str | None = None) -> str:
        return self.labels.get(language, self.english) if language else self.english

    @strawberry.field(description="Meetings about this topic, oldest first.")
    async def meetings(self, info: Info, first: First = 20, after: After = None) -> Connection["Meeting"]:
        return await child_connection(info, "topic.meetings", self.key, first, after, Meeting.from_row)

    @strawberry.field(description="Statements about this topic, oldest first.")
    async def statements(self, info: Info, first: First = 20, after: After = None) -> Connection["Statement"]:
        return await child_connection(info, "topic.statements", self.key, first, after, Statement.from_row)


@strawberry.type(description="A country's delegation to a meeting.")
class Delegation(Node):
    country: Country
    head_role: str | None
    meeting_key: strawberry.Private[str]
    head_key: strawberry.Private[str | None]

    @classmethod
    def from_row(cls, row: Row) -> "Delegation":
        return cls(
            id=global_id("Delegation", f"{row['meeting']}/{row['country']}"), country=country(row["country"]),
            head_role=row["head_role"], meeting_key=row["meeting"], head_key=row["head"],
        )  # fmt: skip

    @strawberry.field
    async def meeting(self, info: Info) -> "Meeting":
        row = await info.context.loaders.meeting.load(self.meeting_key)
        assert row is not None  # a foreign key guarantees it
        return Meeting.from_row(row)

    @strawberry.field
    async def head(self, info: Info) -> Person | None:
        if self.head_key is None:
            return None
        row = await info.context.loaders.person.load(self.head_key)
        return Person.from_row(row) if row else None

    @strawberry.field
    async def members(self, info: Info) -> list[Person]:
        rows = await info.context.loaders.members.load((self.meeting_key, self.country.code))
        return [Person.from_row(r) for r in rows]


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
    follows: strawberry.Private[str | None]

    @classmethod
    def from_row(cls, row: Row) -> "Meeting":
        return cls(
            id=global_id("Meeting", row["key"]), key=row["key"], title=row["title"],
            status=MeetingStatus(row["status"]), format=MeetingFormat(row["format"]), date=_date(row["date"]),
            city=row["city"], host_country=_country(row["host_country"]), round=row["round"],
            summary=row["summary"], follows=row["follows"],
        )  # fmt: skip

    @strawberry.field(description="The meeting this one follows up.")
    async def previous(self, info: Info) -> "Meeting | None":
        if self.follows is None:
            return None
        row = await info.context.loaders.meeting.load(self.follows)
        return Meeting.from_row(row) if row else None

    @strawberry.field(description="Meetings that follow this one up, oldest first.")
    async def follow_ups(self, info: Info) -> list["Meeting"]:
        return [Meeting.from_row(r) for r in await info.context.loaders.follow_ups.load(self.key)]

    @strawberry.field
    async def delegations(self, info: Info) -> list[Delegation]:
        return [Delegation.from_row(r) for r in await info.context.loaders.delegations_of_meeting.load(self.key)]

    @strawberry.field(description="The countries of the delegations.")
    async def participants(self, info: Info) -> list[Country]:
        return [country(r["country"]) for r in await info.context.loaders.delegations_of_meeting.load(self.key)]

    @strawberry.field
    async def topics(self, info: Info) -> list[Topic]:
        return [Topic.from_row(r) for r in await info.context.loaders.topics_of_meeting.load(self.key)]

    @strawberry.field(description="Statements about this meeting, oldest first.")
    async def statements(self, info: Info, first: First = 20, after: After = None) -> Connection["Statement"]:
        return await child_connection(info, "meeting.statements", self.key, first, after, Statement.from_row)

    @strawberry.field(description="The sources that report this meeting.")
    async def sources(self, info: Info) -> list[Source]:
        return [Source.from_row(r) for r in await info.context.loaders.sources_of_meeting.load(self.key)]


@strawberry.type(description="Something said, quoted verbatim or paraphrased, in its original language.")
class Statement(Node):
    key: str
    text: str
    language: str = strawberry.field(description="BCP 47 language tag of `text`.")
    kind: StatementKind
    date: dt.date | None
    occasion: str | None
    translations: strawberry.Private[dict[str, str]]
    speaker_key: strawberry.Private[str | None]
    organization_key: strawberry.Private[str | None]
    meeting_key: strawberry.Private[str | None]
    source_key: strawberry.Private[str]

    @classmethod
    def from_row(cls, row: Row) -> "Statement":
        return cls(
            id=global_id("Statement", row["key"]), key=row["key"], text=row["text"], language=row["language"],
            kind=StatementKind(row["kind"]), date=_date(row["date"]), occasion=row["occasion"],
            translations=json.loads(row["translations"]), speaker_key=row["speaker"],
            organization_key=row["organization"], meeting_key=row["meeting"], source_key=row["source"],
        )  # fmt: skip

    @strawberry.field(description="The text translated into `language` (BCP 47), when a translation exists.")
    def translation(self, language: str) -> str | None:
        return self.translations.get(language)

    @strawberry.field
    async def speaker(self, info: Info) -> Person | None:
        row = await info.context.loaders.person.load(self.speaker_key) if self.speaker_key else None
        return Person.from_row(row) if row else None

    @strawberry.field
    async def organization(self, info: Info) -> Organization | None:
        row = await info.context.loaders.organization.load(self.organization_key) if self.organization_key else None
        return Organization.from_row(row) if row else None

    @strawberry.field(description="The meeting the statement is about.")
    async def meeting(self, info: Info) -> Meeting | None:
        row = await info.context.loaders.meeting.load(self.meeting_key) if self.meeting_key else None
        return Meeting.from_row(row) if row else None

    @strawberry.field
    async def topics(self, info: Info) -> list[Topic]:
        return [Topic.from_row(r) for r in await info.context.loaders.topics_of_statement.load(self.key)]

    @strawberry.field
    async def source(self, info: Info) -> Source:
        row = await info.context.loaders.source.load(self.source_key)
        assert row is not None  # a foreign key guarantees it
        return Source.from_row(row)

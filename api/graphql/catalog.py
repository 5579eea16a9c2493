"""One declaration per GraphQL object type, which both executors read: the rows that hold it, and for every field
the column (with its encoding) or relation that answers it; the root fields that find it; how it is paged.

The compiler (`compiler.py`) turns these declarations into SQL; the resolver path builds its objects from them
(`types.py`: each type's `from_row`, the relation resolvers, the root resolvers in `schema.py`) and batches its
relations by them (`batching.py`). `tests/test_catalog.py` checks that the schema and the declarations agree, field
by field, and that a query over declared fields is compiled, not answered by the fallback.

In SQL templates `{a}` stands for the row's alias and `{r}` for the related row's.
"""

import datetime as dt
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from ..store import REPORT_ORDER, date_order
from ..vocabulary import COUNTRY_NAMES, Basis, DatePrecision, MeetingFormat, MeetingStatus, StatementKind
from . import ids, queries
from .errors import bad_input

# --- scalars ------------------------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class Encoding:
    """How a stored value becomes the field's value: `kind` names the SQL that writes it into a response
    (`dialect.ENCODERS`), `value` is what the resolver path hands strawberry for it, of the Python type `output`
    (which gives the field its GraphQL type)."""

    kind: str
    value: Callable[[Any], Any]
    output: Any


def _optional(decode: Callable[[Any], Any]) -> Callable[[Any], Any]:
    return lambda stored: None if stored is None else decode(stored)


def _same(stored: Any) -> Any:
    return stored


PLAIN = Encoding("plain", _same, str)
INTEGER = Encoding("plain", _same, int)
DATE = Encoding("date", _optional(dt.date.fromisoformat), dt.date)
TIMESTAMP = Encoding("timestamp", _optional(dt.datetime.fromisoformat), dt.datetime)  # as isoformat() wrote it
STRINGS = Encoding("json", json.loads, list[str])  # a JSON array of strings
COUNTRY_NAME = Encoding("country_name", lambda code: COUNTRY_NAMES.get(code, code), str)  # from a code column


BOOLEAN = Encoding("boolean", bool, bool)  # stored 0 or 1


def enum(values: type[MeetingStatus | MeetingFormat | StatementKind | Basis | DatePrecision]) -> Encoding:
    """A stored enum value (`in_person`), answered by its member's name (`IN_PERSON`)."""
    return Encoding("enum", _optional(values), values)


@dataclass(frozen=True)
class Column:
    """A scalar from the row's `column`; `null` when it may be null. `description` documents the field (fields
    every type shares are described in `descriptions.py`)."""

    column: str
    encoding: Encoding = PLAIN
    null: bool = False
    description: str | None = None
    deprecation: str | None = None  # why the field is deprecated, and what to use instead

    @property
    def sql(self) -> str:
        return f"{{a}}.{self.column}"


@dataclass(frozen=True)
class Id:
    """The global id, from the key `columns` (a path such as `meeting/country` when there are several). The
    resolver path batches a relation's parents by the first column and groups them by the path."""

    columns: tuple[str, ...] = ("key",)

    @property
    def key(self) -> str:
        return ids.path_sql(self.columns, "{a}")


@dataclass(frozen=True)
class Localized:
    """A string looked up by a `language` argument in the JSON object column `texts`; `fallback` (a column) when
    the argument is null or empty, or when there is no such entry and the field falls back."""

    texts: str
    fallback: str | None


# --- relations ----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class One:
    """A to-one relation: the row of `target` whose key is the row's `column` (none when it is null)."""

    target: str
    column: str
    null: bool = True

    @property
    def condition(self) -> str:
        """Over the related row `{r}` and the row `{a}`."""
        return f"{{r}}.key = {{a}}.{self.column}"


# The alias of the related rows in a to-many relation's `rows`.
RELATED = "rel"


@dataclass(frozen=True)
class Many:
    """A to-many relation: the rows of `target` (aliased `rel` in `rows`, a FROM clause that may read the row `{a}`)
    where `where` (over them and `{a}`), ordered by `order`, as the API gives them."""

    target: str
    rows: str
    where: str
    order: str
    # Arguments (name, description) that, when given, keep the rows whose column of that name equals them.
    filters: tuple[tuple[str, str], ...] = ()

    def select(self, columns: str, condition: str = "") -> str:
        where = f"{self.where} AND {condition}" if condition else self.where
        return f"SELECT {columns} FROM {self.rows} WHERE {where} ORDER BY {self.order}"

    @property
    def sql(self) -> str:
        return self.select(f"{RELATED}.*")


@dataclass(frozen=True, eq=False)  # compared by identity: each is one declaration, a key of its loader
class Nested:
    """A nested connection over `listing`, oldest first, of the rows where `condition` (the listing's alias and
    `{a}`); `filtered`, it takes the `filter` and `orderBy` arguments of its target's root listing, as that does."""

    target: str
    listing: queries.Listing
    condition: str
    filtered: bool = False


# --- value objects embedded in a row ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Embedded:
    """An object of the value type `target` made from the row's own columns, without reading another row:
    `columns` maps each column `target` declares to the row's column that holds it. Null when the first is (and
    `null` says it may be)."""

    target: str
    columns: Mapping[str, str]
    null: bool = False
    description: str | None = None


@dataclass(frozen=True)
class EmbeddedList:
    """A list of objects of the value type `target`, one per row of the to-many relation `rows` (in its order),
    each made from that row's columns as `columns` maps them."""

    target: str
    rows: Many
    columns: Mapping[str, str]

    @property
    def sql(self) -> str:
        """Selects each row's columns under the names `target` declares, in order."""
        return self.rows.select(", ".join(f"{RELATED}.{row} AS {own}" for own, row in self.columns.items()))


Field = Column | Id | Localized | One | Many | Nested | Embedded | EmbeddedList


def python_name(name: str) -> str:
    """A field's Python name (strawberry's attribute, the resolver path's filter key) from its GraphQL name."""
    return "".join("_" + c.lower() if c.isupper() else c for c in name)


# --- types and their root fields ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class RootListing:
    """A root connection field, `name`, over `listing`, its `filter` argument made into conditions by `where`."""

    name: str
    listing: queries.Listing
    where: Callable[[Mapping[str, Any]], queries.Where] = lambda _: queries.Where()

    def rows(self, values: Mapping[str, Any], order: str) -> tuple[queries.Listing, queries.Where]:
        """The listing in `order` and the conditions of the filter `values`. With a search of a table that has a
        full-text index, the records it matches (by relevance too); `BAD_USER_INPUT` for relevance without one."""
        found = queries.matched(self.listing)
        search = queries.search_where(found, values.get("search")) if found is not None else None
        if found is not None and search is not None:
            others = self.where({**values, "search": None})
            return found, queries.Where((search[0], *others.conditions), (*search[1], *others.params))
        if order == queries.RELEVANCE:
            raise bad_input("`orderBy: RELEVANCE` orders by relevance to a search: give `filter.search` too")
        return self.listing, self.where(values)


@dataclass(frozen=True)
class Type:
    """A GraphQL object type (each implements Node: `node(id:)` finds it by its `id` field's columns): `rows` is
    its table (or a subquery) and `fields` its fields by GraphQL name. Its root fields: `lookup` finds one by key,
    `listing` is the connection of all of them, `roster` the plain list of all of them by key."""

    rows: str
    fields: dict[str, Field]
    lookup: str | None = None
    listing: RootListing | None = None
    roster: str | None = None
    keys: tuple[str, ...] = ()  # a type without an `id` (not a Node): the columns of its rows' key

    @property
    def node(self) -> bool:
        return "id" in self.fields

    @property
    def id(self) -> Id:
        spec = self.fields["id"]
        assert isinstance(spec, Id)
        return spec

    @property
    def key_columns(self) -> tuple[str, ...]:
        return self.id.columns if self.node else self.keys


def _linked(target: str, table: str, link: str, where: str) -> Many:
    """The rows of `target` (its `table`) listed in the link table `link` (aliased `x`, with `position`)."""
    column = {"persons": "person", "topics": "topic", "sources": "source"}[table]
    return Many(target, f"{link} x JOIN {table} rel ON rel.key = x.{column}", where, "x.position")


EVIDENCE_FILTERS = (("field", "Only this field's evidence, by its GraphQL name (`hostCountry`)."),)


def _evidence(kind: str, record: str, source: str | None = None) -> Many:
    """The evidence of one source's report of a record (`record`, SQL over `{a}`, is its key; `source` the source's
    key column), in the order the report gives it."""
    where = f"rel.source = {source} AND rel.kind = '{kind}' AND rel.record = {record}"
    return Many("Evidence", "evidence rel", where, "rel.position", filters=EVIDENCE_FILTERS)


def _merged_evidence(kind: str, reports: str, record: str, where: str, order: str) -> Many:
    """The evidence of every report of a merged record, in report order: `reports` is the table of its reports or
    sources (aliased `x`), `record` the evidence's record key over them, `order` the reports' order."""
    rows = f"{reports} JOIN evidence rel ON rel.source = x.source AND rel.kind = '{kind}' AND rel.record = {record}"
    return Many("Evidence", rows, where, f"{order}, rel.position", filters=EVIDENCE_FILTERS)


def _reported_evidence(kind: str, table: str, column: str) -> Many:
    """A person's, an organization's or a topic's evidence: every report's, by its source's publication instant."""
    reports = f"{table} x JOIN sources src ON src.key = x.source"
    return _merged_evidence(kind, reports, f"x.{column}", f"x.{column} = {{a}}.key", REPORT_ORDER.format(s="src"))


def _span(column: str, null: bool = True, description: str | None = None, **columns: str) -> Embedded:
    """A date (`DateSpan`) from the store's columns of one (`store._span`); `columns` names others for some of its
    fields."""
    fields = ("edtf", "earliest", "latest", "precision", "approximate", "uncertain")
    stored = {name: columns.get(name, column if name == "edtf" else f"{column}_{name}") for name in fields}
    return Embedded("DateSpan", stored, null, description)


def _country(column: str, null: bool = False, description: str | None = None) -> Embedded:
    return Embedded("Country", {"code": column}, null, description)


def _editorial(kind: str, record: str = "{a}.key", country: str = "''") -> dict[str, Field]:
    """A record's disputes and the editors' decisions about it (`kind`: its seed list; a delegation's `record` is
    its meeting's key and `country` its country)."""
    where = f"rel.record = {record} AND rel.kind = '{kind}' AND rel.country = {country}"
    return {
        "disputes": Many("Dispute", "disputes rel", where, "rel.seed_field"),
        "decisions": Many("EditorialDecision", "decisions rel", where, "rel.editorial, rel.position"),
    }


def _names(kind: str) -> Many:
    return Many("NameReport", "names rel", f"rel.record = {{a}}.key AND rel.kind = '{kind}'", "rel.position")


_RECORD: dict[str, Field] = {"id": Id(), "key": Column("key")}
# What a person and an organization both have.
_PARTY: dict[str, Field] = {
    **_RECORD,
    "name": Column(
        "name",
        description=("The name the editors prefer, else the one most reports use (ties: the earliest report's)."),
    ),
    "aliases": Column("aliases", STRINGS, description="The other spellings of the name the reports give."),
    "country": _country("country", null=True),
    "wikidataId": Column("wikidata", null=True),
}

_DELEGATIONS = Many("Delegation", "delegations rel", "rel.meeting = {a}.key", "rel.position")
# The entries of a JSON object column of texts by language, by language.
_TRANSLATIONS = Many("Translation", "json_each({a}.translations) rel", "rel.type = 'text'", "rel.key")

TYPES: dict[str, Type] = {
    # Not a table: the codes the data refers to. A country's object is made from its code alone, so the rows that
    # refer to one embed it; this is what `node(id:)` and `countries` list.
    "Country": Type(f"(SELECT country AS code FROM ({queries.COUNTRY_CODES}) WHERE country IS NOT NULL)", {
        "id": Id(("code",)),
        "code": Column("code", description="The ISO 3166-1 alpha-2 code, such as `RU`."),
        "name": Column("code", COUNTRY_NAME, description="The English short name (ISO 3166-1)."),
    }, roster="countries"),
    "Source": Type("sources", {
        **_RECORD,
        "outlet": Column("outlet"),
        "title": Column("title"),
        "url": Column("url", null=True),
        "publishedAt": Column("published_instant", TIMESTAMP, description=(
            "When it was published, with its offset. A source that gives only the day of publication has that day's "
            "start at +00:00 here, a time it never gave: `published` says what is known."
        ), deprecation="use published; a source may give only the day, and this field then invents a time"),
        "published": _span("published", null=False, description=(
            "The day it was published, in its own offset: a day's span."
        ), earliest="published", latest="published", precision="published_precision",
            approximate="published_qualified", uncertain="published_qualified"),
        "language": Column("language", description="BCP 47 language tag."),
        "dateline": Column("dateline", null=True),
        "via": Column("via", STRINGS, description="Attribution chain, nearest first."),
        "text": Column("text", null=True),
        "retrievedAt": Column("retrieved_at", TIMESTAMP, null=True, description="When the text was read."),
        "archiveUrl": Column("archive_url", null=True, description="A lasting copy of the article."),
        "textSha256": Column("text_sha256", null=True, description=(
            "The SHA-256 of the UTF-8 of `text`, lowercase hex: which text its evidence quotes; null without text."
        )),
        "meetings": Nested("Meeting", queries.MEETINGS,
                           "m.key IN (SELECT meeting FROM meeting_sources WHERE source = {a}.key)"),
        "statements": Nested("Statement", queries.STATEMENTS,
                             "s.key IN (SELECT statement FROM statement_sources WHERE source = {a}.key)"),
        "evidence": _evidence("source", "{a}.key", "{a}.key"),
    }, lookup="source", listing=RootListing("sources", queries.SOURCES)),
    "Person": Type("persons", {
        **_PARTY,
        # Two index searches: the delegations it headed, and those whose (meeting, country) its memberships give.
        # A row-value `IN` list beside another one was evaluated again for every row (11 times slower); a meeting
        # list with an EXISTS check per delegation, 2.7 times the hand-written statement (bench/relations.py).
        "delegations": Many("Delegation", "delegations rel", (
            "rel.head = {a}.key OR (rel.meeting, rel.country) IN "
            "(SELECT meeting, country FROM delegation_members WHERE person = {a}.key)"
        ), "rel.meeting, rel.position"),
        "statements": Nested("Statement", queries.STATEMENTS, "s.speaker = {a}.key"),
        "evidence": _reported_evidence("person", "person_reports", "person"),
        "names": _names("persons"),
        **_editorial("persons"),
    }, lookup="person", listing=RootListing("persons", queries.PERSONS, queries.named_where(queries.PERSONS))),
    "Organization": Type("organizations", {
        **_PARTY,
        "statements": Nested("Statement", queries.STATEMENTS, "s.organization = {a}.key"),
        "evidence": _reported_evidence("organization", "organization_reports", "organization"),
        "names": _names("organizations"),
        **_editorial("organizations"),
    }, lookup="organization",
       listing=RootListing("organizations", queries.ORGANIZATIONS, queries.named_where(queries.ORGANIZATIONS))),
    "Topic": Type("topics", {
        **_RECORD,
        "label": Localized("labels", "label"),
        "meetings": Nested("Meeting", queries.MEETINGS,
                           "m.key IN (SELECT meeting FROM meeting_topics WHERE topic = {a}.key)"),
        "statements": Nested("Statement", queries.STATEMENTS,
                             "s.key IN (SELECT statement FROM statement_topics WHERE topic = {a}.key)"),
        "evidence": _reported_evidence("topic", "topic_reports", "topic"),
        **_editorial("topics"),
    }, lookup="topic", listing=RootListing("topics", queries.TOPICS, queries.named_where(queries.TOPICS))),
    "Delegation": Type("delegations", {
        "id": Id(("meeting", "country")),
        "country": _country("country"),
        "headRole": Column("head_role", null=True),
        "meeting": One("Meeting", "meeting", null=False),
        "head": One("Person", "head"),
        "members": _linked("Person", "persons", "delegation_members",
                           "x.meeting = {a}.meeting AND x.country = {a}.country"),
        "sources": _linked("Source", "sources", "delegation_sources",
                           "x.meeting = {a}.meeting AND x.country = {a}.country"),
        "evidence": _merged_evidence("delegation", "delegation_sources x", "x.meeting || '/' || x.country",
                                     "x.meeting = {a}.meeting AND x.country = {a}.country", "x.position"),
        **_editorial("delegations", "{a}.meeting", "{a}.country"),
    }, listing=RootListing("delegations", queries.DELEGATIONS, queries.delegation_where)),
    "Meeting": Type("meetings", {
        **_RECORD,
        "title": Column("title"),
        "status": Column("status", enum(MeetingStatus)),
        "format": Column("format", enum(MeetingFormat)),
        "date": Column("date_day", DATE, null=True, description=(
            "The day it was held or is planned for, when it is known to the day (see `when`)."
        )),
        "when": _span("date", description=(
            "When it was held or is planned for, as precisely as the reports say: the intersection of their spans."
        )),
        "city": Column("city", null=True),
        "hostCountry": _country("host_country", null=True),
        "round": Column("round", INTEGER, null=True),
        "summary": Column("summary", null=True),
        "previous": One("Meeting", "follows"),
        "followUps": Many("Meeting", "meetings rel", "rel.follows = {a}.key", f"{date_order('ASC', 'rel')}, rel.key"),
        "delegations": _DELEGATIONS,
        "participants": EmbeddedList("Country", _DELEGATIONS, {"code": "country"}),
        "topics": _linked("Topic", "topics", "meeting_topics", "x.meeting = {a}.key"),
        "statements": Nested("Statement", queries.STATEMENTS, "s.meeting = {a}.key", filtered=True),
        "sources": _linked("Source", "sources", "meeting_sources", "x.meeting = {a}.key"),
        "reports": Many("MeetingReport", (
            "meeting_sources x JOIN meeting_reports rel ON rel.meeting = x.meeting AND rel.source = x.source"
        ), "x.meeting = {a}.key", "x.position"),
        "evidence": _merged_evidence("meeting", "meeting_sources x", "x.meeting", "x.meeting = {a}.key", "x.position"),
        **_editorial("meetings"),
    }, lookup="meeting", listing=RootListing("meetings", queries.MEETINGS, queries.meeting_where)),
    "DelegationReport": Type("delegation_reports", {
        "id": Id(("meeting", "source", "country")),
        "country": _country("country", description="The delegation's country."),
        "headRole": Column("head_role", null=True, description="The head's role, as this source words it."),
        "head": One("Person", "head"),
        "members": _linked("Person", "persons", "delegation_report_members",
                           "x.meeting = {a}.meeting AND x.source = {a}.source AND x.country = {a}.country"),
        "source": One("Source", "source", null=False),
        "evidence": _evidence("delegation", "{a}.meeting || '/' || {a}.country", "{a}.source"),
    }),
    "MeetingReport": Type("meeting_reports", {
        "id": Id(("meeting", "source")),
        "title": Column("title", null=True, description="The title as this source words it, if it gives one."),
        "status": Column("status", enum(MeetingStatus), description="Held or planned, as of this source."),
        "format": Column("format", enum(MeetingFormat), null=True, description="The format, if this source gives it."),
        "date": Column("date_day", DATE, null=True, description="The day, if this source gives the date to the day."),
        "when": _span("date", description="The date as this source gives it (day, month, year or range), if it does."),
        "city": Column("city", null=True, description="The city, if this source gives it."),
        "hostCountry": _country("host_country", null=True, description="The host country, if this source gives it."),
        "round": Column("round", INTEGER, null=True, description="The round of talks, if this source gives it."),
        "summary": Column("summary", null=True, description="This source's summary."),
        "source": One("Source", "source", null=False),
        "previous": One("Meeting", "follows"),
        "delegations": Many("DelegationReport", "delegation_reports rel",
                            "rel.meeting = {a}.meeting AND rel.source = {a}.source", "rel.position"),
        "topics": _linked("Topic", "topics", "meeting_report_topics",
                          "x.meeting = {a}.meeting AND x.source = {a}.source"),
        "evidence": _evidence("meeting", "{a}.meeting", "{a}.source"),
    }),
    "Statement": Type("statements", {
        **_RECORD,
        "text": Column("text"),
        "language": Column("language", description="BCP 47 language tag of `text`."),
        "kind": Column("kind", enum(StatementKind)),
        "date": Column("date_day", DATE, null=True, description="The day it was said, when its source gives the day."),
        "when": _span("date", description=(
            "When it was said, as its source dates it; undated, no later than its source was published "
            "(`../2025-03-01`, with inferred evidence for `date`)."
        ), edtf="when_edtf", latest="when_latest", precision="when_precision"),
        "occasion": Column("occasion", null=True),
        "translation": Localized("translations", None),
        "translations": EmbeddedList("Translation", _TRANSLATIONS, {"language": "key", "text": "value"}),
        "speaker": One("Person", "speaker"),
        "organization": One("Organization", "organization"),
        "meeting": One("Meeting", "meeting"),
        "topics": _linked("Topic", "topics", "statement_topics", "x.statement = {a}.key"),
        "source": One("Source", "source", null=False),
        "sources": _linked("Source", "sources", "statement_sources", "x.statement = {a}.key"),
        "reports": Many("StatementReport", (
            "statement_sources x JOIN statement_reports rel ON rel.statement = x.statement AND rel.source = x.source"
        ), "x.statement = {a}.key", "x.position"),
        "evidence": _merged_evidence("statement", "statement_sources x", "x.statement", "x.statement = {a}.key",
                                     "x.position"),
        **_editorial("statements"),
    }, lookup="statement", listing=RootListing("statements", queries.STATEMENTS, queries.statement_where)),
    "StatementReport": Type("statement_reports", {
        "id": Id(("statement", "source")),
        "source": One("Source", "source", null=False),
        "text": Column("text", description="The statement's text as this source gives it."),
        "language": Column("language", description="BCP 47 language tag of `text`."),
        "kind": Column("kind", enum(StatementKind), description="A direct quote or a paraphrase, in this source."),
        "translation": Localized("translations", None),
        "occasion": Column("occasion", null=True, description="The occasion, as this source words it, if it does."),
        "date": Column("date_day", DATE, null=True, description="The day it was said, if this source gives the day."),
    }),
    # A value embedded in its row: no rows of its own.
    "DateSpan": Type("", {
        "edtf": Column("edtf", description=(
            "The date in EDTF (ISO 8601-2): `2025-02-27`, `2025-02`, `2025`, qualified `2025-02~` (approximate), "
            "`2025?` (uncertain), `2025%` (both), or a range `2025-02-25/2025-02-28` with `..` for an open end."
        )),
        "earliest": Column("earliest", DATE, null=True, description="Its first possible day; null when open."),
        "latest": Column("latest", DATE, null=True, description="Its last possible day; null when open."),
        "precision": Column("precision", enum(DatePrecision), description="How precisely it is known."),
        "approximate": Column("approximate", BOOLEAN, description="Approximately so (`~`); bounds not widened."),
        "uncertain": Column("uncertain", BOOLEAN, description="Possibly so (`?`): the source is not sure of it."),
    }),
    "Evidence": Type("evidence", {
        "field": Column("field", description="The field it supports, by its GraphQL name (`hostCountry`)."),
        "basis": Column("basis", enum(Basis), description="How the source knows it."),
        "note": Column("note", null=True, description="Why, for a basis other than stated."),
        "quotes": Many("TextQuote", "evidence_quotes rel", (
            "rel.source = {a}.source AND rel.kind = {a}.kind AND rel.record = {a}.record AND "
            "rel.seed_field = {a}.seed_field"
        ), "rel.position"),
        "source": One("Source", "source", null=False),
    }, keys=("source", "kind", "record", "seed_field")),
    # Disputes: facts the reports disagree on, settled by an editorial decision (`ingest/merge.py`).
    "Dispute": Type("disputes", {
        "field": Column("field", description="The field disputed, by its GraphQL name (`headRole`)."),
        "values": Many("DisputedValue", "dispute_values rel", (
            "rel.record = {a}.record AND rel.kind = {a}.kind AND rel.country = {a}.country "
            "AND rel.seed_field = {a}.seed_field"
        ), "rel.position"),
        "preferred": Column("preferred", description="The value published: the editors' decision."),
        "note": Column("note", description="Why the editors prefer it."),
    }, keys=("record", "kind", "country", "seed_field")),
    "DisputedValue": Type("dispute_values", {
        "value": Column("value", description="A value the reports give, as text (a date in EDTF)."),
        "sources": Many("Source", "dispute_sources x JOIN sources rel ON rel.key = x.source", (
            "x.record = {a}.record AND x.kind = {a}.kind AND x.country = {a}.country AND x.seed_field = {a}.seed_field "
            "AND x.value_position = {a}.position"
        ), "x.position"),
    }, keys=("record", "kind", "country", "seed_field", "position")),
    "EditorialDecision": Type("decisions", {
        "field": Column("field", description="The field decided, by its GraphQL name (`headRole`)."),
        "prefer": Column("prefer", description="The value to publish (a date in EDTF)."),
        "note": Column("note", description="Why the editors prefer it."),
    }, keys=("editorial", "position")),
    "NameReport": Type("names", {
        "name": Column("name", description="A spelling of the name."),
        "sources": Many("Source", "name_sources x JOIN sources rel ON rel.key = x.source", (
            "x.record = {a}.record AND x.kind = {a}.kind AND x.name_position = {a}.position"
        ), "x.position"),
    }, keys=("record", "kind", "position")),
    # Not a table: an entry of a statement's translations (`Statement.translations`).
    "Translation": Type("(SELECT NULL AS language, NULL AS text WHERE 0)", {
        "language": Column("language", description="BCP 47 language tag of the translation."),
        "text": Column("text", description="The statement's text in that language."),
    }, keys=("language",)),
    "TextQuote": Type("evidence_quotes", {
        "exact": Column("exact", description="The quoted words, as the source's stored text has them."),
        "prefix": Column("prefix", description="Up to 32 characters of the text just before them."),
        "suffix": Column("suffix", description="Up to 32 characters of the text just after them."),
        "start": Column("start_offset", INTEGER, description="Where they start in `Source.text`, in code points."),
        "end": Column("end_offset", INTEGER, description="Where they end: `text[start:end]` is `exact`."),
    }, keys=("source", "kind", "record", "seed_field", "position")),
}  # fmt: skip

# The root fields, by name, and the type each gives: derived from the declarations.
LOOKUPS: dict[str, str] = {t.lookup: name for name, t in TYPES.items() if t.lookup is not None}
LISTINGS: dict[str, tuple[RootListing, str]] = {
    t.listing.name: (t.listing, name) for name, t in TYPES.items() if t.listing is not None
}
ROSTERS: dict[str, str] = {t.roster: name for name, t in TYPES.items() if t.roster is not None}


def filter_where(target: str, values: Mapping[str, Any]) -> queries.Where:
    """The conditions a `filter` argument (its fields by Python name) makes on the rows of `target`'s root listing."""
    listing = TYPES[target].listing
    return listing.where(values) if listing is not None else queries.Where()


# --- facets: counts per value, for filter UIs ---------------------------------------------------------------------


@dataclass(frozen=True)
class Facet:
    """A group of counts: how many of a listing's rows have each value of `value` (SQL over the listing's row, or
    over the rows `through` links to it, stored as `encoding` says), under every condition of the filter but those
    of the fields it `ignores` (its own dimension: a UI still offers that dimension's other values)."""

    value: str
    ignores: tuple[str, ...]
    description: str
    encoding: Encoding = PLAIN
    through: tuple[str, str] | None = None  # a table (aliased) and its join to the listing's row
    period: int = 0  # counts per year (4) or month (7) of the dates instead (`queries.period_facet_select`)


@dataclass(frozen=True)
class Facets:
    """A root field giving the object type `type` of facet groups over the rows of the root listing `listing` that
    its `filter` argument (that listing's) keeps."""

    type: str
    listing: str
    groups: dict[str, Facet]
    description: str


def _year_month(what: str) -> dict[str, Facet]:
    ignores, spans = ("date_from", "date_to"), "a date that spans several counts in each it has a day in"
    return {
        "byYear": Facet("", ignores, f"{what} per year (`2025`), as `dateFrom`/`dateTo` over the year match them "
                        f"({spans}); undated ones in none.", period=4),
        "byMonth": Facet("", ignores, f"{what} per month (`2025-02`), as `dateFrom`/`dateTo` over the month match "
                         f"them ({spans}); undated ones in none.", period=7),
    }  # fmt: skip


FACETS: dict[str, Facets] = {
    "meetingFacets": Facets("MeetingFacets", "meetings", {
        "byCountry": Facet("fd.country", ("country",), "Meetings per country of a delegation (as `country` filters).",
                           through=("delegations fd", "fd.meeting = m.key")),
        "byHostCountry": Facet("m.host_country", ("host_country",), "Meetings per host country."),
        "byStatus": Facet("m.status", ("status",), "Meetings per status.", enum(MeetingStatus)),
        "byFormat": Facet("m.format", ("format",), "Meetings per format.", enum(MeetingFormat)),
        **_year_month("Meetings"),
    }, "How many meetings the filter keeps have each value, per dimension."),
    "statementFacets": Facets("StatementFacets", "statements", {
        "byTopic": Facet("ft.topic", ("topic",), "Statements per topic key.",
                         through=("statement_topics ft", "ft.statement = s.key")),
        "byKind": Facet("s.kind", ("kind",), "Statements per kind.", enum(StatementKind)),
        "byLanguage": Facet("s.language", ("language",), "Statements per language of their text."),
    }, "How many statements the filter keeps have each value, per dimension."),
}  # fmt: skip


def facet_sql(facets: Facets, group: str, values: Mapping[str, Any]) -> tuple[str, tuple[Any, ...]]:
    """The SQL of one facet group (rows of `value` and `n`) for the filter `values`, and its parameters."""
    declared, facet = LISTINGS[facets.listing][0], facets.groups[group]
    where = declared.where({name: value for name, value in values.items() if name not in facet.ignores})
    if facet.period:
        return queries.period_facet_select(declared.listing, facet.period, where.sql()), where.params
    return queries.facet_select(declared.listing, facet.value, facet.through, where.sql()), where.params

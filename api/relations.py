"""How each GraphQL object type is read from SQL, for the compiled read path: its table, and for every field the
column or relation that answers it (`{a}` stands for the row's alias, `{r}` for the related row's).

A field that is not declared here is answered by the resolver path, so a field added to `api/types.py` keeps
working before it is declared.
"""

from dataclasses import dataclass

from . import queries


@dataclass(frozen=True)
class Column:
    """A scalar from the row: `sql` over `{a}`; `kind` says how it is encoded (text as is, or an enum, a JSON
    text column, a timestamp)."""

    sql: str
    kind: str = "plain"


@dataclass(frozen=True)
class Id:
    """The global id, from the key (`{a}.key`, or a path such as `{a}.meeting || '/' || {a}.country`)."""

    key: str


@dataclass(frozen=True)
class CountryOf:
    """A Country object from a code column (null when the column is)."""

    code: str


@dataclass(frozen=True)
class Countries:
    """A list of Country objects: `sql` selects their codes, in order, as `code`."""

    sql: str


@dataclass(frozen=True)
class Localized:
    """A string looked up by a `language` argument in the JSON object column `texts`; `fallback` (a column) when
    the argument is null or empty, or when there is no such entry and the field falls back."""

    texts: str
    fallback: str | None


@dataclass(frozen=True)
class One:
    """A to-one relation: the row of `target` (its table aliased `{r}`) where `condition`."""

    target: str
    condition: str


@dataclass(frozen=True)
class Many:
    """A to-many relation: `sql` selects the rows of `target`, in the order the API gives them."""

    target: str
    sql: str


@dataclass(frozen=True)
class Page:
    """A nested connection over `listing`, oldest first, of the rows where `condition` (the listing's alias and
    `{a}`)."""

    target: str
    listing: queries.Listing
    condition: str


Field = Column | Id | CountryOf | Countries | Localized | One | Many | Page


@dataclass(frozen=True)
class Table:
    name: str
    fields: dict[str, Field]


_MEMBERS = "SELECT p.* FROM {link} x JOIN persons p ON p.key = x.person WHERE {where} ORDER BY x.position"
_TOPICS = "SELECT t.* FROM {link} x JOIN topics t ON t.key = x.topic WHERE {where} ORDER BY x.position"
_RECORD: dict[str, Field] = {"id": Id("{a}.key"), "key": Column("{a}.key")}
_PARTY: dict[str, Field] = {
    **_RECORD,
    "name": Column("{a}.name"),
    "aliases": Column("{a}.aliases", "json"),
    "country": CountryOf("{a}.country"),
    "wikidataId": Column("{a}.wikidata"),
}
# What a meeting and one source's report of it both have (the report's may be null).
_MEETING_FACTS: dict[str, Field] = {
    "title": Column("{a}.title"),
    "status": Column("{a}.status", "enum"),
    "format": Column("{a}.format", "enum"),
    "date": Column("{a}.date"),
    "city": Column("{a}.city"),
    "hostCountry": CountryOf("{a}.host_country"),
    "round": Column("{a}.round"),
    "summary": Column("{a}.summary"),
    "previous": One("Meeting", "{r}.key = {a}.follows"),
}

TABLES: dict[str, Table] = {
    "Source": Table("sources", {
        **_RECORD,
        "outlet": Column("{a}.outlet"),
        "title": Column("{a}.title"),
        "url": Column("{a}.url"),
        "publishedAt": Column("{a}.published_at", "timestamp"),
        "language": Column("{a}.language"),
        "dateline": Column("{a}.dateline"),
        "via": Column("{a}.via", "json"),
        "text": Column("{a}.text"),
        "meetings": Page("Meeting", queries.MEETINGS,
                         "m.key IN (SELECT meeting FROM meeting_sources WHERE source = {a}.key)"),
        "statements": Page("Statement", queries.STATEMENTS, "s.source = {a}.key"),
    }),
    "Person": Table("persons", {
        **_PARTY,
        "delegations": Many("Delegation", (
            "SELECT d.* FROM (SELECT meeting, country FROM delegations WHERE head = {a}.key UNION "
            "SELECT meeting, country FROM delegation_members WHERE person = {a}.key) x "
            "JOIN delegations d ON d.meeting = x.meeting AND d.country = x.country ORDER BY d.meeting, d.position"
        )),
        "statements": Page("Statement", queries.STATEMENTS, "s.speaker = {a}.key"),
    }),
    "Organization": Table("organizations", {
        **_PARTY,
        "statements": Page("Statement", queries.STATEMENTS, "s.organization = {a}.key"),
    }),
    "Topic": Table("topics", {
        **_RECORD,
        "label": Localized("{a}.labels", "{a}.label"),
        "meetings": Page("Meeting", queries.MEETINGS,
                         "m.key IN (SELECT meeting FROM meeting_topics WHERE topic = {a}.key)"),
        "statements": Page("Statement", queries.STATEMENTS,
                           "s.key IN (SELECT statement FROM statement_topics WHERE topic = {a}.key)"),
    }),
    "Delegation": Table("delegations", {
        "id": Id("{a}.meeting || '/' || {a}.country"),
        "country": CountryOf("{a}.country"),
        "headRole": Column("{a}.head_role"),
        "meeting": One("Meeting", "{r}.key = {a}.meeting"),
        "head": One("Person", "{r}.key = {a}.head"),
        "members": Many("Person", _MEMBERS.format(
            link="delegation_members", where="x.meeting = {a}.meeting AND x.country = {a}.country")),
        "sources": Many("Source", (
            "SELECT src.* FROM delegation_sources x JOIN sources src ON src.key = x.source "
            "WHERE x.meeting = {a}.meeting AND x.country = {a}.country ORDER BY x.position"
        )),
    }),
    "Meeting": Table("meetings", {
        **_RECORD,
        **_MEETING_FACTS,
        "followUps": Many("Meeting", "SELECT * FROM meetings WHERE follows = {a}.key ORDER BY ifnull(date, '~'), key"),
        "delegations": Many("Delegation", "SELECT * FROM delegations WHERE meeting = {a}.key ORDER BY position"),
        "participants": Countries("SELECT country AS code FROM delegations WHERE meeting = {a}.key ORDER BY position"),
        "topics": Many("Topic", _TOPICS.format(link="meeting_topics", where="x.meeting = {a}.key")),
        "statements": Page("Statement", queries.STATEMENTS, "s.meeting = {a}.key"),
        "sources": Many("Source", (
            "SELECT src.* FROM meeting_sources x JOIN sources src ON src.key = x.source WHERE x.meeting = {a}.key "
            "ORDER BY x.position"
        )),
        "reports": Many("MeetingReport", (
            "SELECT mr.* FROM meeting_sources x JOIN meeting_reports mr ON mr.meeting = x.meeting "
            "AND mr.source = x.source WHERE x.meeting = {a}.key ORDER BY x.position"
        )),
    }),
    "DelegationReport": Table("delegation_reports", {
        "id": Id("{a}.meeting || '/' || {a}.source || '/' || {a}.country"),
        "country": CountryOf("{a}.country"),
        "headRole": Column("{a}.head_role"),
        "head": One("Person", "{r}.key = {a}.head"),
        "members": Many("Person", _MEMBERS.format(
            link="delegation_report_members",
            where="x.meeting = {a}.meeting AND x.source = {a}.source AND x.country = {a}.country")),
        "source": One("Source", "{r}.key = {a}.source"),
    }),
    "MeetingReport": Table("meeting_reports", {
        "id": Id("{a}.meeting || '/' || {a}.source"),
        **_MEETING_FACTS,
        "source": One("Source", "{r}.key = {a}.source"),
        "delegations": Many("DelegationReport", (
            "SELECT * FROM delegation_reports WHERE meeting = {a}.meeting AND source = {a}.source ORDER BY position"
        )),
        "topics": Many("Topic", _TOPICS.format(
            link="meeting_report_topics", where="x.meeting = {a}.meeting AND x.source = {a}.source")),
    }),
    "Statement": Table("statements", {
        **_RECORD,
        "text": Column("{a}.text"),
        "language": Column("{a}.language"),
        "kind": Column("{a}.kind", "enum"),
        "date": Column("{a}.date"),
        "occasion": Column("{a}.occasion"),
        "translation": Localized("{a}.translations", None),
        "speaker": One("Person", "{r}.key = {a}.speaker"),
        "organization": One("Organization", "{r}.key = {a}.organization"),
        "meeting": One("Meeting", "{r}.key = {a}.meeting"),
        "topics": Many("Topic", _TOPICS.format(link="statement_topics", where="x.statement = {a}.key")),
        "source": One("Source", "{r}.key = {a}.source"),
    }),
}  # fmt: skip

"""How each GraphQL object type is read from SQL, for the compiled read path: its table, and for every field the
column or relation that answers it (`{a}` stands for the row's alias, `{r}` for the related row's).

A field that is not declared here is answered by the resolver path, so a field added to `api/graphql/types.py` keeps
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
    """The global id, from the primary key's `columns` (a path such as `meeting/country` when there are several).
    The resolver path batches a relation's parents by the first column and groups them by the path."""

    columns: tuple[str, ...] = ("key",)

    @property
    def key(self) -> str:
        return " || '/' || ".join(f"{{a}}.{column}" for column in self.columns)


@dataclass(frozen=True)
class CountryOf:
    """A Country object from a code column (null when the column is)."""

    code: str


@dataclass(frozen=True)
class Countries:
    """A list of Country objects: the `column` of the rows of the to-many relation `rows`."""

    rows: "Many"
    column: str

    @property
    def sql(self) -> str:
        """Selects the codes, in order, as `code`."""
        return self.rows.select(f"{RELATED}.{self.column} AS code")


@dataclass(frozen=True)
class Localized:
    """A string looked up by a `language` argument in the JSON object column `texts`; `fallback` (a column) when
    the argument is null or empty, or when there is no such entry and the field falls back."""

    texts: str
    fallback: str | None


@dataclass(frozen=True)
class One:
    """A to-one relation: the row of `target` whose key is the row's `column` (none when it is null)."""

    target: str
    column: str

    @property
    def condition(self) -> str:
        """Over the related row `{r}` and the row `{a}`."""
        return f"{{r}}.key = {{a}}.{self.column}"


# The alias of the related rows in a to-many relation's `rows`.
RELATED = "rel"


@dataclass(frozen=True)
class Many:
    """A to-many relation: the rows of `target` (aliased `rel` in `rows`, a FROM clause) where `where` (over them
    and the row `{a}`), ordered by `order`, as the API gives them."""

    target: str
    rows: str
    where: str
    order: str

    def select(self, columns: str) -> str:
        return f"SELECT {columns} FROM {self.rows} WHERE {self.where} ORDER BY {self.order}"

    @property
    def sql(self) -> str:
        return self.select(f"{RELATED}.*")


@dataclass(frozen=True, eq=False)  # compared by identity: each is one declaration, a key of its loader
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

    @property
    def id(self) -> Id:
        spec = self.fields["id"]
        assert isinstance(spec, Id)
        return spec


def _linked(target: str, table: str, link: str, where: str) -> Many:
    """The rows of `target` (its `table`) listed in the link table `link` (aliased `x`, with `position`)."""
    column = {"persons": "person", "topics": "topic", "sources": "source"}[table]
    return Many(target, f"{link} x JOIN {table} rel ON rel.key = x.{column}", where, "x.position")


_RECORD: dict[str, Field] = {"id": Id(), "key": Column("{a}.key")}
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
    "previous": One("Meeting", "follows"),
}

_DELEGATIONS = Many("Delegation", "delegations rel", "rel.meeting = {a}.key", "rel.position")

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
        # The meeting alone first: SQLite seeks a key's first column by an IN list, never by a row value.
        "delegations": Many("Delegation", "delegations rel", (
            "rel.meeting IN (SELECT meeting FROM delegations WHERE head = {a}.key UNION "
            "SELECT meeting FROM delegation_members WHERE person = {a}.key) AND "
            "(rel.meeting, rel.country) IN (SELECT meeting, country FROM delegations WHERE head = {a}.key UNION "
            "SELECT meeting, country FROM delegation_members WHERE person = {a}.key)"
        ), "rel.meeting, rel.position"),
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
        "id": Id(("meeting", "country")),
        "country": CountryOf("{a}.country"),
        "headRole": Column("{a}.head_role"),
        "meeting": One("Meeting", "meeting"),
        "head": One("Person", "head"),
        "members": _linked("Person", "persons", "delegation_members",
                           "x.meeting = {a}.meeting AND x.country = {a}.country"),
        "sources": _linked("Source", "sources", "delegation_sources",
                           "x.meeting = {a}.meeting AND x.country = {a}.country"),
    }),
    "Meeting": Table("meetings", {
        **_RECORD,
        **_MEETING_FACTS,
        "followUps": Many("Meeting", "meetings rel", "rel.follows = {a}.key", "ifnull(rel.date, '~'), rel.key"),
        "delegations": _DELEGATIONS,
        "participants": Countries(_DELEGATIONS, "country"),
        "topics": _linked("Topic", "topics", "meeting_topics", "x.meeting = {a}.key"),
        "statements": Page("Statement", queries.STATEMENTS, "s.meeting = {a}.key"),
        "sources": _linked("Source", "sources", "meeting_sources", "x.meeting = {a}.key"),
        "reports": Many("MeetingReport", (
            "meeting_sources x JOIN meeting_reports rel ON rel.meeting = x.meeting AND rel.source = x.source"
        ), "x.meeting = {a}.key", "x.position"),
    }),
    "DelegationReport": Table("delegation_reports", {
        "id": Id(("meeting", "source", "country")),
        "country": CountryOf("{a}.country"),
        "headRole": Column("{a}.head_role"),
        "head": One("Person", "head"),
        "members": _linked("Person", "persons", "delegation_report_members",
                           "x.meeting = {a}.meeting AND x.source = {a}.source AND x.country = {a}.country"),
        "source": One("Source", "source"),
    }),
    "MeetingReport": Table("meeting_reports", {
        "id": Id(("meeting", "source")),
        **_MEETING_FACTS,
        "source": One("Source", "source"),
        "delegations": Many("DelegationReport", "delegation_reports rel",
                            "rel.meeting = {a}.meeting AND rel.source = {a}.source", "rel.position"),
        "topics": _linked("Topic", "topics", "meeting_report_topics",
                          "x.meeting = {a}.meeting AND x.source = {a}.source"),
    }),
    "Statement": Table("statements", {
        **_RECORD,
        "text": Column("{a}.text"),
        "language": Column("{a}.language"),
        "kind": Column("{a}.kind", "enum"),
        "date": Column("{a}.date"),
        "occasion": Column("{a}.occasion"),
        "translation": Localized("{a}.translations", None),
        "speaker": One("Person", "speaker"),
        "organization": One("Organization", "organization"),
        "meeting": One("Meeting", "meeting"),
        "topics": _linked("Topic", "topics", "statement_topics", "x.statement = {a}.key"),
        "source": One("Source", "source"),
    }),
}  # fmt: skip

"""Read-only SQL over a built database: keyset pages, batched lookups by key, and the filters' conditions.

Every function takes an open read-only connection and returns `sqlite3.Row`s; nothing here knows GraphQL.
"""

import sqlite3
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from .pagination import Position
from .store import marks

Params = list[Any]


@dataclass(frozen=True)
class Listing:
    """A table as it is paged: its alias and, per order, the sort expression, tie-breaker and direction."""

    name: str
    alias: str
    orders: Mapping[str, tuple[str, str, str]]

    def select(self) -> str:
        return f"{self.name} {self.alias}"


# Undated records sort last both ways: '~' sorts after every date, '' before. The store indexes these expressions.
_BY_DATE = {
    "DATE_ASC": ("ifnull({a}.date, '~')", "{a}.key", "ASC"),
    "DATE_DESC": ("ifnull({a}.date, '')", "{a}.key", "DESC"),
}


def _listing(name: str, alias: str, orders: Mapping[str, tuple[str, str, str]]) -> Listing:
    return Listing(name, alias, {o: (s.format(a=alias), t.format(a=alias), d) for o, (s, t, d) in orders.items()})


BY_KEY = "KEY"
MEETINGS = _listing("meetings", "m", _BY_DATE)
STATEMENTS = _listing("statements", "s", _BY_DATE)
DELEGATIONS = _listing("delegations", "d", {BY_KEY: ("{a}.meeting", "{a}.country", "ASC")})
TOPICS = _listing("topics", "t", {BY_KEY: ("{a}.key", "{a}.key", "ASC")})
PERSONS = _listing("persons", "p", {BY_KEY: ("{a}.key", "{a}.key", "ASC")})
ORGANIZATIONS = _listing("organizations", "o", {BY_KEY: ("{a}.key", "{a}.key", "ASC")})
SOURCES = _listing("sources", "src", {BY_KEY: ("{a}.key", "{a}.key", "ASC")})


@dataclass(frozen=True)
class Page:
    rows: list[sqlite3.Row]  # each with `_sort` and `_tie`, the position a cursor encodes
    has_next: bool


@dataclass(frozen=True)
class Where:
    """SQL conditions joined by AND, with their parameters."""

    conditions: tuple[str, ...] = ()
    params: tuple[Any, ...] = ()

    def sql(self) -> str:
        return " AND ".join(self.conditions) or "1"


def plain_text(value: str) -> str:
    """Lone surrogates (valid in JSON, not in UTF-8) become U+FFFD, so any string can be bound as a parameter."""
    return value.encode("utf-16", "surrogatepass").decode("utf-16", "replace")


def _where(pairs: Iterable[tuple[str, Sequence[Any]]]) -> Where:
    conditions: list[str] = []
    params: list[Any] = []
    for condition, values in pairs:
        conditions.append(condition)
        params.extend(plain_text(v) if isinstance(v, str) else v for v in values)
    return Where(tuple(conditions), tuple(params))


def after_condition(listing: Listing, order: str, after: Position | None) -> tuple[str, Params]:
    if after is None:
        return "1", []
    sort, tie, direction = listing.orders[order]
    beyond = ">" if direction == "ASC" else "<"
    # Spelled out rather than as a row value `(sort, tie) > (?, ?)`, which SQLite answers by scanning the index
    # from its start; the leading `sort >= ?` lets it seek, so a page 100,000 records deep costs what page 1 does.
    return (
        f"{sort} {beyond}= ? AND ({sort} {beyond} ? OR {tie} {beyond} ?)",
        [after.sort, after.sort, after.tie],
    )


def fetch_page(
    conn: sqlite3.Connection, listing: Listing, order: str, where: Where, first: int, after: Position | None
) -> Page:
    """One page of a listing: `first` rows after `after`, and whether more follow (one row more is read)."""
    sort, tie, direction = listing.orders[order]
    after_sql, after_params = after_condition(listing, order, after)
    sql = (
        f"SELECT {listing.alias}.*, {sort} AS _sort, {tie} AS _tie FROM {listing.select()} "
        f"WHERE {where.sql()} AND {after_sql} ORDER BY {sort} {direction}, {tie} {direction} LIMIT ?"
    )
    rows = conn.execute(sql, [*where.params, *after_params, first + 1]).fetchall()
    return Page(rows[:first], len(rows) > first)


def count(conn: sqlite3.Connection, listing: Listing, where: Where) -> int:
    sql = f"SELECT count(*) FROM {listing.select()} WHERE {where.sql()}"
    result: int = conn.execute(sql, where.params).fetchone()[0]
    return result


# --- nested connections: one query pages every parent of a batch -------------------------------------------

# (listing, SQL yielding `parent, child` pairs for the parents in `{keys}`)
LINKS: dict[str, tuple[Listing, str]] = {
    "meeting.statements": (
        STATEMENTS,
        "SELECT meeting AS parent, key AS child FROM statements WHERE meeting IN ({keys})",
    ),
    "topic.meetings": (
        MEETINGS,
        "SELECT DISTINCT topic AS parent, meeting AS child FROM meeting_topics WHERE topic IN ({keys})",
    ),
    "topic.statements": (
        STATEMENTS,
        "SELECT DISTINCT topic AS parent, statement AS child FROM statement_topics WHERE topic IN ({keys})",
    ),
    "person.statements": (
        STATEMENTS,
        "SELECT speaker AS parent, key AS child FROM statements WHERE speaker IN ({keys})",
    ),
    "organization.statements": (
        STATEMENTS,
        "SELECT organization AS parent, key AS child FROM statements WHERE organization IN ({keys})",
    ),
    "source.meetings": (
        MEETINGS,
        "SELECT source AS parent, meeting AS child FROM meeting_sources WHERE source IN ({keys})",
    ),
    "source.statements": (
        STATEMENTS,
        "SELECT source AS parent, key AS child FROM statements WHERE source IN ({keys})",
    ),
}
NESTED_ORDER = "DATE_ASC"


def fetch_child_pages(
    conn: sqlite3.Connection, link: str, parents: Sequence[str], first: int, after: Position | None
) -> dict[str, Page]:
    listing, link_sql = LINKS[link]
    sort, tie, direction = listing.orders[NESTED_ORDER]
    after_sql, after_params = after_condition(listing, NESTED_ORDER, after)
    a = listing.alias
    sql = (
        f"SELECT * FROM (SELECT l.parent AS _parent, {a}.*, {sort} AS _sort, {tie} AS _tie, "
        f"row_number() OVER (PARTITION BY l.parent ORDER BY {sort} {direction}, {tie} {direction}) AS _n "
        f"FROM ({link_sql.format(keys=marks(parents))}) l JOIN {listing.name} {a} ON {a}.key = l.child "
        f"WHERE {after_sql}) WHERE _n <= ? ORDER BY _parent, _n"
    )
    grouped: dict[str, list[sqlite3.Row]] = {key: [] for key in parents}
    for row in conn.execute(sql, [*parents, *after_params, first + 1]):
        grouped[row["_parent"]].append(row)
    return {key: Page(rows[:first], len(rows) > first) for key, rows in grouped.items()}


def count_children(conn: sqlite3.Connection, link: str, parents: Sequence[str]) -> dict[str, int]:
    _, link_sql = LINKS[link]
    sql = f"SELECT parent, count(*) FROM ({link_sql.format(keys=marks(parents))}) GROUP BY parent"
    counts = dict.fromkeys(parents, 0)
    counts.update(conn.execute(sql, list(parents)).fetchall())
    return counts


# --- lookups by key ---------------------------------------------------------------------------------------


def rows_by_key(conn: sqlite3.Connection, table: str, keys: Sequence[str]) -> dict[str, sqlite3.Row]:
    sql = f"SELECT * FROM {table} WHERE key IN ({marks(keys)})"
    return {row["key"]: row for row in conn.execute(sql, [plain_text(k) for k in keys])}


def rows_grouped(conn: sqlite3.Connection, sql: str, keys: Sequence[str]) -> dict[str, list[sqlite3.Row]]:
    """Run `sql` (its first column `_group`, its IN list `{keys}`) and group the rows by `_group`."""
    grouped: dict[str, list[sqlite3.Row]] = {key: [] for key in keys}
    params = [plain_text(k) for k in keys] * sql.count("{keys}")
    for row in conn.execute(sql.format(keys=marks(keys)), params):
        grouped.setdefault(row["_group"], []).append(row)
    return grouped


DELEGATIONS_OF_MEETINGS = (
    "SELECT meeting AS _group, * FROM delegations WHERE meeting IN ({keys}) ORDER BY meeting, position"
)
MEMBERS_OF_MEETINGS = (
    "SELECT dm.meeting || '/' || dm.country AS _group, p.* FROM delegation_members dm "
    "JOIN persons p ON p.key = dm.person WHERE dm.meeting IN ({keys}) ORDER BY dm.meeting, dm.country, dm.position"
)
DELEGATIONS_OF_PERSONS = (
    "SELECT DISTINCT x.person AS _group, d.* FROM (SELECT head AS person, meeting, country FROM delegations "
    "WHERE head IN ({keys}) UNION SELECT person, meeting, country FROM delegation_members WHERE person IN ({keys})) x "
    "JOIN delegations d ON d.meeting = x.meeting AND d.country = x.country ORDER BY x.person, d.meeting, d.position"
)
FOLLOW_UPS_OF_MEETINGS = (
    "SELECT follows AS _group, * FROM meetings WHERE follows IN ({keys}) ORDER BY follows, ifnull(date, '~'), key"
)
TOPICS_OF_MEETINGS = (
    "SELECT mt.meeting AS _group, t.* FROM meeting_topics mt JOIN topics t ON t.key = mt.topic "
    "WHERE mt.meeting IN ({keys}) ORDER BY mt.meeting, mt.position"
)
SOURCES_OF_MEETINGS = (
    "SELECT ms.meeting AS _group, src.* FROM meeting_sources ms JOIN sources src ON src.key = ms.source "
    "WHERE ms.meeting IN ({keys}) ORDER BY ms.meeting, ms.position"
)
SOURCES_OF_DELEGATIONS = (
    "SELECT ds.meeting || '/' || ds.country AS _group, src.* FROM delegation_sources ds "
    "JOIN sources src ON src.key = ds.source WHERE ds.meeting IN ({keys}) ORDER BY ds.meeting, ds.country, ds.position"
)
# Provenance: what each source said. Fetched by meeting, grouped by the `meeting/source[/country]` path of a report.
REPORTS_OF_MEETINGS = (
    "SELECT ms.meeting AS _group, mr.* FROM meeting_sources ms "
    "JOIN meeting_reports mr ON mr.meeting = ms.meeting AND mr.source = ms.source "
    "WHERE ms.meeting IN ({keys}) ORDER BY ms.meeting, ms.position"
)
TOPICS_OF_MEETING_REPORTS = (
    "SELECT mrt.meeting || '/' || mrt.source AS _group, t.* FROM meeting_report_topics mrt "
    "JOIN topics t ON t.key = mrt.topic WHERE mrt.meeting IN ({keys}) ORDER BY mrt.meeting, mrt.source, mrt.position"
)
DELEGATIONS_OF_MEETING_REPORTS = (
    "SELECT meeting || '/' || source AS _group, * FROM delegation_reports WHERE meeting IN ({keys}) "
    "ORDER BY meeting, source, position"
)
MEMBERS_OF_DELEGATION_REPORTS = (
    "SELECT drm.meeting || '/' || drm.source || '/' || drm.country AS _group, p.* FROM delegation_report_members drm "
    "JOIN persons p ON p.key = drm.person WHERE drm.meeting IN ({keys}) "
    "ORDER BY drm.meeting, drm.source, drm.country, drm.position"
)
TOPICS_OF_STATEMENTS = (
    "SELECT st.statement AS _group, t.* FROM statement_topics st JOIN topics t ON t.key = st.topic "
    "WHERE st.statement IN ({keys}) ORDER BY st.statement, st.position"
)


def row_by_path(conn: sqlite3.Connection, table: str, columns: Sequence[str], path: str) -> sqlite3.Row | None:
    """The row whose primary key `columns` are the parts of `path` (`meeting/country`, ...); None for a path
    of another length."""
    parts = path.split("/")
    if len(parts) != len(columns):
        return None
    condition = " AND ".join(f"{column} = ?" for column in columns)
    row: sqlite3.Row | None = conn.execute(
        f"SELECT * FROM {table} WHERE {condition}", [plain_text(part) for part in parts]
    ).fetchone()
    return row


# Every country code the data refers to (and NULL), as the column `country`.
COUNTRY_CODES = (
    "SELECT country FROM delegations UNION SELECT host_country FROM meetings UNION "
    "SELECT country FROM persons UNION SELECT country FROM organizations"
)


def countries(conn: sqlite3.Connection) -> list[str]:
    """Every country code the data refers to."""
    return sorted(code for (code,) in conn.execute(COUNTRY_CODES) if code)


# --- filters ----------------------------------------------------------------------------------------------


def fts_query(search: str) -> str | None:
    """User text as an FTS5 query of quoted terms (all must match): never FTS syntax, whatever it holds.

    None for a blank search (no condition); a search with no word in it gives a query that matches nothing.
    """
    if not search.strip():
        return None
    cleaned = "".join(" " if c < " " else c for c in plain_text(search))  # a NUL would end the query early
    return " ".join('"' + term.replace('"', '""') + '"' for term in cleaned.split()) or '""'


def meeting_where(f: Mapping[str, Any]) -> Where:
    pairs: list[tuple[str, Sequence[Any]]] = []
    if f.get("status") is not None:
        pairs.append(("m.status = ?", [f["status"]]))
    if f.get("format") is not None:
        pairs.append(("m.format = ?", [f["format"]]))
    if f.get("country") is not None:
        pairs.append(("EXISTS (SELECT 1 FROM delegations d WHERE d.meeting = m.key AND d.country = ?)", [f["country"]]))
    if f.get("host_country") is not None:
        pairs.append(("m.host_country = ?", [f["host_country"]]))
    if f.get("city") is not None:
        pairs.append(("m.city = ? COLLATE NOCASE", [f["city"]]))
    if f.get("date_from") is not None:
        pairs.append(("m.date >= ?", [f["date_from"].isoformat()]))
    if f.get("date_to") is not None:
        pairs.append(("m.date <= ?", [f["date_to"].isoformat()]))
    if f.get("topic") is not None:
        pairs.append(
            ("EXISTS (SELECT 1 FROM meeting_topics mt WHERE mt.meeting = m.key AND mt.topic = ?)", [f["topic"]])
        )
    if f.get("person") is not None:
        pairs.append(
            (
                "(EXISTS (SELECT 1 FROM delegations d WHERE d.meeting = m.key AND d.head = ?) OR "
                "EXISTS (SELECT 1 FROM delegation_members dm WHERE dm.meeting = m.key AND dm.person = ?))",
                [f["person"], f["person"]],
            )
        )
    if f.get("source") is not None:
        pairs.append(
            ("EXISTS (SELECT 1 FROM meeting_sources ms WHERE ms.meeting = m.key AND ms.source = ?)", [f["source"]])
        )
    return _where(pairs)


def statement_where(f: Mapping[str, Any]) -> Where:
    pairs: list[tuple[str, Sequence[Any]]] = []
    if f.get("search") is not None:
        query = fts_query(f["search"])
        if query is not None:
            pairs.append(("s.rowid IN (SELECT rowid FROM statements_fts WHERE statements_fts MATCH ?)", [query]))
    for name in ("speaker", "organization", "meeting", "kind", "language", "source"):
        if f.get(name) is not None:
            pairs.append((f"s.{name} = ?", [f[name]]))
    if f.get("topic") is not None:
        pairs.append(
            ("EXISTS (SELECT 1 FROM statement_topics st WHERE st.statement = s.key AND st.topic = ?)", [f["topic"]])
        )
    if f.get("date_from") is not None:
        pairs.append(("s.date >= ?", [f["date_from"].isoformat()]))
    if f.get("date_to") is not None:
        pairs.append(("s.date <= ?", [f["date_to"].isoformat()]))
    return _where(pairs)


def delegation_where(f: Mapping[str, Any]) -> Where:
    pairs: list[tuple[str, Sequence[Any]]] = []
    if f.get("country") is not None:
        pairs.append(("d.country = ?", [f["country"]]))
    if f.get("person") is not None:
        pairs.append(
            (
                "(d.head = ? OR EXISTS (SELECT 1 FROM delegation_members dm "
                "WHERE dm.meeting = d.meeting AND dm.country = d.country AND dm.person = ?))",
                [f["person"], f["person"]],
            )
        )
    return _where(pairs)

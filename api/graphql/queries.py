"""Read-only SQL over a built database: keyset pages, batched lookups by key, and the filters' conditions.

Every function takes an open read-only connection and returns `sqlite3.Row`s; nothing here knows GraphQL.
"""

import sqlite3
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ..store import SEARCHED, date_order, marks, search_index
from . import ids
from .pagination import Paging, Position

Params = list[Any]


@dataclass(frozen=True)
class Listing:
    """A table as it is paged: its alias and, per order, the sort expression, tie-breaker and direction."""

    name: str
    alias: str
    orders: Mapping[str, tuple[str, str, str]]

    def select(self) -> str:
        return f"{self.name} {self.alias}"


# By date as the store indexes it (`store.date_order`), the key breaking ties.
_BY_DATE = {f"DATE_{direction}": (date_order(direction, "{a}"), "{a}.key", direction) for direction in ("ASC", "DESC")}


def _listing(name: str, alias: str, orders: Mapping[str, tuple[str, str, str]]) -> Listing:
    return Listing(name, alias, {o: (s.format(a=alias), t.format(a=alias), d) for o, (s, t, d) in orders.items()})


BY_KEY = "KEY"
# By the published name or label folded (`vocabulary.fold`, stored as `sort_name`), the key breaking ties; the store
# indexes (sort_name, key).
_BY_NAME = {
    BY_KEY: ("{a}.key", "{a}.key", "ASC"),
    "NAME_ASC": ("{a}.sort_name", "{a}.key", "ASC"),
    "NAME_DESC": ("{a}.sort_name", "{a}.key", "DESC"),
}
MEETINGS = _listing("meetings", "m", _BY_DATE)
STATEMENTS = _listing("statements", "s", _BY_DATE)
DELEGATIONS = _listing("delegations", "d", {BY_KEY: ("{a}.meeting", "{a}.country", "ASC")})
TOPICS = _listing("topics", "t", _BY_NAME)
PERSONS = _listing("persons", "p", _BY_NAME)
ORGANIZATIONS = _listing("organizations", "o", _BY_NAME)
SOURCES = _listing("sources", "src", {BY_KEY: ("{a}.key", "{a}.key", "ASC")})


# In order of relevance to a search: the full-text index's rank (bm25: 0 or less, lower first), written as text that
# sorts as the number does (cursors carry text): 1 / (1 - rank) is in (0, 1], a fixed-width decimal. The key breaks
# ties.
RELEVANCE = "RELEVANCE"


@dataclass(frozen=True)
class Matched(Listing):
    """A listing of the records its table's full-text index (`index`) matches: read from the index's matches (so a
    search costs what its matches do, not what the listing does), in any of the listing's orders or by relevance.
    Its conditions must hold `{index} MATCH ?` (`search_where`), which the rank is of."""

    index: str = ""

    def select(self) -> str:
        return f"{self.index} JOIN {self.name} {self.alias} ON {self.alias}.rowid = {self.index}.rowid"


def matched(listing: Listing) -> Matched | None:
    """`listing` as the records a search of its table's full-text index matches; None for a table without one."""
    if listing.name not in SEARCHED:
        return None
    index = search_index(listing.name)
    rank = (f"printf('%.17f', 1.0 / (1.0 - {index}.rank))", f"{listing.alias}.key", "ASC")
    return Matched(listing.name, listing.alias, {**listing.orders, RELEVANCE: rank}, index)


@dataclass(frozen=True)
class RowPage:
    """The rows of one page of a listing, in the listing's order, and whether rows follow and precede them."""

    rows: list[sqlite3.Row]  # each with `_sort` and `_tie`, the position a cursor encodes
    has_next: bool
    has_previous: bool = False


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


def _side(listing: Listing, order: str, position: Position, later: bool, inclusive: bool) -> tuple[str, Params]:
    """The rows later than `position` in `order` (or earlier), and the row at it when `inclusive`."""
    sort, tie, direction = listing.orders[order]
    beyond = ">" if later == (direction == "ASC") else "<"
    # Spelled out rather than as a row value `(sort, tie) > (?, ?)`, which SQLite answers by scanning the index
    # from its start; the leading `sort >= ?` lets it seek, so a page 100,000 records deep costs what page 1 does,
    # in either direction.
    return (
        f"{sort} {beyond}= ? AND ({sort} {beyond} ? OR {tie} {beyond}{'=' if inclusive else ''} ?)",
        [position.sort, position.sort, position.tie],
    )


def window_condition(listing: Listing, order: str, paging: Paging) -> tuple[str, Params]:
    """The rows a page is taken from: those past its `after` cursor, or before its `before` cursor."""
    if paging.cursor is None:
        return "1", []
    return _side(listing, order, paging.cursor, later=not paging.before, inclusive=False)


def outside_condition(listing: Listing, order: str, paging: Paging) -> tuple[str, Params]:
    """The rows on the other side of the page's cursor, its own row included (none without a cursor)."""
    if paging.cursor is None:
        return "0", []
    return _side(listing, order, paging.cursor, later=paging.before, inclusive=True)


def page_select(listing: Listing, order: str, condition: str, window: str, limit: str, backward: bool = False) -> str:
    """The rows of a page of `listing` in `order`, each with its place (`_sort`, `_tie`, what its cursor encodes):
    those where `condition` in the window `window`, at most `limit` (SQL: a number or a parameter), read from the
    window's start, or from its end when `backward` (the index walked the other way; the caller reverses them)."""
    sort, tie, direction = listing.orders[order]
    if backward:
        direction = "ASC" if direction == "DESC" else "DESC"
    # A listing by key breaks no ties: ordering by the key twice cost SQLite a sort of its own.
    by = f"{sort} {direction}" if sort == tie else f"{sort} {direction}, {tie} {direction}"
    return (
        f"SELECT {listing.alias}.*, {sort} AS _sort, {tie} AS _tie FROM {listing.select()} "
        f"WHERE {condition} AND {window} ORDER BY {by} LIMIT {limit}"
    )


def count_select(listing: Listing, condition: str) -> str:
    return f"SELECT count(*) FROM {listing.select()} WHERE {condition}"


def row_page(rows: list[sqlite3.Row], paging: Paging, outside: Callable[[], bool]) -> RowPage:
    """A page from the rows read (at most one more than its size, in reading order), exact about what follows and
    precedes it: a row past its size, or `outside()` (rows on the cursor's other side), asked only when needed."""
    more = len(rows) > paging.size
    rows = rows[: paging.size]
    if paging.backward:
        rows.reverse()
    ahead = more or (paging.cursor is not None and not paging.cursor_behind and outside())
    behind = paging.cursor_behind and outside()
    if paging.backward:
        return RowPage(rows, has_next=behind, has_previous=ahead)
    return RowPage(rows, has_next=ahead, has_previous=behind)


def fetch_page(conn: sqlite3.Connection, listing: Listing, order: str, where: Where, paging: Paging) -> RowPage:
    """One page of a listing and whether rows follow and precede it (one row more is read, and, past a cursor,
    whether a row is on its other side: an index seek each)."""
    window_sql, window_params = window_condition(listing, order, paging)
    sql = page_select(listing, order, where.sql(), window_sql, "?", paging.backward)
    rows = conn.execute(sql, [*where.params, *window_params, paging.size + 1]).fetchall()

    def outside() -> bool:
        outside_sql, outside_params = outside_condition(listing, order, paging)
        found = f"SELECT EXISTS (SELECT 1 FROM {listing.select()} WHERE {where.sql()} AND {outside_sql})"
        return bool(conn.execute(found, [*where.params, *outside_params]).fetchone()[0])

    return row_page(rows, paging, outside)


def count(conn: sqlite3.Connection, listing: Listing, where: Where) -> int:
    result: int = conn.execute(count_select(listing, where.sql()), where.params).fetchone()[0]
    return result


# --- nested connections: one query pages every parent of a batch -------------------------------------------


@dataclass(frozen=True)
class Joined:
    """A listing's rows joined to their parents: the parents' `table` (aliased `alias`), their path as `group`,
    `parents` (the condition that selects them by their paths' first parts, `{keys}`) and the join `condition`."""

    table: str
    alias: str
    group: str
    parents: str
    condition: str

    def sql(self, listing: Listing, heads: Sequence[str]) -> str:
        return (
            f"FROM {self.table} {self.alias} JOIN {listing.select()} ON {self.condition} "
            f"WHERE {self.parents.format(keys=marks(heads))}"
        )


NESTED_ORDER = "DATE_ASC"


def _heads(paths: Sequence[str]) -> list[str]:
    return list(dict.fromkeys(plain_text(path.partition("/")[0]) for path in paths))


def fetch_child_pages(
    conn: sqlite3.Connection, listing: Listing, joined: Joined, parents: Sequence[str], order: str, where: Where,
    paging: Paging,
) -> dict[str, RowPage]:  # fmt: skip
    """A page of the listing's rows where `where` for each parent (by path), all in one query (and one more, past a
    cursor, for the parents with rows on its other side)."""
    sort, tie, direction = listing.orders[order]
    if paging.backward:
        direction = "ASC" if direction == "DESC" else "DESC"
    window_sql, window_params = window_condition(listing, order, paging)
    heads = _heads(parents)
    sql = (
        f"SELECT * FROM (SELECT {joined.group} AS _parent, {listing.alias}.*, {sort} AS _sort, {tie} AS _tie, "
        f"row_number() OVER (PARTITION BY {joined.group} ORDER BY {sort} {direction}, {tie} {direction}) AS _n "
        f"{joined.sql(listing, heads)} AND {where.sql()} AND {window_sql}) WHERE _n <= ? ORDER BY _parent, _n"
    )
    grouped: dict[str, list[sqlite3.Row]] = {key: [] for key in parents}
    for row in conn.execute(sql, [*heads, *where.params, *window_params, paging.size + 1]):
        if row["_parent"] in grouped:
            grouped[row["_parent"]].append(row)
    beyond: set[str] | None = None

    def outside(parent: str) -> bool:
        nonlocal beyond
        if beyond is None:
            outside_sql, outside_params = outside_condition(listing, order, paging)
            rows = f"SELECT 1 FROM {listing.select()} WHERE {joined.condition} AND {where.sql()} AND {outside_sql}"
            found = (
                f"SELECT {joined.group} FROM {joined.table} {joined.alias} "
                f"WHERE {joined.parents.format(keys=marks(heads))} AND EXISTS ({rows})"
            )
            beyond = {p for (p,) in conn.execute(found, [*heads, *where.params, *outside_params])}
        return parent in beyond

    return {key: row_page(rows, paging, lambda key=key: outside(key)) for key, rows in grouped.items()}  # type: ignore[misc]


def count_children(
    conn: sqlite3.Connection, listing: Listing, joined: Joined, parents: Sequence[str], where: Where
) -> dict[str, int]:
    heads = _heads(parents)
    counts = dict.fromkeys(parents, 0)
    sql = f"SELECT {joined.group}, count(*) {joined.sql(listing, heads)} AND {where.sql()} GROUP BY 1"
    counts.update((parent, n) for parent, n in conn.execute(sql, [*heads, *where.params]) if parent in counts)
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


def row_by_path(conn: sqlite3.Connection, rows: str, columns: Sequence[str], path: str) -> sqlite3.Row | None:
    """The row of `rows` whose key `columns` are the parts of `path` (`meeting/country`, ...); None for a path of
    another length."""
    parts = ids.path_parts(path, columns)
    if parts is None:
        return None
    condition = ids.path_condition(columns, "r", ["?"] * len(columns))
    row: sqlite3.Row | None = conn.execute(
        f"SELECT * FROM {rows} r WHERE {condition}", [plain_text(part) for part in parts]
    ).fetchone()
    return row


def roster(conn: sqlite3.Connection, rows: str, columns: Sequence[str]) -> list[sqlite3.Row]:
    """Every row of `rows`, by key."""
    return conn.execute(f"SELECT * FROM {rows} r ORDER BY {', '.join(columns)}").fetchall()


# Every country code the data refers to (and NULL), as the column `country`.
COUNTRY_CODES = (
    "SELECT country FROM delegations UNION SELECT host_country FROM meetings UNION "
    "SELECT country FROM persons UNION SELECT country FROM organizations"
)


# --- filters ----------------------------------------------------------------------------------------------


def fts_query(search: str, prefix: bool = False) -> str | None:
    """User text as an FTS5 query of quoted terms, all of which must match, in any order: never FTS syntax,
    whatever it holds. With `prefix` the last word also matches as the start of a word (a typeahead's). A word
    without a letter or digit (`-`, which holds no word to the index) is left out.

    None for a blank search (no condition); a search with no word in it gives a query that matches nothing.
    """
    if not search.strip():
        return None
    cleaned = "".join(" " if c < " " else c for c in plain_text(search))  # a NUL would end the query early
    terms = ['"' + term.replace('"', '""') + '"' for term in cleaned.split() if any(c.isalnum() for c in term)]
    if prefix and terms:
        terms[-1] += "*"
    return " ".join(terms) or '""'


def search_where(listing: Listing, search: str | None) -> tuple[str, Sequence[Any]] | None:
    """The condition that the listing's record matches `search` (a typeahead: `fts_query` with `prefix`) in its
    table's full-text index, or None for no search: in a `Matched` listing the index's own MATCH, otherwise a lookup
    of the record's rowid among the matches."""
    query = fts_query(search, prefix=True) if search is not None else None
    if query is None:
        return None
    index = search_index(listing.name)
    if isinstance(listing, Matched):
        return f"{index} MATCH ?", [query]
    return f"{listing.alias}.rowid IN (SELECT rowid FROM {index} WHERE {index} MATCH ?)", [query]


def named_where(listing: Listing) -> Callable[[Mapping[str, Any]], Where]:
    """The filter of persons, organizations or topics (in `listing`): a search of their names or labels."""

    def where(f: Mapping[str, Any]) -> Where:
        condition = search_where(listing, f.get("search"))
        return _where([condition] if condition is not None else [])

    return where


def period_facet_select(listing: Listing, length: int, condition: str) -> str:
    """The years (`length` 4: `2025`) or months (7: `2025-02`) of the dates of the listing's rows where `condition`,
    each with how many of those dates have a day in it (`n`), as `dateFrom`/`dateTo` over that period match them:
    most first, then by period. A date counts in every listed period it overlaps (an open end reaches every period on
    its side); the periods listed are those an earliest or latest day falls in; an undated record is in none.

    Counted without comparing each date with each period: a date misses a period when its latest day's period is
    before it or its earliest day's period after it, so a period's count is the dates less those two sums."""
    a = listing.alias
    return (
        f"WITH spans AS (SELECT {a}.date_earliest AS e, {a}.date_latest AS l FROM {listing.select()} "
        f"WHERE {condition} AND {a}.date IS NOT NULL), "
        f"starts AS (SELECT substr(e, 1, {length}) AS p, count(*) AS c FROM spans WHERE e IS NOT NULL GROUP BY 1), "
        f"ends AS (SELECT substr(l, 1, {length}) AS p, count(*) AS c FROM spans WHERE l IS NOT NULL GROUP BY 1), "
        "periods AS (SELECT p FROM starts UNION SELECT p FROM ends) "
        "SELECT periods.p AS value, (SELECT count(*) FROM spans) - ifnull((SELECT sum(c) FROM ends WHERE ends.p < "
        "periods.p), 0) - ifnull((SELECT sum(c) FROM starts WHERE starts.p > periods.p), 0) AS n FROM periods "
        "ORDER BY 2 DESC, 1"
    )


def facet_select(listing: Listing, value: str, through: tuple[str, str] | None, condition: str) -> str:
    """Each value of `value` (SQL over the listing's row, or over the rows `through` links to it: a table and the
    join's condition) among the rows where `condition`, with how many have it (`n`): most first, then by value; a
    row without a value is not counted. A row links to each value once (`delegations` and `statement_topics` are
    unique by record and value), and each linked row has its record (a foreign key), so without a condition the
    links are counted alone."""
    rows = listing.select()
    if through is not None:
        rows = through[0] if condition == "1" else f"{rows} JOIN {through[0]} ON {through[1]}"
    return (
        f"SELECT {value} AS value, count(*) AS n FROM {rows} WHERE {condition} AND {value} IS NOT NULL "
        "GROUP BY 1 ORDER BY 2 DESC, 1"
    )


def _overlapping(alias: str, f: Mapping[str, Any]) -> list[tuple[str, Sequence[Any]]]:
    """`dateFrom` and `dateTo`: the records whose reported date has a day between them (an open end reaches every
    day on its side); a record without a reported date matches neither."""
    pairs: list[tuple[str, Sequence[Any]]] = []
    if f.get("date_from") is not None:
        pairs.append(
            (f"{alias}.date IS NOT NULL AND ifnull({alias}.date_latest >= ?, 1)", [f["date_from"].isoformat()])
        )
    if f.get("date_to") is not None:
        pairs.append(
            (f"{alias}.date IS NOT NULL AND ifnull({alias}.date_earliest <= ?, 1)", [f["date_to"].isoformat()])
        )
    return pairs


def meeting_where(f: Mapping[str, Any]) -> Where:
    pairs: list[tuple[str, Sequence[Any]]] = []
    if (search := search_where(MEETINGS, f.get("search"))) is not None:
        pairs.append(search)
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
    pairs += _overlapping("m", f)
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
    for name in ("speaker", "organization", "meeting", "kind", "language"):
        if f.get(name) is not None:
            pairs.append((f"s.{name} = ?", [f[name]]))
    if f.get("source") is not None:  # any source reporting it
        pairs.append(
            ("EXISTS (SELECT 1 FROM statement_sources ss WHERE ss.statement = s.key AND ss.source = ?)", [f["source"]])
        )
    if f.get("topic") is not None:
        pairs.append(
            ("EXISTS (SELECT 1 FROM statement_topics st WHERE st.statement = s.key AND st.topic = ?)", [f["topic"]])
        )
    pairs += _overlapping("s", f)
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

"""The rules between records, checked in SQL against the database a load is writing, over what it changed.

They run after every file of a load is written and merged (`diplo.ingest.session`), inside its transaction, so what they
see is exactly what would be committed. Each looks only at the records a load touched and those that point at
them, so loading one small file into a large database checks a few rows, not all of them. The temporary tables
`loaded` (source keys), `changed`, `removed` and `ignored` (record type and key) say what a load touched.
"""

import sqlite3
from collections.abc import Iterable, Iterator, Mapping

from .rules import Finding, Place
from .suggest import closest_keys, did_you_mean

SUGGESTED = 50  # unknown references that get the closest keys: each compares with every key of its type

TEMP_TABLES = {
    "loaded": "CREATE TEMP TABLE IF NOT EXISTS loaded (key TEXT PRIMARY KEY)",
    # Every record a load merges; `pending` until it is merged (at the end; a first report as its file is written).
    "changed": "CREATE TEMP TABLE IF NOT EXISTS changed (kind TEXT, key TEXT, pending INTEGER NOT NULL DEFAULT 1, "
    "PRIMARY KEY (kind, key)) WITHOUT ROWID",
    "removed": "CREATE TEMP TABLE IF NOT EXISTS removed (kind TEXT, key TEXT, PRIMARY KEY (kind, key)) WITHOUT ROWID",
    # Records that broke their own rules: they still exist for references, so they cause no `ref.unknown`.
    "ignored": "CREATE TEMP TABLE IF NOT EXISTS ignored (kind TEXT, key TEXT, PRIMARY KEY (kind, key)) WITHOUT ROWID",
}

# Every reference a report or statement makes: (referring type, referred type, rows as source, key, suffix, ref).
REFERENCES: tuple[tuple[str, str, str], ...] = (
    ("meetings", "meetings", "SELECT source, meeting AS key, '.follows' AS suffix, follows AS ref "
     "FROM meeting_reports"),
    ("meetings", "topics", "SELECT source, meeting AS key, '.topics[' || position || ']' AS suffix, topic AS ref "
     "FROM meeting_report_topics"),
    ("meetings", "persons", "SELECT source, meeting AS key, '.delegations[' || position || '].head' AS suffix, "
     "head AS ref FROM delegation_reports"),
    ("meetings", "persons", "SELECT m.source AS source, m.meeting AS key, '.delegations[' || d.position || "
     "'].members[' || m.position || ']' AS suffix, m.person AS ref FROM delegation_report_members m "
     "JOIN delegation_reports d ON d.meeting = m.meeting AND d.source = m.source AND d.country = m.country"),
    *(("statements", target, f"SELECT source, statement AS key, '.{ref}' AS suffix, {ref} AS ref "
       "FROM statement_reports") for ref, target in (("speaker", "persons"), ("organization", "organizations"),
                                                     ("meeting", "meetings"))),
    ("statements", "topics", "SELECT source, statement AS key, '.topics[' || position || ']' AS suffix, topic AS ref "
     "FROM statement_report_topics"),
    *((f"{kind}s", f"{kind}s", f"SELECT r.source AS source, r.{kind} AS key, '.distinct_from[' || d.key || ']' "
       f"AS suffix, d.value AS ref FROM {kind}_reports r, json_each(r.distinct_from) d "
       "WHERE r.distinct_from <> '[]'") for kind in ("person", "organization")),
)  # fmt: skip


def fill(conn: sqlite3.Connection, name: str, rows: Iterable[tuple[str, ...]]) -> None:
    conn.execute(TEMP_TABLES[name])
    conn.execute(f"DELETE FROM temp.{name}")
    columns = "(key)" if name == "loaded" else "(kind, key)"
    marks = "(?)" if name == "loaded" else "(?, ?)"
    conn.executemany(f"INSERT OR IGNORE INTO temp.{name} {columns} VALUES {marks}", rows)


def _pairs(keys: Mapping[str, Iterable[str]]) -> Iterator[tuple[str, str]]:
    return ((kind, key) for kind, values in keys.items() for key in values)


def check(
    conn: sqlite3.Connection,
    loaded: Iterable[str],
    removed: Mapping[str, Iterable[str]],
    ignored: Mapping[str, Iterable[str]],
) -> list[Finding]:
    """The findings of every rule between records; `changed` is filled by the load as it writes."""
    fill(conn, "loaded", ((key,) for key in loaded))
    fill(conn, "removed", _pairs(removed))
    fill(conn, "ignored", _pairs(ignored))
    return [*_references(conn), *_follow_ups(conn), *_cycles(conn), *_head_countries(conn)]


def _references(conn: sqlite3.Connection) -> Iterator[Finding]:
    """`ref.unknown`: what this load's sources refer to, and whatever refers to a record this load removed; the
    first few with the closest existing keys of the type referred to."""
    keys: dict[str, list[str]] = {}
    suggested = 0
    for kind, target, rows in REFERENCES:
        unknown = (
            f"r.ref IS NOT NULL AND NOT EXISTS (SELECT 1 FROM {target} t WHERE t.key = r.ref) "
            f"AND NOT EXISTS (SELECT 1 FROM temp.ignored i WHERE i.kind = '{target}' AND i.key = r.ref)"
        )
        sql = (
            f"SELECT r.source, r.key, r.suffix, r.ref FROM ({rows}) r WHERE r.source IN (SELECT key FROM temp.loaded) "
            f"AND {unknown} UNION "
            f"SELECT r.source, r.key, r.suffix, r.ref FROM ({rows}) r "
            f"WHERE r.ref IN (SELECT key FROM temp.removed WHERE kind = '{target}') AND {unknown}"
        )
        for source, key, suffix, ref in conn.execute(sql):
            gone = conn.execute("SELECT 1 FROM temp.removed WHERE kind = ? AND key = ?", (target, ref)).fetchone()
            message = (
                f"{target} record {ref!r} is no longer reported by any source, but this still refers to it: "
                "keep it in a seed file, or remove this reference"
                if gone
                else f"no {target} record has the key {ref!r}: define it in a seed file, or correct the key"
            )
            if not gone and suggested < SUGGESTED:
                suggested += 1
                if target not in keys:
                    keys[target] = [k for (k,) in conn.execute(
                        f"SELECT key FROM {target} UNION SELECT key FROM temp.ignored WHERE kind = ?", (target,)
                    )]  # fmt: skip
                own = f"`{key}`" if kind == target else None  # a record does not refer to itself
                message += did_you_mean([k for k in closest_keys(ref, keys[target]) if k != own])
            yield Finding(Place(source, kind, key, suffix), "ref.unknown", message)


def reporter(conn: sqlite3.Connection, table: str, column: str, key: str, giving: str | None = None) -> str:
    """The source of a report in `table` of the record `column` = `key` (that gives its `giving` field, if named),
    one of this load's when there is one: the file an author is asked to look at."""
    gives = f" AND {giving} IS NOT NULL" if giving else ""
    row = conn.execute(
        f"SELECT source FROM {table} WHERE {column} = ?{gives} "
        "ORDER BY source IN (SELECT key FROM temp.loaded) DESC, source LIMIT 1",
        (key,),
    ).fetchone()
    return str(row[0])


_CHANGED_MEETINGS = "(SELECT key FROM temp.changed WHERE kind = 'meetings')"
# Records with a report that could not be checked: what the rules would say of them may be wrong, so they say nothing.
_CHECKED = "NOT IN (SELECT key FROM temp.ignored WHERE kind = '{}')"


def _follow_ups(conn: sqlite3.Connection) -> Iterator[Finding]:
    """`meeting.follows_order` (dates) and `meeting.round_sequence` for follow-ups that this load touched."""
    both = (
        "SELECT m.key, m.date, m.date_latest, m.round, p.key, p.date, p.date_earliest, p.round "
        "FROM meetings m JOIN meetings p ON p.key = m.follows "
        f"WHERE m.key {_CHECKED.format('meetings')} AND p.key {_CHECKED.format('meetings')} AND "
    )
    pairs = f"{both} m.key IN {_CHANGED_MEETINGS} UNION {both} m.follows IN {_CHANGED_MEETINGS}"
    for key, date, latest, round_, previous, previous_date, earliest, round_before in conn.execute(pairs):
        # Compared as spans: an error only when no day of this one is after a day of the one it follows.
        if latest is not None and earliest is not None and latest <= earliest:
            yield Finding(
                Place(reporter(conn, "meeting_reports", "meeting", key, "date"), "meetings", key, ".date"),
                "meeting.follows_order",
                f"dated {date}, not after {previous!r} which it follows ({previous_date})",
            )
        if round_ is not None and round_before is not None and round_ != round_before + 1:
            yield Finding(
                Place(reporter(conn, "meeting_reports", "meeting", key, "round"), "meetings", key, ".round"),
                "meeting.round_sequence",
                f"round {round_} follows {previous!r} of round {round_before}; expected {round_before + 1}",
            )


def _cycles(conn: sqlite3.Connection) -> Iterator[Finding]:
    """`meeting.follows_order`: a follow-up chain that loops; a new loop passes through a changed meeting."""
    looped = conn.execute(
        "WITH RECURSIVE walk(start, key) AS ("
        f"SELECT key, follows FROM meetings WHERE key IN {_CHANGED_MEETINGS} AND follows IS NOT NULL "
        f"AND key {_CHECKED.format('meetings')} "
        "UNION SELECT w.start, m.follows FROM walk w JOIN meetings m ON m.key = w.key "
        "WHERE m.follows IS NOT NULL AND w.key <> w.start) "
        "SELECT DISTINCT start FROM walk WHERE key = start ORDER BY start"
    ).fetchall()
    reported: set[str] = set()
    for (start,) in looped:
        if start in reported:
            continue
        loop = [start]
        while (following := _follows(conn, loop[-1])) != start:
            loop.append(following)
        reported.update(loop)
        for i, member in enumerate(loop):
            yield Finding(
                Place(reporter(conn, "meeting_reports", "meeting", member, "follows"), "meetings", member, ".follows"),
                "meeting.follows_order",
                "follow-up chain loops: " + " -> ".join([*loop[i:], *loop[:i], member]),
            )


def _follows(conn: sqlite3.Connection, meeting: str) -> str:
    return str(conn.execute("SELECT follows FROM meetings WHERE key = ?", (meeting,)).fetchone()[0])


def _head_countries(conn: sqlite3.Connection) -> Iterator[Finding]:
    """`delegation.head_country`, for delegations this load touched and heads whose country it touched."""
    mismatch = (
        "SELECT d.meeting, d.country, d.head, p.country FROM delegations d JOIN persons p ON p.key = d.head "
        "WHERE p.country IS NOT NULL AND p.country <> d.country "
        f"AND d.meeting {_CHECKED.format('meetings')} AND d.head {_CHECKED.format('persons')} AND "
    )
    sql = (
        f"{mismatch} d.meeting IN {_CHANGED_MEETINGS} UNION "
        f"{mismatch} d.head IN (SELECT key FROM temp.changed WHERE kind = 'persons')"
    )
    for meeting, country, head, head_country in conn.execute(sql).fetchall():
        source, position = conn.execute(
            "SELECT source, position FROM delegation_reports WHERE meeting = ? AND country = ? AND head = ? "
            "ORDER BY source IN (SELECT key FROM temp.loaded) DESC, source LIMIT 1",
            (meeting, country, head),
        ).fetchone()
        yield Finding(
            Place(source, "meetings", meeting, f".delegations[{position}].head"),
            "delegation.head_country",
            f"head {head!r} is of country {head_country}, the delegation of {country}",
        )

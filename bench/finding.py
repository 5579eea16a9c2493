"""Finding things at scale: typeahead searches and pages sorted by name, their compiled SQL against a floor.

    python bench/finding.py --db FILE            # a database built by diplo load (bench/run.py's, 1M statements)
    python bench/finding.py --db FILE --check    # only check that the compiled SQL answers as the floor does

Typeahead: a request `first: 10` with `filter: {search: ...}` over persons, organizations, topics and meetings, the
searches taken from the data (a name's first word cut to two letters, which most names share in the synthetic
data; a whole word and the first one or two characters of the next; a whole name). Its floor is one hand-written
statement that reads the same ten records from the full-text index's matches, in the listing's order, with no
paging and no count. The target: the compiled request under 5 ms of SQL (median). Sorting by name: a page of 20
persons by name half-way down the listing (a cursor past half of them) against page 1, in both directions; its
floor is the hand-written page 1, its answer checked against the same page by OFFSET, and the target is about page
1's cost (within 1.5 times Diplo's page 1). Facets (shown, without a target): the facet root fields over every
record, and the statements' for the commonest topic, against a hand-written GROUP BY per group.

Each statement is run on one read-only connection, as the server runs it: the compiler's SQL for the request, then
the floor, in turn, the order alternating, median and 95th percentile of up to `--runs` runs each. The exit status is
3 when a target is missed, 2 when the database is not one diplo load built, 1 when an answer differs from its floor.
"""

import argparse
import json
import sqlite3
import statistics
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import graphql
from diplo.graphql import dialect
from diplo.graphql.compiler import Compiler
from diplo.graphql.pagination import Position, encode_cursor
from diplo.graphql.queries import fts_query
from diplo.graphql.schema import build_schema
from diplo.store import connect_readonly, search_index
from graphql.execution.values import VariableValues, get_variable_values

TYPEAHEAD_MS = 5.0  # the target for a typeahead request's SQL
DEEP_RATIO = 1.5  # a deep page "costs about what page 1 costs": within this of it
FIRST = 10

# listing -> (its name field and column, the floor's ORDER BY)
LISTINGS = {
    "persons": ("name", "name", "r.key"),
    "organizations": ("name", "name", "r.key"),
    "topics": ("label", "label", "r.key"),
    "meetings": ("title", "title", "ifnull(r.date, '~'), r.key"),
}


@dataclass(frozen=True)
class Case:
    name: str
    query: str
    variables: dict[str, Any]
    floor: str  # a hand-written statement answering the same nodes (for a deep page: page 1)
    floor_params: dict[str, Any]
    target: str  # "typeahead", "deep" or "" (shown, no target)
    matches: str  # SQL (with the floor's parameters): how many records the request reads from
    answer: str | None = None  # what answers the same nodes, when the floor does not: the deep page by OFFSET


def typeahead(listing: str, search: str, order: str | None = None) -> Case:
    field, column, floor_order = LISTINGS[listing]
    ordered = f", orderBy: {order}" if order else ""
    query = (
        f"query ($s: String) {{ {listing}(filter: {{search: $s}}, first: {FIRST}{ordered}) "
        f"{{ nodes {{ key {field} }} pageInfo {{ hasNextPage endCursor }} }} }}"
    )
    index = search_index(listing)
    by = f"{index}.rank, r.key" if order == "RELEVANCE" else floor_order
    rows = (
        f"SELECT r.key, r.{column} FROM {index} JOIN {listing} r ON r.rowid = {index}.rowid "
        f"WHERE {index} MATCH :q ORDER BY {by} LIMIT {FIRST}"
    )
    floor = f"SELECT json_group_array(json_object('key', r.key, '{field}', r.{column})) FROM ({rows}) r"
    name = f"{listing} `{search}`" + (f", {order}" if order else "")
    query_terms = fts_query(search, prefix=True)
    matches = f"SELECT count(*) FROM {index} WHERE {index} MATCH :q"
    return Case(name, query, {"s": search}, floor, {"q": query_terms}, "" if order else "typeahead", matches)


PERSONS = "SELECT count(*) FROM persons"


def by_name(conn: sqlite3.Connection, order: str, deep: bool) -> Case:
    """A page of 20 persons by name: page 1, or past half of them (its floor is page 1 itself)."""
    direction = "DESC" if order == "NAME_DESC" else "ASC"
    after: str | None = None
    if deep:
        (total,) = conn.execute("SELECT count(*) FROM persons").fetchone()
        sort, key = conn.execute(
            f"SELECT sort_name, key FROM persons ORDER BY sort_name {direction}, key {direction} LIMIT 1 OFFSET ?",
            [total // 2],
        ).fetchone()
        after = encode_cursor("persons", order, Position(sort, key))
    query = (
        "query ($after: String) { persons(first: 20, after: $after, orderBy: " + order + ") "
        "{ nodes { key name } pageInfo { hasNextPage endCursor } } }"
    )
    page = "SELECT json_group_array(json_object('key', r.key, 'name', r.name)) FROM (SELECT key, name FROM persons "
    page += f"ORDER BY sort_name {direction}, key {direction} LIMIT 20{{}}) r"
    if not deep:
        return Case(f"persons by name, {order}, page 1", query, {"after": None}, page.format(""), {}, "", PERSONS)
    offset = page.format(f" OFFSET {conn.execute('SELECT count(*) FROM persons').fetchone()[0] // 2 + 1}")
    return Case(f"persons by name, {order}, half-way down", query, {"after": after}, page.format(""), {}, "deep",
                PERSONS, offset)  # fmt: skip


def searches(conn: sqlite3.Connection, listing: str) -> list[str]:
    """Typeahead searches from the data: a name half-way down the listing, cut as a user types it."""
    _, column, _ = LISTINGS[listing]
    (total,) = conn.execute(f"SELECT count(*) FROM {listing}").fetchone()
    row = conn.execute(f"SELECT {column} FROM {listing} ORDER BY key LIMIT 1 OFFSET ?", [total // 2]).fetchone()
    words = row[0].split() if row else ["none"]
    found = [words[0][:2]]
    if len(words) > 1:
        found += [f"{words[0]} {words[1][:1]}", f"{words[0]} {words[1][:2]}", f"{words[0]} {words[1]}"]
    return list(dict.fromkeys(found))


def _counts(rows: str) -> str:
    """Hand-written: a facet group's JSON from `rows` of (v, n)."""
    return f"(SELECT json_group_array(json_object('value', v, 'count', n)) FROM ({rows} GROUP BY 1 ORDER BY 2 DESC, 1))"


def _facets(groups: dict[str, str]) -> str:
    return "SELECT json_object(" + ", ".join(f"'{name}', {_counts(rows)}" for name, rows in groups.items()) + ")"


def facets(conn: sqlite3.Connection) -> list[Case]:
    """The facet root fields over everything, and the statements' with a topic's filter (shown, no target): their
    floor is a hand-written GROUP BY per group, each in the plan a person would write for that filter."""
    meetings = _facets({
        "byCountry": "SELECT country v, count(*) n FROM delegations",
        "byHostCountry": "SELECT host_country v, count(*) n FROM meetings WHERE host_country IS NOT NULL",
        "byStatus": "SELECT upper(status) v, count(*) n FROM meetings",
        "byFormat": "SELECT upper(format) v, count(*) n FROM meetings",
        "byYear": "SELECT substr(date, 1, 4) v, count(*) n FROM meetings WHERE date IS NOT NULL",
        "byMonth": "SELECT substr(date, 1, 7) v, count(*) n FROM meetings WHERE date IS NOT NULL",
    })  # fmt: skip
    groups = " ".join(f"{g} {{ value count }}" for g in ("byTopic", "byKind", "byLanguage"))
    statements = _facets({
        "byTopic": "SELECT topic v, count(*) n FROM statement_topics",
        "byKind": "SELECT upper(kind) v, count(*) n FROM statements",
        "byLanguage": "SELECT language v, count(*) n FROM statements",
    })  # fmt: skip
    topic = conn.execute("SELECT topic FROM statement_topics GROUP BY 1 ORDER BY count(*) DESC LIMIT 1").fetchone()
    of_topic = "FROM statement_topics st JOIN statements s ON s.key = st.statement WHERE st.topic = :t"
    by_topic = _facets({
        "byTopic": "SELECT topic v, count(*) n FROM statement_topics",
        "byKind": f"SELECT upper(s.kind) v, count(*) n {of_topic}",
        "byLanguage": f"SELECT s.language v, count(*) n {of_topic}",
    })  # fmt: skip
    six = " ".join(f"{g} {{ value count }}" for g in ("byCountry", "byHostCountry", "byStatus", "byFormat", "byYear",
                                                      "byMonth"))  # fmt: skip
    return [
        Case("meetingFacets, no filter", f"{{ meetingFacets {{ {six} }} }}", {}, meetings, {}, "",
             "SELECT count(*) FROM meetings"),
        Case("statementFacets, no filter", f"{{ statementFacets {{ {groups} }} }}", {}, statements, {}, "",
             "SELECT count(*) FROM statements"),
        Case("statementFacets, the commonest topic", f"query ($t: String) {{ statementFacets(filter: {{topic: $t}}) "
             f"{{ {groups} }} }}", {"t": topic[0] if topic else ""}, by_topic, {"t": topic[0] if topic else ""}, "",
             "SELECT count(*) FROM statement_topics WHERE topic = :t"),
    ]  # fmt: skip


def cases(conn: sqlite3.Connection) -> list[Case]:
    found = [typeahead(listing, search) for listing in LISTINGS for search in searches(conn, listing)]
    found.append(typeahead("persons", searches(conn, "persons")[-1], "RELEVANCE"))
    for order in ("NAME_ASC", "NAME_DESC"):
        found += [by_name(conn, order, deep=False), by_name(conn, order, deep=True)]
    return found + facets(conn)


def compiled(schema: graphql.GraphQLSchema, case: Case) -> tuple[str, dict[str, Any]]:
    """The compiler's one statement for the case's request and its bound parameters."""
    operation = graphql.parse(case.query).definitions[0]
    assert isinstance(operation, graphql.OperationDefinitionNode)
    variables = get_variable_values(schema, operation.variable_definitions or (), case.variables)
    assert isinstance(variables, VariableValues), variables
    [(_, sql, binders)] = Compiler(schema, {}, variables, operation).statements()
    return sql, {name: bind(variables) for name, bind in binders.items()}


def run(conn: sqlite3.Connection, sql: str, params: dict[str, Any]) -> tuple[float, str]:
    started = time.perf_counter()
    answer: str = conn.execute(sql, params).fetchone()[0]
    return time.perf_counter() - started, answer


def nodes(answer: str) -> Any:
    """A listing's nodes, or a facet field's groups."""
    data = json.loads(answer)
    (value,) = data.values()
    return value.get("nodes", value)


@dataclass(frozen=True)
class Timing:
    case: Case
    ours: list[float]
    floor: list[float]
    count: int  # records the search matches (the listing's size for a page by name)

    @staticmethod
    def ms(times: list[float], quantile: float) -> float:
        ordered = sorted(times)
        return ordered[min(len(ordered) - 1, int(quantile * len(ordered)))] * 1000

    @property
    def p50(self) -> float:
        return statistics.median(self.ours) * 1000

    @property
    def floor_p50(self) -> float:
        return statistics.median(self.floor) * 1000


def measure(conn: sqlite3.Connection, case: Case, sql: str, params: dict[str, Any], runs: int,
            seconds: float) -> Timing:  # fmt: skip
    times: tuple[list[float], list[float]] = ([], [])
    statements = ((sql, params), (case.floor, case.floor_params))
    deadline = time.monotonic() + seconds
    for i in range(runs):
        for slot in (0, 1) if i % 2 == 0 else (1, 0):
            times[slot].append(run(conn, *statements[slot])[0])
        if i >= 9 and time.monotonic() > deadline:
            break
    return Timing(case, times[0], times[1], conn.execute(case.matches, case.floor_params).fetchone()[0])


def met(timing: Timing, page_one: dict[str, float]) -> str:
    if timing.case.target == "typeahead":
        return "yes" if timing.p50 < TYPEAHEAD_MS else "**no**"
    if timing.case.target == "deep":
        first = page_one[timing.case.name.replace("half-way down", "page 1")]
        return "yes" if timing.p50 <= DEEP_RATIO * first else "**no**"
    return "-"


def report(timings: list[Timing], db: Path) -> tuple[str, bool]:
    page_one = {t.case.name: t.p50 for t in timings if t.case.name.endswith("page 1")}
    lines = [
        f"database: {db.name}; median and 95th percentile of {min(len(t.ours) for t in timings)} to "
        f"{max(len(t.ours) for t in timings)} runs each, in turn with the floor",
        "| request | matches | Diplo SQL p50 | p95 | floor p50 | Diplo/floor | target | met |",
        "|---|---|---|---|---|---|---|---|",
    ]
    ok = True
    for t in timings:
        verdict = met(t, page_one)
        ok = ok and verdict != "**no**"
        target = {"typeahead": f"< {TYPEAHEAD_MS:g} ms", "deep": f"≤ {DEEP_RATIO:g}× page 1"}.get(t.case.target, "-")
        lines.append(
            f"| {t.case.name} | {t.count:,} | {t.p50:.2f} ms | {Timing.ms(t.ours, 0.95):.2f} ms | "
            f"{t.floor_p50:.2f} ms | {t.p50 / t.floor_p50:.2f}× | {target} | {verdict} |"
        )
    return "\n".join(lines), ok


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", type=Path, required=True, help="a database built by diplo load")
    parser.add_argument("--runs", type=int, default=300, help="at most this many runs of each statement")
    parser.add_argument("--seconds", type=float, default=2.0, help="about this long per request")
    parser.add_argument("--check", action="store_true", help="only check the answers against their floors")
    args = parser.parse_args()
    try:
        conn = connect_readonly(args.db)
        conn.execute("SELECT 1 FROM persons_fts LIMIT 1").fetchall()
    except sqlite3.Error:
        print(f"FAILED: {args.db} is not a database built by diplo load", file=sys.stderr)
        return 2
    dialect.register(conn)
    schema = build_schema()._schema
    timings, wrong = [], []
    for case in cases(conn):
        sql, params = compiled(schema, case)
        expected = run(conn, case.answer or case.floor, case.floor_params)[1]
        ours, theirs = nodes(run(conn, sql, params)[1]), json.loads(expected)
        if ours != theirs:
            wrong.append(f"{case.name}: the compiled SQL answers differently\n  compiled: {ours}\n  floor: {theirs}")
        elif not args.check:
            timings.append(measure(conn, case, sql, params, args.runs, args.seconds))
    if wrong:
        print("\n".join(wrong), file=sys.stderr)
        return 1
    if args.check:
        print(f"{len(cases(conn))} requests: the compiled SQL answers as the hand-written SQL does")
        return 0
    table, ok = report(timings, args.db)
    print(table)
    return 0 if ok else 3


if __name__ == "__main__":
    sys.exit(main())

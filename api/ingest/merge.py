"""Merging reports into records: what every source said about one key, made into the record the API serves.

Reports are ordered by their source's publication time, then source key ("report order"). Wording (names,
titles, labels, roles, summaries) is the earliest report's that gives one; other spellings of a name are kept as
aliases. Facts must agree between the reports that give them (`report.disagree`), except that a report saying a
meeting was held supersedes what planned reports gave for its date, place and format. Lists are unions in report
order. Each function here takes the reports of one key and returns the record's rows and what is wrong.
"""

import json
import sqlite3
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from .. import dates, store
from ..vocabulary import MeetingStatus, fold
from .reports import REPORT_TABLES, span_columns
from .rules import Finding, Place
from .seeds import RecordKind

# The tables that hold each merged record type, children first, with the column holding the record's key.
RECORD_TABLES: dict[RecordKind, tuple[tuple[str, str], ...]] = {
    "persons": (("persons", "key"),),
    "organizations": (("organizations", "key"),),
    "topics": (("topics", "key"),),
    "meetings": (
        ("meeting_topics", "meeting"),
        ("meeting_sources", "meeting"),
        ("delegation_members", "meeting"),
        ("delegation_sources", "meeting"),
        ("delegations", "meeting"),
        ("meetings", "key"),
    ),
}
# Where each merged record type's reports are, and the report column holding the record's key (statements are
# one source's each: never merged).
REPORT_TABLE: dict[RecordKind, tuple[str, str]] = {
    table.kind: (table.name, table.key) for table in REPORT_TABLES if table.record and table.kind != "statements"
}
# Which meeting fields are facts, and which of them a held report settles over planned ones.
MEETING_FACTS = ("status", "format", "date", "city", "host_country", "round", "follows")
# Facts whose reports agree when their spans intersect, and which the intersection gives (`diplo.dates`).
SPANS = ("date",)
SETTLED_BY_HELD = ("format", "date", "city", "host_country")


@dataclass
class Report:
    """One source's report of one record: its row, and for a meeting its lists."""

    source: str
    values: dict[str, Any]
    topics: list[str] = field(default_factory=list)
    delegations: list[dict[str, Any]] = field(default_factory=list)  # with `members`: [person, ...]


@dataclass
class Merged:
    """The merged rows of a chunk of keys, per table, and what is wrong with them."""

    rows: dict[str, list[store.Values]] = field(default_factory=dict)
    findings: list[Finding] = field(default_factory=list)
    unwritable: set[str] = field(default_factory=set)  # keys whose record lacks what the store requires


class ReportOrder:
    """Report order (`store.REPORT_ORDER`), each source's place read once and cached."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn
        self.known: dict[str, tuple[Any, ...]] = {}

    def sort(self, reports: list[Report]) -> list[Report]:
        # Not `set - self.known.keys()`, which walks every source known (thousands, in a large load) each time.
        missing = sorted({r.source for r in reports if r.source not in self.known})
        if missing:
            sql = (
                f"SELECT s.key, {store.REPORT_ORDER.format(s='s')} FROM sources s WHERE key IN ({store.marks(missing)})"
            )
            for key, *ordered in self.conn.execute(sql, missing):
                self.known[key] = tuple(ordered)
        return sorted(reports, key=lambda r: self.known[r.source])

    def forget(self, source: str) -> None:
        self.known.pop(source, None)


def read_reports(conn: sqlite3.Connection, kind: RecordKind, keys: Sequence[str]) -> dict[str, list[Report]]:
    """Every current report of `keys`, by key, in no particular order."""
    table, column = REPORT_TABLE[kind]
    names = store.columns(table)[0]
    by: dict[tuple[str, str], Report] = {}
    sql = f"SELECT {', '.join(names)} FROM {table} WHERE {column} IN ({store.marks(keys)})"
    for row in conn.execute(sql, keys):
        values = dict(zip(names, row, strict=True))
        by[values[column], values["source"]] = Report(values["source"], values)
    if kind == "meetings":
        sql = "SELECT meeting, source, topic FROM meeting_report_topics WHERE meeting IN ({}) ORDER BY position"
        for meeting, source, topic in conn.execute(sql.format(store.marks(keys)), keys):
            by[meeting, source].topics.append(topic)
        delegations: dict[tuple[str, str, str], dict[str, Any]] = {}
        sql = (
            "SELECT meeting, source, country, position, head, head_role FROM delegation_reports "
            "WHERE meeting IN ({}) ORDER BY position"
        )
        for meeting, source, country, position, head, role in conn.execute(sql.format(store.marks(keys)), keys):
            delegation = {"country": country, "position": position, "head": head, "head_role": role, "members": []}
            delegations[meeting, source, country] = delegation
            by[meeting, source].delegations.append(delegation)
        sql = (
            "SELECT meeting, source, country, person FROM delegation_report_members WHERE meeting IN ({}) "
            "ORDER BY position"
        )
        for meeting, source, country, person in conn.execute(sql.format(store.marks(keys)), keys):
            delegations[meeting, source, country]["members"].append(person)
    grouped: dict[str, list[Report]] = {}
    for (key, _), report in by.items():
        grouped.setdefault(key, []).append(report)
    return grouped


def merge(conn: sqlite3.Connection, kind: RecordKind, keys: Sequence[str], order: ReportOrder) -> Merged:
    """The merged rows of `keys` (a key no report mentions any more gets none: the record is removed)."""
    merged = Merged({table: [] for table, _ in RECORD_TABLES[kind]})
    for key, reports in read_reports(conn, kind, keys).items():
        ordered = order.sort(reports)
        if kind == "meetings":
            _merge_meeting(key, ordered, merged)
        elif kind == "topics":
            _merge_topic(key, ordered, merged)
        else:
            _merge_named(kind, key, ordered, merged)
    return merged


def _agree(kind: RecordKind, key: str, name: str, given: Iterable[tuple[Report, Any, str]], merged: Merged) -> Any:
    """The one value the reports give for a fact (`given`: report, value, where in the record it is); each
    report that gives another is `report.disagree`, naming the first report that gave it."""
    first: tuple[Report, Any, str] | None = None
    for report, value, suffix in given:
        if value is None:
            continue
        if first is None:
            first = (report, value, suffix)
        elif value != first[1]:
            merged.findings.append(Finding(
                Place(report.source, kind, key, suffix), "report.disagree",
                f"{name} {value!r} disagrees with {first[1]!r} given by {{other}}; correct whichever is wrong "
                "(a report may also leave the fact out)",
                Place(first[0].source, kind, key, first[2]),
            ))  # fmt: skip
    return first[1] if first else None


def _narrowed(key: str, name: str, given: Iterable[tuple[Report, Any, str]], merged: Merged) -> dates.Span | None:
    """The intersection of the spans the reports give for a date fact; a report whose span is disjoint from the
    ones before it is `report.disagree`, naming the first report it excludes."""
    spans: list[tuple[Report, dates.Span, str]] = []
    for report, value, suffix in given:
        if value is None:
            continue
        span = dates.span_of(value)
        clash = next((s for s in spans if not s[1].overlaps(span)), None)
        if clash is not None:
            merged.findings.append(Finding(
                Place(report.source, "meetings", key, suffix), "report.disagree",
                f"{name} {value!r} disagrees with {clash[1].edtf!r} given by {{other}}: the two spans share no day; "
                "correct whichever is wrong (a report may also leave the fact out, or give a wider span)",
                Place(clash[0].source, "meetings", key, clash[2]),
            ))  # fmt: skip
            continue
        spans.append((report, span, suffix))
    return dates.intersect(s for _, s, _ in spans)


def _field(reports: Iterable[Report], name: str) -> Iterable[tuple[Report, Any, str]]:
    return ((r, r.values[name], f".{name}") for r in reports)


def _first(values: Iterable[Any]) -> Any:
    return next((v for v in values if v is not None), None)


def _union(lists: Iterable[Iterable[str]]) -> list[str]:
    return list(dict.fromkeys(item for items in lists for item in items))


def _merge_named(kind: RecordKind, key: str, reports: list[Report], merged: Merged) -> None:
    """Persons and organizations: the earliest name, the others as aliases, and facts that agree."""
    names = _union([r.values["name"]] for r in reports)
    values = {
        "key": key,
        "name": names[0],
        "sort_name": fold(names[0]),
        "aliases": store.to_json(names[1:]),
        "country": _agree(kind, key, "country", _field(reports, "country"), merged),
        "wikidata": _agree(kind, key, "wikidata", _field(reports, "wikidata"), merged),
    }
    merged.rows[kind].append(store.as_row(kind, values))


def _merge_topic(key: str, reports: list[Report], merged: Merged) -> None:
    labels: dict[str, str] = {}
    for report in reports:
        for language, label in json.loads(report.values["labels"]).items():
            labels.setdefault(language, label)
    label = reports[0].values["label"]
    values = {"key": key, "label": label, "sort_name": fold(label), "labels": store.to_json(labels)}
    merged.rows["topics"].append(store.as_row("topics", values))


def _merge_meeting(key: str, reports: list[Report], merged: Merged) -> None:
    held = [r for r in reports if r.values["status"] == MeetingStatus.HELD]
    values: dict[str, Any] = {"key": key, "status": MeetingStatus.HELD if held else MeetingStatus.PLANNED}
    for name in MEETING_FACTS[1:]:
        pool = held if held and name in SETTLED_BY_HELD else reports
        if name in SPANS:
            values.update(span_columns(_narrowed(key, name, _field(pool, name), merged), name))
        else:
            values[name] = _agree("meetings", key, name, _field(pool, name), merged)
    values["title"] = _first(r.values["title"] for r in reports)
    values["summary"] = _first(r.values["summary"] for r in reports)
    complete = True
    for name in ("title", "format"):
        if values[name] is None:
            complete = False
            merged.findings.append(Finding(
                Place(reports[-1].source, "meetings", key), "report.incomplete",
                f"no report of meeting {key!r} gives a `{name}`: add one here, or load this file together with one "
                "that does (or with --db, against a database that holds it)",
            ))  # fmt: skip
    if held and values["date"] is None:
        complete = False
        merged.findings.append(Finding(
            Place(held[-1].source, "meetings", key, ".date"), "meeting.held_requires_date",
            "a held meeting must have a date, and no report that says it was held gives one",
        ))  # fmt: skip
    if not complete:
        merged.unwritable.add(key)
        return
    rows = merged.rows
    rows["meetings"].append(store.as_row("meetings", values))
    rows["meeting_topics"] += [(key, i, t) for i, t in enumerate(_union(r.topics for r in reports))]
    rows["meeting_sources"] += [(key, i, r.source) for i, r in enumerate(reports)]
    countries = _union([d["country"] for d in r.delegations] for r in reports)
    for position, country in enumerate(countries):
        stating = [(r, d) for r in reports for d in r.delegations if d["country"] == country]
        heads = ((r, d["head"], f".delegations[{d['position']}].head") for r, d in stating)
        head = _agree("meetings", key, "head", heads, merged)
        role = _first(d["head_role"] for _, d in stating)
        rows["delegations"].append(store.as_row("delegations", {
            "meeting": key, "country": country, "position": position, "head": head, "head_role": role,
        }))  # fmt: skip
        members = _union(d["members"] for _, d in stating)
        rows["delegation_members"] += [(key, country, i, p) for i, p in enumerate(members)]
        rows["delegation_sources"] += [(key, country, i, r.source) for i, (r, _) in enumerate(stating)]

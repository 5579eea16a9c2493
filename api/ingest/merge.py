"""Merging reports into records: what every source said about one key, made into the record the API serves.

Reports are ordered by their source's publication time, then source key ("report order"). Wording (names,
titles, labels, roles, summaries) is the wording most reports use, ties broken by the earliest report, unless an
editorial decision pins it; other spellings of a name are kept as aliases. Facts must agree between the reports that
give them (`report.disagree`), except that a report saying a meeting was held supersedes what planned reports gave for
its date, place and format, and that an editorial decision settles a dispute: the reports keep their values and the
record publishes the preferred one (recorded in `disputes`). Lists are unions in report order. Each function here
takes the reports of one key (and the decisions about it) and returns the record's rows and what is wrong.
"""

import json
import sqlite3
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from .. import dates, store
from ..vocabulary import MeetingStatus, StatementKind, fold, graphql_field_name
from .reports import REPORT_TABLES, span_columns
from .rules import Finding, Place
from .seeds import RecordKind

# The tables that hold each merged record type, children first, with the column holding the record's key.
# The tables shared by record types (`disputes`, `names`) hold rows of the kinds given third.
_DISPUTES = ("disputes", "dispute_values", "dispute_sources")
RECORD_TABLES: dict[RecordKind, tuple[tuple[str, str, tuple[str, ...]], ...]] = {
    **{
        kind: (
            (kind, "key", ()),
            *((table, "record", (kind,)) for table in ("names", "name_sources", *_DISPUTES)),
        )
        for kind in ("persons", "organizations")
    },
    "topics": (("topics", "key", ()),),
    "meetings": (
        ("meeting_topics", "meeting", ()),
        ("meeting_sources", "meeting", ()),
        ("delegation_members", "meeting", ()),
        ("delegation_sources", "meeting", ()),
        ("delegations", "meeting", ()),
        ("meetings", "key", ()),
        *((table, "record", ("meetings", "delegations")) for table in _DISPUTES),
    ),
    "statements": (
        ("statement_topics", "statement", ()),
        ("statement_sources", "statement", ()),
        ("statements", "key", ()),
        *((table, "record", ("statements",)) for table in _DISPUTES),
    ),
}
# Where each merged record type's reports are, and the report column holding the record's key.
REPORT_TABLE: dict[RecordKind, tuple[str, str]] = {
    table.kind: (table.name, table.key) for table in REPORT_TABLES if table.record
}
# Which meeting fields are facts, and which of them a held report settles over planned ones.
MEETING_FACTS = ("status", "format", "date", "city", "host_country", "round", "follows")
# Which statement fields are facts; the others are the words of one report (`_merge_statement`).
STATEMENT_FACTS = ("speaker", "organization", "meeting", "date")
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


@dataclass(frozen=True)
class Decided:
    """One editorial decision about a record's field (`editorial` and `position` say where it is)."""

    editorial: str
    position: int
    kind: str  # the record type, as the decision addresses it: `delegations` for a delegation
    record: str
    country: str
    field: str  # by its seed name
    prefer: str
    note: str

    @property
    def place(self) -> Place:
        return Place(self.editorial, "decisions", str(self.position))


@dataclass
class Merged:
    """The merged rows of a chunk of keys, per table, and what is wrong with them."""

    rows: dict[str, list[store.Values]] = field(default_factory=dict)
    findings: list[Finding] = field(default_factory=list)
    unwritable: set[str] = field(default_factory=set)  # keys whose record lacks what the store requires


# The seed list a decision names each record type by, and how.
ADDRESS = {"persons": "person", "organizations": "organization", "topics": "topic", "meetings": "meeting",
           "delegations": "delegation", "statements": "statement"}  # fmt: skip


def address(kind: str, key: str, country: str = "") -> str:
    """How a decision names a record: `meeting: KEY`, `delegation: {meeting: KEY, country: CC}`."""
    return f"delegation: {{meeting: {key}, country: {country}}}" if country else f"{ADDRESS[kind]}: {key}"


def named(kind: str, key: str, country: str = "") -> str:
    """A record as a message names it: `meeting KEY`, `delegation RU of meeting KEY`."""
    return f"delegation {country} of meeting {key}" if country else f"{ADDRESS[kind]} {key}"


class Decisions:
    """The decisions about one record (and, for a meeting, its delegations): each used once, by field; the ones
    no merge step uses are stale (`editorial.stale`), two for one field a conflict (`editorial.conflict`)."""

    def __init__(self, decided: list["Decided"], merged: Merged) -> None:
        self.merged = merged
        self.by: dict[tuple[str, str], Decided] = {}
        self.stale: dict[tuple[str, str], str] = {}  # why a decision settles nothing, by (country, field)
        for d in sorted(decided, key=lambda d: (d.editorial, d.position)):
            if (d.country, d.field) in self.by:
                first = self.by[d.country, d.field]
                what = f"{d.field} of {named(d.kind, d.record, d.country)}"
                merged.findings.append(Finding(d.place, "editorial.conflict", f"a second decision for {what}; the "
                                               "first is at {other}: keep one", first.place))  # fmt: skip
                continue
            self.by[d.country, d.field] = d
            self.stale[d.country, d.field] = f"no report of {named(d.kind, d.record, d.country)} gives {d.field}"

    def get(self, field_name: str, country: str = "") -> "Decided | None":
        return self.by.get((country, field_name))

    def used(self, field_name: str, country: str = "") -> None:
        self.stale.pop((country, field_name), None)

    def not_disputed(self, field_name: str, country: str = "") -> None:
        if (country, field_name) in self.stale:
            self.stale[country, field_name] = "the reports agree on it: no dispute to decide"

    def finish(self) -> None:
        for (country, name), why in self.stale.items():
            d = self.by[country, name]
            self.merged.findings.append(Finding(d.place, "editorial.stale", f"{why}; remove the decision"))


def read_decisions(conn: sqlite3.Connection, kind: RecordKind, keys: Sequence[str]) -> dict[str, list[Decided]]:
    """The decisions about `keys` (a meeting's include its delegations'), by key."""
    kinds = ("meetings", "delegations") if kind == "meetings" else (kind,)
    sql = (
        "SELECT editorial, position, kind, record, country, seed_field, prefer, note FROM decisions "
        f"WHERE kind IN ({store.marks(kinds)}) AND record IN ({store.marks(keys)})"
    )
    found: dict[str, list[Decided]] = {}
    for row in conn.execute(sql, [*kinds, *keys]):
        decided = Decided(*row)
        found.setdefault(decided.record, []).append(decided)
    return found


def _wording(values: Iterable[Any]) -> Any:
    """The label most reports use (`values` in report order), ties broken by the earliest report."""
    counts = Counter(v for v in values if v is not None)
    if not counts:
        return None
    best = max(counts.values())
    return next(v for v, n in counts.items() if n == best)  # a Counter keeps the order values first came in


def _label(decisions: Decisions, name: str, values: Iterable[Any], country: str = "") -> Any:
    """A label: what a decision prefers, else the wording most reports use."""
    chosen = _wording(values)
    decision = decisions.get(name, country)
    if decision is None or chosen is None:
        return chosen
    decisions.used(name, country)
    return decision.prefer


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

    def day(self, source: str) -> str:
        """The publication day of a source `sort` has placed."""
        return str(self.known[source][0])

    def forget(self, source: str) -> None:
        self.known.pop(source, None)


def read_reports(conn: sqlite3.Connection, kind: RecordKind, keys: Sequence[str]) -> dict[str, list[Report]]:
    """Every current report of `keys`, by key, in no particular order."""
    rows = {}
    for table in (table for table in REPORT_TABLES if table.kind == kind):
        names = ", ".join(store.columns(table.name)[0])
        rows[table.name] = conn.execute(f"SELECT {names} FROM {table.name} WHERE {table.key} IN ({store.marks(keys)})",
                                        keys)  # fmt: skip
    return reports_from(kind, rows)


def reports_from(kind: RecordKind, rows: Mapping[str, Iterable[store.Values]]) -> dict[str, list[Report]]:
    """The reports of `kind` in `rows` (every column, by report table): those `read_reports` reads, or those a
    file is writing."""
    table, column = REPORT_TABLE[kind]
    names = store.columns(table)[0]
    by: dict[tuple[str, str], Report] = {}
    for row in rows[table]:
        values = dict(zip(names, row, strict=True))
        by[values[column], values["source"]] = Report(values["source"], values)
    if kind in ("meetings", "statements"):  # (key, source, position, topic)
        for key, source, _, topic in sorted(rows[f"{kind[:-1]}_report_topics"], key=lambda row: row[2]):
            by[key, source].topics.append(topic)
    if kind == "meetings":
        delegations: dict[tuple[str, str, str], dict[str, Any]] = {}
        for meeting, source, country, position, head, role in sorted(rows["delegation_reports"], key=lambda r: r[3]):
            delegation = {"country": country, "position": position, "head": head, "head_role": role, "members": []}
            delegations[meeting, source, country] = delegation
            by[meeting, source].delegations.append(delegation)
        for meeting, source, country, _, person in sorted(rows["delegation_report_members"], key=lambda r: r[3]):
            delegations[meeting, source, country]["members"].append(person)
    grouped: dict[str, list[Report]] = {}
    for (key, _), report in by.items():
        grouped.setdefault(key, []).append(report)
    return grouped


def merge(conn: sqlite3.Connection, kind: RecordKind, keys: Sequence[str], order: ReportOrder,
          reports: dict[str, list[Report]] | None = None) -> Merged:  # fmt: skip
    """The merged rows of `keys` (a key no report mentions any more gets none: the record is removed), from their
    reports as `read_reports` gives them (read, unless the caller has them)."""
    merged = Merged({table: [] for table, _, _ in RECORD_TABLES[kind]})
    decided = read_decisions(conn, kind, keys)
    for key, given in (read_reports(conn, kind, keys) if reports is None else reports).items():
        ordered = order.sort(given)
        decisions = Decisions(decided.pop(key, []), merged)
        if kind == "meetings":
            _merge_meeting(key, ordered, merged, decisions)
        elif kind == "topics":
            _merge_topic(key, ordered, merged, decisions)
        elif kind == "statements":
            _merge_statement(key, ordered, merged, decisions, order.day(ordered[-1].source))
        else:
            _merge_named(kind, key, ordered, merged, decisions)
        decisions.finish()
    for left in decided.values():  # about records no report gives
        Decisions(left, merged).finish()
    return merged


Given = Iterable[tuple[Report, Any, str]]  # a fact as each report gives it: report, value, where in the record


@dataclass(frozen=True)
class Fact:
    """One fact of one record being merged: which record (a delegation's by its meeting and country) and field."""

    kind: RecordKind
    key: str
    name: str
    country: str = ""

    @property
    def decided_kind(self) -> str:
        return "delegations" if self.country else self.kind

    def disagree(self, later: tuple[Report, Any, str], earlier: tuple[Report, Any, str], why: str) -> Finding:
        """`report.disagree` on the later report, with the decision that would record the dispute."""

        def message(one: Any, other: Any) -> str:
            decision = (f"{{{address(self.decided_kind, self.key, self.country)}, field: {self.name}, "
                        f"prefer: {other}, note: why}}")  # fmt: skip
            return (f"{self.name} {one!r} disagrees with {other!r} given by {{other}}{why}; correct whichever is "
                    "wrong (a report may also leave the fact out), or record the dispute with a decision in an "
                    f"editorial file: {decision}")  # fmt: skip

        return Finding(
            Place(later[0].source, self.kind, self.key, later[2]), "report.disagree", message(later[1], earlier[1]),
            Place(earlier[0].source, self.kind, self.key, earlier[2]), message(earlier[1], later[1]),
        )  # fmt: skip


def _settle(fact: Fact, given: list[tuple[Report, Any, str]], disputed: bool, decisions: Decisions,
            merged: Merged) -> tuple[bool, Any]:  # fmt: skip
    """Whether a decision settles the fact the reports `given` dispute, and the value it publishes then: the
    preferred one, recording the dispute. A preferred value no report gives is `editorial.unknown_value` (settled,
    as an error); a decision about a fact not `disputed` settles nothing."""
    decision = decisions.get(fact.name, fact.country)
    if decision is None:
        return False, None
    values = list(dict.fromkeys(str(v) for _, v, _ in given))
    prefer = _edtf(decision.prefer) if fact.name in SPANS else decision.prefer
    if values and prefer not in values:
        decisions.used(fact.name, fact.country)
        said = ", ".join(map(repr, values))
        merged.findings.append(Finding(decision.place, "editorial.unknown_value",
                                       f"{fact.name} {prefer!r} is not a value any report of "
                                       f"{named(fact.decided_kind, fact.key, fact.country)} gives (they give "
                                       f"{said}): editors choose between the reports' facts"))  # fmt: skip
        return True, given[0][1]  # refused: what is published does not matter
    if not disputed:
        decisions.not_disputed(fact.name, fact.country)
        return False, None
    decisions.used(fact.name, fact.country)
    where = (fact.decided_kind, fact.key, fact.country, fact.name)
    rows = merged.rows
    rows["disputes"].append((*where, graphql_field_name(fact.name), prefer, decision.note))
    for i, value in enumerate(values):
        rows["dispute_values"].append((*where, i, value))
        stating = list(dict.fromkeys(r.source for r, v, _ in given if str(v) == value))
        rows["dispute_sources"] += [(*where, i, j, source) for j, source in enumerate(stating)]
    return True, next(v for _, v, _ in given if str(v) == prefer)


def _agree(fact: Fact, given: Given, merged: Merged, decisions: Decisions) -> Any:
    """The one value the reports give for a fact; each report that gives another is `report.disagree`, naming the
    first report that gave it, unless a decision settles the dispute."""
    stated = [g for g in given if g[1] is not None]
    settled, value = _settle(fact, stated, len({v for _, v, _ in stated}) > 1, decisions, merged)
    if settled:
        return value
    for later in stated[1:]:
        if later[1] != stated[0][1]:
            merged.findings.append(fact.disagree(later, stated[0], ""))
    return stated[0][1] if stated else None


def _narrowed(fact: Fact, given: Given, merged: Merged, decisions: Decisions) -> dates.Span | None:
    """The intersection of the spans the reports give for a date fact; a report whose span is disjoint from the
    ones before it is `report.disagree`, naming the first report it excludes, unless a decision settles it (then
    the preferred date is published)."""
    stated = [g for g in given if g[1] is not None]
    spans: list[tuple[tuple[Report, Any, str], dates.Span]] = []
    clashes: list[Finding] = []
    for report in stated:
        span = dates.span_of(report[1])
        clash = next((s for s in spans if not s[1].overlaps(span)), None)
        if clash is not None:
            clashes.append(fact.disagree(report, clash[0], ": the two spans share no day"))
            continue
        spans.append((report, span))
    settled, value = _settle(fact, stated, bool(clashes), decisions, merged)
    if settled:
        return dates.span_of(value) if value is not None else None
    merged.findings.extend(clashes)
    return dates.intersect(s for _, s in spans)


def _edtf(value: str) -> str:
    try:
        return dates.parse(value).edtf
    except dates.DateError:
        return value


def _field(reports: Iterable[Report], name: str) -> Iterable[tuple[Report, Any, str]]:
    return ((r, r.values[name], f".{name}") for r in reports)


def _union(lists: Iterable[Iterable[str]]) -> list[str]:
    return list(dict.fromkeys(item for items in lists for item in items))


def _merge_named(kind: RecordKind, key: str, reports: list[Report], merged: Merged, decisions: Decisions) -> None:
    """Persons and organizations: the name most reports use (or the editors'), the others as aliases, each name
    with the sources that give it, and facts that agree."""
    names = _union([r.values["name"]] for r in reports)
    name = _label(decisions, "name", (r.values["name"] for r in reports))
    values = {
        "key": key,
        "name": name,
        "sort_name": fold(name),
        "aliases": store.to_json([n for n in names if n != name]),
        "country": _agree(Fact(kind, key, "country"), _field(reports, "country"), merged, decisions),
        "wikidata": _agree(Fact(kind, key, "wikidata"), _field(reports, "wikidata"), merged, decisions),
    }
    merged.rows[kind].append(store.as_row(kind, values))
    for i, spelled in enumerate(names):
        merged.rows["names"].append((kind, key, i, spelled))
        stating = [r.source for r in reports if r.values["name"] == spelled]
        merged.rows["name_sources"] += [(kind, key, i, j, source) for j, source in enumerate(stating)]


def _merge_topic(key: str, reports: list[Report], merged: Merged, decisions: Decisions) -> None:
    """A topic: the label most reports use (or the editors'); in each other language, the one most reports use."""
    by_language: dict[str, list[str]] = {}
    for report in reports:
        for language, label in json.loads(report.values["labels"]).items():
            by_language.setdefault(language, []).append(label)
    labels = {language: _wording(given) for language, given in by_language.items()}
    label = _label(decisions, "label", (r.values["label"] for r in reports))
    values = {"key": key, "label": label, "sort_name": fold(label), "labels": store.to_json(labels)}
    merged.rows["topics"].append(store.as_row("topics", values))


def _merge_meeting(key: str, reports: list[Report], merged: Merged, decisions: Decisions) -> None:
    held = [r for r in reports if r.values["status"] == MeetingStatus.HELD]
    values: dict[str, Any] = {"key": key}
    for name in MEETING_FACTS:
        pool = held if held and name in SETTLED_BY_HELD else reports
        fact = Fact("meetings", key, name)
        if name in SPANS:
            values.update(span_columns(_narrowed(fact, _field(pool, name), merged, decisions), name))
        elif name == "status":  # a held report supersedes planned ones: never in dispute
            _settle(fact, list(_field(reports, name)), False, decisions, merged)
            values[name] = MeetingStatus.HELD if held else MeetingStatus.PLANNED
        else:
            values[name] = _agree(fact, _field(pool, name), merged, decisions)
    values["title"] = _label(decisions, "title", (r.values["title"] for r in reports))
    values["summary"] = _label(decisions, "summary", (r.values["summary"] for r in reports))
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
        head = _agree(Fact("meetings", key, "head", country), heads, merged, decisions)
        role = _label(decisions, "head_role", (d["head_role"] for _, d in stating), country)
        rows["delegations"].append(store.as_row("delegations", {
            "meeting": key, "country": country, "position": position, "head": head, "head_role": role,
        }))  # fmt: skip
        members = _union(d["members"] for _, d in stating)
        rows["delegation_members"] += [(key, country, i, p) for i, p in enumerate(members)]
        rows["delegation_sources"] += [(key, country, i, r.source) for i, (r, _) in enumerate(stating)]


def _merge_statement(key: str, reports: list[Report], merged: Merged, decisions: Decisions, reported_on: str) -> None:
    """A statement: the words (text, language, kind, translations) of a direct quote in preference to a paraphrase,
    then of the earliest report; facts that agree; the occasion most reports use (or the editors'); the topics of
    every report; the earliest report's source; and, undated, no later than the latest-published source reporting
    it was published (`reported_on`)."""
    values: dict[str, Any] = {"key": key, "source": reports[0].source, "reported_on": reported_on}
    if len(reports) == 1 and not decisions.by:  # most statements: the record is its one report (the fast path)
        values = reports[0].values | values
    else:
        words = next((r for r in reports if r.values["kind"] == StatementKind.DIRECT_QUOTE), reports[0]).values
        values |= {name: words[name] for name in ("text", "language", "kind", "translations")}
        for name in STATEMENT_FACTS:
            fact = Fact("statements", key, name)
            if name in SPANS:
                values.update(span_columns(_narrowed(fact, _field(reports, name), merged, decisions), name))
            else:
                values[name] = _agree(fact, _field(reports, name), merged, decisions)
        values["occasion"] = _label(decisions, "occasion", (r.values["occasion"] for r in reports))
    rows = merged.rows
    rows["statements"].append(store.as_row("statements", values))
    rows["statement_topics"] += [(key, i, t) for i, t in enumerate(_union(r.topics for r in reports))]
    rows["statement_sources"] += [(key, i, r.source) for i, r in enumerate(reports)]

"""Every relation's compiled SQL against a hand-written statement for the same answer.

    python bench/relations.py --db FILE              # every relation declared in api/graphql/catalog.py
    python bench/relations.py --db FILE --check      # only check that both answer the same

For each relation (a field of kind One, Many, Nested, Embedded or EmbeddedList), a query reads it for a page of
parents, its target giving a few scalar fields: the compiler's SQL for that query and a hand-written SQLite
statement that builds the same JSON are run on one connection, their answers parsed and checked equal, then
timed in turn (median of many runs, the order alternating). The catalog is walked, so a relation declared without
a hand-written statement here fails the run, as does a hand-written statement for no declared relation. The exit
status is 3 when a relation misses the target (1.5 times its hand-written statement's median).
"""

import argparse
import json
import sqlite3
import statistics
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import graphql
from diplo import store
from diplo.graphql import dialect
from diplo.graphql.catalog import TYPES, Embedded, EmbeddedList, Many, Nested, One
from diplo.graphql.compiler import Compiler
from diplo.graphql.schema import build_schema
from graphql.execution.values import VariableValues, get_variable_values

PARENTS = 20  # the page of parents each query reads the relation for
NESTED_FIRST = 5  # a nested connection's `first`
TARGET = 1.5  # a relation meets the target when its compiled SQL takes at most this times the hand-written

# --- what each type's objects select, in GraphQL and as hand-written JSON over the row `{r}` -------------------


def _country(code: str) -> str:
    name = f"coalesce((SELECT name FROM country_names WHERE code = {code}), {code})"
    return f"json_object('code', {code}, 'name', {name})"


def _span(edtf: str, earliest: str, latest: str, precision: str, approximate: str, uncertain: str) -> str:
    """A date's JSON object from its columns (null without an EDTF text)."""
    flag = "json(CASE WHEN {} THEN 'true' ELSE 'false' END)"
    return (
        f"CASE WHEN {edtf} IS NULL THEN NULL ELSE json_object('edtf', {edtf}, 'earliest', {earliest}, 'latest', "
        f"{latest}, 'precision', upper({precision}), 'approximate', {flag.format(approximate)}, 'uncertain', "
        f"{flag.format(uncertain)}) END"
    )


_SPAN_COLUMNS = ("", "_earliest", "_latest", "_precision", "_approximate", "_uncertain")


SELECTIONS: dict[str, tuple[str, str]] = {
    "Person": ("key name", "json_object('key', {r}.key, 'name', {r}.name)"),
    "Organization": ("key name", "json_object('key', {r}.key, 'name', {r}.name)"),
    "Meeting": ("key title date", "json_object('key', {r}.key, 'title', {r}.title, 'date', {r}.date_day)"),
    "Statement": ("key date", "json_object('key', {r}.key, 'date', {r}.date_day)"),
    "Source": (
        "key outlet publishedAt",
        "json_object('key', {r}.key, 'outlet', {r}.outlet, 'publishedAt', {r}.published_instant)",
    ),
    "Topic": ("key label", "json_object('key', {r}.key, 'label', {r}.label)"),
    "Delegation": ("headRole country { code }", "json_object('headRole', {r}.head_role, 'country', "
                   "json_object('code', {r}.country))"),
    "DelegationReport": ("headRole country { code }", "json_object('headRole', {r}.head_role, 'country', "
                         "json_object('code', {r}.country))"),
    "MeetingReport": ("title status date", "json_object('title', {r}.title, 'status', upper({r}.status), "
                      "'date', {r}.date_day)"),
    "StatementReport": ("text kind date", "json_object('text', {r}.text, 'kind', upper({r}.kind), "
                        "'date', {r}.date_day)"),
    "Country": ("code name", _country("{r}.code")),
    "DateSpan": ("edtf earliest latest precision approximate uncertain", _span("{r}.edtf", "{r}.earliest", "{r}.latest",
                 "{r}.precision", "{r}.approximate", "{r}.uncertain")),
    "Translation": ("language text", "json_object('language', {r}.language, 'text', {r}.text)"),
    "Evidence": ("field basis note", "json_object('field', {r}.field, 'basis', upper({r}.basis), 'note', {r}.note)"),
    "TextQuote": ("exact start end", "json_object('exact', {r}.exact, 'start', {r}.start_offset, "
                  "'end', {r}.end_offset)"),
    "Dispute": ("field preferred note", "json_object('field', {r}.field, 'preferred', {r}.preferred, 'note', "
                "{r}.note)"),
    "DisputedValue": ("value", "json_object('value', {r}.value)"),
    "EditorialDecision": ("field prefer note", "json_object('field', {r}.field, 'prefer', {r}.prefer, 'note', "
                          "{r}.note)"),
    "NameReport": ("name", "json_object('name', {r}.name)"),
}  # fmt: skip


def _element(type_name: str, r: str = "r") -> str:
    return SELECTIONS[type_name][1].format(r=r)


def _array(type_name: str, rows: str) -> str:
    """The JSON array of `type_name` objects, one per row of `rows` (a SELECT, in its order)."""
    return f"(SELECT json_group_array({_element(type_name)}) FROM ({rows}) r)"


def _one(type_name: str, table: str, key: str) -> str:
    return f"(SELECT {_element(type_name)} FROM {table} r WHERE r.key = {key})"


def _page(type_name: str, rows: str) -> str:
    """A nested connection's `{ nodes }`: the first rows of `rows` (a SELECT ordered as the listing is)."""
    return f"json_object('nodes', {_array(type_name, f'{rows} LIMIT {NESTED_FIRST}')})"


def _optional_country(code: str) -> str:
    return f"CASE WHEN {code} IS NULL THEN NULL ELSE {_country(code)} END"


_MEETINGS_BY_DATE = f"ORDER BY {store.date_order('ASC', 'm')}, m.key"  # the listings' order, as the store indexes it
_STATEMENTS_BY_DATE = f"ORDER BY {store.date_order('ASC', 's')}, s.key"


def _evidence(kind: str, source: str, record: str) -> str:
    """The evidence one source (`source`) gives for one record of `kind` (its key `record`)."""
    return _array("Evidence", f"SELECT * FROM evidence e WHERE e.source = {source} AND e.kind = '{kind}' "
                  f"AND e.record = {record} ORDER BY e.position")  # fmt: skip


def _reported_evidence(kind: str, reports: str) -> str:
    """The evidence every report (in `reports`, by `kind`) gives for the record `a`, the earliest source's first."""
    return _array("Evidence", (
        f"SELECT e.* FROM {reports} x JOIN sources src ON src.key = x.source JOIN evidence e "
        f"ON e.source = x.source AND e.kind = '{kind}' AND e.record = x.{kind} WHERE x.{kind} = a.key "
        "ORDER BY substr(src.published_at, 1, 10), length(src.published_at) = 10, julianday(src.published_at), "
        "src.key, e.position"
    ))  # fmt: skip


# A meeting's evidence, from every source that reports it, in report order.
_MEETING_EVIDENCE = (
    "SELECT e.* FROM meeting_sources x JOIN evidence e ON e.source = x.source AND e.kind = 'meeting' "
    "AND e.record = x.meeting WHERE x.meeting = a.key ORDER BY x.position, e.position"
)


def _statements(condition: str) -> str:
    """A nested connection of statements: the first where `condition` (over `s` and `a`), oldest first."""
    return _page("Statement", f"SELECT * FROM statements s WHERE {condition} {_STATEMENTS_BY_DATE}")


def _editorial(kind: str, record: str = "a.key", country: str = "''") -> dict[str, str]:
    """A record's disputes and decisions (`kind` its seed list)."""
    where = f"record = {record} AND kind = '{kind}' AND country = {country}"
    return {
        "disputes": _array("Dispute", f"SELECT * FROM disputes WHERE {where} ORDER BY seed_field"),
        "decisions": _array("EditorialDecision", f"SELECT * FROM decisions WHERE {where} ORDER BY editorial, position"),
    }


def _each_editorial() -> dict[str, str]:
    found = {}
    for type_name, kind in (("Person", "persons"), ("Organization", "organizations"), ("Topic", "topics"),
                            ("Meeting", "meetings"), ("Statement", "statements")):  # fmt: skip
        found |= {f"{type_name}.{field}": sql for field, sql in _editorial(kind).items()}
    found |= {f"Delegation.{field}": sql for field, sql in _editorial("delegations", "a.meeting", "a.country").items()}
    for type_name, kind in (("Person", "persons"), ("Organization", "organizations")):
        found[f"{type_name}.names"] = _array("NameReport", f"SELECT * FROM names WHERE record = a.key AND kind = "
                                             f"'{kind}' ORDER BY position")  # fmt: skip
    return found


# The hand-written SQL of each relation, over the parent's row `a`: what a careful engineer writes for SQLite.
HAND_WRITTEN: dict[str, str] = {
    **_each_editorial(),
    "Dispute.values": _array("DisputedValue", "SELECT * FROM dispute_values v WHERE v.record = a.record AND "
                             "v.kind = a.kind AND v.country = a.country AND v.seed_field = a.seed_field "
                             "ORDER BY v.position"),
    "DisputedValue.sources": _array("Source", "SELECT src.* FROM dispute_sources x JOIN sources src ON src.key = "
                                    "x.source WHERE x.record = a.record AND x.kind = a.kind AND x.country = a.country "
                                    "AND x.seed_field = a.seed_field AND x.value_position = a.position "
                                    "ORDER BY x.position"),
    "NameReport.sources": _array("Source", "SELECT src.* FROM name_sources x JOIN sources src ON src.key = x.source "
                                 "WHERE x.record = a.record AND x.kind = a.kind AND x.name_position = a.position "
                                 "ORDER BY x.position"),
    "Source.meetings": _page("Meeting", "SELECT m.* FROM meeting_sources x JOIN meetings m ON m.key = x.meeting "
                             f"WHERE x.source = a.key {_MEETINGS_BY_DATE}"),
    "Source.statements": _statements("s.key IN (SELECT statement FROM statement_sources WHERE source = a.key)"),
    "Source.evidence": _evidence("source", "a.key", "a.key"),
    "Source.published": _span("a.published", "a.published", "a.published", "'day'", "0", "0"),
    "Person.country": _optional_country("a.country"),
    # The delegations a person heads or is a member of: SQLite answers the OR by two index searches (MULTI-INDEX
    # OR), the second seeking the primary key by each (meeting, country) of the person's memberships. Faster here
    # than a UNION of the two (0.62 ms against 0.47 ms for 20 persons).
    "Person.delegations": _array("Delegation", (
        "SELECT d.* FROM delegations d WHERE d.head = a.key OR (d.meeting, d.country) IN "
        "(SELECT meeting, country FROM delegation_members WHERE person = a.key) ORDER BY d.meeting, d.position"
    )),
    "Person.statements": _statements("s.speaker = a.key"),
    "Person.evidence": _reported_evidence("person", "person_reports"),
    "Organization.country": _optional_country("a.country"),
    "Organization.statements": _statements("s.organization = a.key"),
    "Organization.evidence": _reported_evidence("organization", "organization_reports"),
    "Topic.meetings": _page("Meeting", "SELECT m.* FROM meeting_topics x JOIN meetings m ON m.key = x.meeting "
                            f"WHERE x.topic = a.key {_MEETINGS_BY_DATE}"),
    "Topic.statements": _page("Statement", "SELECT s.* FROM statement_topics x JOIN statements s "
                              f"ON s.key = x.statement WHERE x.topic = a.key {_STATEMENTS_BY_DATE}"),
    "Topic.evidence": _reported_evidence("topic", "topic_reports"),
    "Delegation.country": _country("a.country"),
    "Delegation.meeting": _one("Meeting", "meetings", "a.meeting"),
    "Delegation.head": _one("Person", "persons", "a.head"),
    "Delegation.members": _array("Person", "SELECT p.* FROM delegation_members x JOIN persons p ON p.key = x.person "
                                 "WHERE x.meeting = a.meeting AND x.country = a.country ORDER BY x.position"),
    "Delegation.sources": _array("Source", "SELECT src.* FROM delegation_sources x JOIN sources src "
                                 "ON src.key = x.source WHERE x.meeting = a.meeting AND x.country = a.country "
                                 "ORDER BY x.position"),
    "Delegation.evidence": _array("Evidence", (
        "SELECT e.* FROM delegation_sources x JOIN evidence e ON e.source = x.source AND e.kind = 'delegation' "
        "AND e.record = x.meeting || '/' || x.country WHERE x.meeting = a.meeting AND x.country = a.country "
        "ORDER BY x.position, e.position"
    )),
    "Meeting.hostCountry": _optional_country("a.host_country"),
    "Meeting.when": _span(*(f"a.date{part}" for part in _SPAN_COLUMNS)),
    "Meeting.previous": _one("Meeting", "meetings", "a.follows"),
    "Meeting.followUps": _array("Meeting", f"SELECT * FROM meetings m WHERE m.follows = a.key {_MEETINGS_BY_DATE}"),
    "Meeting.delegations": _array("Delegation", "SELECT * FROM delegations WHERE meeting = a.key ORDER BY position"),
    "Meeting.participants": "(SELECT json_group_array({}) FROM (SELECT country FROM delegations WHERE meeting = a.key "
                            "ORDER BY position) d)".format(_country("d.country")),
    "Meeting.topics": _array("Topic", "SELECT t.* FROM meeting_topics x JOIN topics t ON t.key = x.topic "
                             "WHERE x.meeting = a.key ORDER BY x.position"),
    "Meeting.statements": _statements("s.meeting = a.key"),
    "Meeting.sources": _array("Source", "SELECT src.* FROM meeting_sources x JOIN sources src ON src.key = x.source "
                              "WHERE x.meeting = a.key ORDER BY x.position"),
    "Meeting.reports": _array("MeetingReport", "SELECT mr.* FROM meeting_sources x JOIN meeting_reports mr "
                              "ON mr.meeting = x.meeting AND mr.source = x.source WHERE x.meeting = a.key "
                              "ORDER BY x.position"),
    "Meeting.evidence": _array("Evidence", _MEETING_EVIDENCE),
    "DelegationReport.country": _country("a.country"),
    "DelegationReport.head": _one("Person", "persons", "a.head"),
    "DelegationReport.members": _array("Person", "SELECT p.* FROM delegation_report_members x JOIN persons p "
                                       "ON p.key = x.person WHERE x.meeting = a.meeting AND x.source = a.source "
                                       "AND x.country = a.country ORDER BY x.position"),
    "DelegationReport.source": _one("Source", "sources", "a.source"),
    "DelegationReport.evidence": _evidence("delegation", "a.source", "a.meeting || '/' || a.country"),
    "MeetingReport.hostCountry": _optional_country("a.host_country"),
    "MeetingReport.when": _span(*(f"a.date{part}" for part in _SPAN_COLUMNS)),
    "MeetingReport.previous": _one("Meeting", "meetings", "a.follows"),
    "MeetingReport.source": _one("Source", "sources", "a.source"),
    "MeetingReport.delegations": _array("DelegationReport", "SELECT * FROM delegation_reports WHERE "
                                        "meeting = a.meeting AND source = a.source ORDER BY position"),
    "MeetingReport.topics": _array("Topic", "SELECT t.* FROM meeting_report_topics x JOIN topics t "
                                   "ON t.key = x.topic WHERE x.meeting = a.meeting AND x.source = a.source "
                                   "ORDER BY x.position"),
    "MeetingReport.evidence": _evidence("meeting", "a.source", "a.meeting"),
    "Statement.when": _span("a.when_edtf", "a.date_earliest", "a.when_latest", "a.when_precision", "a.date_approximate",
                            "a.date_uncertain"),
    "Statement.speaker": _one("Person", "persons", "a.speaker"),
    "Statement.organization": _one("Organization", "organizations", "a.organization"),
    "Statement.meeting": _one("Meeting", "meetings", "a.meeting"),
    "Statement.topics": _array("Topic", "SELECT t.* FROM statement_topics x JOIN topics t ON t.key = x.topic "
                               "WHERE x.statement = a.key ORDER BY x.position"),
    "Statement.source": _one("Source", "sources", "a.source"),
    "Statement.sources": _array("Source", "SELECT src.* FROM statement_sources x JOIN sources src "
                                "ON src.key = x.source WHERE x.statement = a.key ORDER BY x.position"),
    "Statement.reports": _array("StatementReport", "SELECT sr.* FROM statement_sources x JOIN statement_reports sr "
                                "ON sr.statement = x.statement AND sr.source = x.source WHERE x.statement = a.key "
                                "ORDER BY x.position"),
    "StatementReport.source": _one("Source", "sources", "a.source"),
    "Statement.translations": _array("Translation", "SELECT key AS language, value AS text "
                                     "FROM json_each(a.translations) WHERE type = 'text' ORDER BY key"),
    "Statement.evidence": _array("Evidence", "SELECT e.* FROM statement_sources x JOIN evidence e "
                                 "ON e.source = x.source AND e.kind = 'statement' AND e.record = x.statement "
                                 "WHERE x.statement = a.key ORDER BY x.position, e.position"),
    "Evidence.quotes": _array("TextQuote", "SELECT * FROM evidence_quotes q WHERE q.source = a.source "
                              "AND q.kind = a.kind AND q.record = a.record AND q.seed_field = a.seed_field "
                              "ORDER BY q.position"),
    "Evidence.source": _one("Source", "sources", "a.source"),
}  # fmt: skip

# --- the page of parents: how a query reaches each type, and the same page hand-written -----------------------


@dataclass(frozen=True)
class Parents:
    """A page of objects of one type: `reach`, the query around the parent's selection (`%s`), `path`, the
    response's keys from the root to the parents (a list along the way is walked), and `sql`, the hand-written
    response around the parent object's JSON pairs (`{pairs}`, over the parent's row `a`)."""

    reach: str
    path: tuple[str, ...]
    sql: str


def _root_page(root: str, table: str, order: str) -> Parents:
    return Parents(
        f"{{ {root}(first: {PARENTS}) {{ nodes {{ %s }} }} }}",
        (root, "nodes"),
        f"SELECT json_object('{root}', json_object('nodes', json_group_array(json_object({{pairs}})))) "
        f"FROM (SELECT * FROM {table} a ORDER BY {order} LIMIT {PARENTS}) a",
    )


_MEETING_PAGE = f"(SELECT * FROM meetings m {_MEETINGS_BY_DATE} LIMIT {PARENTS}) m"
_REPORTS = (
    "(SELECT json_group_array(json_object({inner})) FROM (SELECT mr.* FROM meeting_sources x JOIN meeting_reports mr "
    "ON mr.meeting = x.meeting AND mr.source = x.source WHERE x.meeting = m.key ORDER BY x.position) {alias})"
)
_REPORT_DELEGATIONS = (
    "(SELECT json_group_array(json_object({pairs})) FROM (SELECT * FROM delegation_reports "
    "WHERE meeting = mr.meeting AND source = mr.source ORDER BY position) a)"
)
_DELEGATIONS_OF_REPORT = "'delegations', " + _REPORT_DELEGATIONS

_EVIDENCE = _MEETING_EVIDENCE.replace("a.key", "m.key")

PARENT_PAGES: dict[str, Parents] = {
    "Source": _root_page("sources", "sources", "key"),
    "Person": _root_page("persons", "persons", "key"),
    "Organization": _root_page("organizations", "organizations", "key"),
    "Topic": _root_page("topics", "topics", "key"),
    "Delegation": _root_page("delegations", "delegations", "meeting, country"),
    "Meeting": _root_page("meetings", "meetings", f"{store.date_order('ASC')}, key"),
    "Statement": _root_page("statements", "statements", f"{store.date_order('ASC')}, key"),
    # The report types have no root field: the reports of a page of meetings.
    "MeetingReport": Parents(
        f"{{ meetings(first: {PARENTS}) {{ nodes {{ reports {{ %s }} }} }} }}",
        ("meetings", "nodes", "reports"),
        "SELECT json_object('meetings', json_object('nodes', json_group_array(json_object('reports', "
        f"{_REPORTS.format(inner='{pairs}', alias='a')})))) FROM {_MEETING_PAGE}",
    ),
    "DelegationReport": Parents(
        f"{{ meetings(first: {PARENTS}) {{ nodes {{ reports {{ delegations {{ %s }} }} }} }} }}",
        ("meetings", "nodes", "reports", "delegations"),
        "SELECT json_object('meetings', json_object('nodes', json_group_array(json_object('reports', "
        f"{_REPORTS.format(inner=_DELEGATIONS_OF_REPORT, alias='mr')})))) FROM {_MEETING_PAGE}",
    ),
    "StatementReport": Parents(
        f"{{ statements(first: {PARENTS}) {{ nodes {{ reports {{ %s }} }} }} }}",
        ("statements", "nodes", "reports"),
        "SELECT json_object('statements', json_object('nodes', json_group_array(json_object('reports', "
        "(SELECT json_group_array(json_object({pairs})) FROM (SELECT sr.* FROM statement_sources x "
        "JOIN statement_reports sr ON sr.statement = x.statement AND sr.source = x.source WHERE x.statement = s.key "
        "ORDER BY x.position) a))))) "
        f"FROM (SELECT * FROM statements s {_STATEMENTS_BY_DATE} LIMIT {PARENTS}) s",
    ),
    # Nor have disputes, their values and names: a page of meetings' disputes, the first's values, persons' names.
    "Dispute": Parents(
        f"{{ meetings(first: {PARENTS}) {{ nodes {{ disputes {{ %s }} }} }} }}",
        ("meetings", "nodes", "disputes"),
        "SELECT json_object('meetings', json_object('nodes', json_group_array(json_object('disputes', "
        "(SELECT json_group_array(json_object({pairs})) FROM (SELECT * FROM disputes d WHERE d.record = m.key AND "
        f"d.kind = 'meetings' AND d.country = '' ORDER BY d.seed_field) a))))) FROM {_MEETING_PAGE}",
    ),
    "DisputedValue": Parents(
        f"{{ meetings(first: {PARENTS}) {{ nodes {{ disputes {{ values {{ %s }} }} }} }} }}",
        ("meetings", "nodes", "disputes", "values"),
        "SELECT json_object('meetings', json_object('nodes', json_group_array(json_object('disputes', "
        "(SELECT json_group_array(json_object('values', (SELECT json_group_array(json_object({pairs})) FROM "
        "(SELECT * FROM dispute_values v WHERE v.record = d.record AND v.kind = d.kind AND v.country = d.country "
        "AND v.seed_field = d.seed_field ORDER BY v.position) a))) FROM (SELECT * FROM disputes d WHERE "
        "d.record = m.key AND d.kind = 'meetings' AND d.country = '' ORDER BY d.seed_field) d))))) "
        f"FROM {_MEETING_PAGE}",
    ),
    "NameReport": Parents(
        f"{{ persons(first: {PARENTS}) {{ nodes {{ names {{ %s }} }} }} }}",
        ("persons", "nodes", "names"),
        "SELECT json_object('persons', json_object('nodes', json_group_array(json_object('names', "
        "(SELECT json_group_array(json_object({pairs})) FROM (SELECT * FROM names n WHERE n.record = p.key AND "
        f"n.kind = 'persons' ORDER BY n.position) a))))) FROM (SELECT * FROM persons ORDER BY key LIMIT {PARENTS}) p",
    ),
    # Nor has evidence: a page of meetings' evidence.
    "Evidence": Parents(
        f"{{ meetings(first: {PARENTS}) {{ nodes {{ evidence {{ %s }} }} }} }}",
        ("meetings", "nodes", "evidence"),
        "SELECT json_object('meetings', json_object('nodes', json_group_array(json_object('evidence', "
        f"(SELECT json_group_array(json_object({{pairs}})) FROM ({_EVIDENCE}) a))))) FROM {_MEETING_PAGE}",
    ),
}

RELATION_KINDS = (One, Many, Nested, Embedded, EmbeddedList)


@dataclass(frozen=True)
class Relation:
    name: str  # Type.field
    query: str
    hand_written: str
    path: tuple[str, ...]  # to the parents
    field: str


def relations() -> Iterator[tuple[str, str, str]]:
    """(Type.field, field, target) of every relation the catalog declares."""
    for type_name, declared in TYPES.items():
        for field, spec in declared.fields.items():
            if isinstance(spec, RELATION_KINDS):
                yield f"{type_name}.{field}", field, spec.target


def missing() -> list[str]:
    """What the catalog and this benchmark disagree on: a relation without a hand-written statement (or a type
    without a page of parents), a hand-written statement for no relation."""
    declared = {name for name, _, _ in relations()}
    found = [f"{name}: no hand-written SQL in bench/relations.py" for name in sorted(declared - set(HAND_WRITTEN))]
    found += [f"{name}: hand-written, not a declared relation" for name in sorted(set(HAND_WRITTEN) - declared)]
    types = {name.split(".")[0] for name in declared}
    found += [f"{t}: no page of parents in bench/relations.py" for t in sorted(types - set(PARENT_PAGES))]
    found += [f"{t}: a target with no selection in bench/relations.py" for t in sorted(
        {target for _, _, target in relations()} - set(SELECTIONS))]  # fmt: skip
    return found


def cases() -> list[Relation]:
    found = []
    for name, field, target in relations():
        parents = PARENT_PAGES[name.split(".")[0]]
        fields = SELECTIONS[target][0]
        spec = TYPES[name.split(".")[0]].fields[field]
        selection = f"{{ {fields} }}"
        if isinstance(spec, Nested):
            selection = f"(first: {NESTED_FIRST}) {{ nodes {{ {fields} }} }}"
        query = parents.reach % f"{field} {selection}"
        hand = parents.sql.replace("{pairs}", f"'{field}', {HAND_WRITTEN[name]}")
        found.append(Relation(name, query, hand, parents.path, field))
    return found


# --- compiling, checking and timing -------------------------------------------------------------------------------


def compiled(schema: graphql.GraphQLSchema, query: str) -> tuple[str, dict[str, Any]]:
    """The compiler's one statement for `query` (one root field) and its bound parameters."""
    operation = graphql.parse(query).definitions[0]
    assert isinstance(operation, graphql.OperationDefinitionNode)
    variables = get_variable_values(schema, (), {})
    assert isinstance(variables, VariableValues)
    [(_, sql, binders)] = Compiler(schema, {}, variables, operation).statements()
    return sql, {name: bind(variables) for name, bind in binders.items()}


def related_objects(answer: Any, path: tuple[str, ...], field: str) -> int:
    """How many objects the relation gave across the parents: a check on an empty answer proves little."""
    level = [answer]
    for key in path:
        level = [x for item in level for x in (item[key] if isinstance(item[key], list) else [item[key]])]
    count = 0
    for parent in level:
        value = parent[field]
        if isinstance(value, dict) and "nodes" in value:
            value = value["nodes"]
        count += len(value) if isinstance(value, list) else int(value is not None)
    return count


def run(conn: sqlite3.Connection, sql: str, params: dict[str, Any]) -> tuple[float, str]:
    started = time.perf_counter()
    answer: str = conn.execute(sql, params).fetchone()[0]
    return time.perf_counter() - started, answer


@dataclass(frozen=True)
class Timing:
    name: str
    compiled_ms: float
    hand_ms: float
    objects: int
    runs: int

    @property
    def ratio(self) -> float:
        return self.compiled_ms / self.hand_ms


def measure(conn: sqlite3.Connection, case: Relation, sql: str, params: dict[str, Any], runs: int,
            seconds: float) -> Timing:  # fmt: skip
    """Both statements' medians over at most `runs` runs each (at least 5) within about `seconds`, in turn, the
    order alternating so that neither always runs on the other's warm cache."""
    ours: tuple[str, dict[str, Any]] = (sql, params)
    theirs: tuple[str, dict[str, Any]] = (case.hand_written, {})
    times: tuple[list[float], list[float]] = ([], [])
    deadline = time.monotonic() + seconds
    for i in range(runs):
        order = ((0, ours), (1, theirs)) if i % 2 == 0 else ((1, theirs), (0, ours))
        for slot, (statement, bound) in order:
            times[slot].append(run(conn, statement, bound)[0])
        if i >= 4 and time.monotonic() > deadline:
            break
    answer = json.loads(run(conn, sql, params)[1])
    return Timing(case.name, statistics.median(times[0]) * 1000, statistics.median(times[1]) * 1000,
                  related_objects(answer, case.path, case.field), len(times[0]))  # fmt: skip


def check(conn: sqlite3.Connection, case: Relation, sql: str, params: dict[str, Any]) -> str | None:
    """Why the compiled and the hand-written statements answer differently, or None when they agree."""
    ours = json.loads(run(conn, sql, params)[1])
    try:
        theirs = json.loads(run(conn, case.hand_written, {})[1])
    except sqlite3.Error as error:
        return f"{case.name}: the hand-written SQL fails: {error}"
    if ours != theirs:
        return f"{case.name}: the hand-written SQL answers differently\n  compiled: {ours}\n  hand-written: {theirs}"
    return None


def report(timings: list[Timing], db: Path) -> str:
    met = sum(t.ratio <= TARGET for t in timings)
    worst = max(timings, key=lambda t: t.ratio)
    lines = [
        f"database: {db.name}; {PARENTS} parents a query, nested connections first {NESTED_FIRST}; "
        f"median of up to {max(t.runs for t in timings)} runs each, in turn",
        "| relation | compiled ms | hand-written ms | ratio | met (≤1.5×) | objects |",
        "|---|---|---|---|---|---|",
    ]
    for t in timings:
        lines.append(
            f"| {t.name} | {t.compiled_ms:.3f} | {t.hand_ms:.3f} | {t.ratio:.2f} | "
            f"{'yes' if t.ratio <= TARGET else 'NO'} | {t.objects} |"
        )
    lines.append(f"{met} of {len(timings)} relations within {TARGET}x of their hand-written SQL; the slowest "
                 f"relative to it: {worst.name} at {worst.ratio:.2f}x")  # fmt: skip
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", type=Path, required=True, help="a database built by diplo load")
    parser.add_argument("--runs", type=int, default=200, help="at most this many runs of each statement")
    parser.add_argument("--seconds", type=float, default=1.0, help="about this long per relation")
    parser.add_argument("--check", action="store_true", help="only check that the answers agree (no timings)")
    args = parser.parse_args()
    if not args.db.is_file():
        print(f"no database at {args.db}: build one with diplo synth and diplo load", file=sys.stderr)
        return 2
    problems = missing()
    if problems:
        print("\n".join(problems), file=sys.stderr)
        return 1
    schema = build_schema()._schema
    conn = sqlite3.connect(f"{args.db.resolve().as_uri()}?mode=ro", uri=True)
    dialect.register(conn)
    timings = []
    try:
        if conn.execute("SELECT count(*) FROM sqlite_master WHERE name = 'statements'").fetchone()[0] == 0:
            print(f"FAILED: {args.db} is not a database built by diplo load", file=sys.stderr)
            return 2
        for case in cases():
            sql, params = compiled(schema, case.query)
            problem = check(conn, case, sql, params)
            if problem is not None:
                print(problem, file=sys.stderr)
                return 1
            if not args.check:
                timings.append(measure(conn, case, sql, params, args.runs, args.seconds))
    finally:
        conn.close()
    if args.check:
        print(f"{len(cases())} relations: the compiled and the hand-written SQL answer the same")
        return 0
    print(report(timings, args.db))
    return 0 if all(t.ratio <= TARGET for t in timings) else 3


if __name__ == "__main__":
    sys.exit(main())

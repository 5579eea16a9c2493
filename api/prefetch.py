"""Look-ahead prefetching: when a page of objects is built, every relation the query selects on them is fetched
for the whole page at once (one query per relation and level, as the DataLoaders would), and stored on the
objects, so that their relation fields resolve synchronously.

graphql-core's per-field cost is what dominates a large response, and an async field costs several times a sync
one (a coroutine, a future and a task each); this turns thousands of them into plain attribute reads. A relation
that was not prefetched (an object reached some other way) still resolves through its DataLoader.
"""

import sqlite3
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from strawberry.types.nodes import FragmentSpread, InlineFragment, SelectedField, Selection

from . import queries
from .pagination import DEFAULT_FIRST, check_first, decode_cursor
from .queries import NESTED_ORDER
from .store import chunks
from .types import (
    Connection,
    Delegation,
    DelegationReport,
    Info,
    Meeting,
    MeetingReport,
    Organization,
    Person,
    Source,
    Statement,
    Topic,
    connection,
)

Fields = dict[str, list[SelectedField]]  # a selection flattened: field name -> its occurrences


def flatten(selections: Iterable[Selection], type_name: str) -> Fields:
    fields: Fields = {}
    for selection in selections:
        if isinstance(selection, SelectedField):
            fields.setdefault(selection.name, []).append(selection)
        elif isinstance(selection, FragmentSpread | InlineFragment) and selection.type_condition in (
            None, type_name, "Node",
        ):  # fmt: skip
            for name, occurrences in flatten(selection.selections, type_name).items():
                fields.setdefault(name, []).extend(occurrences)
    return fields


def children(occurrences: Iterable[Selection]) -> list[Selection]:
    return [selection for field in occurrences for selection in field.selections]


def node_selections(connection_fields: Fields) -> list[Selection]:
    """The selections on the nodes of a connection, through `nodes` and `edges { node }`."""
    found = children(connection_fields.get("nodes", []))
    edge_fields = flatten(children(connection_fields.get("edges", [])), "")
    return found + children(edge_fields.get("node", []))


@dataclass(frozen=True)
class ToMany:
    """A list relation fetched for many parents by one grouped query (see `queries.rows_grouped`)."""

    sql: str
    parent_key: Callable[[Any], str]
    build: Callable[[sqlite3.Row], Any]
    group_key: Callable[[Any], str] | None = None  # when the rows are grouped by other than parent_key


@dataclass(frozen=True)
class ToOne:
    """A relation to one object by its key, fetched for many parents by one `IN` query."""

    table: str
    target_key: Callable[[Any], str | None]
    build: Callable[[sqlite3.Row], Any]


def _key(obj: Any) -> str:
    return obj.key  # type: ignore[no-any-return]


def _meeting_key(obj: Any) -> str:
    return obj.meeting_key  # type: ignore[no-any-return]


RELATIONS: dict[tuple[str, str], ToMany | ToOne] = {
    ("Meeting", "delegations"): ToMany(queries.DELEGATIONS_OF_MEETINGS, _key, Delegation.from_row),
    ("Meeting", "topics"): ToMany(queries.TOPICS_OF_MEETINGS, _key, Topic.from_row),
    ("Meeting", "sources"): ToMany(queries.SOURCES_OF_MEETINGS, _key, Source.from_row),
    ("Meeting", "followUps"): ToMany(queries.FOLLOW_UPS_OF_MEETINGS, _key, Meeting.from_row),
    ("Meeting", "previous"): ToOne("meetings", lambda m: m.follows, Meeting.from_row),
    ("Delegation", "head"): ToOne("persons", lambda d: d.head_key, Person.from_row),
    ("Delegation", "meeting"): ToOne("meetings", lambda d: d.meeting_key, Meeting.from_row),
    # A meeting's parts are fetched by meeting and grouped by their path (`meeting/country`, `meeting/source`, ...).
    ("Delegation", "members"): ToMany(queries.MEMBERS_OF_MEETINGS, _meeting_key, Person.from_row, _key),
    ("Delegation", "sources"): ToMany(queries.SOURCES_OF_DELEGATIONS, _meeting_key, Source.from_row, _key),
    ("Meeting", "reports"): ToMany(queries.REPORTS_OF_MEETINGS, _key, MeetingReport.from_row),
    ("MeetingReport", "source"): ToOne("sources", lambda r: r.source_key, Source.from_row),
    ("MeetingReport", "previous"): ToOne("meetings", lambda r: r.follows, Meeting.from_row),
    ("MeetingReport", "topics"): ToMany(queries.TOPICS_OF_MEETING_REPORTS, _meeting_key, Topic.from_row, _key),
    ("MeetingReport", "delegations"): ToMany(
        queries.DELEGATIONS_OF_MEETING_REPORTS, _meeting_key, DelegationReport.from_row, _key
    ),
    ("DelegationReport", "head"): ToOne("persons", lambda d: d.head_key, Person.from_row),
    ("DelegationReport", "members"): ToMany(queries.MEMBERS_OF_DELEGATION_REPORTS, _meeting_key, Person.from_row, _key),
    ("DelegationReport", "source"): ToOne("sources", lambda d: d.source_key, Source.from_row),
    ("Statement", "speaker"): ToOne("persons", lambda s: s.speaker_key, Person.from_row),
    ("Statement", "organization"): ToOne("organizations", lambda s: s.organization_key, Organization.from_row),
    ("Statement", "meeting"): ToOne("meetings", lambda s: s.meeting_key, Meeting.from_row),
    ("Statement", "source"): ToOne("sources", lambda s: s.source_key, Source.from_row),
    ("Statement", "topics"): ToMany(queries.TOPICS_OF_STATEMENTS, _key, Topic.from_row),
    ("Person", "delegations"): ToMany(queries.DELEGATIONS_OF_PERSONS, _key, Delegation.from_row),
}
# Nested connections: (type, field) -> (link in queries.LINKS, node type, node builder)
NESTED: dict[tuple[str, str], tuple[str, str, Callable[[sqlite3.Row], Any]]] = {
    ("Meeting", "statements"): ("meeting.statements", "Statement", Statement.from_row),
    ("Topic", "meetings"): ("topic.meetings", "Meeting", Meeting.from_row),
    ("Topic", "statements"): ("topic.statements", "Statement", Statement.from_row),
    ("Person", "statements"): ("person.statements", "Statement", Statement.from_row),
    ("Organization", "statements"): ("organization.statements", "Statement", Statement.from_row),
    ("Source", "meetings"): ("source.meetings", "Meeting", Meeting.from_row),
    ("Source", "statements"): ("source.statements", "Statement", Statement.from_row),
}
# Participants are the delegations' countries: prefetching delegations serves them too.
ALIASES = {("Meeting", "participants"): "delegations"}


def prefetch(info: Info, type_name: str, objects: Sequence[Any], selections: Iterable[Selection]) -> None:
    """Fetch what `selections` asks of `objects` (all of type `type_name`), and so on down the selection."""
    if not objects:
        return
    conn = info.context.conn
    fields = flatten(selections, type_name)
    for alias, target in ALIASES.items():
        if alias[0] == type_name and alias[1] in fields:
            fields.setdefault(target, [])
    for name, occurrences in fields.items():
        relation = RELATIONS.get((type_name, name))
        if isinstance(relation, ToMany):
            keys = list(dict.fromkeys(relation.parent_key(o) for o in objects))
            grouped: dict[str, list[sqlite3.Row]] = {}
            for chunk in chunks(keys):
                grouped.update(queries.rows_grouped(conn, relation.sql, chunk))
            built = {key: [relation.build(row) for row in rows] for key, rows in grouped.items()}
            group = relation.group_key or relation.parent_key
            for obj in objects:
                obj.prefetched[name] = built.get(group(obj), [])
            _descend(info, objects, name, occurrences, lambda value: value)
        elif isinstance(relation, ToOne):
            keys = list(dict.fromkeys(k for o in objects if (k := relation.target_key(o)) is not None))
            rows: dict[str, sqlite3.Row] = {}
            for chunk in chunks(keys):
                rows.update(queries.rows_by_key(conn, relation.table, chunk))
            found = {key: relation.build(row) for key, row in rows.items()}
            for obj in objects:
                key = relation.target_key(obj)
                obj.prefetched[name] = found.get(key) if key is not None else None
            _descend(info, objects, name, occurrences, lambda value: [value] if value is not None else [])
        elif (type_name, name) in NESTED:
            _prefetch_connections(info, type_name, name, objects, occurrences)


def _descend(
    info: Info, objects: Sequence[Any], name: str, occurrences: list[SelectedField],
    as_list: Callable[[Any], list[Any]],
) -> None:  # fmt: skip
    found = [child for obj in objects for child in as_list(obj.prefetched[name])]
    if found and occurrences:
        prefetch(info, type(found[0]).__name__, found, children(occurrences))


def _counter(info: Info, link: str, parent: str) -> Callable[[], Awaitable[int]]:
    return lambda: info.context.loaders.child_count.load((link, parent))


def _prefetch_connections(
    info: Info, type_name: str, name: str, objects: Sequence[Any], occurrences: list[SelectedField]
) -> None:
    link, node_type, build = NESTED[type_name, name]
    listing = link.split(".")[1]
    by_arguments: dict[tuple[Any, Any], list[SelectedField]] = {}
    for field in occurrences:
        first = field.arguments.get("first", DEFAULT_FIRST)
        if isinstance(first, str):  # a literal comes as its source text; a variable as its value
            first = int(first) if first.lstrip("-").isdigit() else first
        by_arguments.setdefault((first, field.arguments.get("after")), []).append(field)
    for (first, after), same in by_arguments.items():
        try:  # invalid arguments are left to the resolver, which reports them at the right path
            size = check_first(first)
            position = decode_cursor(after, listing, NESTED_ORDER) if after is not None else None
        except Exception:
            continue
        keys = [o.key for o in objects]
        pages: dict[str, queries.Page] = {}
        for chunk in chunks(keys):
            pages.update(queries.fetch_child_pages(info.context.conn, link, chunk, size, position))
        nodes: list[Any] = []
        for obj in objects:
            made: Connection[Any] = connection(
                pages[obj.key], listing, NESTED_ORDER, position, build, _counter(info, link, obj.key)
            )
            obj.prefetched[(name, first, after)] = made
            nodes.extend(made.nodes)
        prefetch(info, node_type, nodes, node_selections(flatten(children(same), "")))


def prefetch_page(info: Info, type_name: str, nodes: Sequence[Any]) -> None:
    """Prefetch for the nodes of the connection the current field returns."""
    prefetch(info, type_name, nodes, node_selections(flatten(children(info.selected_fields), "")))


def prefetch_one(info: Info, obj: Any) -> None:
    """Prefetch for the object the current field returns."""
    if obj is not None:
        prefetch(info, type(obj).__name__, [obj], children(info.selected_fields))

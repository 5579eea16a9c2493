"""Every declared relation and root field compiles to SQL that SQLite answers by index: a depth-2 query over each
is compiled and its `EXPLAIN QUERY PLAN` read. A slow plan fails here, not in production; the benchmarked shapes
are not the only ones checked."""

import re
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import graphql
import pytest
from diplo.graphql import dialect
from diplo.graphql.catalog import FACETS, LISTINGS, LOOKUPS, ROSTERS, TYPES, Embedded, EmbeddedList, Many, Nested, One
from diplo.graphql.compiler import Compiler
from diplo.graphql.schema import build_schema
from graphql.execution.values import VariableValues, get_variable_values

SCHEMA = build_schema()._schema
# Tables of a few rows whatever the data: scanning them is what SQLite should do.
SMALL = {"country_names", "build", "source_digests"}
# How to reach an object of each type from the root, its selection in place of `%s`.
REACH = {
    **{target: f"{root}(first: 20) {{ nodes {{ %s }} }}" for root, (_, target) in LISTINGS.items()},
    **{target: f"{root} {{ %s }}" for root, target in ROSTERS.items()},
    "MeetingReport": "meetings { nodes { reports { %s } } }",
    "DelegationReport": "meetings { nodes { reports { delegations { %s } } } }",
    "StatementReport": "statements { nodes { reports { %s } } }",
    "Evidence": "meetings { nodes { evidence { %s } } }",
    "Dispute": "meetings { nodes { disputes { %s } } }",
    "DisputedValue": "meetings { nodes { disputes { values { %s } } } }",
    "NameReport": "persons { nodes { names { %s } } }",
}


def _selection(spec: object) -> str:
    if isinstance(spec, Nested):
        return "{ totalCount nodes { __typename } pageInfo { endCursor } }"
    return "{ __typename }"


def _cases() -> Iterator[tuple[str, str]]:
    for type_name, declared in TYPES.items():
        for name, spec in declared.fields.items():
            if isinstance(spec, One | Many | Nested | Embedded | EmbeddedList):
                yield f"{type_name}.{name}", "{ " + REACH[type_name] % f"{name} {_selection(spec)}" + " }"
    for root, target in LOOKUPS.items():  # (each lookup's type is a Node)
        yield f"Query.{root}", f'{{ {root}(key: "x") {{ __typename }} }}'
        yield f"Query.node({target})", f'{{ node(id: "{_id(target)}") {{ __typename }} }}'
    for root in [*LISTINGS, *ROSTERS]:
        yield (
            f"Query.{root}",
            "{ " + REACH[LISTINGS[root][1] if root in LISTINGS else ROSTERS[root]] % "__typename" + " }",
        )

    for root, facets in FACETS.items():
        groups = " ".join(f"{group} {{ value count }}" for group in facets.groups)
        yield f"Query.{root}", f'{{ {root}(filter: {{search: "x"}}) {{ {groups} }} }}'
    for root in ("persons", "organizations", "topics"):
        for order in ("NAME_ASC", "NAME_DESC", "RELEVANCE"):
            page = f'{root}(first: 20, orderBy: {order}, filter: {{search: "x"}})'
            yield (
                f"Query.{root}({order})",
                f"{{ {page} {{ totalCount nodes {{ __typename }} pageInfo {{ endCursor }} }} }}",
            )


def _id(type_name: str) -> str:
    from diplo.graphql.ids import global_id

    return global_id(type_name, "/".join("x" for _ in TYPES[type_name].id.columns))


CASES = dict(_cases())


def test_every_relation_and_root_field_is_checked() -> None:
    relations = {
        f"{t}.{n}"
        for t, d in TYPES.items()
        for n, s in d.fields.items()
        if isinstance(s, One | Many | Nested | Embedded | EmbeddedList)
    }
    assert relations <= set(CASES)


def _compiled(query: str) -> list[tuple[str, dict[str, object]]]:
    document = graphql.parse(query)
    operation = document.definitions[0]
    assert isinstance(operation, graphql.OperationDefinitionNode)
    variables = get_variable_values(SCHEMA, (), {})
    assert isinstance(variables, VariableValues)
    compiler = Compiler(SCHEMA, {}, variables, operation)
    return [(sql, {n: bind(variables) for n, bind in binders.items()}) for _, sql, binders in compiler.statements()]


def slow_steps(conn: sqlite3.Connection, sql: str, params: dict[str, object]) -> list[str]:
    """The steps of the plan that read a large table whole for each row of another (a scan inside a correlated
    subquery), or evaluate a list subquery again for every row (two correlated lists beside an index search: only
    one of them can drive the search, the other filters each row found). A root page may walk its listing's index
    in order: it stops at its `first`. `json_each` over a column reads that row's value, not a table."""
    plan = conn.execute("EXPLAIN QUERY PLAN " + sql, params).fetchall()
    values = set(re.findall(r"json_each\([^()]*\) (\w+)", sql))
    details = {node: detail for node, _, _, detail in plan}
    parents = {node: parent for node, parent, _, _ in plan}
    subqueries = {d.split()[-1] for d in details.values() if d.startswith(("CO-ROUTINE", "MATERIALIZE"))}

    def per_row(node: int) -> bool:
        while node in parents:
            node = parents[node]
            if details.get(node, "").startswith("CORRELATED"):
                return True
        return False

    found = []
    for node, detail in details.items():
        scanned = detail.split()[1] if detail.startswith("SCAN ") else None
        if scanned is not None and scanned not in subqueries | SMALL | values and per_row(node):
            found.append(detail)
        children = [d for n, d in details.items() if parents[n] == node]
        lists = [d for d in children if d.startswith("CORRELATED LIST SUBQUERY")]
        if len(lists) > 1 and any(d.startswith("SEARCH ") for d in children):
            found.append(f"{len(lists)} correlated lists beside {next(d for d in children if d.startswith('SEARCH '))}")
    return found


@pytest.fixture(scope="module")
def conn(article_db: Path) -> Iterator[sqlite3.Connection]:
    connection = sqlite3.connect(f"file:{article_db}?mode=ro", uri=True)
    dialect.register(connection)
    yield connection
    connection.close()


@pytest.mark.parametrize("query", CASES.values(), ids=CASES.keys())
def test_each_relation_is_answered_by_index(conn: sqlite3.Connection, query: str) -> None:
    for sql, params in _compiled(query):
        assert slow_steps(conn, sql, params) == []


def test_a_slow_plan_is_found(conn: sqlite3.Connection) -> None:
    """The form `Person.delegations` had (a row-value list evaluated again for every delegation of the meetings),
    and a scan for each row."""
    delegations = (
        "SELECT rel.* FROM delegations rel WHERE rel.meeting IN (SELECT meeting FROM delegations WHERE head = p.key "
        "UNION SELECT meeting FROM delegation_members WHERE person = p.key) AND (rel.meeting, rel.country) IN "
        "(SELECT meeting, country FROM delegations WHERE head = p.key UNION SELECT meeting, country "
        "FROM delegation_members WHERE person = p.key) ORDER BY rel.meeting, rel.position"
    )
    per_person = f"SELECT p.key, (SELECT json_group_array(rel.country) FROM ({delegations}) rel) FROM persons p"
    assert slow_steps(conn, per_person, {}) == ["2 correlated lists beside SEARCH rel USING PRIMARY KEY (meeting=?)"]
    per_meeting = "SELECT m.key, (SELECT count(*) FROM statements s WHERE s.occasion = m.title) FROM meetings m"
    assert slow_steps(conn, per_meeting, {}) == ["SCAN s"]

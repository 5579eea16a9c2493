"""The compiled read path against the resolver path, the reference executor: the same request gives the same bytes.

Every committed operation, hand-written shapes (fragments, aliases, `__typename`, directives, nested pages,
`node(id:)` of every type) and hypothesis-graphql's generated queries, on the article's database and on a synthetic
one; plus which shapes fall back to the resolver path, and the plan cache's bounds.
"""

import base64
import gc
import json
import logging
import sqlite3
import threading
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

import graphql
import orjson
import pytest
from conftest import Client
from diplo.graphql import plans
from diplo.graphql.compiler import Compiler
from diplo.graphql.limits import Limits
from diplo.graphql.schema import print_sdl
from diplo.server import worker
from diplo.server.app import GraphQLEndpoint, Settings, create_app
from diplo.server.snapshots import open_snapshot
from diplo.vocabulary import COUNTRY_NAMES
from hypothesis import HealthCheck, given, settings
from hypothesis_graphql import queries
from test_fuzz import SCALARS

OPERATIONS = sorted((Path(__file__).resolve().parent.parent / "schema" / "operations").glob("*.graphql"))
ISTANBUL = "us-russia-talks-istanbul-2025-02-27"


class Paths:
    """Both executors on one database: `compiled` answers what it can, `reference` only through resolvers."""

    def __init__(self, db: Path, limits: Limits | None = None) -> None:
        limits = limits or Limits()
        self.compiled = GraphQLEndpoint(Settings(db_path=db, limits=limits))
        self.reference = GraphQLEndpoint(Settings(db_path=db, limits=limits, compiled=False))

    def compiled_only(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any] | None:
        """The compiled path's answer, or None where it falls back."""
        assert self.compiled.plans is not None
        conn = open_snapshot(self.compiled.settings.db_path, self.compiled.settings.limits)
        try:
            return plans.execute(self.compiled.plans, conn, query, variables, None)
        finally:
            conn.close()

    def same(self, query: str, variables: dict[str, Any] | None = None) -> bool:
        """Asserts both paths give the same bytes; True when the compiled path answered."""
        compiled = self.compiled_only(query, variables)
        served, reference = (_answer(e, query, variables) for e in (self.compiled, self.reference))
        assert orjson.dumps(served) == orjson.dumps(reference), query
        if compiled is not None:
            assert orjson.dumps(compiled) == orjson.dumps(reference), query
        return compiled is not None


def _answer(endpoint: GraphQLEndpoint, query: str, variables: dict[str, Any] | None) -> dict[str, Any]:
    """The body `endpoint` answers, as the app calls it: on a snapshot of its database."""
    conn = open_snapshot(endpoint.settings.db_path, endpoint.settings.limits)
    try:
        return endpoint.execute(conn, query, variables, None, "test")
    finally:
        conn.close()


@pytest.fixture(scope="module")
def article(article_db: Path) -> Paths:
    return Paths(article_db)


@pytest.fixture(scope="module")
def synthetic(synthetic_db: Path) -> Paths:
    return Paths(synthetic_db)


def _id(type_name: str, key: str) -> str:
    return base64.urlsafe_b64encode(f"{type_name}:{key}".encode()).decode()


@pytest.mark.parametrize("operation", OPERATIONS, ids=[p.stem for p in OPERATIONS])
def test_every_committed_operation_compiles_to_the_same_bytes(article: Paths, operation: Path) -> None:
    variables = json.loads(operation.with_suffix(".json").read_text(encoding="utf-8"))["variables"]
    assert article.same(operation.read_text(encoding="utf-8"), variables)


MEETING = """
fragment M on Meeting { __typename id key title status format date city hostCountry { id code name } round summary
  previous { key } followUps { key round } participants { code name __typename }
  delegations { id country { code } headRole meeting { key } head { key name aliases wikidataId country { name } }
                members { key } sources { key } }
  topics { key label de: label(language: "de") en: label(language: "en") none: label(language: "") }
  sources { id key outlet title url publishedAt language dateline via text }
  reports { id title status format date city hostCountry { code } round summary source { key } previous { key }
            delegations { id country { code } headRole head { key } members { key } source { key } }
            topics { key } } }
"""
STATEMENT = """
fragment S on Statement { id key text language kind date occasion en: translation(language: "en")
  xx: translation(language: "xx") speaker { key } organization { key name aliases country { code } }
  meeting { key } topics { key } source { key } }
"""

SHAPES = [
    MEETING + "{ meetings(first: 100) { totalCount nodes { ...M } } }",
    STATEMENT + "{ statements(first: 100, orderBy: DATE_DESC) { edges { cursor node { ...S } } } }",
    MEETING
    + STATEMENT
    + 'query { meeting(key: "'
    + ISTANBUL
    + '") { ...M statements(first: 2) { ...P nodes { ...S } } } '
    "}\nfragment P on StatementConnection { __typename totalCount pageInfo { __typename hasNextPage hasPreviousPage "
    "startCursor endCursor } edges { __typename cursor } }",
    "{ a: meetings(first: 1) { pageInfo { endCursor hasNextPage } } b: meetings(first: 0) { totalCount "
    "pageInfo { startCursor endCursor hasNextPage hasPreviousPage } nodes { key } } __typename }",
    '{ meetings(orderBy: DATE_DESC, filter: {status: HELD, format: IN_PERSON, country: "US", person: '
    '"sonata-coulter", topic: "diplomatic-missions", source: "koran-jakarta-2025-03-01-as-russia", '
    'hostCountry: "TR", city: "ISTANBUL", dateFrom: "2025-01-01", dateTo: "2025-12-31"}) { nodes { key } } }',
    '{ statements(filter: {search: "dialog", kind: DIRECT_QUOTE, language: "id", dateTo: "2030-01-01"}) '
    '{ totalCount nodes { key } } x: statements(filter: {search: "  "}) { totalCount } '
    'y: statements(filter: {search: "\\"*("}) { totalCount } }',
    '{ delegations(filter: {country: "RU"}) { totalCount nodes { id } } d: delegations(filter: {person: '
    '"sonata-coulter"}) { nodes { id } } topics { nodes { key meetings(first: 1) { totalCount nodes { key } '
    "pageInfo { endCursor } } statements { totalCount } } } }",
    "{ persons(first: 3) { nodes { key delegations { id } statements { totalCount nodes { key } } } } "
    "organizations { edges { node { key statements(first: 1) { pageInfo { hasNextPage } } } } } "
    "sources { nodes { key meetings { totalCount nodes { key } } statements(first: 2) { totalCount } } } "
    "countries { id code name } }",
    "query ($yes: Boolean!, $no: Boolean!) { meetings(first: 2) { nodes { key @include(if: $yes) title @skip(if: $yes)"
    " ... on Meeting @include(if: $no) { date } ...F @skip(if: $no) } } }\nfragment F on Meeting { city }",
    '{ m: meeting(key: "none") { key } t: topic(key: "diplomatic-missions") { key label } '
    'p: person(key: "vladimir-putin") { name } o: organization(key: "kremlin") { name } '
    's: source(key: "koran-jakarta-2025-03-01-as-russia") { outlet } st: statement(key: "nope") { key } }',
    "{ meetings { nodes { key } edges { node { title } } nodes { title } } }",
]


@pytest.mark.parametrize("query", SHAPES)
def test_shapes_compile_to_the_same_bytes(article: Paths, synthetic: Paths, query: str) -> None:
    variables = {"yes": True, "no": False} if "$yes" in query else None
    assert article.same(query, variables)
    assert synthetic.same(query, variables)


def test_pages_and_nodes_of_every_type(article: Paths) -> None:
    walk = "query ($after: String) { meetings(first: 2, after: $after, orderBy: DATE_DESC) { pageInfo { endCursor } } }"
    after = None
    for _ in range(4):
        assert article.same(walk, {"after": after})
        answer = article.compiled_only(walk, {"after": after})
        assert answer is not None
        after = orjson.loads(orjson.dumps(answer))["data"]["meetings"]["pageInfo"]["endCursor"]
    ids = [
        _id("Meeting", ISTANBUL), _id("Delegation", f"{ISTANBUL}/US"), _id("Topic", "diplomatic-missions"),
        _id("Person", "vladimir-putin"), _id("Organization", "kremlin"),
        _id("Statement", "vladimir-putin-inspires-hope"),
        _id("Source", "koran-jakarta-2025-03-01-as-russia"), _id("Delegation", "only-one-part"), _id("Country", "US"),
        _id("Country", "XX"), _id("Query", "x"),
        _id("MeetingReport", f"{ISTANBUL}/koran-jakarta-2025-03-01-as-russia"),
        _id("DelegationReport", f"{ISTANBUL}/koran-jakarta-2025-03-01-as-russia/RU"),
    ]  # fmt: skip
    node = (
        "query ($id: ID!) { node(id: $id) { __typename id ... on Meeting { key } ... on Delegation { headRole } "
        "...on DelegationReport { country { code } } ... on MeetingReport { status } ... on Country { name } } }"
    )
    for global_id in ids:
        assert article.same(node, {"id": global_id})


FALLBACKS = {
    "introspection is answered by graphql-core": "{ __schema { queryType { name } } }",
    "an introspection field beside data": '{ __type(name: "Meeting") { name } meetings { totalCount } }',
    "`first` out of range: the resolver path's error": "{ meetings(first: 101) { totalCount } }",
    "a cursor not from this API: the resolver path's error": '{ meetings(after: "x") { totalCount } }',
    "a cursor of another listing": '{ topics(after: "WyJtZWV0aW5ncyIsIkRBVEVfQVNDIiwiYSIsImIiXQ") { totalCount } }',
    "an id not from this API": '{ node(id: "!!") { id } }',
    "a validation error": "{ meetings { nope } }",
    "a mutation": "mutation { x }",
}
REFUSED = {
    "a syntax error": "{ meetings {",
    "a limit exceeded": "{ a: meetings { totalCount } "
    + " ".join(f"a{i}: topics {{ totalCount }}" for i in range(16))
    + " }",
}


@pytest.mark.parametrize("query", FALLBACKS.values(), ids=FALLBACKS.keys())
def test_shapes_that_fall_back(article: Paths, query: str) -> None:
    assert article.compiled_only(query) is None
    assert not article.same(query)


@pytest.mark.parametrize("query", REFUSED.values(), ids=REFUSED.keys())
def test_documents_refused_before_validation_are_refused_by_the_plan(article: Paths, query: str) -> None:
    answer = article.compiled_only(query)
    assert answer is not None
    assert answer["data"] is None
    assert answer["errors"]
    assert article.same(query)


def test_a_statement_stopped_by_the_time_limit_falls_back(article: Paths) -> None:
    assert article.compiled.plans is not None
    conn = open_snapshot(article.compiled.settings.db_path, Limits())
    conn.set_progress_handler(lambda: 1, 1)  # what the time limits do to a statement past them
    try:
        assert plans.execute(article.compiled.plans, conn, "{ statements { totalCount } }", None, None) is None
    finally:
        conn.close()


def test_a_compiler_bug_is_logged_and_the_resolver_path_answers(
    article: Paths, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(*_: object) -> str:
        raise KeyError("a bug")

    monkeypatch.setattr(Compiler, "obj", broken)
    with caplog.at_level(logging.ERROR, logger="diplo"):
        assert not article.same("{ countries { code name } }")
    assert "compiled path failed" in caplog.text


def test_one_statement_per_root_field(article_db: Path) -> None:
    paths = Paths(article_db)
    assert paths.compiled.plans is not None
    conn = open_snapshot(article_db, Limits())
    executed: list[str] = []
    conn.set_trace_callback(executed.append)
    try:
        for query, roots in ((SHAPES[2], 1), (SHAPES[9], 6)):
            executed.clear()
            assert plans.execute(paths.compiled.plans, conn, query, None, None) is not None
            assert len(executed) == roots
    finally:
        conn.close()


def test_plan_cache_is_bounded_and_keyed_by_operation(article_db: Path) -> None:
    paths = Paths(article_db)
    cache = paths.compiled.plans
    assert cache is not None
    for i in range(cache.size + 50):
        assert paths.compiled_only(f"{{ m{i}: meetings(first: 1) {{ totalCount }} }}") is not None
    assert len(cache) == cache.size
    two = "query A { meetings { totalCount } } query B { topics { totalCount } }"
    assert paths.compiled_only(two) is None  # several operations and none named: the resolver path's error
    for _ in range(3):  # a newcomer to a full cache is kept once asked for more often than what it would push out
        a, b = cache.get(two, "A"), cache.get(two, "B")
    assert a is not b
    assert cache.get(two, "B") is b


def test_plan_cache_memory_is_bounded(article: Paths) -> None:
    cache = plans.Plans(article.compiled.schema, Limits(), size=16)

    def fill(start: int, count: int) -> int:
        for i in range(start, start + count):
            assert cache.get(f"{{ m{i}: meetings(first: 1) {{ totalCount nodes {{ key title }} }} }}", None)
        gc.collect()  # documents are cyclic (a node and its parent): the dropped ones go only when collected
        return tracemalloc.get_traced_memory()[0]

    tracemalloc.start()
    try:
        fill(0, 16)
        full = fill(16, 40)  # whatever warms up once (interned names, caches of graphql-core) has by now
        after = fill(56, 120)
    finally:
        tracemalloc.stop()
    assert len(cache) == 16
    assert after < full * 1.1, (full, after)


def test_an_operation_without_variables_is_compiled_once(article: Paths) -> None:
    assert article.compiled.plans is not None
    query = "{ meetings(first: 1) { nodes { key } } }"
    plan = article.compiled.plans.get(query, None)
    assert plan is not None
    assert plan.fixed
    assert [variant.facts for variant in plan.variants] == [()]
    assert article.same(query)
    assert article.compiled.plans.get(query, None) is plan
    # Variables it does not declare are still checked for their length, as the resolver path does.
    refused = article.compiled_only(query, {"unused": "x" * 201})
    assert refused is not None
    assert [e["extensions"]["code"] for e in refused["errors"]] == ["BAD_USER_INPUT"]
    assert article.same(query, {"unused": "x" * 201})


def test_plans_are_not_shared_across_limits(article_db: Path) -> None:
    strict = Paths(article_db, Limits(max_aliases=1))
    query = "{ a: meetings { totalCount } b: topics { totalCount } }"
    answered = Paths(article_db).compiled_only(query)
    assert answered is not None
    assert "errors" not in answered
    refused = strict.compiled_only(query)
    assert refused is not None
    assert [e["extensions"]["code"] for e in refused["errors"]] == ["QUERY_TOO_COMPLEX"]
    assert strict.same(query)


SDL = print_sdl()
NODE_IDS = [_id("Meeting", ISTANBUL), _id("Delegation", f"{ISTANBUL}/RU"), _id("Person", "vladimir-putin"),
            _id("MeetingReport", f"{ISTANBUL}/koran-jakarta-2025-03-01-as-russia"), _id("Topic", "nope")]  # fmt: skip


class Usable(graphql.Visitor):
    """Generated arguments made ones this API gives out (a page size in range, no cursor, an id of ours, not both
    `first` and `last`), so that most generated queries run instead of stopping at an argument error."""

    def enter_field(self, node: graphql.FieldNode, *_: Any) -> graphql.FieldNode | None:
        given = {a.name.value for a in node.arguments or () if not isinstance(a.value, graphql.NullValueNode)}
        if not {"first", "last"} <= given:
            return None
        kept = tuple(a for a in node.arguments if a.name.value != "first")
        return graphql.FieldNode(
            alias=node.alias, name=node.name, arguments=kept, directives=node.directives,
            selection_set=node.selection_set,
        )  # fmt: skip

    def enter_argument(self, node: graphql.ArgumentNode, *_: Any) -> graphql.ArgumentNode | None:
        value: graphql.ValueNode
        if node.name.value in ("first", "last") and isinstance(node.value, graphql.IntValueNode):
            value = graphql.IntValueNode(value=str(int(node.value.value) % 6))
        elif node.name.value in ("after", "before"):
            value = graphql.NullValueNode()
        elif node.name.value == "id":
            value = graphql.StringValueNode(value=NODE_IDS[len(graphql.print_ast(node.value)) % len(NODE_IDS)])
        else:
            return None
        return graphql.ArgumentNode(name=node.name, value=value)


def usable(query: str) -> str:
    return graphql.print_ast(graphql.visit(graphql.parse(query), Usable()))


@pytest.mark.parametrize("name", ["article", "synthetic"])
def test_generated_queries_give_the_same_bytes(request: pytest.FixtureRequest, name: str) -> None:
    paths: Paths = request.getfixturevalue(name)
    compiled: list[bool] = []

    @settings(max_examples=60, suppress_health_check=list(HealthCheck))
    @given(query=queries(SDL, custom_scalars=SCALARS).map(usable))
    def run(query: str) -> None:
        compiled.append(paths.same(query))

    run()
    assert sum(compiled) > len(compiled) / 2, "most generated queries should compile"


def test_country_names_come_from_the_table_the_loader_writes(article_db: Path, tmp_path: Path) -> None:
    """The store writes `country_names` from the names the resolver path uses; the compiled path reads the table."""
    db = tmp_path / "renamed.db"
    with sqlite3.connect(article_db) as source, sqlite3.connect(db) as copy:
        source.backup(copy)
        assert dict(copy.execute("SELECT code, name FROM country_names")) == COUNTRY_NAMES
        copy.execute("UPDATE country_names SET name = 'Renamed' WHERE code = 'RU'")
    answer = Paths(db).compiled_only("{ countries { code name } }")
    assert answer is not None
    assert {"code": "RU", "name": "Renamed"} in orjson.loads(orjson.dumps(answer))["data"]["countries"]


def _compilations(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The operations compiled from now on, one entry per compiling."""
    compiled: list[str] = []

    class Counting(Compiler):
        def statements(self) -> list[Any]:
            compiled.append(self.operation.name.value if self.operation.name else "")
            return super().statements()

    monkeypatch.setattr(plans, "Compiler", Counting)
    return compiled


VALUES = """query Values($first: Int, $after: String, $search: String, $id: ID!, $key: String!, $language: String,
  $into: String!) {
  statements(first: $first, after: $after, filter: {search: $search}, orderBy: DATE_DESC) {
    totalCount pageInfo { endCursor hasNextPage hasPreviousPage } nodes { key translation(language: $into) } }
  node(id: $id) { id ... on Meeting { key } }
  topic(key: $key) { key label(language: $language) } }"""


def _cursor(paths: Paths, search: str, first: int) -> str:
    page = f'statements(first: {first}, filter: {{search: "{search}"}}, orderBy: DATE_DESC)'
    query = f"{{ {page} {{ pageInfo {{ endCursor }} }} }}"
    answer = paths.compiled_only(query)
    assert answer is not None
    cursor: str = orjson.loads(orjson.dumps(answer))["data"]["statements"]["pageInfo"]["endCursor"]
    assert cursor
    return cursor


def test_requests_that_differ_only_in_values_reuse_the_sql(article: Paths, monkeypatch: pytest.MonkeyPatch) -> None:
    compiled = _compilations(monkeypatch)
    meetings = [_id("Meeting", ISTANBUL), _id("Meeting", "nope")]
    requests = [
        {"first": first, "after": _cursor(article, search, 1), "search": search, "id": meetings[first % 2],
         "key": key, "language": language, "into": language}
        for first, search, key, language in ((1, "talks", "diplomatic-missions", "en"), (3, "dialog", "nope", "de"),
                                             (0, "russia", "diplomatic-missions", "xx"))
    ]  # fmt: skip
    for variables in requests:
        assert article.same(VALUES, variables)
    assert compiled.count("Values") == 1
    plan = article.compiled.plans.get(VALUES, None) if article.compiled.plans else None
    assert plan is not None
    assert len(plan.variants) == 1


SHAPED = """query Shaped($order: StatementOrder, $country: String, $texts: Boolean!, $after: String) {
  statements(first: 2, orderBy: $order, after: $after, filter: {organization: null, search: $country}) {
    totalCount pageInfo { hasPreviousPage } nodes { key text @include(if: $texts) date @skip(if: $texts) } }
  delegations(filter: {country: $country}, first: 3) { totalCount nodes { id } } }"""


def test_requests_that_change_the_sql_compile_a_variant_each(article: Paths, monkeypatch: pytest.MonkeyPatch) -> None:
    compiled = _compilations(monkeypatch)
    base = {"order": "DATE_ASC", "country": "RU", "texts": True, "after": None}
    changes = [{}, {"texts": False}, {"order": "DATE_DESC"}, {"country": None}, {"after": _cursor(article, "talks", 1)}]
    for round_ in range(2):  # the second time round, every variant is in the cache
        for change in changes:
            variables = {**base, **change}
            if "after" in change:
                variables["order"] = "DATE_DESC"
            assert article.same(SHAPED, variables)
        assert compiled.count("Shaped") == len(changes), round_


def test_a_value_the_resolver_path_refuses_falls_back_with_a_variant_cached(article: Paths) -> None:
    good = {"first": 1, "after": _cursor(article, "talks", 1), "search": "talks", "id": _id("Meeting", ISTANBUL),
            "key": "nope", "language": "en", "into": "en"}  # fmt: skip
    assert article.same(VALUES, good)
    refused = [{"first": 101}, {"first": -1}, {"after": "x"}, {"after": _cursor(article, "talks", 1)[:-2]},
               {"after": "WyJtZWV0aW5ncyIsIkRBVEVfQVNDIiwiYSIsImIiXQ"}, {"id": "!!"}]  # fmt: skip
    for change in refused:
        variables = {**good, **change}
        assert article.compiled_only(VALUES, variables) is None, change
        assert not article.same(VALUES, variables)
        assert "errors" in _answer(article.reference, VALUES, variables)
    assert article.same(VALUES, good)


def test_the_variants_of_one_plan_are_bounded(article: Paths, monkeypatch: pytest.MonkeyPatch) -> None:
    compiled = _compilations(monkeypatch)
    names = ["a", "b", "c", "d", "e"]
    query = (
        f"query Many({', '.join(f'${n}: Boolean!' for n in names)}) {{ topics(first: 1) {{ nodes {{ "
        + " ".join(f"{n}: key @include(if: ${n})" for n in names)
        + " } } }"
    )
    flags = [{n: bool(i >> k & 1) for k, n in enumerate(names)} for i in range(2 ** len(names))]
    for variables in flags:
        assert article.compiled_only(query, variables) is not None
    assert article.compiled.plans is not None
    plan = article.compiled.plans.get(query, None)
    assert plan is not None
    assert len(plan.variants) == plans.VARIANTS_PER_PLAN < len(flags) == len(compiled)
    assert article.same(query, flags[-1])  # the newest variant is kept and answers as the resolver path does
    assert article.same(query, flags[0])  # the oldest was dropped: compiled again
    assert len(compiled) == len(flags) + 1


@pytest.fixture
def hops(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The operations sent to the worker's thread, by the thread that ran each."""
    sent: list[str] = []
    run = worker.Worker.run

    async def counted(self: worker.Worker, work: Callable[[], Any], budget: worker.Budget) -> Any:
        def recorded() -> Any:
            sent.append(threading.current_thread().name)
            return work()

        return await run(self, recorded, budget)

    monkeypatch.setattr(worker.Worker, "run", counted)
    return sent


def test_a_planned_compiled_operation_is_answered_on_the_event_loop(article_db: Path, hops: list[str]) -> None:
    # A slice no busy machine runs past: this is about where requests run, the next test about the slice.
    client = Client(create_app(Settings(db_path=article_db, limits=Limits(inline_seconds=1.0))))
    query = "{ meetings(first: 2) { nodes { key title delegations { head { name } } } } }"
    first = client.query(query)
    assert hops == ["diplo-operation_0"]  # a new document is parsed, validated and compiled in the thread
    assert client.query(query) == first
    assert len(hops) == 1  # planned and compiled before: answered where the request was read
    for _ in range(2):  # what the compiled path does not answer goes to the thread every time
        assert "errors" in client.query("{ meetings(first: 1000) { totalCount } }")
        assert client.query("{ __schema { queryType { name } } }")["data"]
    assert len(hops) == 5


def test_an_operation_longer_than_the_inline_slice_starts_again_in_the_thread_and_stays_there(
    article_db: Path, hops: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    query = "{ statements(first: 5) { nodes { key text speaker { name } topics { label } } } }"
    expected = Client(create_app(Settings(db_path=article_db, compiled=False))).query(query)
    hops.clear()
    compiled_in: list[str] = []  # the thread each compiled execution ran in, past the checks for the event loop
    compile = plans.Plans.compile

    def recorded(self: plans.Plans, *args: Any, **kwargs: Any) -> Any:
        compiled_in.append(threading.current_thread().name)
        return compile(self, *args, **kwargs)

    monkeypatch.setattr(plans.Plans, "compile", recorded)
    sliced = Client(create_app(Settings(db_path=article_db, limits=Limits(inline_seconds=1e-9))))
    for _ in range(3):
        assert sliced.query(query) == expected
    assert len(hops) == 3
    # planned in the thread; then tried once on the event loop, past its (vanishing) slice, and answered whole in
    # the thread, as every request after it
    assert compiled_in.count(threading.current_thread().name) == 1
    assert compiled_in[-3:] == [threading.current_thread().name, "diplo-operation_0", "diplo-operation_0"]

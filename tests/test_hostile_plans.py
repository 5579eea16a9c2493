"""Hostile documents inside every parser limit: validation is bounded before it runs, on both paths and within the
operation's deadline; refusals are remembered; the plan cache keeps hot documents through floods and rotations."""

import re
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import graphql
import orjson
import pytest
import strawberry.schema.schema
from conftest import Client
from diplo.graphql import plans
from diplo.graphql.admission import AdmittingCache, FrequencySketch
from diplo.graphql.limits import Expansion, Limits, check_shape, limits_extension
from diplo.graphql.schema import build_schema
from diplo.server import worker
from diplo.server.app import GraphQLEndpoint, Settings, create_app
from diplo.server.snapshots import open_snapshot
from diplo.server.worker import Budget
from hypothesis import given
from hypothesis import strategies as st

ROOT = Path(__file__).resolve().parent.parent
SCHEMA = build_schema([limits_extension(Limits())])
# The issue's document: 9 KB, 1,899 tokens, depth 5, no aliases; 0.7 s in graphql-core's validation.
ATTACK = "{ meetings { nodes { " + " ".join(["delegations { country { code } }"] * 270) + " } } }"
CHEAP = "query Q{} {{ meetings(first: 1) {{ nodes {{ key }} }} }}"


def shape(query: str, limits: Limits | None = None) -> list[graphql.GraphQLError]:
    return check_shape(graphql.parse(query).definitions, SCHEMA, limits or Limits())


@pytest.fixture
def validations(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The documents graphql-core validated (both paths validate through strawberry's module)."""
    validated: list[str] = []
    validate = strawberry.schema.schema.validate

    def recorded(schema: Any, document: graphql.DocumentNode, *args: Any, **kwargs: Any) -> Any:
        validated.append(graphql.print_ast(document))
        return validate(schema, document, *args, **kwargs)

    monkeypatch.setattr(strawberry.schema.schema, "validate", recorded)
    return validated


# --- the limits on a document's shape, checked before validation ------------------------------------------------


def test_the_issue_document_is_refused_for_its_repeated_field() -> None:
    [error] = shape(ATTACK)
    assert error.extensions == {"code": "QUERY_TOO_COMPLEX"}
    assert error.message == (
        "anonymous operation: `delegations` is selected 270 times in one selection set (counting those of fields "
        "merged with it), over the limit of 30; select each field once"
    )


def test_fields_of_repeated_parents_count_together() -> None:
    # Each selection set alone repeats a field 30 or 15 times, within the limit; merged, `country` is 450 fields,
    # whose pairs validation compares (0.8 s).
    query = "{ meetings { nodes { " + " ".join(["delegations { " + "country { code } " * 15 + "}"] * 30) + " } } }"
    [error] = shape(query)
    assert "`country` is selected 450 times" in error.message


def test_a_fragment_no_operation_spreads_is_checked_too() -> None:
    [error] = shape("{ __typename } fragment U on Meeting { " + "delegations { country { code } } " * 270 + "}")
    assert error.message.startswith("fragment U: `delegations` is selected 270 times")


def test_selections_are_counted_with_each_fragment_counted_once() -> None:
    # Expanded, 2^40 selections: counted by expanding, this would never end.
    chain = " ".join(f"fragment F{i} on Query {{ ...F{i + 1} ...F{i + 1} }}" for i in range(40))
    query = "{ ...F0 } " + chain + " fragment F40 on Query { __typename }"
    [error] = shape(query)
    assert error.message == (
        "the document has more than 1000 selections, its fragments expanded where they are spread; select fewer "
        "fields or send several requests"
    )
    assert error.extensions == {"code": "QUERY_TOO_COMPLEX"}


def test_a_fragment_cycle_is_refused_before_a_walk_follows_it() -> None:
    # Eleven fragments each spreading the ten others: the depth walk followed every path without a repeat (60 s).
    names = range(11)
    query = "{ ...F0 } " + " ".join(
        f"fragment F{i} on Query {{ " + " ".join(f"...F{j}" for j in names if j != i) + " }" for i in names
    )
    started = time.monotonic()
    errors = shape(query)
    assert time.monotonic() - started < 2
    assert errors
    assert errors[0].message == "Cannot spread fragment 'F0' within itself via 'F1'."
    assert not errors[0].extensions  # graphql-core's own error: GRAPHQL_VALIDATION_FAILED, as validation says it


def test_the_new_limits_are_settable() -> None:
    limits = Limits.parse(["max_selections=8", "max_same_name_fields=2"])
    assert (limits.max_selections, limits.max_same_name_fields) == (8, 2)
    assert shape("{ countries { code } countries { code } }", limits) == []
    [repeated] = shape("{ countries { code } countries { code } countries { code } }", limits)
    assert "`countries` is selected 3 times" in repeated.message
    assert "over the limit of 2" in repeated.message
    assert shape("{ countries { code name } topics { totalCount nodes { key label } } }", limits) == []
    [selections] = shape(
        "{ countries { code name } topics { totalCount nodes { key label } } meetings { id } }", limits
    )
    assert "more than 8 selections" in selections.message


def readme_examples() -> list[str]:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    return re.findall(r"^```graphql\n(.*?)^```", readme, re.MULTILINE | re.DOTALL)


def everyday_documents() -> Iterator[tuple[str, str]]:
    for path in sorted((ROOT / "schema" / "operations").glob("*.graphql")):
        yield path.stem, path.read_text(encoding="utf-8")
    for i, example in enumerate(readme_examples()):
        yield f"README example {i}", example
    yield "GraphiQL's introspection", graphql.get_introspection_query(
        descriptions=True, specified_by_url=True, directive_is_repeatable=True, schema_description=True,
        input_value_deprecation=True,
    )  # fmt: skip


def test_everyday_documents_are_well_within_the_new_limits() -> None:
    documents = dict(everyday_documents())
    assert len(documents) > 8
    halved = Limits(max_selections=Limits().max_selections // 2, max_same_name_fields=2)
    for name, document in documents.items():
        assert shape(document, halved) == [], name


@given(parents=st.integers(1, 40), children=st.integers(1, 40), limit=st.integers(1, 60), spread=st.booleans())
def test_fields_of_one_name_are_refused_exactly_past_the_limit(
    parents: int, children: int, limit: int, spread: bool
) -> None:
    inner = "delegations { " + "country { code } " * children + "}"
    body = " ".join([inner] * parents)
    query = (
        "{ meetings { nodes { ...D } } } fragment D on Meeting { " + body + " }"
        if spread
        else "{ meetings { nodes { " + body + " } } }"
    )
    errors = shape(query, Limits(max_same_name_fields=limit, max_selections=10**6))
    most = max(parents, parents * children)
    assert bool(errors) == (most > limit)
    if errors:
        name = "delegations" if parents > limit else "country"
        assert f"`{name}` is selected {parents if name == 'delegations' else most} times" in errors[0].message


@given(levels=st.integers(0, 12), repeats=st.integers(1, 4), limit=st.integers(1, 5000))
def test_selections_are_refused_exactly_past_the_limit(levels: int, repeats: int, limit: int) -> None:
    chain = " ".join(f"fragment F{i} on Query {{ " + " ".join([f"...F{i + 1}"] * repeats) + " }" for i in range(levels))
    query = f"{{ ...F0 }} {chain} fragment F{levels} on Query {{ __typename }}"
    expanded = 1  # F{levels}: one field
    for _ in range(levels):
        expanded = repeats * (1 + expanded)
    total = 1 + expanded  # the operation's spread of F0
    errors = shape(query, Limits(max_selections=limit, max_same_name_fields=10**9))
    assert bool(errors) == (total > limit)


@st.composite
def fragment_dags(draw: st.DrawFn) -> dict[str, list[str | None]]:
    """Fragments F0..Fn, each a list of selections: None a field, a name a spread of a later fragment."""
    count = draw(st.integers(1, 7))
    return {
        f"F{i}": draw(st.lists(st.one_of(st.none(), st.sampled_from([f"F{j}" for j in range(i + 1, count)] or [None])),
                               min_size=1, max_size=4))
        for i in range(count)
    }  # fmt: skip


@given(fragment_dags())
def test_counting_each_fragment_once_equals_expanding_it(dag: dict[str, list[str | None]]) -> None:
    def expanded(name: str) -> int:
        return sum(1 + (expanded(s) if s else 0) for s in dag[name])

    text = " ".join(
        f"fragment {name} on Query {{ " + " ".join(f"...{s}" if s else "__typename" for s in body) + " }"
        for name, body in dag.items()
    )
    fragments = {
        d.name.value: d for d in graphql.parse(text).definitions if isinstance(d, graphql.FragmentDefinitionNode)
    }
    expansion = Expansion(fragments, cap=10**9)
    assert expansion.fragment("F0") == expanded("F0")
    assert not expansion.cycle


# --- both paths: refused before validation, in the same bytes ---------------------------------------------------


@pytest.fixture(scope="module")
def endpoints(article_db: Path) -> dict[str, GraphQLEndpoint]:
    return {
        "compiled": GraphQLEndpoint(Settings(db_path=article_db)),
        "resolvers": GraphQLEndpoint(Settings(db_path=article_db, compiled=False)),
    }


def answer(endpoint: GraphQLEndpoint, query: str, variables: dict[str, Any] | None = None,
           budget: Budget | None = None) -> dict[str, Any]:  # fmt: skip
    conn = open_snapshot(endpoint.settings.db_path, endpoint.settings.limits)
    try:
        return endpoint.execute(conn, query, variables, None, "test", budget)
    finally:
        conn.close()


SIZE = "{ meetings(first: 100) { nodes { statements(first: 100) { totalCount } } } }"
REFUSED = {  # (document, variables, code, whether the compiled path validates it: its size depends on variables)
    "repeated field": (ATTACK, None, "QUERY_TOO_COMPLEX", False),
    "selections": ("{ ...F0 } " + " ".join(f"fragment F{i} on Query {{ ...F{i + 1} ...F{i + 1} }}" for i in range(12))
                   + " fragment F12 on Query { __typename }", None, "QUERY_TOO_COMPLEX", False),
    "cycle": ("{ topics { ...A } } fragment A on TopicConnection { ...B } fragment B on TopicConnection { ...A }",
              None, "GRAPHQL_VALIDATION_FAILED", False),
    "syntax": ("{ meetings {", None, "GRAPHQL_PARSE_FAILED", False),
    "tokens": ("{ " + "countries { code } " * 700 + "}", None, "QUERY_TOO_COMPLEX", False),
    "string literal": ('{ meetings(filter: {city: "' + "b" * 201 + '"}) { totalCount } }', None, "BAD_USER_INPUT",
                       False),
    "size": (SIZE, None, "QUERY_TOO_COMPLEX", False),
    "size, and a long variable it does not declare": (SIZE + " ", {"x": "y" * 201}, "BAD_USER_INPUT", False),
    "size from variables": ("query ($n: Int) { meetings(first: $n) { nodes { statements(first: $n) { key } } } }",
                            {"n": 100}, "QUERY_TOO_COMPLEX", True),
}  # fmt: skip


@pytest.mark.parametrize(("query", "variables", "code", "validated"), REFUSED.values(), ids=REFUSED.keys())
def test_refusals_are_the_same_bytes_on_both_paths_and_made_before_validation(
    endpoints: dict[str, GraphQLEndpoint], validations: list[str], query: str, variables: Any, code: str,
    validated: bool
) -> None:  # fmt: skip
    compiled, resolvers = (answer(endpoints[path], query, variables) for path in ("compiled", "resolvers"))
    assert orjson.dumps(compiled) == orjson.dumps(resolvers)
    assert compiled["data"] is None
    assert compiled["errors"][0]["extensions"]["code"] == code
    assert len(validations) == validated  # once, to plan it (the resolver path checks every limit before)
    again = answer(endpoints["compiled"], query, variables)
    assert orjson.dumps(again) == orjson.dumps(compiled)
    assert len(validations) == validated


def test_a_refusal_is_remembered_and_refused_again_without_parsing(
    endpoints: dict[str, GraphQLEndpoint], monkeypatch: pytest.MonkeyPatch
) -> None:
    cache = endpoints["compiled"].plans
    assert cache is not None
    query = ATTACK.replace("meetings", "meetings ", 1)  # a document of its own
    first = answer(endpoints["compiled"], query)
    assert isinstance(cache.cached(query, None), plans.Refusal)

    def parse(*_: Any, **__: Any) -> None:
        raise AssertionError("parsed again")

    monkeypatch.setattr(plans, "parse", parse)
    monkeypatch.setattr(strawberry.schema.schema, "parse", parse)
    assert answer(endpoints["compiled"], query) == first


@pytest.fixture
def hops(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The operations sent to the worker's thread."""
    sent: list[str] = []
    run = worker.Worker.run

    async def counted(self: worker.Worker, work: Callable[[], Any], budget: Budget) -> Any:
        sent.append("hop")
        return await run(self, work, budget)

    monkeypatch.setattr(worker.Worker, "run", counted)
    return sent


def test_a_remembered_refusal_is_answered_on_the_event_loop(article_db: Path, hops: list[str]) -> None:
    client = Client(create_app(Settings(db_path=article_db, limits=Limits(inline_seconds=1.0))))
    first = client.query(ATTACK)
    assert first["errors"][0]["extensions"]["code"] == "QUERY_TOO_COMPLEX"
    assert hops == ["hop"]  # a new document is parsed and checked in the thread
    assert client.query(ATTACK) == first
    assert hops == ["hop"]


# --- the operation's deadline -----------------------------------------------------------------------------------


def test_validation_does_not_start_past_the_deadline(
    endpoints: dict[str, GraphQLEndpoint], validations: list[str]
) -> None:
    query = "{ topics(first: 3) { nodes { key label } } }"
    for path, endpoint in endpoints.items():
        past = Budget(time.monotonic() - 0.001, 3.0, 1 << 20)
        assert answer(endpoint, query, budget=past) == {}, path  # the app then answers TIMEOUT, as for any overrun
        stopped = past.stopped()
        assert stopped is not None
        assert stopped.code == "TIMEOUT"
    assert validations == []
    assert endpoints["compiled"].plans is not None
    assert endpoints["compiled"].plans.cached(query, None) is None  # not planned: the next request plans it
    within = Budget.start(3.0, 1 << 20)
    assert "errors" not in answer(endpoints["compiled"], query, budget=within)
    assert len(validations) == 1


# --- the plan cache: admission by frequency ---------------------------------------------------------------------


@pytest.fixture
def made(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The documents planned (parsed, checked, validated and compiled)."""
    planned: list[str] = []
    plan = plans.Plans._plan

    def recorded(self: plans.Plans, query: str, *args: Any) -> Any:
        planned.append(query)
        return plan(self, query, *args)

    monkeypatch.setattr(plans.Plans, "_plan", recorded)
    return planned


def test_a_hot_plan_stays_planned_through_a_flood_of_one_off_documents(made: list[str]) -> None:
    cache = plans.Plans(SCHEMA, Limits())
    hot = "{ meetings(first: 2) { nodes { key title } } }"
    plan = cache.get(hot, None)
    assert isinstance(plan, plans.Plan)
    assert cache.planned(hot, None) is plan
    for i in range(cache.size + 100):  # one-off documents, some refused
        cache.get(CHEAP.format(i) if i % 5 else ATTACK.replace("nodes", f"nodes{i}", 1), None)
        assert len(cache) <= cache.size
    assert cache.planned(hot, None) is plan
    assert made.count(hot) == 1


def test_a_newcomer_asked_for_often_is_admitted_to_a_full_cache(made: list[str]) -> None:
    cache = plans.Plans(SCHEMA, Limits(), size=8)
    for i in range(8):
        cache.get(CHEAP.format(i), None)
    newcomer = "{ topics(first: 1) { totalCount } }"
    for _ in range(2):  # asked for no more often than the document it would push out: planned, not kept
        assert isinstance(cache.get(newcomer, None), plans.Plan)
        assert cache.planned(newcomer, None) is None
    kept = cache.get(newcomer, None)
    assert cache.planned(newcomer, None) is kept
    assert cache.planned(CHEAP.format(0), None) is None  # the least recently used went
    assert len(cache) == 8
    assert made.count(newcomer) == 3


def test_a_rotation_through_more_documents_than_fit_keeps_most_planned(made: list[str]) -> None:
    cache = plans.Plans(SCHEMA, Limits(), size=32)
    rounds = []
    for _ in range(4):
        before = len(made)
        for i in range(40):
            query = CHEAP.format(i)
            if cache.cached(query, None) is None:  # as a request does: the event loop's look, then the thread's
                cache.get(query, None)
        rounds.append(len(made) - before)
    assert rounds == [40, 8, 8, 8]  # least recently used first: 40 every round, none ever answered from the cache


def test_a_rotation_stays_planned_when_the_counts_are_halved() -> None:
    cache: AdmittingCache[str, bool] = AdmittingCache(256)
    rounds = []
    for _ in range(20):  # the counts are halved every 2,560 requests: seven times
        missed = 0
        for i in range(300):
            if not cache.get(CHEAP.format(i), False):
                missed += 1
                cache.put(CHEAP.format(i), True)
        rounds.append(missed)
    assert rounds[0] == 300
    assert max(rounds[1:]) <= 50, rounds  # 44 do not fit; a request counted before its admission: up to 160


def test_the_cache_is_consistent_under_threads() -> None:
    cache: AdmittingCache[int, int] = AdmittingCache(16)
    failures: list[BaseException] = []

    def hammer(seed: int) -> None:
        try:
            for i in range(3000):
                key = (i * seed) % 50
                value = cache.get(key, -1)
                assert value in (-1, key * 2)
                if value == -1:
                    cache.put(key, key * 2)
        except BaseException as error:  # reported by the main thread
            failures.append(error)

    threads = [threading.Thread(target=hammer, args=(seed,)) for seed in (1, 3, 7, 11)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    assert len(cache) == 16
    assert all(cache.entries[key] == key * 2 for key in cache.entries)


@given(st.lists(st.text(max_size=3), max_size=300))
def test_the_sketch_never_underestimates(keys: list[str]) -> None:
    sketch = FrequencySketch(64)  # halves after 640 requests: not within this list
    for key in keys:
        sketch.add(key)
    for key in set(keys):
        assert sketch.estimate(key) >= keys.count(key)


def test_the_sketch_halves_its_counts_with_time() -> None:
    sketch = FrequencySketch(4)
    for _ in range(30):
        sketch.add("hot")
    assert sketch.estimate("hot") == 30
    for i in range(sketch.sample - 30):
        sketch.add(i)
    assert 15 <= sketch.estimate("hot") < 30  # 15, unless the other keys collide with it in every row
    assert len(b"".join(sketch.rows)) == 4 * 16 * 4  # memory fixed by the size, whatever was counted

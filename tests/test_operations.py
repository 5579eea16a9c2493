"""The example operations in schema/operations/: valid against the schema, and answering what is committed.

Each `NAME.graphql` has a `NAME.json` with its `variables` and the expected `data`. After a deliberate change,
regenerate them with `DIPLO_UPDATE_EXAMPLES=1 python -m pytest tests/test_operations.py`.
"""

import json
import os
from pathlib import Path

import pytest
from conftest import Client
from diplo.graphql.schema import build_schema
from graphql import (
    FieldNode,
    GraphQLObjectType,
    TypeInfo,
    TypeInfoVisitor,
    Visitor,
    get_named_type,
    parse,
    validate,
    visit,
)

OPERATIONS = sorted((Path(__file__).resolve().parent.parent / "schema" / "operations").glob("*.graphql"))
EXAMPLE_VARIABLES = {
    "meeting-with-delegations": {"key": "us-russia-talks-istanbul-2025-02-27"},
    "search-statements": {"search": "dialog"},
    "meetings-page": {"after": None},
    "meetings-page-back": {"before": None},
    "statement-translations": {"key": "us-state-department-istanbul-purpose"},
    "meetings-by-country": {},
    "meeting-reports": {"key": "us-russia-talks-istanbul-2025-02-27"},
    "typeahead": {"search": "vladimir pu"},
    "meeting-facets": {},
}


def test_every_operation_has_variables() -> None:
    assert {p.stem for p in OPERATIONS} == set(EXAMPLE_VARIABLES)


@pytest.mark.parametrize("operation", OPERATIONS, ids=[p.stem for p in OPERATIONS])
def test_operation_is_valid(operation: Path) -> None:
    schema = build_schema()._schema
    assert validate(schema, parse(operation.read_text(encoding="utf-8"))) == []


@pytest.mark.parametrize("operation", OPERATIONS, ids=[p.stem for p in OPERATIONS])
def test_operation_selects_id_of_every_object_that_has_one(operation: Path) -> None:
    """So that normalized client caches (Apollo, urql's graphcache, Relay) can key every object they get."""
    schema = build_schema()._schema
    type_info = TypeInfo(schema)
    missing: list[str] = []

    class Ids(Visitor):
        def enter_field(self, node: FieldNode, *_: object) -> None:
            named = get_named_type(type_info.get_type())
            if isinstance(named, GraphQLObjectType) and "id" in named.fields and node.selection_set:
                selected = {s.name.value for s in node.selection_set.selections if isinstance(s, FieldNode)}
                if "id" not in selected:
                    missing.append(f"{node.name.value}: {named.name}")

    visit(parse(operation.read_text(encoding="utf-8")), TypeInfoVisitor(type_info, Ids()))
    assert missing == []


@pytest.mark.parametrize("operation", OPERATIONS, ids=[p.stem for p in OPERATIONS])
def test_operation_answers_what_is_committed(client: Client, operation: Path) -> None:
    variables = EXAMPLE_VARIABLES[operation.stem]
    response = client.post("/graphql", json={"query": operation.read_text(encoding="utf-8"), "variables": variables})
    assert response.status_code == 200
    body = response.json()
    assert "errors" not in body
    expected_path = operation.with_suffix(".json")
    if os.environ.get("DIPLO_UPDATE_EXAMPLES"):
        expected_path.write_text(
            json.dumps({"variables": variables, "data": body["data"]}, ensure_ascii=False, indent=2) + "\n",
            encoding="utf-8",
        )
    expected = json.loads(expected_path.read_text(encoding="utf-8"))
    assert expected["variables"] == variables
    assert body["data"] == expected["data"]


def test_readme_shows_every_operation() -> None:
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
    for operation in OPERATIONS:
        assert operation.read_text(encoding="utf-8").strip() in readme, operation.name

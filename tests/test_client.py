"""A frontend's view of Diplo, in CI: the client kit (schema/client/) copied into a small Node project
(tests/client/, installed by `npm ci` from its committed lock file) as a consumer copies it: codegen on the
committed contract and operations, `tsc --strict` (with `verbatimModuleSyntax`, as Vite's templates set it),
graphql-eslint's schema rules, the Relay compiler with the kit's config, and every committed operation through
Apollo Client and through urql against a live `diplo serve`, each answer compared with its committed JSON, from
the server and from the cache."""

import json
import shutil
import subprocess
from pathlib import Path

import pytest
from diplo.clientkit import apollo_config
from diplo.graphql.schema import build_schema
from graphql import GraphQLScalarType, specified_scalar_types
from test_serve import running

ROOT = Path(__file__).resolve().parent.parent
PROJECT = ROOT / "tests" / "client"
NPM = shutil.which("npm")


def npm(*args: str) -> str:
    assert NPM is not None
    done = subprocess.run([NPM, *args], cwd=PROJECT, capture_output=True, text=True, timeout=180, check=False)
    assert done.returncode == 0, f"npm {' '.join(args)}:\n{done.stdout}\n{done.stderr}"
    return done.stdout


@pytest.fixture(scope="session")
def node_project() -> Path:
    """`npm ci` once a session, then the kit copied in as a consumer would, its types generated and compiled."""
    if NPM is None:
        pytest.skip("needs Node and npm (Debian's nodejs and npm)")
    npm("ci", "--no-audit", "--no-fund", "--prefer-offline", "--loglevel=error")
    npm("run", "--silent", "kit")
    return PROJECT


def test_apollo_config_is_current() -> None:
    committed = json.loads((ROOT / "schema" / "client" / "apollo.json").read_text(encoding="utf-8"))
    assert committed == apollo_config(build_schema()._schema), "run: diplo schema --apollo > schema/client/apollo.json"
    assert "Country" in committed["possibleTypes"]["Node"]
    assert committed["connections"]["Query"]["meetings"] == ["filter", "orderBy"]
    assert committed["connections"]["Meeting"]["statements"] == ["filter", "orderBy"]
    assert {"PageInfo", "MeetingEdge", "Translation"} <= set(committed["unkeyed"])
    assert "Meeting" not in committed["unkeyed"]


def test_every_connection_pages_both_ways() -> None:
    """What Relay's `@connection` (and its `loadPrevious`) needs of every connection field."""
    schema = build_schema()._schema
    for type_name, fields in apollo_config(schema)["connections"].items():
        for name in fields:
            arguments = schema.type_map[type_name].fields[name].args  # type: ignore[union-attr]
            assert {"first", "after", "last", "before"} <= set(arguments), f"{type_name}.{name}"


def test_relay_config_maps_every_custom_scalar() -> None:
    relay = json.loads((ROOT / "schema" / "client" / "relay.config.json").read_text(encoding="utf-8"))
    schema = build_schema()._schema
    custom = {name for name, t in schema.type_map.items() if isinstance(t, GraphQLScalarType)}
    custom -= set(specified_scalar_types)
    assert set(relay["customScalarTypes"]) == custom


def test_codegen_and_strict_type_check(node_project: Path) -> None:
    npm("run", "--silent", "codegen")
    generated = (node_project / "generated" / "graphql.ts").read_text(encoding="utf-8")
    # strictScalars: Date and DateTime are mapped to strings, never `any` or `unknown`
    assert "date: string | null" in generated
    assert "publishedAt: string" in generated
    assert ": any" not in generated
    npm("run", "--silent", "typecheck")


def test_schema_lint_has_no_findings(node_project: Path) -> None:
    npm("run", "--silent", "lint")


def test_relay_compiles_with_the_kit_config(node_project: Path) -> None:
    """A listing paged both ways with @connection, custom scalars as strings, a fragment on `Node` with @alias."""
    npm("run", "--silent", "relay")
    artifacts = node_project / "src" / "__generated__"
    card = (artifacts / "MeetingCard_meeting.graphql.ts").read_text(encoding="utf-8")
    assert "readonly date: string | null | undefined;" in card  # `any` without the kit's customScalarTypes
    assert "readonly publishedAt: string;" in card
    assert '"direction": "bidirectional"' in (artifacts / "MeetingsList_query.graphql.ts").read_text(encoding="utf-8")


def test_committed_operations_through_apollo_client_and_urql(node_project: Path, tmp_path: Path) -> None:
    if not (node_project / "dist" / "run-operations.js").exists():
        npm("run", "--silent", "codegen")
        npm("run", "--silent", "typecheck")
    with running(tmp_path) as url:
        shown = npm("run", "--silent", "operations", "--", f"{url}/graphql")
    count = len(list((ROOT / "schema" / "operations").glob("*.graphql")))
    assert f"{count} operations answered as committed through Apollo Client and urql" in shown
    assert "none with a content-type" in shown

"""A frontend's view of Diplo, in CI: the client kit (schema/client/) in a small Node project (tests/client/,
installed by `npm ci` from its committed lock file): codegen on the committed contract and operations,
`tsc --strict`, graphql-eslint's schema rules, and every committed operation through Apollo Client against a live
`diplo serve`, each answer compared with its committed JSON."""

import json
import shutil
import subprocess
from pathlib import Path

import pytest
from diplo.clientkit import apollo_config
from diplo.graphql.schema import build_schema
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


def test_committed_operations_through_apollo_client(node_project: Path, tmp_path: Path) -> None:
    if not (node_project / "dist" / "run-operations.js").exists():
        npm("run", "--silent", "codegen")
        npm("run", "--silent", "typecheck")
    with running(tmp_path) as url:
        shown = npm("run", "--silent", "operations", "--", f"{url}/graphql")
    count = len(list((ROOT / "schema" / "operations").glob("*.graphql")))
    assert f"{count} operations answered as committed" in shown

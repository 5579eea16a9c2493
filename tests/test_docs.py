"""The docs say what the code does: rule table, commands, committed artifacts."""

import json
import re
from pathlib import Path

from click.testing import CliRunner
from diplo.cli import cli
from diplo.ingest.models import seed_json_schema
from diplo.ingest.rules import RULES

README = Path("README.md").read_text(encoding="utf-8")


def section(title: str) -> str:
    return README.split(f"\n## {title}\n", 1)[1].split("\n## ", 1)[0]


def test_readme_rule_table_lists_every_rule() -> None:
    rows = dict(re.findall(r"^\| `([a-z_.]+)` \| (.+) \|$", section("Rules"), re.MULTILINE))
    assert rows == {code: text.replace("|", "\\|") for code, text in RULES.items()}


def test_every_command_is_documented_and_has_an_example() -> None:
    for name in cli.commands:
        assert f"`diplo {name}" in README, name
        result = CliRunner().invoke(cli, [name, "--help"])
        assert result.exit_code == 0
        assert "Example:" in result.output, name


def test_committed_seed_schema_is_current() -> None:
    committed = json.loads(Path("schema/seed.schema.json").read_text(encoding="utf-8"))
    assert committed == seed_json_schema(), "run: diplo seed-schema > schema/seed.schema.json"


def test_readme_console_examples_are_true(tmp_path: Path) -> None:
    runner = CliRunner()
    db = str(tmp_path / "diplo.db")
    assert runner.invoke(cli, ["validate", "seeds/"]).output.strip() in README
    first = runner.invoke(cli, ["load", "seeds/", "--db", db]).output.strip().replace(db, "diplo.db")
    second = runner.invoke(cli, ["load", "seeds/", "--db", db]).output.strip().replace(db, "diplo.db")
    assert first in README
    assert second in README


def test_readme_documents_every_limit_with_its_default() -> None:
    from dataclasses import fields

    from diplo.graphql.limits import Limits

    rows = dict(re.findall(r"^\| `([a-z_]+)` \| ([0-9.]+) \| .+ \|$", section("Querying"), re.MULTILINE))
    assert rows == {f.name: str(f.default) for f in fields(Limits)}


def test_readme_lists_every_error_code() -> None:
    from diplo.graphql import errors

    codes = {value for name, value in vars(errors).items() if name.isupper() and isinstance(value, str)
             and name == value}  # fmt: skip
    documented = set(re.findall(r"^\| `([A-Z_]+)` \|", section("Querying"), re.MULTILINE))
    assert documented == codes


def test_committed_sdl_is_current() -> None:
    from diplo.contract import check_committed

    assert check_committed() == [], "run: diplo schema > schema/schema.graphql"

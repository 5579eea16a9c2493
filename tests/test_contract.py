"""`diplo schema --check`: every difference listed with its class, and consumers' operations checked."""

import json
from pathlib import Path

from click.testing import CliRunner
from diplo.cli import cli
from diplo.contract import check_operations, compare

OLD = '''
"""A thing."""
type Thing { id: ID! name: String kind: Kind }
enum Kind { A B }
scalar Date
type Query { thing(key: String): Thing things: [Thing!]! }
'''


def test_every_difference_is_listed_with_its_class() -> None:
    new = (
        OLD.replace("name: String ", "")  # breaking: a field removed
        .replace("enum Kind { A B }", "enum Kind { A B C }")  # dangerous: an enum value added
        .replace('"""A thing."""', '"""A thing, described."""')  # safe: a description
        .replace("things: [Thing!]!", "things: [Thing!]! other: Int")  # safe: a field added
        .replace("scalar Date", 'scalar Date @specifiedBy(url: "https://example.org/date")')
    )
    shown = [str(change) for change in compare(OLD, new)]
    assert shown == [
        "BREAKING: Field Thing.name was removed.",
        "DANGEROUS: Enum value Kind.C was added.",
        "SAFE: Date is now @specifiedBy(https://example.org/date).",
        "SAFE: Query.other was added.",
        "SAFE: The description of Thing changed.",
    ]
    assert [str(c) for c in compare(OLD, OLD + "\n")] == ["SAFE: the printed SDL differs only in order or layout"]


def test_consumer_operations_are_checked(tmp_path: Path) -> None:
    (tmp_path / "ok.graphql").write_text('{ thing(key: "a") { id name } }', encoding="utf-8")
    (tmp_path / "gone.graphql").write_text("query Gone {\n  thing { nickname }\n}", encoding="utf-8")
    (tmp_path / "broken.graphql").write_text("{ thing {", encoding="utf-8")
    report = check_operations(tmp_path, OLD)
    assert report.operations == 2
    assert [str(p) for p in report.problems] == [
        f"{tmp_path / 'broken.graphql'}:1:10: Syntax Error: Expected Name, found <EOF>.",
        f"{tmp_path / 'gone.graphql'}:2:11: Gone: Cannot query field 'nickname' on type 'Thing'. Did you mean 'name'?",
    ]
    result = CliRunner().invoke(cli, ["schema", "--operations", str(tmp_path)])
    assert result.exit_code == 1
    assert f"{tmp_path / 'ok.graphql'}:1:3: anonymous: Cannot query field 'thing'" in result.output
    assert "3 problem(s)" in result.output  # Diplo has no `thing`: all three fail on its schema


def test_a_folder_without_operations_fails(tmp_path: Path) -> None:
    (tmp_path / "fields.graphql").write_text("fragment Fields on Meeting { id }", encoding="utf-8")
    for folder in (tmp_path, tmp_path / "empty"):
        folder.mkdir(exist_ok=True)
        result = CliRunner().invoke(cli, ["schema", "--operations", str(folder)])
        assert result.exit_code == 1, result.output
        assert f"no operation in {folder}" in result.output


def _problems(tmp_path: Path, output_format: str) -> CliRunner:
    (tmp_path / "gone.graphql").write_text("query Gone {\n  meetings { nickname }\n}", encoding="utf-8")
    (tmp_path / "ok.graphql").write_text("query Fine { meetings { totalCount } }", encoding="utf-8")
    return CliRunner().invoke(cli, ["schema", "--check", "--operations", str(tmp_path), "--format", output_format])


def test_operation_problems_as_json(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["schema", "--check", "--operations", str(tmp_path), "--format", "json"])
    assert result.exit_code == 1
    result = _problems(tmp_path, "json")
    assert result.exit_code == 1
    found = json.loads(result.stdout)
    assert found["changes"] == []
    assert found["operations"] == {
        "folder": str(tmp_path),
        "count": 2,
        "problems": [{"file": str(tmp_path / "gone.graphql"), "line": 2, "column": 14, "operation": "Gone",
                      "message": "Cannot query field 'nickname' on type 'MeetingConnection'."}],
    }  # fmt: skip


def test_operation_problems_as_github_annotations(tmp_path: Path) -> None:
    result = _problems(tmp_path, "github")
    assert result.exit_code == 1
    file = str(tmp_path / "gone.graphql").replace(":", "%3A").replace(",", "%2C")
    assert result.stdout.splitlines() == [
        "::notice file=schema/schema.graphql,title=NOTICE::Source.publishedAt is deprecated: use published; a source "
        "may give only the day, and this field then invents a time",
        f"::error file={file},line=2,col=14,title=Gone::Cannot query field 'nickname' on type 'MeetingConnection'.",
    ]


def test_committed_operations_pass_the_consumer_check() -> None:
    operations = Path(__file__).resolve().parent.parent / "schema" / "operations"
    result = CliRunner().invoke(cli, ["schema", "--check", "--operations", str(operations)])
    assert result.exit_code == 0, result.output
    count = len(list(operations.glob("*.graphql")))
    assert f"{count} operation(s) in {operations} valid against the working schema" in result.output


def test_fragments_in_files_of_their_own_and_a_schema_copy_are_not_problems(tmp_path: Path) -> None:
    (tmp_path / "fields.graphql").write_text("fragment Fields on Meeting { id key title }", encoding="utf-8")
    (tmp_path / "list.graphql").write_text("query List { meetings { nodes { ...Fields } } }", encoding="utf-8")
    (tmp_path / "schema.graphql").write_text("type Query { x: Int }", encoding="utf-8")
    assert check_operations(tmp_path).problems == []
    (tmp_path / "fields.graphql").write_text("fragment Fields on Meeting { id nickname }", encoding="utf-8")
    (tmp_path / "latin1.graphql").write_bytes("# café\n{ meetings { totalCount } }".encode("latin-1"))
    problems = [str(p) for p in check_operations(tmp_path).problems]
    assert problems == [  # the bad field once, against the file it is in; the undecodable file at its line
        f"{tmp_path / 'latin1.graphql'}:1:1: not UTF-8 text",
        f"{tmp_path / 'fields.graphql'}:1:33: fragment Fields: Cannot query field 'nickname' on type 'Meeting'.",
    ]

"""`diplo schema --check`: every difference listed with its class, and consumers' operations checked."""

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
    (tmp_path / "gone.graphql").write_text("{ thing { nickname } }", encoding="utf-8")
    (tmp_path / "broken.graphql").write_text("{ thing {", encoding="utf-8")
    problems = check_operations(tmp_path, OLD)
    assert len(problems) == 2
    assert problems[0].startswith(f"{tmp_path / 'broken.graphql'}: Syntax Error")
    assert "nickname" in problems[1]
    result = CliRunner().invoke(cli, ["schema", "--operations", str(tmp_path)])
    assert result.exit_code == 1
    assert result.output.count("OPERATION: ") == 3  # Diplo has no `thing`: all three fail on its schema


def test_committed_operations_pass_the_consumer_check() -> None:
    operations = Path(__file__).resolve().parent.parent / "schema" / "operations"
    result = CliRunner().invoke(cli, ["schema", "--check", "--operations", str(operations)])
    assert result.exit_code == 0, result.output
    assert "every operation" in result.output


def test_fragments_in_files_of_their_own_and_a_schema_copy_are_not_problems(tmp_path: Path) -> None:
    (tmp_path / "fields.graphql").write_text("fragment Fields on Meeting { id key title }", encoding="utf-8")
    (tmp_path / "list.graphql").write_text("query List { meetings { nodes { ...Fields } } }", encoding="utf-8")
    (tmp_path / "schema.graphql").write_text("type Query { x: Int }", encoding="utf-8")
    assert check_operations(tmp_path) == []
    (tmp_path / "fields.graphql").write_text("fragment Fields on Meeting { id nickname }", encoding="utf-8")
    (tmp_path / "latin1.graphql").write_bytes("# café\n{ meetings { totalCount } }".encode("latin-1"))
    problems = check_operations(tmp_path)
    assert problems == [  # the bad field once, against the file it is in; the undecodable file by name
        f"{tmp_path / 'latin1.graphql'}: not UTF-8 text",
        f"{tmp_path / 'fields.graphql'}: Cannot query field 'nickname' on type 'Meeting'.",
    ]

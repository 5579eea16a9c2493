"""The authoring kit: errors at their line and column, suggestions, syntax hints, `diplo new`, the editor's JSON
Schema, possible duplicates, and clear errors for paths that hold no seeds."""

import copy
import json
import re
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from click.testing import CliRunner
from diplo.cli import cli
from diplo.ingest.duplicates import close, fold
from diplo.ingest.export import export_seeds
from diplo.ingest.models import seed_json_schema
from diplo.ingest.rules import WARNINGS, SeedError, SeedErrors
from diplo.ingest.scaffold import EXAMPLES, scaffold
from diplo.ingest.seeds import RECORD_LISTS, SeedLoader, parse_seed_text
from diplo.ingest.session import Options, load_seeds, validate_seeds
from diplo.ingest.suggest import countries, languages
from hypothesis import given, settings
from hypothesis import strategies as st
from mutations import MUTATIONS
from strategies import Files, datasets, label, write_files

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "seeds"
README = (ROOT / "README.md").read_text(encoding="utf-8")

# A second article, as a data team would write it, with five mistakes (and a quote, to see it quoted).
SECOND_ARTICLE = """\
source:
  key: tass-2025-03-02-lavrov
  outlet: TASS
  title: Lavrov on the Istanbul talks
  published_at: 2025-03-02T10:00:00+03:00
  language: en
  text: |-
    Lavrov said the talks were "useful and businesslike".
persons:
  - {key: sergei-lavrov, name: Sergei Lavrov, country: RU}
  - {key: sergey-lavrov, name: Sergey Lavrov}
  - {key: maria-zakharova, name: Maria Zakharova, country: KS}
statements:
  - key: lavrov-useful
    text: useful and businesslike
    language: en
    kind: direct_quote
    speaker: sergei-lavorv
  - key: peskov-hopes
    text: berharap
    language: indonesian
    kind: paraphrase
    speaker: dmitry-peskov
  - key: lavrov-constructive
    text: constructive
    language: en
    kind: direct_quote
    speaker: sergei-lavrov
"""
UNQUOTED_COLON = "source:\n  key: x\n  title: AS dan Russia: Kembali Bahas\n"


def test_the_five_mistakes_point_at_their_line_with_suggestions(tmp_path: Path) -> None:
    (tmp_path / "tass.yaml").write_text(SECOND_ARTICLE, encoding="utf-8")
    (tmp_path / "broken.yaml").write_text(UNQUOTED_COLON, encoding="utf-8")
    with pytest.raises(SeedErrors) as raised:
        validate_seeds([SEEDS, tmp_path])
    tass, broken = tmp_path / "tass.yaml", tmp_path / "broken.yaml"
    assert [str(e) for e in raised.value.errors] == [
        f'{broken}:3:23: seed.syntax: mapping values are not allowed in this context: a value with ": " in it must '
        'be quoted: title: "AS dan Russia: Kembali Bahas" (its records could not be checked, so references to them '
        "may show as ref.unknown)",
        f"{tass}:12:60: country.invalid: persons[2].country: 'KS' is not an ISO 3166-1 alpha-2 country code; did you "
        "mean KE (Kenya), KW (Kuwait), KZ (Kazakhstan) or IS (Iceland)?",
        f"{tass}:18:14: ref.unknown: statements[0].speaker: no persons record has the key 'sergei-lavorv': define it "
        "in a seed file, or correct the key; did you mean `sergei-lavrov` or `sergey-lavrov`?",
        f"{tass}:21:15: language.invalid: statements[1].language: 'indonesian' is not a BCP 47 language tag with an "
        "ISO 639 primary subtag; did you mean id (Indonesian)?",
        f"{tass}:25:11: statement.quote_not_in_source: statements[2].text: the direct quote 'constructive' does not "
        "occur verbatim in the text of source 'tass-2025-03-02-lavrov'; correct the quote or make it a paraphrase",
    ]
    assert [str(w) for w in raised.value.warnings] == [
        f"{tass}:11:32: key.duplicate: persons[1].name: possibly the same as `sergei-lavrov` ({tass}:10:5): 'Sergey "
        "Lavrov' is close to 'Sergei Lavrov'; if they are two, add `distinct_from: [sergei-lavrov]` to "
        "`sergey-lavrov`",
    ]
    result = CliRunner().invoke(cli, ["validate", str(tass), "--format", "json"])
    assert result.exit_code == 1
    body = json.loads(result.stdout)
    assert {k: body["errors"][0][k] for k in ("line", "column", "path", "code", "severity")} == {
        "line": 12, "column": 60, "path": "persons[2].country", "code": "country.invalid", "severity": "error",
    }  # fmt: skip
    assert body["warnings"][0]["severity"] == "warning"


def test_github_annotations(tmp_path: Path) -> None:
    (tmp_path / "tass.yaml").write_text(SECOND_ARTICLE, encoding="utf-8")
    result = CliRunner().invoke(cli, ["validate", str(tmp_path), "--format", "github"])
    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    assert lines[0].startswith(f"::error file={tmp_path}/tass.yaml,line=12,col=60,title=country.invalid::persons[2]")
    assert lines[-1].startswith(f"::warning file={tmp_path}/tass.yaml,line=11,col=32,title=key.duplicate::")
    assert all("\n" not in line for line in lines)


@pytest.mark.parametrize(
    ("text", "where", "says"),
    [
        (UNQUOTED_COLON, (3, 23), 'must be quoted: title: "AS dan Russia: Kembali Bahas"'),
        ("source:\n\tkey: x\n", (2, 1), "YAML indents with spaces, never tabs"),
        ('source:\n  title: "AS dan" Russia\n', (2, 19), 'quote the whole value, as title: "\\"AS dan\\" Russia"'),
        ("source:\n  title: 'it's'\n", (2, 14), 'quote the whole value, as title: "it\'s"'),
        ('source:\n  title: "AS dan Russia\n  outlet: x\n', (2, 10), "the quote that starts here is never closed"),
        ("source: {key: x, title: [a, b}\n", (1, 30), "is not closed before this point, or lacks a comma"),
        ("persons:\n  - key: a\n   name: b\n", (3, 4), "check the indentation here"),
    ],
)
def test_syntax_errors_carry_a_hint_for_the_common_causes(text: str, where: tuple[int, int], says: str) -> None:
    [error] = parse_seed_text(text, "a.yaml").errors
    assert (error.code, (error.line, error.column)) == ("seed.syntax", where)
    assert says in error.message


def test_suggestions_by_code_and_by_name() -> None:
    assert countries("KS") == ["KE (Kenya)", "KW (Kuwait)", "KZ (Kazakhstan)", "IS (Iceland)"]
    assert countries("us") == ["US (United States)"]
    assert countries("RUS") == ["RU (Russian Federation)"]
    assert countries("Russia") == ["RU (Russian Federation)"]
    assert countries("Korea") == ["KP (North Korea)", "KR (South Korea)"]
    assert languages("indonesian") == ["id (Indonesian)"]
    assert languages("en_US!") == ["en (English)"]
    assert languages("zz")[:2] == ["za (Zhuang)", "az (Azerbaijani)"]
    assert countries("!!") == []
    assert languages("!!") == []


# --- positions -------------------------------------------------------------------------------------------------


def _value(data: Any, path: str) -> Any:
    """What a record path names, as far as it exists (a missing field: its record)."""
    for index, name in re.findall(r"\[(\d+)\]|\.?([^.\[]+)", path):
        if index and isinstance(data, list) and int(index) < len(data):
            data = data[int(index)]
        elif name and isinstance(data, dict) and name in data:
            data = data[name]
        else:
            break
    return data


def _starts_at(text: str, line: int, column: int) -> str:
    lines = text.splitlines()
    assert 1 <= line <= len(lines)
    assert 1 <= column <= len(lines[line - 1]) + 1
    return lines[line - 1][column - 1 :] + "\n" + "\n".join(lines[line:])


ERROR_MUTATIONS = [m for code, ms in MUTATIONS.items() if code not in WARNINGS for m in ms]


@settings(max_examples=30)
@given(datasets(max_meetings=3, max_statements=3), st.sampled_from(ERROR_MUTATIONS))
def test_every_error_points_inside_its_file_at_the_offending_value(files: Files, mutation: Any) -> None:
    import tempfile

    broken = copy.deepcopy(files)
    mutation(broken)
    with tempfile.TemporaryDirectory() as tmp:
        write_files(Path(tmp), broken)
        with pytest.raises(SeedErrors) as raised:
            validate_seeds([Path(tmp)])
        for error in raised.value.errors:
            assert error.line, error  # every file here is YAML or JSON that YAML 1.2 reads
            text = Path(error.file).read_text(encoding="utf-8")
            rest = _starts_at(text, error.line, error.column)
            value = _value(yaml.load(text, Loader=SeedLoader), error.path)
            if isinstance(value, dict):
                assert rest.startswith("{") or any(rest.startswith(f"{k}:") for k in value), (error, rest[:40])
            elif isinstance(value, list):
                assert rest[:1] in ("[", "-"), (error, rest[:40])
            elif isinstance(value, str) and value[:1].isalnum():
                assert rest.lstrip("\"'").startswith(value[:1]), (error, rest[:40])
            elif isinstance(value, str):
                assert rest[:1] in ("'", '"') or rest.startswith(value[:1]), (error, rest[:40])
            else:
                assert rest.startswith(json.dumps(value)), (error, rest[:40])


def test_records_found_in_a_database_name_their_source_and_path(tmp_path: Path) -> None:
    load_seeds(tmp_path / "d.db", [SEEDS])
    later = tmp_path / "later.yaml"
    later.write_text(
        "source: {key: later, outlet: X, title: T, published_at: '2025-03-02T00:00:00Z', language: en}\n"
        "persons:\n  - {key: dmitri-peskov, name: Dmitri Peskov}\n",
        encoding="utf-8",
    )
    result = validate_seeds([later], tmp_path / "d.db")
    [warning] = result.warnings
    assert (warning.line, warning.column) == (3, 32)
    assert (
        f"possibly the same as `dmitry-peskov` ({tmp_path / 'd.db'} (source koran-jakarta-2025-03-01-as-russia): "
        "persons[key=dmitry-peskov])" in warning.message
    )


# --- possible duplicates ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("a", "b", "same"),
    [
        ("Sergei Lavrov", "Sergey Lavrov", True),
        ("Sergei Lavrov", "Сергей Лавров", True),
        ("Sergei Lavrov", "sergei lavorv", True),
        ("Lavrov, Sergei", "SERGEI LAVROV", True),
        ("Alexander Darchiev", "Aleksandr Darchiev", True),
        ("Volodymyr Zelenskyy", "Volodymyr Zelensky", True),
        ("Recep Tayyip Erdoğan", "Recep Tayyip Erdogan", True),
        ("Vladimir Putin", "Vladimir Potanin", False),
        ("Donald Trump", "Donald Trump Jr.", False),
        ("Ali", "Leo", False),
    ],
)
def test_names_are_compared_folded(a: str, b: str, same: bool) -> None:
    assert close(fold(a), fold(b)) == same


def _source(key: str, **records: Any) -> str:
    content = {"source": {"key": key, "outlet": "X", "title": "T", "published_at": "2025-03-02T00:00:00Z",
                          "language": "en"}, **records}  # fmt: skip
    return yaml.safe_dump(content, sort_keys=False)


def test_duplicates_warn_and_strict_makes_them_errors(tmp_path: Path) -> None:
    path = tmp_path / "a.yaml"
    path.write_text(_source("a", organizations=[
        {"key": "kremlin", "name": "Kremlin", "wikidata": "Q42"},
        {"key": "presidential-administration", "name": "Presidential Administration of Russia", "wikidata": "Q42"},
    ]))  # fmt: skip
    [warning] = validate_seeds([path]).warnings
    assert (warning.path, warning.code) == ("organizations[1].name", "key.duplicate")
    assert "both have the Wikidata id Q42" in warning.message
    with pytest.raises(SeedErrors) as raised:
        validate_seeds([path], options=Options(strict=True))
    assert [e.code for e in raised.value.errors] == ["key.duplicate"]
    runner = CliRunner()
    assert runner.invoke(cli, ["validate", str(path)]).exit_code == 0
    assert runner.invoke(cli, ["validate", str(path), "--strict"]).exit_code == 1
    loaded = runner.invoke(cli, ["load", str(path), "--db", str(tmp_path / "d.db"), "--strict"])
    assert loaded.exit_code == 1
    assert not (tmp_path / "d.db").exists()
    loaded = runner.invoke(cli, ["load", str(path), "--db", str(tmp_path / "d.db")])
    assert loaded.exit_code == 0
    assert "key.duplicate: organizations[1].name: possibly the same as `kremlin`" in loaded.stdout


def test_distinct_from_silences_a_false_match_for_good(tmp_path: Path) -> None:
    first = tmp_path / "a.yaml"
    first.write_text(_source("a", persons=[
        {"key": "ali-khan", "name": "Ali Khan", "distinct_from": ["ali-khan-2"]},
    ]))  # fmt: skip
    second = tmp_path / "b.yaml"
    second.write_text(_source("b", persons=[{"key": "ali-khan-2", "name": "Ali Khan"}]))
    assert validate_seeds([first, second]).warnings == []
    with pytest.raises(SeedErrors) as raised:  # the key it names exists: in this load's files or the database
        load_seeds(tmp_path / "d.db", [first])
    assert [(e.path, e.code) for e in raised.value.errors] == [("persons[0].distinct_from[0]", "ref.unknown")]
    load_seeds(tmp_path / "d.db", [second])
    assert validate_seeds([first], tmp_path / "d.db").warnings == []  # the record it names is in the database
    load_seeds(tmp_path / "d.db", [first])
    export_seeds(tmp_path / "d.db", tmp_path / "exported")
    assert "distinct_from:\n  - ali-khan-2" in (tmp_path / "exported" / "a.yaml").read_text()
    first.write_text(_source("a", persons=[{"key": "ali-khan", "name": "Ali Khan"}]))
    [warning] = validate_seeds([first, second]).warnings
    assert "possibly the same as `ali-khan`" in warning.message


# --- paths -----------------------------------------------------------------------------------------------------


def test_paths_that_hold_no_seed_are_errors(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    with pytest.raises(SeedErrors) as raised:
        validate_seeds([tmp_path / "missing.yaml", tmp_path / "empty"])
    assert [(Path(e.file).name, e.code) for e in raised.value.errors] == [
        ("empty", "seed.path"),
        ("missing.yaml", "seed.path"),
    ]
    assert "no such file or directory" in raised.value.errors[1].message
    result = CliRunner().invoke(cli, ["validate", str(tmp_path / "empty")])
    assert result.exit_code == 1
    assert "seed.path: the directory holds no seed file" in result.stdout
    assert CliRunner().invoke(cli, ["validate", str(tmp_path / "missing.yaml")]).exit_code == 2  # click: usage


# --- diplo new -------------------------------------------------------------------------------------------------

article_text = st.text(
    # Any text but what the text rules refuse (controls, bidirectional controls, text that is only invisible).
    alphabet=st.characters(codec="utf-8", exclude_categories=["Cc", "Cf", "Cs", "Zl", "Zp"]) | st.sampled_from("\n\t"),
    max_size=300,
).filter(lambda t: t.strip() != "")


@settings(max_examples=25)
@given(article_text, label, label, st.sampled_from(["en", "id", "ru", "pt-BR"]), st.integers(-12, 14))
def test_new_seed_files_validate_and_keep_the_text_verbatim(
    text: str, outlet: str, title: str, language: str, offset: int
) -> None:
    published = f"2025-03-01T01:20:00{offset:+03d}:00"
    content = scaffold(text, outlet=outlet, title=title, published_at=published, language=language,
                       schema="../schema/seed.schema.json")  # fmt: skip
    report = parse_seed_text(content, "new.yaml")
    assert report.errors == []
    assert report.source is not None
    assert report.source.text == text
    assert content.startswith("# yaml-language-server: $schema=../schema/seed.schema.json\n")


def test_the_commented_examples_are_valid_records(tmp_path: Path) -> None:
    content = scaffold("Text.", outlet="X", title="T", published_at="2025-03-01T00:00:00Z", language="en")
    for kind in RECORD_LISTS:
        content = content.replace(f"{kind}: []", f"{kind}:")
    uncommented = re.sub(r"^#   ", "  ", content, flags=re.MULTILINE)
    (tmp_path / "new.yaml").write_text(uncommented, encoding="utf-8")
    result = validate_seeds([tmp_path / "new.yaml"])
    assert {kind: keys.count for kind, keys in result.changes["added"].items() if keys.count} == {
        "sources": 1, **dict.fromkeys(RECORD_LISTS, 1)
    }  # fmt: skip
    assert set(EXAMPLES) == set(RECORD_LISTS)


def test_diplo_new_from_stdin_into_the_repository(tmp_path: Path) -> None:
    runner = CliRunner()
    args = ["new", "-", "--outlet", "Koran Jakarta", "--title", "AS dan Russia: Kembali Bahas",
            "--published-at", "2025-03-01T01:20:00+07:00", "--language", "id"]  # fmt: skip
    out = tmp_path / "repo" / "seeds" / "new.yaml"
    (tmp_path / "repo" / "schema").mkdir(parents=True)
    (tmp_path / "repo" / "schema" / "seed.schema.json").write_text("{}")
    out.parent.mkdir()
    result = runner.invoke(cli, [*args, "--out", str(out)], input="Jakarta - Teks artikel.\n")
    assert result.exit_code == 0, result.output
    written = out.read_text(encoding="utf-8")
    assert written.startswith("# yaml-language-server: $schema=../schema/seed.schema.json\n")
    assert "key: koran-jakarta-2025-03-01-as-dan-russia-kembali-bahas\n" in written
    assert validate_seeds([out]).added == 1
    assert runner.invoke(cli, [*args, "--out", str(out)], input="x").exit_code == 2  # never overwrites
    nowhere = runner.invoke(cli, [*args, "--out", str(tmp_path / "no-such-folder" / "a.yaml")], input="x")
    assert nowhere.exit_code == 1
    assert isinstance(nowhere.exception, SystemExit)  # a message, not an exception out of the command
    assert "cannot write" in nowhere.output
    assert "No such file or directory" in nowhere.output
    refused = runner.invoke(cli, [*args[:-1], "indonesian"], input="x")
    assert refused.exit_code == 1
    assert "did you mean id (Indonesian)?" in refused.output
    assert "Traceback" not in refused.output


# --- the editor's JSON Schema ----------------------------------------------------------------------------------


def _editor_errors(content: dict[str, Any]) -> list[str]:
    validator = jsonschema.Draft202012Validator(
        seed_json_schema(), format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
    )
    return [error.message for error in validator.iter_errors(content)]


def _valid() -> Files:
    content = yaml.load((SEEDS / "koran-jakarta-2025-03-01-as-russia.yaml").read_text(), Loader=SeedLoader)
    for meeting in content["meetings"]:  # the mutations add to these lists
        meeting.setdefault("topics", [])
    return {"a.yaml": content}


def test_the_editor_catches_the_rules_the_readme_lists() -> None:
    assert _editor_errors(_valid()["a.yaml"]) == []
    caught = set()
    for code, mutations in MUTATIONS.items():
        for mutation in mutations:
            files = _valid()
            expected = mutation(files)
            if any(_editor_errors(files[name]) for name, _ in expected):
                caught.add(code)
    listed = re.search(r"An editor with the schema catches: (.+)\.\n", README)
    assert listed is not None
    assert set(re.findall(r"`([a-z_.]+)`", listed.group(1))) == caught


def test_seed_files_tell_the_editor_where_the_schema_is() -> None:
    for path in SEEDS.glob("*.yaml"):
        first = path.read_text(encoding="utf-8").splitlines()[0]
        assert first == "# yaml-language-server: $schema=../schema/seed.schema.json"
        assert (path.parent / first.split("=", 1)[1]).resolve() == ROOT / "schema" / "seed.schema.json"


def test_the_schema_refuses_what_the_models_refuse() -> None:
    content = _valid()["a.yaml"]
    for field, value in [("language", "indonesian"), ("published_at", "2025-03-01T01:20:00"), ("title", " \u200b"),
                         ("title", "a\u202eb"), ("url", "ftp://x")]:  # fmt: skip
        broken = copy.deepcopy(content)
        broken["source"][field] = value
        assert _editor_errors(broken), (field, value)
    broken = copy.deepcopy(content)
    broken["persons"][0]["country"] = "XX"
    assert _editor_errors(broken)


def test_error_strings_carry_their_position() -> None:
    error = SeedError("a.yaml", "persons[0].name", "text.invalid", "bad", 3, 7)
    assert str(error) == "a.yaml:3:7: text.invalid: persons[0].name: bad"
    assert str(SeedError("a.json", "", "seed.schema", "bad")) == "a.json: seed.schema: bad"

"""Hostile seed files: bounded parsing (aliases, encodings, size), YAML 1.2 scalars, and the text rules, in the
models and in the SQL CHECKs that mirror them."""

import json
import sqlite3
import time
import tracemalloc
from pathlib import Path
from typing import Any

import pytest
from conftest import model_accepts, sql_accepts
from diplo import store
from diplo.ingest.models import (
    BIDI_CONTROLS,
    INVISIBLE,
    LABEL_MAX_LENGTH,
    SOURCE_TEXT_MAX_LENGTH,
    STATEMENT_MAX_LENGTH,
    SUMMARY_MAX_LENGTH,
    check_label,
    check_source_text,
    check_statement_text,
    check_summary,
)
from diplo.ingest.rules import SeedErrors
from diplo.ingest.seeds import parse_seed_text, parse_text, read_seed_file
from diplo.ingest.session import load_seeds, validate_seeds
from hypothesis import given
from hypothesis import strategies as st

SOURCE = "source: {key: s, outlet: O, title: T, published_at: 2025-03-01T01:20:00+07:00, language: en}\n"


def errors_of(path: Path) -> list[tuple[str, str, str]]:
    with pytest.raises(SeedErrors) as raised:
        validate_seeds([path])
    return [(e.path, e.code, e.message) for e in raised.value.errors]


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


# --- bounded parsing -------------------------------------------------------------------------------------------


def alias_bomb() -> str:
    """~50 KB that a YAML 1.1 loader takes as 1,000 meetings x 200 delegations x 1,000 members (200 million)."""
    members = ", ".join(f"person-with-a-rather-long-key-{i:04}" for i in range(1000))
    delegations = ", ".join(["*delegation"] * 200)
    meetings = "  - *meeting\n" * 1000
    return (
        SOURCE
        + f"x-members: &members [{members}]\n"
        + "x-delegation: &delegation {country: US, members: *members}\n"
        + f"x-meeting: &meeting {{key: m, status: planned, delegations: [{delegations}]}}\n"
        + f"meetings:\n{meetings}"
    )


def test_an_alias_bomb_is_refused_at_once_and_in_little_memory(tmp_path: Path) -> None:
    path = write(tmp_path / "bomb.yaml", alias_bomb())
    assert 40_000 < path.stat().st_size < 60_000
    tracemalloc.start()
    try:
        started = time.perf_counter()
        report = read_seed_file(path)
        elapsed = time.perf_counter() - started
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert elapsed < 1.0
    assert peak < 100 * 2**20
    assert [(e.code, e.path) for e in report.errors] == [("seed.syntax", "")]
    assert "anchor &members: anchors and aliases are not allowed" in report.errors[0].message


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("persons:\n  - &p {key: p, name: P}\n", "a.yaml:3:5: seed.syntax: anchor &p"),
        ("persons:\n  - {key: p, name: &n P}\n", "a.yaml:3:20: seed.syntax: anchor &n"),
        ("persons:\n  - {key: p, name: *n}\n", "a.yaml:3:20: seed.syntax: alias *n"),
    ],
)
def test_anchors_and_aliases_are_refused(text: str, says: str) -> None:
    report = parse_seed_text(SOURCE + text, "a.yaml")
    assert [e.code for e in report.errors] == ["seed.syntax"]
    assert str(report.errors[0]).startswith(says)
    assert "write the value out in full" in report.errors[0].message


def test_ampersands_and_asterisks_in_text_are_text(tmp_path: Path) -> None:
    path = write(tmp_path / "a.yaml", SOURCE + "persons:\n  - {key: p, name: 'AT&T *the* & co'}\n")
    report = read_seed_file(path)
    assert not report.errors
    [(_, person)] = report.of("persons")
    assert person.name == "AT&T *the* & co"


@pytest.mark.parametrize(
    ("data", "says"),
    [
        ("source: {key: s}\n".encode("utf-16"), "byte 0 (line 1) is 0xFF, as in UTF-16"),
        ("source: {key: s}\n".encode("utf-16-le"), "byte 1 (line 1) is 0x00, as in UTF-16"),
        ("source: {key: s}\n".encode("utf-16-be"), "byte 0 (line 1) is 0x00, as in UTF-16"),
        ("source:\n  outlet: Über\n".encode("latin-1"), "byte 18 (line 2) is 0xDC, as in Latin-1"),
    ],
    ids=["utf-16", "utf-16-le", "utf-16-be", "latin-1"],
)
@pytest.mark.parametrize("suffix", [".yaml", ".json"])
def test_files_that_are_not_utf8_are_refused(tmp_path: Path, data: bytes, says: str, suffix: str) -> None:
    (tmp_path / f"a{suffix}").write_bytes(data)
    [(path, code, message)] = errors_of(tmp_path / f"a{suffix}")
    assert (path, code) == ("", "seed.syntax")
    assert message.startswith(f"the file is not UTF-8: {says}")
    assert "seed files must be UTF-8" in message


@pytest.mark.parametrize("suffix", [".yaml", ".json"])
def test_a_utf8_byte_order_mark_is_accepted(tmp_path: Path, suffix: str) -> None:
    content = json.dumps({"source": {"key": "s", "outlet": "Ö", "title": "T", "published_at": "2025-03-01T00:00:00Z",
                                     "language": "en"}}, ensure_ascii=False)  # fmt: skip
    (tmp_path / f"a{suffix}").write_bytes(b"\xef\xbb\xbf" + content.encode())
    assert validate_seeds([tmp_path / f"a{suffix}"]).changes["added"]["sources"].keys == ["s"]


def test_a_file_over_the_size_limit_is_refused_unread(tmp_path: Path) -> None:
    path = write(tmp_path / "a.yaml", SOURCE)
    assert not read_seed_file(path, max_bytes=len(SOURCE)).errors
    [error] = read_seed_file(path, max_bytes=len(SOURCE) - 1).errors
    assert error.code == "seed.syntax"
    assert error.message.startswith(f"the file is larger than {len(SOURCE) - 1:,} bytes, the limit for one seed file")
    path.write_bytes(b"#" * (2**20 + 1))
    assert "larger than 1,048,576 bytes (1 MiB)," in read_seed_file(path, max_bytes=2**20).errors[0].message


@pytest.mark.skipif(not Path("/dev/zero").exists(), reason="needs /dev/zero")
def test_a_file_without_a_size_is_read_only_up_to_the_limit() -> None:
    [error] = read_seed_file(Path("/dev/zero"), max_bytes=1000).errors
    assert "larger than 1,000 bytes" in error.message


@pytest.mark.parametrize(
    "text",
    [
        "a: !!float abc",
        "a: !!int x",
        "a: !!bool maybe",
        "a: !!timestamp abc",
        "a: !!binary AAAA",
        "a: !!set {b}",
        "a: " + "1" * 5000,
    ],
)
def test_values_that_yaml_cannot_build_are_syntax_errors(text: str) -> None:
    report = parse_seed_text(text, "a.yaml")
    assert [(e.path, e.code) for e in report.errors] == [("", "seed.syntax")]
    assert (report.errors[0].line, report.errors[0].column) == (1, 4)


@pytest.mark.parametrize("text", ['{"a": ' + "1" * 5000 + "}", '{"a": NaN}', '{"a": -Infinity}'])
def test_json_numbers_that_json_or_python_cannot_read_are_syntax_errors(text: str) -> None:
    report = parse_seed_text(text, "a.json")
    assert [(e.path, e.code) for e in report.errors] == [("", "seed.syntax")]


# --- YAML 1.2 scalars ------------------------------------------------------------------------------------------

YAML_11_BOOLEANS = ["NO", "No", "no", "n", "N", "YES", "Yes", "yes", "y", "Y", "ON", "On", "on", "OFF", "Off", "off"]


@pytest.mark.parametrize("word", YAML_11_BOOLEANS)
def test_yaml_11_booleans_are_strings(word: str) -> None:
    assert parse_text(f"a: {word}\n{word}: b", "a.yaml") == {"a": word, word: "b"}


@pytest.mark.parametrize(
    ("plain", "value"),
    [
        *[(word, True) for word in ["true", "True", "TRUE"]],
        *[(word, False) for word in ["false", "False", "FALSE"]],
        ("tRUE", "tRUE"),
        *[(word, None) for word in ["~", "null", "Null", "NULL", ""]],
        ("nULL", "nULL"),
        ("12", 12),
        ("-12", -12),
        ("+12", 12),
        ("010", 10),
        ("0o17", 15),
        ("0x1F", 31),
        ("0b101", "0b101"),
        ("1_000", "1_000"),
        ("12:30", "12:30"),
        ("1:20:30", "1:20:30"),
        ("1e3", 1000.0),
        ("1.5", 1.5),
        (".5", 0.5),
        ("2025-02-27", "2025-02-27"),
        ("2025-13-45", "2025-13-45"),
        ("2025-03-01T01:20:00+07:00", "2025-03-01T01:20:00+07:00"),
        ("=", "="),
        ("<<", "<<"),
    ],
)
def test_plain_scalars_follow_the_yaml_12_core_schema(plain: str, value: object) -> None:
    assert parse_text(f"a: {plain}", "a.yaml") == {"a": value}


@pytest.mark.parametrize(("plain", "sign"), [(".inf", 1), ("-.Inf", -1), ("+.INF", 1)])
def test_infinities_follow_the_core_schema(plain: str, sign: int) -> None:
    assert parse_text(f"a: {plain}", "a.yaml") == {"a": sign * float("inf")}


def test_nan_follows_the_core_schema() -> None:
    value = parse_text("a: .NaN", "a.yaml")["a"]
    assert value != value
    assert parse_text("a: -.nan", "a.yaml") == {"a": "-.nan"}


def test_norway_and_yaml_11_words_validate_as_what_they_say(tmp_path: Path) -> None:
    path = write(tmp_path / "a.yaml", SOURCE + "persons:\n"
                 "  - {key: ola-nordmann, name: Ola Nordmann, country: NO}\n"
                 "  - {key: on, name: on}\n  - {key: yes, name: Yes}\n"
                 "meetings:\n"
                 "  - {key: m, title: Off, status: held, format: in_person, date: 2025-02-27, city: y,\n"
                 "     delegations: [{country: NO, head: ola-nordmann, head_role: n}, {country: SE}]}\n")  # fmt: skip
    report = read_seed_file(path)
    assert not report.errors, report.errors
    assert report.source is not None
    assert report.source.published_at.isoformat() == "2025-03-01T01:20:00+07:00"
    persons = [person for _, person in report.of("persons")]
    assert [(p.key, p.name, p.country) for p in persons] == [
        ("ola-nordmann", "Ola Nordmann", "NO"), ("on", "on", None), ("yes", "Yes", None)
    ]  # fmt: skip
    [(_, meeting)] = report.of("meetings")
    assert (meeting.title, meeting.city, meeting.date) == ("Off", "y", "2025-02-27")
    assert meeting.delegations[0].country == "NO"
    assert validate_seeds([path]).added == 5


# --- text rules ------------------------------------------------------------------------------------------------


def test_what_cannot_be_seen_or_printed_is_escaped_in_paths_and_messages(tmp_path: Path) -> None:
    content = (
        r'{"source": {"key": "a\ud800", "outlet": "O", "title": "T", "published_at": "2025-03-01T00:00:00Z", '
        r'"language": "e\ud800"}, "persons": [{"key": "p", "name": "x", "country": "\u202eNO"}], "\u202e\ud801": 2}'
    )
    errors = errors_of(write(tmp_path / "a.json", content))
    assert errors == [
        (r"\u202e\ud801", "seed.schema", "unknown field: a seed file has `source`, `persons`, `organizations`, "
                                         "`topics`, `meetings`, `statements`"),
        ("persons[0].country", "country.invalid", r"'\u202eNO' is not an ISO 3166-1 alpha-2 country code"),
        ("source.key", "key.format", r"key 'a\ud800' is not a kebab-case slug of at most 80 characters"),
        ("source.language", "language.invalid",
         r"'e\ud800' is not a BCP 47 language tag with an ISO 639 primary subtag"),
    ]  # fmt: skip


def person_file(tmp_path: Path, name: str) -> Path:
    return write(tmp_path / "a.json", json.dumps({
        "source": {"key": "s", "outlet": "O", "title": "T", "published_at": "2025-03-01T00:00:00Z", "language": "en"},
        "persons": [{"key": "p", "name": name}],
    }))  # fmt: skip


@pytest.mark.parametrize(
    ("name", "says"),
    [
        ("\u202egnp.exe", r"'\u202egnp.exe' has a bidirectional control (U+202E) at character 1: remove it"),
        ("Ivan\u2066 Petrov", r"has a bidirectional control (U+2066) at character 5"),
        ("\u200b", r"'\u200b' is empty, or only spaces and invisible characters"),
        ("\u200d\u200c \u00a0\ufeff\u2060\u200e\u200f\u00ad", "is empty, or only spaces and invisible characters"),
        ("", "'' is empty"),
        ("   ", "is empty"),
        ("bad\u0007name", r"'bad\u0007name' has a control character or lone surrogate (U+0007) at character 4"),
        ("two\nlines", "has a control character or lone surrogate (U+000A)"),
        ("x" * (LABEL_MAX_LENGTH + 1), f"'{'x' * 60}…' has 501 characters: shorten it to at most {LABEL_MAX_LENGTH}"),
        ("{value} {problem}\u202e", r"'{value} {problem}\u202e' has a bidirectional control"),
    ],
)
def test_names_break_the_text_rule(tmp_path: Path, name: str, says: str) -> None:
    [(path, code, message)] = errors_of(person_file(tmp_path, name))
    assert (path, code) == ("persons[0].name", "text.invalid")
    assert says in message


@pytest.mark.parametrize(
    "name",
    [
        "می\u200cخواهم",  # Persian: ZWNJ inside a word
        "क्\u200dष",  # Devanagari: ZWJ inside a conjunct
        "\u200fשלום\u200f",  # direction marks, at either end
        "ا\u061cب",  # Arabic letter mark
        "x" * LABEL_MAX_LENGTH,
        "Zoë\u00adAnne",
    ],
)
def test_names_with_invisible_characters_inside_are_valid_and_load(tmp_path: Path, name: str) -> None:
    load_seeds(tmp_path / "d.db", [person_file(tmp_path, name)])
    with sqlite3.connect(tmp_path / "d.db") as conn:
        assert conn.execute("SELECT name FROM persons").fetchall() == [(name,)]


def statement_file(tmp_path: Path, **fields: Any) -> Path:
    statement = {"key": "st", "text": "Talks", "language": "en", "kind": "paraphrase", "organization": "o"} | fields
    return write(tmp_path / "a.json", json.dumps({
        "source": {"key": "s", "outlet": "O", "title": "T", "published_at": "2025-03-01T00:00:00Z", "language": "en"},
        "organizations": [{"key": "o", "name": "O"}],
        "statements": [statement],
    }))  # fmt: skip


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"text": "We \u202eagree"}, [("statements[0].text", "text.invalid")]),
        ({"text": "\u200b \u200b"}, [("statements[0].text", "statement.text")]),
        ({"text": "x" * (STATEMENT_MAX_LENGTH + 1)}, [("statements[0].text", "statement.text")]),
        ({"translations": {"en": "\u2067x"}}, [("statements[0].translations.en", "text.invalid")]),
        ({"translations": {"en": "\ufeff"}}, [("statements[0].translations.en", "statement.text")]),
        ({"occasion": "\u2068Summit"}, [("statements[0].occasion", "text.invalid")]),
    ],
)
def test_statement_text_rules(tmp_path: Path, fields: dict[str, Any], expected: list[tuple[str, str]]) -> None:
    assert [(path, code) for path, code, _ in errors_of(statement_file(tmp_path, **fields))] == expected


@pytest.mark.parametrize(
    ("field", "value", "ok"),
    [
        ("text", "Line one.\r\n\tLine two.", True),
        ("text", "x" * SOURCE_TEXT_MAX_LENGTH, True),
        ("text", "x" * (SOURCE_TEXT_MAX_LENGTH + 1), False),
        ("text", "\u200b\n", False),
        ("text", "a \u202d b", False),
        ("via", ["Antara", "\u2066Anadolu"], False),
        ("via", ["x" * (LABEL_MAX_LENGTH + 1)], False),
        ("dateline", "\u00ad", False),
        ("outlet", "Koran Jakarta\u200d", True),
    ],
)
def test_source_text_rules(tmp_path: Path, field: str, value: object, ok: bool) -> None:
    source = {"key": "s", "outlet": "O", "title": "T", "published_at": "2025-03-01T00:00:00Z", "language": "en"}
    path = write(tmp_path / "a.json", json.dumps({"source": source | {field: value}}))
    if ok:
        load_seeds(tmp_path / "d.db", [path])
    else:
        assert {(p.split("[")[0], code) for p, code, _ in errors_of(path)} == {(f"source.{field}", "text.invalid")}


# --- the models and the SQL CHECKs agree -----------------------------------------------------------------------


# The characters the rules are about, and some ordinary ones. Control characters other than NUL are left out: the
# models refuse them and the SQL does not look for them (see `diplo.store._text`).
TRICKY = [*BIDI_CONTROLS, *INVISIBLE, " ", "\u00a0", "\u3000", "\n", "\t", "\x00", "a", "ü", "日", "ש", "😀"]


def tricky_text(limit: int) -> st.SearchStrategy[str]:
    """Short text of the characters that matter, and text around `limit` characters long."""
    short = st.text(alphabet=st.sampled_from(TRICKY), max_size=8)
    return short | st.tuples(st.integers(limit - 3, limit + 3), short).map(lambda t: "x" * t[0] + t[1])


def _label_sql(column: str) -> str:
    tables = {"name": "persons (key, sort_name, name)", "city": "meetings (key, title, status, format, city)"}
    values = {"name": "'p', 'p', ?", "city": "'m', 't', 'planned', 'in_person', ?"}
    return f"INSERT INTO {tables[column]} VALUES ({values[column]})"


@given(tricky_text(LABEL_MAX_LENGTH), st.sampled_from(["name", "city"]))
def test_label_rule_matches_the_sql_check(empty_db: sqlite3.Connection, text: str, column: str) -> None:
    single_line = text.replace("\n", " ").replace("\t", " ")  # the SQL leaves control characters to the model
    assert model_accepts(check_label, single_line) == sql_accepts(empty_db, _label_sql(column), (single_line,))


@given(tricky_text(SUMMARY_MAX_LENGTH))
def test_summary_rule_matches_the_sql_check(empty_db: sqlite3.Connection, text: str) -> None:
    sql = "INSERT INTO meeting_reports (meeting, source, status, summary) VALUES ('m', 's', 'planned', ?)"
    assert model_accepts(check_summary, text) == sql_accepts(empty_db, sql, (text,))


@given(tricky_text(STATEMENT_MAX_LENGTH))
def test_statement_text_rule_matches_the_sql_check(empty_db: sqlite3.Connection, text: str) -> None:
    sql = (
        "INSERT INTO statements (key, text, language, kind, source, speaker, reported_on) "
        "VALUES ('st', ?, 'en', 'paraphrase', 's', 'x', '2025-01-01')"
    )
    assert model_accepts(check_statement_text, text) == sql_accepts(empty_db, sql, (text,))


@pytest.mark.parametrize(
    "text",
    [
        "x" * SOURCE_TEXT_MAX_LENGTH,
        "x" * (SOURCE_TEXT_MAX_LENGTH + 1),
        "x" * (SOURCE_TEXT_MAX_LENGTH - 1) + "\u202e",
        "x" * (SOURCE_TEXT_MAX_LENGTH - 1) + "\x00",
        "\u200b" * SOURCE_TEXT_MAX_LENGTH,
    ],
    ids=["longest", "too-long", "bidi", "nul", "invisible"],
)
def test_source_text_rule_matches_the_sql_check(empty_db: sqlite3.Connection, text: str) -> None:
    sql = (
        "INSERT INTO sources (key, outlet, title, published_at, language, text) "
        "VALUES ('t', 'o', 't', '2025-01-01T00:00:00+00:00', 'en', ?)"
    )
    assert model_accepts(check_source_text, text) == sql_accepts(empty_db, sql, (text,))


@given(st.lists(tricky_text(LABEL_MAX_LENGTH), min_size=0, max_size=3))
def test_json_text_columns_refuse_bidi_controls_and_nothing_the_models_take(
    empty_db: sqlite3.Connection, texts: list[str]
) -> None:
    sql = "INSERT INTO persons (key, name, sort_name, aliases) VALUES ('p', 'x', 'x', ?)"
    sql_ok = sql_accepts(empty_db, sql, (store.to_json(texts),))
    # A CHECK cannot look into each value, so it refuses only bidirectional controls; never what the model takes.
    assert sql_ok == (not any(c in BIDI_CONTROLS for text in texts for c in text))
    assert sql_ok or not all(model_accepts(check_label, text) for text in texts)

"""Reading seed files: YAML or JSON text into record models, every error located by file and record path."""

import codecs
import json
import math
import re
import sys
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import yaml
from pydantic import ValidationError
from yaml.constructor import ConstructorError, SafeConstructor

from ..vocabulary import KEY_PATTERN
from .models import RECORD_TYPES, SEED_FILE_MAX_BYTES, Editorial, Record, Source, escape_unseen, shown
from .rules import MAX_ERRORS, RULES, SeedError, SeedErrors

SEED_SUFFIXES = (".yaml", ".yml", ".json")

try:  # the C parser is ~4x faster on large seed files; fall back where libyaml is missing
    from yaml import CSafeLoader as _SafeLoader
except ImportError:  # pragma: no cover
    from yaml import SafeLoader as _SafeLoader  # type: ignore[assignment]


def seed_paths(paths: Iterable[Path]) -> list[Path]:
    """Expand directories into the seed files below them, sorted so that every run reads in the same order.

    A path that does not exist, or a directory without a seed file, is `seed.path` (`SeedErrors`, all of them):
    checking nothing must not pass for valid."""
    found: list[Path] = []
    problems: list[SeedError] = []
    for path in paths:
        if path.is_dir():
            below = sorted(p for p in path.rglob("*") if p.suffix in SEED_SUFFIXES and p.is_file())
            if not below:
                problems.append(SeedError(str(path), "", "seed.path", "the directory holds no seed file (" +
                                          ", ".join(SEED_SUFFIXES) + "), in it or below it"))  # fmt: skip
            found.extend(below)
        elif path.exists():
            found.append(path)
        else:
            problems.append(SeedError(str(path), "", "seed.path", "no such file or directory"))
    if problems:
        raise SeedErrors(problems)
    return found


def format_loc(loc: Iterable[int | str]) -> str:
    """`('meetings', 0, 'delegations', 1, 'head')` -> `meetings[0].delegations[1].head`."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:  # a field name may be any text the file has: show what cannot be seen or printed
            out += f".{escape_unseen(part)}" if out else escape_unseen(str(part))
    return out


# YAML 1.2's core schema (https://yaml.org/spec/1.2.2/#1032-tag-resolution): which plain scalars are not strings,
# as (tag, pattern, possible first characters). YAML 1.1, PyYAML's default, also reads `NO` (Norway), `on`, `y`
# as booleans, `2025-02-27` as a date, `12:30` as 750 and `010` as 8; under 1.2 they are strings (pydantic parses
# the dates and times it expects from strings).
CORE_SCHEMA: list[tuple[str, re.Pattern[str], list[str]]] = [
    ("tag:yaml.org,2002:null", re.compile(r"(?:~|null|Null|NULL|)\Z"), ["~", "n", "N", ""]),
    ("tag:yaml.org,2002:bool", re.compile(r"(?:true|True|TRUE|false|False|FALSE)\Z"), list("tTfF")),
    ("tag:yaml.org,2002:int", re.compile(r"(?:[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+)\Z"), list("-+0123456789")),
    (
        "tag:yaml.org,2002:float",
        re.compile(
            r"(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))\Z"
        ),
        list("-+.0123456789"),
    ),
]


def _bool(loader: SafeConstructor, node: yaml.ScalarNode) -> bool:
    value = loader.construct_scalar(node)
    if value.lower() not in ("true", "false"):
        raise ConstructorError(None, None, f"{value[:40]!r} is not a boolean (true or false)", node.start_mark)
    return value.lower() == "true"


def _int(loader: SafeConstructor, node: yaml.ScalarNode) -> int:
    value = loader.construct_scalar(node)
    base = {"0o": 8, "0x": 16}.get(value[:2], 10)
    try:  # 1.2 reads `010` as ten, where PyYAML's 1.1 constructor reads eight
        return int(value[2:] if base != 10 else value, base)
    except ValueError:  # not digits (`!!int x`), or more digits than Python converts
        problem = f"{value[:40]!r} is not an integer of at most {sys.get_int_max_str_digits():,} digits"
        raise ConstructorError(None, None, problem, node.start_mark) from None


def _float(loader: SafeConstructor, node: yaml.ScalarNode) -> float:
    value = loader.construct_scalar(node)
    try:
        return float(value.lower().replace(".inf", "inf").replace(".nan", "nan"))
    except ValueError:
        raise ConstructorError(None, None, f"{value[:40]!r} is not a number", node.start_mark) from None


class SeedLoader(_SafeLoader):
    """PyYAML's safe loader, reading plain scalars by YAML 1.2's core schema and building only the core schema's
    types: an explicit tag for anything else (`!!timestamp`, `!!binary`, `!!set`, `!!merge`) is an error, not a
    crash, and so is a key that a mapping gives twice (PyYAML keeps the last one silently)."""

    yaml_constructors: ClassVar[dict[str | None, Callable[..., Any]]] = {
        "tag:yaml.org,2002:null": SafeConstructor.construct_yaml_null,
        "tag:yaml.org,2002:bool": _bool,
        "tag:yaml.org,2002:int": _int,
        "tag:yaml.org,2002:float": _float,
        "tag:yaml.org,2002:str": SafeConstructor.construct_yaml_str,
        "tag:yaml.org,2002:seq": SafeConstructor.construct_yaml_seq,
        "tag:yaml.org,2002:map": SafeConstructor.construct_yaml_map,
        None: SafeConstructor.construct_undefined,
    }

    def construct_mapping(self, node: yaml.Node, deep: bool = False) -> dict[Any, Any]:
        """PyYAML's `construct_mapping` without merge keys (`<<` is a plain string here, and `!!merge` a tag
        outside the core schema), refusing a repeated key with where both are."""
        if not isinstance(node, yaml.MappingNode):
            raise ConstructorError(None, None, f"expected a mapping, but found {node.tag}", node.start_mark)
        mapping: dict[Any, Any] = {}
        first: dict[Any, yaml.Node] = {}
        for key_node, value_node in node.value:
            key = self.construct_object(key_node, deep=deep)
            try:
                earlier = first.get(key)
            except TypeError:  # a list or mapping as a key
                raise ConstructorError(
                    "while constructing a mapping", node.start_mark, "found unhashable key", key_node.start_mark
                ) from None
            if earlier is not None:
                raise _repeated(key_node.value if isinstance(key_node, yaml.ScalarNode) else key,
                                (earlier.start_mark.line + 1, earlier.start_mark.column + 1),
                                (key_node.start_mark.line + 1, key_node.start_mark.column + 1))  # fmt: skip
            first[key] = key_node
            mapping[key] = self.construct_object(value_node, deep=deep)
        return mapping


SeedLoader.yaml_implicit_resolvers = {}  # its own, without YAML 1.1's; PyYAML's shared dict stays as it is
for _tag, _pattern, _first in CORE_SCHEMA:
    SeedLoader.add_implicit_resolver(_tag, _pattern, _first)


def _refuse_anchors(text: str) -> None:
    """Refuse anchors (`&name`) and aliases (`*name`) before anything is built: an alias repeats a whole subtree,
    so a few kilobytes of aliases of aliases stand for billions of records. Seed files have no use for them.

    Scanning the C parser's events adds ~10% to parsing (0.6 s for 10 MB); text without `&` or `*` cannot hold
    either and skips the scan.
    """
    if "&" not in text and "*" not in text:
        return
    for event in yaml.parse(text, Loader=SeedLoader):
        anchor = getattr(event, "anchor", None)
        if anchor is not None:
            what = f"alias *{anchor}" if isinstance(event, yaml.AliasEvent) else f"anchor &{anchor}"
            raise _SyntaxProblem(
                f"{what}: anchors and aliases are not allowed in seed files; write the value out in full",
                event.start_mark,
            )


def parse_text(text: str, name: str) -> Any:
    """Parse YAML or JSON (by the file name's suffix); raises `_SyntaxProblem` on bad syntax, a key that one
    mapping gives twice included."""
    if name.endswith(".json"):
        try:
            return json.loads(text, parse_constant=_not_json, object_pairs_hook=_json_object)
        except json.JSONDecodeError as exc:
            raise _SyntaxProblem(exc.msg, line=exc.lineno, column=exc.colno) from None
        except _NotJson as exc:
            line, column = _json_token_at(text, exc.constant) or (0, 0)
            raise _SyntaxProblem(str(exc), line=line, column=column) from None
        except _RepeatedJsonKey:
            raise _json_repeated(text) from None
        except ValueError:  # a number with more digits than Python converts
            raise _SyntaxProblem(f"a number has more than {sys.get_int_max_str_digits():,} digits") from None
        except RecursionError:
            raise _SyntaxProblem("nested too deeply") from None
    try:
        _refuse_anchors(text)
        return yaml.load(text, Loader=SeedLoader)
    except yaml.MarkedYAMLError as exc:
        raise _yaml_problem(text, exc) from None
    except (yaml.YAMLError, RecursionError) as exc:
        raise _SyntaxProblem(str(exc) or "invalid YAML") from None


class _NotJson(ValueError):
    """`NaN`, `Infinity` or `-Infinity`, which Python's JSON reader takes and JSON does not have."""

    def __init__(self, constant: str) -> None:
        super().__init__(f"{constant} is not JSON: JSON has no such number, and no field of a seed file takes one")
        self.constant = constant


def _not_json(constant: str) -> Any:
    raise _NotJson(constant)


class _RepeatedJsonKey(ValueError):
    """A JSON object gave a key twice; `_json_repeated` finds where, from the text."""


def _json_object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """A JSON object as a dict, refusing one that gives a key twice (Python's reader keeps the last one)."""
    mapping = dict(pairs)
    if len(mapping) != len(pairs):
        raise _RepeatedJsonKey
    return mapping


# A JSON text's tokens where keys are found: a string (a key when a colon follows it), and brackets. Anything else
# (numbers, literals, commas, spaces) lies between them and is skipped.
_JSON_TOKENS = re.compile(r'"(?:[^"\\]|\\.)*"(\s*:)?|[{}\[\]]|(-?Infinity|NaN)')


def _json_tokens(text: str) -> Iterator[re.Match[str]]:
    return _JSON_TOKENS.finditer(text)


def _line_column(text: str, offset: int) -> tuple[int, int]:
    """Line and column (from 1) of a character, counted as Python's JSON reader counts them."""
    return text.count("\n", 0, offset) + 1, offset - text.rfind("\n", 0, offset)


def _json_token_at(text: str, constant: str) -> tuple[int, int] | None:
    """Where `constant` first stands as a value (not inside a string)."""
    for token in _json_tokens(text):
        if token[2] == constant:
            return _line_column(text, token.start())
    return None


def _json_repeated(text: str) -> "_SyntaxProblem":
    """The first key in `text` that its object gave before, with where both are. Only called on text that
    Python's JSON reader read up to a repeated key, so the text up to there is valid JSON."""
    objects: list[dict[str, int] | None] = []  # the keys of each open object (None: an array) and their offsets
    for token in _json_tokens(text):
        if token[0] in "{[":
            objects.append({} if token[0] == "{" else None)
        elif token[0] in "}]":
            objects.pop()
        elif token[1] is not None and objects and objects[-1] is not None:
            key = json.loads(token[0][: -len(token[1])])
            if key in objects[-1]:
                return _repeated(key, _line_column(text, objects[-1][key]), _line_column(text, token.start()))
            objects[-1][key] = token.start()
    return _SyntaxProblem("an object gives a key twice")  # pragma: no cover - the reader found one


def _repeated(key: Any, first: tuple[int, int], again: tuple[int, int]) -> "_SyntaxProblem":
    """A key given twice in one mapping, at `again` (line, column) after `first`."""
    return _SyntaxProblem(
        f"key {shown(str(key), 80)} is given twice in one mapping, at line {first[0]}, column {first[1]} and again "
        f"at line {again[0]}, column {again[1]}: a reader would keep the second and drop the first without a word; "
        "give each key once (merge the two, or rename one)",
        line=again[0],
        column=again[1],
    )


class _SyntaxProblem(ValueError):
    """Text that is not a seed file's syntax, with where it stops being one (line and column from 1; 0 unknown)."""

    def __init__(self, message: str, mark: Any = None, line: int = 0, column: int = 0) -> None:
        super().__init__(message)
        self.line: int = mark.line + 1 if mark is not None else line
        self.column: int = mark.column + 1 if mark is not None else column


def _yaml_problem(text: str, exc: yaml.MarkedYAMLError) -> _SyntaxProblem:
    """PyYAML's message, with a hint for the mistakes people make by hand: an unquoted `: ` in a value, a tab, a
    quote that does not end the value or is never closed."""
    problem, mark = exc.problem or str(exc), exc.problem_mark
    if exc.context and "quoted scalar" in exc.context and exc.context_mark is not None:
        return _SyntaxProblem(f"{problem}: the quote that starts here is never closed; end the value with the "
                              "same quote mark (inside '…', write a ' as '')", exc.context_mark)  # fmt: skip
    lines = text.splitlines()
    line = lines[mark.line] if mark is not None and mark.line < len(lines) else ""
    field, colon, value = line.lstrip(" -").partition(": ")
    if "\t" in line[: len(line) - len(line.lstrip())] or "'\\t'" in problem:
        hint = "YAML indents with spaces, never tabs: replace the tabs at the start of this line with spaces"
    elif "mapping values" in problem and colon:
        hint = f'a value with ": " in it must be quoted: {field}: {_quoted(value)}'
    elif colon and value.lstrip()[:1] in ('"', "'"):
        inner = value.strip()
        inner = inner[1:-1] if len(inner) > 1 and inner[0] == inner[-1] else inner
        hint = f"text goes on after the closing quote: quote the whole value, as {field}: {_quoted(inner)}"
    elif "',' or" in problem:
        hint = "a list in [ ] or a mapping in { } is not closed before this point, or lacks a comma"
    elif "expected" in problem:
        hint = "check the indentation here: the fields of a record line up, and a list item starts with `- `"
    else:
        return _SyntaxProblem(problem, mark)
    return _SyntaxProblem(f"{problem}: {hint}", mark)


def _quoted(value: str) -> str:
    """`value` as a YAML double-quoted string (a JSON string is one)."""
    return json.dumps(value.strip(), ensure_ascii=False)


def validation_errors(file: str, exc: ValidationError, prefix: tuple[int | str, ...] = ()) -> Iterator[SeedError]:
    for error in exc.errors(include_url=False):
        code = error["type"] if error["type"] in RULES else "seed.schema"
        message = error["msg"]
        value = error.get("input")
        if isinstance(value, float) and not math.isfinite(value):  # YAML's `.nan`, `.inf` or a number like 1e400
            message += f", not {_non_finite(value, json=file.endswith('.json'))}"
        yield SeedError(file, format_loc((*prefix, *error["loc"])), code, message)


def _non_finite(value: float, json: bool) -> str:
    """How a message names a float that is not a finite number (in JSON, only a number beyond a float's range
    reads as one: `NaN` and `Infinity` are not JSON, and refused as they are read)."""
    if math.isnan(value):
        return "NaN (`.nan`)"
    sign = "-" if value < 0 else ""
    written = "" if json else f"`{sign}.inf`, or "
    return f"{sign}Infinity ({written}a number beyond a float's range, such as 1e400)"


RecordKind = str  # "persons", "organizations", "topics", "meetings", "statements"
RECORD_LISTS: tuple[RecordKind, ...] = ("persons", "organizations", "topics", "meetings", "statements")


@dataclass
class SeedReport:
    """One seed file read and checked against the record rules, record by record.

    `records` holds the records that passed their rules, with their index in the file; `invalid` the keys of
    those that did not, which still count as existing for references (one bad record, one error).
    """

    file: str
    source: Source | None = None
    records: dict[RecordKind, list[tuple[int, Record]]] = field(default_factory=lambda: {k: [] for k in RECORD_LISTS})
    invalid: dict[RecordKind, set[str]] = field(default_factory=lambda: {k: set() for k in RECORD_LISTS})
    errors: list[SeedError] = field(default_factory=list)
    more_errors: int = 0  # found past `MAX_ERRORS`, counted and not kept, so that memory stays bounded
    evidence: list[Any] = field(default_factory=list)  # `evidence.Evidence` of its valid records, once checked
    editorial: Editorial | None = None  # an editors' file's decisions (then no `source` and no records)

    def of(self, kind: RecordKind) -> Iterator[tuple[int, Any]]:
        yield from self.records[kind]

    def add_errors(self, errors: Iterable[SeedError], limit: int) -> None:
        for error in errors:
            if len(self.errors) < limit:
                self.errors.append(error)
            else:
                self.more_errors += 1


def read_seed_file(path: Path, max_bytes: int = SEED_FILE_MAX_BYTES, max_errors: int = MAX_ERRORS) -> SeedReport:
    """Read one seed file, of at most `max_bytes` bytes of UTF-8, and check each of its records against the
    record rules."""
    name = str(path)
    try:
        data = _read_at_most(path, max_bytes)
    except OSError as exc:
        return _unreadable(name, f"cannot read the file: {exc.__class__.__name__}")
    if data is None:
        return _unreadable(name, f"the file is larger than {_size(max_bytes)}, the limit for one seed file: split it "
                           "into several files, each one source's report")  # fmt: skip
    try:
        text = decode(data)
    except _SyntaxProblem as exc:
        return _unreadable(name, str(exc))
    return parse_seed_text(text, name, max_errors)


def _read_at_most(path: Path, limit: int) -> bytes | None:
    """The file's bytes, or None if it has more than `limit`: stat() refuses a large file without reading it, the
    bounded read one that grows meanwhile or has no size (a pipe, a device)."""
    size = path.stat().st_size
    if size > limit:
        return None
    with path.open("rb") as file:
        # read(n) allocates n bytes up front: ask for what stat() says, then for the rest up to the limit.
        data = file.read(size + 1)
        if len(data) > size:
            data += file.read(limit + 1 - len(data))
    return data if len(data) <= limit else None


def _size(n: int) -> str:
    return f"{n:,} bytes" + (f" ({n / 2**20:g} MiB)" if n >= 2**20 else "")


def decode(data: bytes) -> str:
    """A seed file's bytes as text: UTF-8, after a byte-order mark if there is one. Anything else, UTF-16 or an 8-bit
    encoding such as Latin-1, is refused (`_SyntaxProblem`) at its first byte that is not UTF-8 or is a NUL (which
    UTF-16 has in every ASCII character and UTF-8 text never does)."""
    skip = len(codecs.BOM_UTF8) if data.startswith(codecs.BOM_UTF8) else 0
    try:
        text = data[skip:].decode("utf-8")
    except UnicodeDecodeError as exc:
        first = skip + exc.start
    else:
        if "\0" not in text:
            return text
        first = len(data)
    nul = data.find(b"\0", 0, first)
    at = first if nul < 0 else nul
    utf16 = data[:2] in (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE) or nul >= 0
    line = data.count(b"\n", 0, at) + 1
    raise _SyntaxProblem(
        f"the file is not UTF-8: byte {at} (line {line}) is 0x{data[at]:02X}, as in "
        f"{'UTF-16' if utf16 else 'Latin-1 or another 8-bit encoding'}; seed files must be UTF-8: save it as UTF-8"
    )


_UNCHECKED = " (its records could not be checked, so references to them may show as ref.unknown)"


def _unreadable(name: str, message: str, code: str = "seed.syntax", line: int = 0, column: int = 0) -> SeedReport:
    return SeedReport(name, errors=[SeedError(name, "", code, message + _UNCHECKED, line, column)])


def parse_seed_text(text: str, name: str, max_errors: int = MAX_ERRORS) -> SeedReport:
    """Parse a seed file's text and check each of its records against the record rules."""
    try:
        data = parse_text(text, name)
    except _SyntaxProblem as exc:
        return _unreadable(name, str(exc), line=exc.line, column=exc.column)
    if not isinstance(data, dict):
        return _unreadable(
            name, "a seed file is a mapping with a `source` and record lists, or an `editorial`", "seed.schema"
        )
    report = SeedReport(name)
    if "editorial" in data and "source" not in data:
        return _editorial(report, data)
    for unknown in sorted(set(map(str, data)) - {"source", *RECORD_LISTS}):
        report.errors.append(SeedError(name, format_loc([unknown]), "seed.schema", "unknown field: a seed file has "
                                       "`source`, " + ", ".join(f"`{k}`" for k in RECORD_LISTS)))  # fmt: skip
    if "source" not in data:
        report.errors.append(SeedError(name, "source", "seed.schema", "Field required"))
    else:
        try:
            report.source = Source.model_validate(data["source"])
        except ValidationError as exc:
            report.errors.extend(validation_errors(name, exc, ("source",)))
    for kind in RECORD_LISTS:
        items = data.get(kind, [])
        if items is None:
            continue
        if not isinstance(items, list):
            report.errors.append(SeedError(name, kind, "seed.schema", "Input should be a valid list"))
            continue
        model = RECORD_TYPES[kind]
        for index, item in enumerate(items):
            try:
                report.records[kind].append((index, model.model_validate(item)))
            except ValidationError as exc:
                report.add_errors(validation_errors(name, exc, (kind, index)), max_errors)
                key = item.get("key") if isinstance(item, dict) else None
                if isinstance(key, str) and KEY_PATTERN.match(key):
                    report.invalid[kind].add(key)
    return report


def _editorial(report: SeedReport, data: dict[Any, Any]) -> SeedReport:
    """An editors' file: `editorial`, its key and decisions, and nothing else."""
    name = report.file
    for unknown in sorted(set(map(str, data)) - {"editorial"}):
        report.errors.append(SeedError(name, format_loc([unknown]), "seed.schema",
                                       "unknown field: an editorial file has only `editorial`"))  # fmt: skip
    try:
        report.editorial = Editorial.model_validate(data["editorial"])
    except ValidationError as exc:
        report.add_errors(validation_errors(name, exc, ("editorial",)), MAX_ERRORS)
    return report

"""Reading seed files: YAML or JSON text into record models, every error located by file and record path."""

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from .models import KEY_PATTERN, RECORD_TYPES, Record, Source
from .rules import RULES, SeedError

SEED_SUFFIXES = (".yaml", ".yml", ".json")

try:  # the C loader is ~10x faster on large seed files; fall back where libyaml is missing
    _Loader: Any = yaml.CSafeLoader
except AttributeError:  # pragma: no cover
    _Loader = yaml.SafeLoader


def seed_paths(paths: Iterable[Path]) -> list[Path]:
    """Expand directories into the seed files below them, sorted so that every run reads in the same order."""
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            found.extend(sorted(p for p in path.rglob("*") if p.suffix in SEED_SUFFIXES and p.is_file()))
        else:
            found.append(path)
    return found


def format_loc(loc: Iterable[int | str]) -> str:
    """`('meetings', 0, 'delegations', 1, 'head')` -> `meetings[0].delegations[1].head`."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


def parse_text(text: str, name: str) -> Any:
    """Parse YAML or JSON (by the file name's suffix); raises `SeedError`-carrying ValueError on bad syntax."""
    if name.endswith(".json"):
        try:
            return json.loads(text)
        except json.JSONDecodeError as exc:
            raise _SyntaxProblem(f"line {exc.lineno} column {exc.colno}: {exc.msg}") from None
        except RecursionError:
            raise _SyntaxProblem("nested too deeply") from None
    try:
        return yaml.load(text, Loader=_Loader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        where = f"line {mark.line + 1} column {mark.column + 1}: " if mark else ""
        raise _SyntaxProblem(f"{where}{exc.problem or exc}") from None
    except (yaml.YAMLError, RecursionError) as exc:
        raise _SyntaxProblem(str(exc) or "invalid YAML") from None


class _SyntaxProblem(ValueError):
    pass


def validation_errors(file: str, exc: ValidationError, prefix: tuple[int | str, ...] = ()) -> Iterator[SeedError]:
    for error in exc.errors(include_url=False):
        code = error["type"] if error["type"] in RULES else "seed.schema"
        yield SeedError(file, format_loc((*prefix, *error["loc"])), code, error["msg"])


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

    def of(self, kind: RecordKind) -> Iterator[tuple[int, Any]]:
        yield from self.records[kind]


def read_seed_file(path: Path) -> SeedReport:
    """Read one seed file and check each of its records against the record rules."""
    name = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        return _unreadable(name, f"cannot read the file: {exc.__class__.__name__}")
    return parse_seed_text(text, name)


_UNCHECKED = " (its records could not be checked, so references to them may show as ref.unknown)"


def _unreadable(name: str, message: str, code: str = "seed.syntax") -> SeedReport:
    return SeedReport(name, errors=[SeedError(name, "", code, message + _UNCHECKED)])


def parse_seed_text(text: str, name: str) -> SeedReport:
    try:
        data = parse_text(text, name)
    except _SyntaxProblem as exc:
        return _unreadable(name, str(exc))
    if not isinstance(data, dict):
        return _unreadable(name, "a seed file is a mapping with a `source` and record lists", "seed.schema")
    report = SeedReport(name)
    for unknown in sorted(set(map(str, data)) - {"source", *RECORD_LISTS}):
        report.errors.append(SeedError(name, unknown, "seed.schema", "unknown field: a seed file has `source`, "
                                       + ", ".join(f"`{k}`" for k in RECORD_LISTS)))  # fmt: skip
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
                report.errors.extend(validation_errors(name, exc, (kind, index)))
                key = item.get("key") if isinstance(item, dict) else None
                if isinstance(key, str) and KEY_PATTERN.match(key):
                    report.invalid[kind].add(key)
    return report

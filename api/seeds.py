"""Reading seed files: YAML or JSON text into `SeedFile` models, every error located by file and record path."""

import json
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from .models import SeedFile
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


def validation_errors(file: str, exc: ValidationError) -> Iterator[SeedError]:
    for error in exc.errors(include_url=False):
        code = error["type"] if error["type"] in RULES else "seed.schema"
        yield SeedError(file, format_loc(error["loc"]), code, error["msg"])


def read_seed_file(path: Path) -> tuple[SeedFile | None, list[SeedError]]:
    """Read and validate one seed file against the record rules."""
    name = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        return None, [SeedError(name, "", "seed.syntax", f"cannot read the file: {exc.__class__.__name__}")]
    return parse_seed_text(text, name)


def parse_seed_text(text: str, name: str) -> tuple[SeedFile | None, list[SeedError]]:
    try:
        data = parse_text(text, name)
    except _SyntaxProblem as exc:
        return None, [SeedError(name, "", "seed.syntax", str(exc))]
    if not isinstance(data, dict):
        return None, [SeedError(name, "", "seed.schema", "a seed file is a mapping with a `source` and record lists")]
    try:
        return SeedFile.model_validate(data), []
    except ValidationError as exc:
        return None, list(validation_errors(name, exc))

"""`diplo new`: the start of a seed file for one source, which validates as it is.

The `source` block is filled from the article's text (verbatim) and details; each record list is empty, with a
commented example of its record below it (the examples are valid records: a test uncomments them and validates).
"""

import datetime as dt
import os
import re
import types
import typing
import unicodedata
from enum import StrEnum
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from pydantic_core import PydanticCustomError

from ..vocabulary import KEY_MAX_LENGTH
from .export import seed_yaml
from .models import RECORD_TYPES, Source, check_published, published_day
from .seeds import RECORD_LISTS, RecordKind, parse_seed_text, validation_errors

SCHEMA_PATH = Path("schema") / "seed.schema.json"
# One record of each type as a data team writes it, referring to each other.
EXAMPLES: dict[RecordKind, dict[str, Any]] = {
    "persons": {"key": "sergei-lavrov", "name": "Sergei Lavrov", "country": "RU", "wikidata": "Q178176"},
    "organizations": {
        "key": "russian-ministry-of-foreign-affairs",
        "name": "Russian Ministry of Foreign Affairs",
        "country": "RU",
    },
    "topics": {"key": "diplomatic-missions", "label": "Diplomatic missions", "labels": {"id": "Misi diplomatik"}},
    "meetings": {
        "key": "lavrov-rubio-riyadh-2025-02-18",
        "title": "Lavrov and Rubio in Riyadh",
        "status": "held",
        "format": "in_person",
        "date": "2025-02-18",
        "city": "Riyadh",
        "host_country": "SA",
        "topics": ["diplomatic-missions"],
        "delegations": [
            {"country": "RU", "head": "sergei-lavrov", "head_role": "Minister of Foreign Affairs"},
            {"country": "US"},
        ],
        # How each fact is known: the source's words (`city: in Riyadh`, quoted from its text), or the basis and a
        # note when they do not say it outright (these validate with any text).
        "evidence": {
            "date": {"basis": "inferred", "note": "the Tuesday before publication"},
            "format": {"basis": "assumed", "note": "not stated; the delegations met in one city"},
        },
    },
    "statements": {
        "key": "sergei-lavrov-talks-useful",
        "text": "the talks were useful",
        "language": "en",
        "kind": "paraphrase",
        "translations": {"id": "pembicaraan itu bermanfaat"},
        "speaker": "sergei-lavrov",
        "organization": "russian-ministry-of-foreign-affairs",
        "meeting": "lavrov-rubio-riyadh-2025-02-18",
        "topics": ["diplomatic-missions"],
    },
}
NOTES: dict[RecordKind, str] = {
    "persons": "people this source names (a person reported by another file too keeps the same key)",
    "organizations": "ministries, offices, agencies",
    "topics": "what meetings and statements are about",
    "meetings": "a report needs a key, a status and two delegations; `evidence` quotes the words of the text that say "
    "each fact (city: in Riyadh), or gives the basis (inferred, assumed, external) and a note",
    "statements": "text verbatim in the original language; a direct_quote must occur in the source's text",
}


class ScaffoldError(ValueError):
    """The details given cannot make a valid seed file; the message says which and why."""


def slug(text: str, words: int = 6) -> str:
    """A kebab-case slug of the first `words` words of `text`, in ASCII letters and digits."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    return "-".join(re.findall(r"[a-z0-9]+", ascii_text)[:words])


def source_key(outlet: str, published_on: dt.date, title: str) -> str:
    """`outlet-yyyy-mm-dd-title-words`, cut at a word to fit the key limit."""
    parts = [p for p in (slug(outlet, 4), published_on.isoformat(), slug(title)) if p]
    key = "-".join(parts)
    while len(key) > KEY_MAX_LENGTH:
        key = key.rsplit("-", 1)[0]
    return key


def schema_reference(directory: Path) -> str | None:
    """The path of the repository's `schema/seed.schema.json` relative to `directory`, if one is above it."""
    for folder in [directory.resolve(), *directory.resolve().parents]:
        if (folder / SCHEMA_PATH).is_file():
            return Path(os.path.relpath(folder / SCHEMA_PATH, directory.resolve())).as_posix()
    return None


def _choices(kind: RecordKind, name: str) -> str:
    """`held | planned` for a field whose type is an enumeration (possibly optional), else nothing."""
    field = RECORD_TYPES[kind].model_fields.get(name)
    annotation = field.annotation if field is not None else None
    options = typing.get_args(annotation) if isinstance(annotation, types.UnionType) else (annotation,)
    for option in options:
        if isinstance(option, type) and issubclass(option, StrEnum):
            return " | ".join(option)
    return ""


def _commented(kind: RecordKind) -> list[str]:
    lines = seed_yaml({kind: [EXAMPLES[kind]]}).splitlines()[1:]  # the record, without the `kind:` line
    out = []
    for line in lines:
        of_the_record = line.startswith("- ") or (line.startswith("  ") and line[2] != " ")
        choices = _choices(kind, line.lstrip(" -").split(":", 1)[0]) if of_the_record else ""
        out.append(f"#   {line}" + (f"  # {choices}" if choices else ""))
    return out


def scaffold(
    text: str | None,
    *,
    outlet: str,
    title: str,
    published_at: str,
    language: str,
    key: str | None = None,
    url: str | None = None,
    via: tuple[str, ...] = (),
    schema: str | None = None,
) -> str:
    """A seed file for one source: its `source` block filled, its record lists empty with commented examples, and
    the line that tells an editor where the JSON Schema is (`schema`, a path or URL; none when None)."""
    details: dict[str, Any] = {"outlet": outlet, "title": title, "published_at": published_at, "language": language}
    try:
        day: dt.date | None = published_day(check_published(published_at))
    except PydanticCustomError:  # the model says what is wrong with it, below
        day = None
    source = {"key": key or (source_key(outlet, day, title) if day else "source"), **details}
    source |= {"url": url} if url else {}
    source |= {"via": list(via)} if via else {}
    if text is not None and text.strip():
        source["text"] = text.replace("\r\n", "\n")
    try:
        expected = Source.model_validate(source)
    except ValidationError as exc:
        problems = [f"{e.path}: {e.code}: {e.message}" for e in validation_errors("", exc, ("source",))]
        raise ScaffoldError("; ".join(problems)) from None
    head = [f"# yaml-language-server: $schema={schema}"] if schema else [
        "# For editor checks, write the schema beside this file (diplo seed-schema > seed.schema.json) and add:",
        "# # yaml-language-server: $schema=seed.schema.json",
    ]  # fmt: skip
    head.append("# One source's report: seed only what it says; say in a comment whatever you inferred.")
    block = seed_yaml({"source": source})
    # Text that ends in blank lines is a `|+` block, which keeps every line break up to the next line with
    # content: the dumper ends the document after it (`...`), which would end the file there, and a blank line
    # after it would join the text. So the marker goes, and a comment follows the text at once.
    kept = block.endswith("\n...\n")
    body = [block.removesuffix("\n...\n" if kept else "\n")]
    for kind in RECORD_LISTS:
        gap = [] if kept and kind == RECORD_LISTS[0] else [""]
        body += [*gap, f"# {kind}: {NOTES[kind]}. For example (drop the [] and uncomment):", f"{kind}: []",
                 *_commented(kind)]  # fmt: skip
    content = "\n".join([*head, *body]) + "\n"
    report = parse_seed_text(content, "new.yaml")
    if report.errors:  # a value the dumper could not write back as given
        raise ScaffoldError("; ".join(f"{e.path}: {e.code}: {e.message}" for e in report.errors))
    if report.source != expected:
        raise ScaffoldError("the source block does not read back as given")  # pragma: no cover - a dumper bug
    return content

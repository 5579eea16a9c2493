"""Writing a database back out as seed files, one per source, each self-contained."""

from pathlib import Path
from typing import Any

import yaml

from .dataset import Dataset
from .models import Record


def _plain(record: Record) -> dict[str, Any]:
    return record.model_dump(mode="json", exclude_none=True, exclude_defaults=True)


def export_files(dataset: Dataset) -> dict[str, dict[str, Any]]:
    """Seed file contents by file name: each source's file holds its meetings and statements and every person,
    organization and topic they refer to (repeats across files are identical, which the rules allow)."""
    files: dict[str, dict[str, Any]] = {}
    used: dict[str, set[str]] = {kind: set() for kind in ("persons", "organizations", "topics")}
    by_source: dict[str, dict[str, list[Record]]] = {
        key: {kind: [] for kind in ("persons", "organizations", "topics", "meetings", "statements")}
        for key in dataset.sources
    }
    for meeting in dataset.meetings.values():
        home = by_source[meeting.sources[0]]
        home["meetings"].append(meeting)
        home["topics"].extend(dataset.topics[t] for t in meeting.topics)
        for delegation in meeting.delegations:
            people = [delegation.head] if delegation.head else []
            home["persons"].extend(dataset.persons[p] for p in people + delegation.members)
    for statement in dataset.statements.values():
        home = by_source[statement.source]
        home["statements"].append(statement)
        home["topics"].extend(dataset.topics[t] for t in statement.topics)
        if statement.speaker:
            home["persons"].append(dataset.persons[statement.speaker])
        if statement.organization:
            home["organizations"].append(dataset.organizations[statement.organization])
    for records in by_source.values():
        for kind, seen in used.items():
            seen.update(r.key for r in records[kind])
    if by_source:  # records nothing refers to travel with the first source, so none is lost
        first = by_source[min(by_source)]
        for kind, seen in used.items():
            first[kind].extend(r for key, r in dataset.records[kind].items() if key not in seen)
    for source_key, records in sorted(by_source.items()):
        content: dict[str, Any] = {"source": _plain(dataset.sources[source_key])}
        for kind, items in records.items():
            unique = {r.key: r for r in items}
            if unique:
                content[kind] = [_plain(r) for _, r in sorted(unique.items())]
        files[f"{source_key}.yaml"] = content
    return files


class _SeedDumper(yaml.SafeDumper):
    """Multi-line text (a source's full text, summaries) as readable `|` blocks."""


def _str(dumper: yaml.SafeDumper, value: str) -> yaml.Node:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_SeedDumper.add_representer(str, _str)


def export_seeds(dataset: Dataset, outdir: Path) -> list[Path]:
    outdir.mkdir(parents=True, exist_ok=True)
    written = []
    for name, content in export_files(dataset).items():
        path = outdir / name
        path.write_text(
            yaml.dump(content, Dumper=_SeedDumper, allow_unicode=True, sort_keys=False, width=110), encoding="utf-8"
        )
        written.append(path)
    return written

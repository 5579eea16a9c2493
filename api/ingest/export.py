"""Writing a database back out as seed files: each source's own report in its own file.

A file holds exactly what its source reported (its reports, read back from the report tables), so loading the
files gives the same database, and each file is one source's report as a data team would write it.
"""

import json
import os
import shutil
import sqlite3
import tempfile
from pathlib import Path
from typing import Any

import yaml
from sqlite_utils import Database

from .. import store
from .reports import REPORT_TABLES
from .seeds import CORE_SCHEMA, RECORD_LISTS


def _plain(values: dict[str, Any], json_columns: tuple[str, ...] = ()) -> dict[str, Any]:
    """A record as a seed file writes it: JSON columns decoded, nothing empty or unset."""
    decoded = {k: json.loads(v) if k in json_columns else v for k, v in values.items()}
    return {k: v for k, v in decoded.items() if v is not None and v != [] and v != {}}


def _rows(conn: sqlite3.Connection, sql: str, *params: Any) -> list[dict[str, Any]]:
    cursor = conn.execute(sql, params)
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor]


def _grouped(conn: sqlite3.Connection, sql: str, source: str) -> dict[Any, list[Any]]:
    """`SELECT group..., value` rows as {group: [value, ...]}, for one source."""
    groups: dict[Any, list[Any]] = {}
    for row in conn.execute(sql, (source,)):
        groups.setdefault(row[0] if len(row) == 2 else tuple(row[:-1]), []).append(row[-1])
    return groups


def source_report(conn: sqlite3.Connection, source: str) -> dict[str, Any]:
    """What `source` reported, as the content of its seed file."""
    (row,) = _rows(conn, "SELECT * FROM sources WHERE key = ?", source)
    content: dict[str, Any] = {"source": _plain(row, ("via",))}
    topics = _grouped(
        conn, "SELECT meeting, topic FROM meeting_report_topics WHERE source = ? ORDER BY position", source
    )
    members = _grouped(
        conn,
        "SELECT meeting, country, person FROM delegation_report_members WHERE source = ? ORDER BY position",
        source,
    )
    delegations = _grouped(
        conn,
        "SELECT meeting, json_object('country', country, 'head', head, 'head_role', head_role) "
        "FROM delegation_reports WHERE source = ? ORDER BY position",
        source,
    )
    statement_topics = _grouped(
        conn,
        "SELECT st.statement, st.topic FROM statement_topics st JOIN statements s ON s.key = st.statement "
        "WHERE s.source = ? ORDER BY st.position",
        source,
    )
    # In the order a seed file lists them.
    for table in sorted((t for t in REPORT_TABLES if t.record), key=lambda t: RECORD_LISTS.index(t.kind)):
        kind, key = table.kind, table.key
        records = []
        for values in _rows(conn, f"SELECT * FROM {table.name} WHERE source = ? ORDER BY {key}", source):
            record = {"key": values.pop(key), **_plain(values, table.json)}
            record.pop("source")
            record.pop("skeleton", None)  # derived from the name, for finding duplicates
            if kind == "meetings":
                record["topics"] = topics.get(record["key"], [])
                record["delegations"] = [
                    _plain({**(d := json.loads(text)), "members": members.get((record["key"], d["country"]), [])})
                    for text in delegations.get(record["key"], [])
                ]
            elif kind == "statements":
                record["topics"] = statement_topics.get(record["key"], [])
            records.append(_plain(record))
        if records:
            content[kind] = records
    return content


class _SeedDumper(yaml.SafeDumper):
    """Multi-line text (a source's full text, summaries) as readable `|` blocks."""


def _str(dumper: yaml.SafeDumper, value: str) -> yaml.Node:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_SeedDumper.add_representer(str, _str)
# Quote every string that YAML 1.1 or 1.2 would read back as something else (`1e3`, `0o17`, `NO`).
for _tag, _pattern, _first in CORE_SCHEMA:
    _SeedDumper.add_implicit_resolver(_tag, _pattern, _first)


def seed_yaml(content: dict[str, Any]) -> str:
    """Seed file content as YAML that reads back the same under YAML 1.2's core schema."""
    return yaml.dump(content, Dumper=_SeedDumper, allow_unicode=True, sort_keys=False, width=110)


class ExportError(Exception):
    """The export cannot be written where asked."""


def export_seeds(db_path: Path, outdir: Path, *, replace: bool = False) -> list[Path]:
    """Write one seed file per source of the database at `db_path` into `outdir`, all or nothing.

    The files are written into a temporary folder beside `outdir` and renamed into place, so a failure (a full
    disk) leaves either the complete export or nothing. An existing `outdir` that is not empty is refused unless
    `replace`, which swaps the new export in and only then removes the old one.
    """
    if outdir.exists() and (not outdir.is_dir() or (any(outdir.iterdir()) and not replace)):
        raise ExportError(f"{outdir} exists and is not empty: choose another folder, or --replace it")
    outdir.parent.mkdir(parents=True, exist_ok=True)
    building = Path(tempfile.mkdtemp(dir=outdir.parent, prefix=f".{outdir.name}.diplo-export-"))
    try:
        names = _write_all(db_path, building)
        _publish(building, outdir)
    except BaseException:
        shutil.rmtree(building, ignore_errors=True)
        raise
    return [outdir / name for name in names]


def _write_all(db_path: Path, directory: Path) -> list[str]:
    names = []
    conn = store.connect_readonly(db_path)
    try:
        conn.execute("BEGIN")  # one snapshot, even with a load committing meanwhile
        store.schema_version(Database(conn, execute_plugins=False))
        for (source,) in conn.execute("SELECT key FROM sources ORDER BY key").fetchall():
            text = seed_yaml(source_report(conn, source))
            with open(directory / f"{source}.yaml", "w", encoding="utf-8") as file:
                file.write(text)
                file.flush()
                os.fsync(file.fileno())  # durable before the rename publishes it
            names.append(f"{source}.yaml")
    finally:
        conn.close()
    return names


def _publish(building: Path, outdir: Path) -> None:
    """Rename the finished export into place; an old one is moved aside first and removed after."""
    if not outdir.exists():
        building.rename(outdir)
        return
    old = outdir.with_name(f".{outdir.name}.diplo-replaced-{os.getpid()}")
    outdir.rename(old)
    try:
        building.rename(outdir)
    except BaseException:
        old.rename(outdir)
        raise
    shutil.rmtree(old, ignore_errors=True)

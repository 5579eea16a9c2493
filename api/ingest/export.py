"""Writing a database back out as seed files: each source's own report in its own file.

A file holds exactly what its source reported (its reports and their evidence, read back from the report tables),
so loading the files gives the same database, and each file is one source's report as a data team would write it.
Every evidence quote can also be written as a W3C Web Annotation (`annotation_collection`).
"""

import bisect
import json
import os
import shutil
import sqlite3
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import yaml
from pydantic_core import PydanticCustomError
from sqlite_utils import Database

from .. import store
from ..vocabulary import LABEL_MAX_LENGTH, Basis, StatementKind
from .evidence import Folded, TextQuote, normalise
from .merge import ADDRESS
from .models import RECORD_TYPES, check_label, check_statement_text
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


def _seed_fields(values: dict[str, Any], kind: str) -> dict[str, Any]:
    """Only what a seed file of `kind` records gives: a column derived from them (the text's digest, a name's
    skeleton) is the store's, and a file that gave it would be refused."""
    fields = RECORD_TYPES[kind].model_fields
    return {k: v for k, v in values.items() if k in fields}


def source_report(conn: sqlite3.Connection, source: str) -> dict[str, Any]:
    """What `source` reported, as the content of its seed file."""
    (row,) = _rows(conn, "SELECT * FROM sources WHERE key = ?", source)
    evidence = _written_evidence(conn, source, row["text"])
    content: dict[str, Any] = {
        "source": _plain({**_seed_fields(row, "sources"), "evidence": evidence.get(("source", source))}, ("via",))
    }
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
        "SELECT statement, topic FROM statement_report_topics WHERE source = ? ORDER BY position",
        source,
    )
    # In the order a seed file lists them.
    for table in sorted((t for t in REPORT_TABLES if t.record), key=lambda t: RECORD_LISTS.index(t.kind)):
        kind, key = table.kind, table.key
        records = []
        for values in _rows(conn, f"SELECT * FROM {table.name} WHERE source = ? ORDER BY {key}", source):
            values = {"key": values.pop(key), **values}
            values.pop("source")  # the file's own
            record = _plain(_seed_fields(values, kind), table.json)
            if kind == "meetings":
                record["topics"] = topics.get(record["key"], [])
                record["delegations"] = [
                    _plain({**(d := json.loads(text)), "members": members.get((record["key"], d["country"]), []),
                            "evidence": evidence.get(("delegation", f"{record['key']}/{d['country']}"))})
                    for text in delegations.get(record["key"], [])
                ]  # fmt: skip
            elif kind == "statements":
                record["topics"] = statement_topics.get(record["key"], [])
            record["evidence"] = evidence.get((EVIDENCE_KIND_OF_LIST[kind], record["key"]))
            records.append(_plain(record))
        if records:
            content[kind] = records
    return content


def editorial_file(conn: sqlite3.Connection, key: str) -> dict[str, Any]:
    """The editors' file `key`, as its seed file gives it."""
    decisions = []
    sql = "SELECT kind, record, country, seed_field, prefer, note FROM decisions WHERE editorial = ? ORDER BY position"
    for kind, record, country, seed_field, prefer, note in conn.execute(sql, [key]):
        where: Any = {"meeting": record, "country": country} if country else record
        decisions.append({ADDRESS[kind]: where, "field": seed_field, "prefer": prefer, "note": note})
    return {"editorial": {"key": key, "decisions": decisions}}


# The record kind evidence is stored under, by the record list that holds the record.
EVIDENCE_KIND_OF_LIST = {"sources": "source", "persons": "person", "organizations": "organization", "topics": "topic",
                  "meetings": "meeting", "statements": "statement"}  # fmt: skip


def _written_evidence(conn: sqlite3.Connection, source: str, text: str | None) -> dict[tuple[str, str], dict[str, Any]]:
    """Each record's evidence as the seed file writes it, by (record kind, record key), in the stored order: the
    shortest form that loads back the same, and without a direct quote's evidence of its own text, which a load
    gives it again."""
    quotes: dict[tuple[str, str, str], list[TextQuote]] = {}
    for kind, record, seed_field, *selector in conn.execute(
        "SELECT kind, record, seed_field, exact, prefix, suffix, start_offset, end_offset FROM evidence_quotes "
        "WHERE source = ? ORDER BY kind, record, seed_field, position",
        (source,),
    ):
        quotes.setdefault((kind, record, seed_field), []).append(TextQuote(*selector))
    entries = _rows(
        conn,
        "SELECT kind, record, seed_field, basis, note FROM evidence WHERE source = ? AND NOT derived "
        "ORDER BY kind, record, position",
        source,
    )
    if not entries:
        return {}
    direct_quotes = dict(conn.execute(
        "SELECT statement, text FROM statement_reports WHERE source = ? AND kind = ?",
        (source, StatementKind.DIRECT_QUOTE.value),
    ).fetchall())  # fmt: skip
    last = {(e["kind"], e["record"]): e["seed_field"] for e in entries}
    folded = Folded.of(text) if text is not None else None  # every quote was found in it
    written: dict[tuple[str, str], dict[str, Any]] = {}
    for e in entries:
        kind, record, seed_field, basis = e["kind"], e["record"], e["seed_field"], Basis(e["basis"])
        found = quotes.get((kind, record, seed_field), [])
        if (
            kind == "statement" and seed_field == "text" and last[kind, record] == "text" and record in direct_quotes
            and _automatic(direct_quotes[record], found, basis, e["note"], folded)
        ):  # fmt: skip
            continue
        where = f"the evidence of {kind} {record!r}'s {seed_field} in source {source!r}"
        written.setdefault((kind, record), {})[seed_field] = _support(found, basis, e["note"], folded, where)
    return written


def _automatic(statement_text: str, quotes: list[TextQuote], basis: Basis, note: str | None,
               folded: Folded | None) -> bool:  # fmt: skip
    """Whether a direct quote's `text` evidence is the one a load gives it: its own text, first found in the
    source's, stated, without a note. (A load adds it after the statement's own evidence, hence the last one.)"""
    if basis is not Basis.STATED or note is not None or len(quotes) != 1 or folded is None:
        return False
    wanted = normalise(statement_text)
    places = folded.occurrences(wanted)
    return bool(places) and folded.span(places[0], len(wanted)) == (quotes[0].start, quotes[0].end)


def _support(
    quotes: list[TextQuote], basis: Basis, note: str | None, folded: Folded | None, where: str
) -> str | list[str] | dict[str, Any]:
    """One fact's evidence as a seed file writes it: a quote, a list of quotes, or the mapping when it needs more."""
    words = [_quote_words(q.exact) for q in quotes]
    context = _context(folded, quotes, where) if quotes and folded is not None else {}
    if basis is Basis.STATED and note is None and not context:
        return words[0] if len(words) == 1 else words
    support: dict[str, Any] = {"quote": words[0] if len(words) == 1 else words} if words else {}
    support |= context
    if basis is not Basis.STATED:
        support["basis"] = basis.value
    if note is not None:
        support["note"] = note
    return support


def _quote_words(exact: str) -> str:
    """A quote as the file writes it: the source's own words, as stored; folded (whitespace, quote marks) when
    they break a quote's rule (a source's text may hold a carriage return, or runs of spaces past a quote's
    length), which matches the same words again."""
    try:
        return check_statement_text(exact)
    except PydanticCustomError:
        return normalise(exact)


def _context(folded: Folded, quotes: list[TextQuote], where: str) -> dict[str, str]:
    """The `prefix` or `suffix` that picks each quote's stored place, when a quote occurs more than once in the
    text: the stored context (what the quotes' contexts share, as one prefix or suffix serves them all), else a
    longer one from the text; whole words where they do. Checked as a load finds quotes (`evidence._find`)."""
    wanted = [normalise(q.exact) for q in quotes]
    places = [folded.occurrences(w) for w in wanted]
    if all(len(p) == 1 for p in places):
        return {}
    # Where each quote starts in the folded text, and the folded text before and after each place it occurs.
    target = [bisect.bisect_left(folded.offsets, q.start) for q in quotes]
    reach = 2 * LABEL_MAX_LENGTH
    before = [{at: folded.text[max(0, at - reach) : at].rstrip() for at in p} for p in places]
    after = [
        {at: folded.text[at + len(w) : at + len(w) + reach].lstrip() for at in p}
        for p, w in zip(places, wanted, strict=True)
    ]

    def picks(prefix: str | None, suffix: str | None) -> bool:
        for i, candidates in enumerate(places):
            kept = [at for at in candidates if (prefix is None or before[i][at].endswith(prefix))
                    and (suffix is None or after[i][at].startswith(suffix))]  # fmt: skip
            if kept != [target[i]]:
                return False
        return True

    # Suffixes are found as prefixes of the reversed text.
    stored_prefix = _common_suffix([normalise(q.prefix) for q in quotes])
    stored_suffix = _common_prefix([normalise(q.suffix) for q in quotes])[::-1]
    shared_before = _common_suffix([before[i][at] for i, at in enumerate(target)])
    shared_after = _common_prefix([after[i][at] for i, at in enumerate(target)])[::-1]
    prefixes, longer_prefixes, every_prefix = _ends(shared_before, stored_prefix)
    suffixes, longer_suffixes, every_suffix = (
        [c[::-1] for c in found] for found in _ends(shared_after, stored_suffix)
    )  # fmt: skip
    tries = [
        *((p, None) for p in prefixes), *((None, s) for s in suffixes),
        *((p, None) for p in longer_prefixes), *((None, s) for s in longer_suffixes),
        *zip(every_prefix, every_suffix, strict=True),
    ]  # fmt: skip
    for prefix, suffix in tries:
        if (prefix is None or _is_label(prefix)) and (suffix is None or _is_label(suffix)) and picks(prefix, suffix):
            return {name: value for name, value in (("prefix", prefix), ("suffix", suffix)) if value is not None}
    raise ExportError(f"cannot write {where}: no prefix or suffix picks its quotes' places in the text")


def _ends(shared: str, stored: str) -> tuple[list[str], list[str], list[str]]:
    """Prefixes to try, each an end of `shared` (the folded text just before every quote): from the stored
    context (in whole words, then as stored), then longer ones in whole words, shortest first; and every length up
    to a label's, so that some pair of a prefix and a suffix picks the places whenever the seed's own did."""

    def whole(n: int) -> bool:  # the last `n` characters start a word
        return n >= len(shared) or shared[-n - 1] == " "

    stored = stored.strip()
    words = stored.split(" ", 1)[1] if not whole(len(stored)) and " " in stored else stored
    longer = [shared[-n:].strip() for n in range(1, LABEL_MAX_LENGTH + 1) if whole(n)]
    every = [shared[-n:].strip() for n in range(1, LABEL_MAX_LENGTH + 1)]
    return list(dict.fromkeys([words, stored])), list(dict.fromkeys(longer)), every


def _is_label(value: str) -> bool:
    try:
        check_label(value)
    except PydanticCustomError:
        return False
    return True


def _common_prefix(values: list[str]) -> str:
    low, high = min(values), max(values)  # what these two share, every value between them does
    shared = next((i for i, (a, b) in enumerate(zip(low, high, strict=False)) if a != b), min(len(low), len(high)))
    return low[:shared]


def _common_suffix(values: list[str]) -> str:
    return _common_prefix([v[::-1] for v in values])[::-1]


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


def export_seeds(db_path: Path, outdir: Path, *, replace: bool = False, annotations: Path | None = None) -> list[Path]:
    """Write one seed file per source of the database at `db_path` into `outdir`, all or nothing; with
    `annotations`, also every evidence quote as a Web Annotation into that file, from the same snapshot.

    The files are written into a temporary folder (and file) beside `outdir` (and `annotations`) and renamed into
    place, so a failure (a full disk) leaves either the complete export or nothing. An existing `outdir` that is not
    empty, or an existing `annotations` file, is refused unless `replace`, which swaps the new export in and only
    then removes the old one.
    """
    if outdir.exists() and (not outdir.is_dir() or (any(outdir.iterdir()) and not replace)):
        raise ExportError(f"{outdir} exists and is not empty: choose another folder, or --replace it")
    if annotations is not None:
        if annotations.resolve().is_relative_to(outdir.resolve()):
            raise ExportError(f"{annotations} is inside {outdir}, which the export replaces whole: write it elsewhere")
        if annotations.is_dir():
            raise ExportError(f"{annotations} is a folder: name a file for the annotations")
        if annotations.exists() and not replace:
            raise ExportError(f"{annotations} exists: choose another file, or --replace it")
        annotations.parent.mkdir(parents=True, exist_ok=True)
    outdir.parent.mkdir(parents=True, exist_ok=True)
    building = Path(tempfile.mkdtemp(dir=outdir.parent, prefix=f".{outdir.name}.diplo-export-"))
    annotating = None
    try:
        if annotations is not None:
            handle, name = tempfile.mkstemp(dir=annotations.parent, prefix=f".{annotations.name}.diplo-export-")
            os.close(handle)
            annotating = Path(name)
        names = _write_all(db_path, building, annotating)
        _publish(building, outdir)
        if annotating is not None and annotations is not None:
            annotating.replace(annotations)  # one rename after the seeds' own: nothing else is left to fail
    except BaseException:
        shutil.rmtree(building, ignore_errors=True)
        if annotating is not None:
            annotating.unlink(missing_ok=True)
        raise
    return [outdir / name for name in names]


def _write_all(db_path: Path, directory: Path, annotations: Path | None) -> list[str]:
    names = []
    conn = store.connect_readonly(db_path)
    try:
        conn.execute("BEGIN")  # one snapshot, even with a load committing meanwhile
        store.schema_version(Database(conn, execute_plugins=False))
        for (source,) in conn.execute("SELECT key FROM sources ORDER BY key").fetchall():
            _write_durably(directory / f"{source}.yaml", [seed_yaml(source_report(conn, source))])
            names.append(f"{source}.yaml")
        for (editorial,) in conn.execute("SELECT key FROM editorials ORDER BY key").fetchall():
            _write_durably(directory / f"{editorial}.yaml", [seed_yaml(editorial_file(conn, editorial))])
            names.append(f"{editorial}.yaml")
        if annotations is not None:
            _write_durably(annotations, annotation_collection(conn))
    finally:
        conn.close()
    return names


def _write_durably(path: Path, parts: Iterable[str]) -> None:
    with open(path, "w", encoding="utf-8") as file:
        for part in parts:
            file.write(part)
        file.flush()
        os.fsync(file.fileno())  # durable before the rename publishes it


# --- Web Annotations ------------------------------------------------------------------------------------------

ANNOTATION_CONTEXT = "http://www.w3.org/ns/anno.jsonld"
# The terms the annotations' bodies add to the Web Annotation vocabulary, as JSON-LD reads them.
DIPLO_TERMS = {
    "diplo": "urn:diplo:terms:",
    "Evidence": "diplo:Evidence",
    "record": "diplo:record",  # the record's GraphQL id, a string (not an IRI)
    "field": "diplo:field",
    "basis": "diplo:basis",
    "note": "diplo:note",
}
# `linking`: the body, a fact of a record, is a resource related to the passage. Not `identifying` (the passage
# need not name the record: "on Thursday" supports a date), nor `describing` or `commenting` (the body says nothing
# about the passage itself).
MOTIVATION = "linking"
GRAPHQL_TYPES = {"source": "Source", "person": "Person", "organization": "Organization", "topic": "Topic",
                 "meeting": "Meeting", "delegation": "Delegation", "statement": "Statement"}  # fmt: skip


def annotation_collection(conn: sqlite3.Connection) -> Iterator[str]:
    """Every evidence quote of the database as a W3C Web Annotation, in an `AnnotationCollection` whose one page,
    embedded as `first`, holds them: JSON-LD text, one annotation a line, written as the rows are read."""
    from ..graphql.ids import global_id  # the API's ids: imported here, so that a plain export needs no GraphQL

    collection = f"urn:diplo:annotations:{store.build_id(conn) or 'unrecorded'}"
    (total,) = conn.execute("SELECT count(*) FROM evidence_quotes").fetchone()
    head = {
        "@context": [ANNOTATION_CONTEXT, DIPLO_TERMS],
        "id": collection,
        "type": "AnnotationCollection",
        "label": "How the facts of Diplo's records are known: the passages of their sources that support them",
        "total": total,
    }
    if not total:  # a page holds one annotation or more: a collection of none has no page
        yield json.dumps(head, ensure_ascii=False, indent=2) + "\n"
        return
    page = f"{collection}:page:0"
    # The head as JSON, cut where the embedded page goes, so that its items can be written as they are read.
    opening, closing = json.dumps({**head, "first": "PAGE", "last": page}, ensure_ascii=False, indent=2).split('"PAGE"')
    first = {"id": page, "type": "AnnotationPage", "partOf": collection, "startIndex": 0}
    yield opening + json.dumps(first, ensure_ascii=False).removesuffix("}") + ', "items": [\n'
    cursor = conn.execute(
        "SELECT q.source, s.url, q.kind, q.record, q.seed_field, q.position, e.field, e.basis, e.note, q.exact, "
        "q.prefix, q.suffix, q.start_offset, q.end_offset FROM evidence_quotes q "
        "JOIN evidence e USING (source, kind, record, seed_field) JOIN sources s ON s.key = q.source "
        "ORDER BY q.source, q.kind, q.record, e.position, q.position"
    )
    names = [d[0] for d in cursor.description]
    for n, values in enumerate(cursor):
        row = dict(zip(names, values, strict=True))
        annotation = _annotation(row, str(global_id(GRAPHQL_TYPES[row["kind"]], row["record"])))
        yield ("    " if n == 0 else ",\n    ") + json.dumps(annotation, ensure_ascii=False)
    yield "\n  ]}" + closing + "\n"


def _annotation(quote: dict[str, Any], record_id: str) -> dict[str, Any]:
    """One evidence quote (a row of `evidence_quotes` with its evidence's field, basis and note, and its source's
    url) as a Web Annotation: its body the fact it supports, its target the passage."""
    evidence = f"{quote['source']}:{quote['kind']}:{quote['record']}:{quote['seed_field']}"
    body = {"id": f"urn:diplo:evidence:{evidence}", "type": "Evidence", "record": record_id, "field": quote["field"],
            "basis": quote["basis"], "note": quote["note"]}  # fmt: skip
    words = {"type": "TextQuoteSelector", "exact": quote["exact"], "prefix": quote["prefix"], "suffix": quote["suffix"]}
    return {
        "id": f"urn:diplo:annotation:{evidence}:{quote['position']}",
        "type": "Annotation",
        "motivation": MOTIVATION,
        "body": {k: v for k, v in body.items() if v is not None},
        "target": {
            "type": "SpecificResource",
            "source": quote["url"] or f"urn:diplo:source:{quote['source']}",
            "selector": [
                {k: v for k, v in words.items() if v != ""},  # no context at either end of the text
                {"type": "TextPositionSelector", "start": quote["start_offset"], "end": quote["end_offset"]},
            ],
        },
    }


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

"""Validating and loading seeds: each file replaces what its source reported, inside one transaction.

A load reads the seed files (`diplo.ingest.prepare`; in worker processes when they are many, `diplo.ingest.workers`):
each file's records are checked against their own rules and the rules within the file, and turned into rows. An
existing database is opened for writing only once every file is read and passes those rules, so a load they refuse
leaves the file untouched; when every file's digest is the one the database keeps for its source (and nothing is
pruned or removed), nothing would change and the file is only read. A new database is built aside while the files
are read. In one transaction, each file is written as that source's reports, replacing what it reported before
(only the difference is written); then the records whose reports changed are merged again (`diplo.ingest.merge`)
and the rules between records are checked in SQL over what changed (`diplo.ingest.crosscheck`). Any error rolls
everything back, so a failed load changes nothing. Memory holds a few files, never the whole dataset: the keys a load
touched are kept in a temporary table.
"""

import gc
import json
import sqlite3
import tempfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import closing, contextmanager
from dataclasses import dataclass, field
from itertools import chain
from pathlib import Path
from typing import Any

from .. import store
from . import crosscheck, publish, workers
from .duplicates import possible_duplicates
from .merge import RECORD_TABLES, REPORT_TABLE, Merged, Report, ReportOrder, merge, reports_from
from .models import SEED_FILE_MAX_BYTES
from .positions import Locator
from .prepare import Prepared, Progress, Reading
from .reports import REPORT_TABLES
from .rules import MAX_ERRORS, WARNINGS, Bounded, Finding, Place, SeedError, SeedErrors
from .seeds import RECORD_LISTS, RecordKind, SeedReport, read_seed_file, seed_paths

KINDS: tuple[RecordKind, ...] = ("sources", *RECORD_LISTS, "editorials")
CHANGES = ("added", "changed", "removed")
WAIT = 60.0  # seconds a load waits for another one writing to the same database
SWITCH_WAIT = 2.0  # seconds a load waits, at its end, to have the file to itself (see publish.self_contained)
SAMPLE = 1000  # keys kept per list in a change report; the counts are always exact
CACHE_KIB = 100_000  # a load's page cache
SORT_KIB = 40_000  # its page cache while a new database's indexes are made
DUPLICATES: tuple[RecordKind, ...] = ("persons", "organizations")  # the record types checked for possible duplicates


@dataclass
class KeyList:
    """The keys of one kind of change: an exact count, and the first `SAMPLE` keys."""

    count: int = 0
    keys: list[str] = field(default_factory=list)

    def extend(self, keys: list[str]) -> None:
        self.count += len(keys)
        self.keys += keys[: SAMPLE - len(self.keys)]


@dataclass(frozen=True)
class Coverage:
    """How many of a file's facts have evidence or a basis."""

    covered: int
    facts: int

    def __str__(self) -> str:
        return f"evidence: {self.covered} of {self.facts} facts"


@dataclass
class LoadResult:
    """What a load changed (or, for a dry run or a validation, would change): per change and record type."""

    changes: dict[str, dict[RecordKind, KeyList]] = field(
        default_factory=lambda: {change: {kind: KeyList() for kind in KINDS} for change in CHANGES}
    )
    files: int = 0
    written: bool = False
    # For each changed record (the first `SAMPLE` per type): its fields that changed, old and new value.
    diffs: dict[RecordKind, dict[str, dict[str, tuple[Any, Any]]]] = field(default_factory=dict)
    warnings: list[SeedError] = field(default_factory=list)  # possible mistakes (`rules.WARNINGS`), not errors
    evidence: dict[str, Coverage] = field(default_factory=dict)  # per file read
    notices: list[SeedError] = field(default_factory=list)  # what was understood where it could surprise

    def total(self, change: str) -> int:
        return sum(keys.count for keys in self.changes[change].values())

    @property
    def added(self) -> int:
        return self.total("added")

    @property
    def changed(self) -> int:
        return self.total("changed")

    @property
    def removed(self) -> int:
        return self.total("removed")

    def diff_lines(self) -> list[str]:
        """Each changed field as a reviewer reads it: `persons KEY: name 'Old' → 'New'`."""
        return [
            f"{kind} {key}: "
            + "; ".join(f"{name} {_shown(old)} → {_shown(new)}" for name, (old, new) in fields.items())
            for kind, records in self.diffs.items()
            for key, fields in records.items()
        ]

    def as_dict(self) -> dict[str, Any]:
        return {
            "written": self.written,
            "diffs": {
                kind: {
                    key: {name: {"old": old, "new": new} for name, (old, new) in fields.items()}
                    for key, fields in records.items()
                }
                for kind, records in self.diffs.items()
                if records
            },
            "files": self.files,
            "warnings": [w.as_dict() for w in self.warnings],
            "notices": [n.as_dict() for n in self.notices],
            "evidence": {file: {"covered": c.covered, "facts": c.facts} for file, c in self.evidence.items()},
            **{
                change: {kind: {"count": k.count, "keys": k.keys} for kind, k in kinds.items() if k.count}
                for change, kinds in self.changes.items()
            },
        }


def _shown(value: Any) -> str:
    return "(none)" if value is None else repr(value) if isinstance(value, str) else str(value)


# A merged record's columns a change report leaves out: derived from the others (a date's span from its text, the
# folded name or label a listing sorts by).
_DERIVED = ("_earliest", "_latest", "_precision", "_approximate", "_uncertain", "_day", "sort_name")


def _diff(names: Sequence[str], old: Sequence[Any], new: Sequence[Any]) -> dict[str, tuple[Any, Any]]:
    """The fields of a record whose value changed, by their seed names."""
    aliases = {"aliases", "labels"}  # JSON text: shown decoded
    changed = {}
    for name, before, after in zip(names, old, new, strict=True):
        if before != after and not name.endswith(_DERIVED):
            if name in aliases:
                before, after = json.loads(before), json.loads(after)
            changed[name] = (before, after)
    return changed


class _Load:
    """One load's state: which sources it wrote, which records it touched, and what went wrong."""

    def __init__(self, conn: sqlite3.Connection, label: str, max_errors: int = 1000, strict: bool = False,
                 bulk: bool = False) -> None:  # fmt: skip
        self.conn = conn
        self.bulk = bulk  # a new database: its indexes are made and its foreign keys checked at the end (`_run`)
        self.label = label
        self.strict = strict  # warnings are errors
        self.files: dict[str, str] = {}  # source key -> the file that reported it in this load
        # The records a load merges are kept in the temporary table `changed`, not in memory: a first load merges
        # every record, and the rules between records read them from there (`crosscheck`).
        conn.execute(crosscheck.TEMP_TABLES["changed"])
        conn.execute("DELETE FROM temp.changed")
        self.ignored: dict[RecordKind, set[str]] = {kind: set() for kind in KINDS}
        self.removed: dict[RecordKind, set[str]] = {kind: set() for kind in REPORT_TABLE}
        self.added: dict[RecordKind, set[str]] = {kind: set() for kind in DUPLICATES}  # checked for duplicates
        self.errors = Bounded[SeedError | Finding](max_errors)  # findings are located at the end
        self.result = LoadResult()
        self.order = ReportOrder(conn)
        self.locator = Locator()
        self.digests: dict[str, str | None] = {}  # source key -> the digest of what it reports now (None: removed)
        self.changing: set[str] = set()  # sources (and editorial files) whose report this load changes
        self.warnings: list[Finding] = []  # found by merging (`editorial.stale`)
        self.rowids_before = {
            kind: conn.execute(f"SELECT ifnull(max(rowid), 0) FROM {kind}").fetchone()[0] for kind in REPORT_TABLE
        }

    def touch(self, kind: RecordKind, keys: Iterable[str], pending: bool = True) -> None:
        """Mark records of `kind` to be merged again at the end (`pending`), or as merged already."""
        if pending:
            sql = "INSERT INTO temp.changed (kind, key) VALUES (?, ?) ON CONFLICT DO UPDATE SET pending = 1"
        else:
            sql = "INSERT OR IGNORE INTO temp.changed (kind, key, pending) VALUES (?, ?, 0)"
        self.conn.executemany(sql, ((kind, key) for key in keys))

    def record(self, change: str, kind: RecordKind, keys: Iterable[str]) -> None:
        self.result.changes[change][kind].extend(sorted(keys))

    # --- writing one source's reports ---------------------------------------------------------------------

    def add_file(self, prepared: Prepared) -> None:
        for kind, keys in prepared.ignored.items():
            self.ignored[kind].update(keys)
        if prepared.source is None:  # nothing can be written without its source (`prepare.Prepared`)
            return
        self.files[prepared.source] = prepared.file
        if store.stored_digest(self.conn, prepared.source) != prepared.digest:
            self.changing.add(prepared.source)
        if "editorials" in prepared.rows:
            if self._held_by("sources", prepared.source, prepared.file, "editorial.key"):
                return
            self.replace_editorial(prepared.source, prepared.rows, prepared.digest)
            return
        if self._held_by("editorials", prepared.source, prepared.file, "source.key"):
            return
        self.replace_source(prepared.source, prepared.source_row, prepared.rows, prepared.digest)

    def _held_by(self, table: str, key: str, file: str, path: str) -> bool:
        """Whether the database has `key` as the key of the other kind of file (`table`): a key is unique across
        sources and editorial files (`key.conflict`)."""
        if self.conn.execute(f"SELECT 1 FROM {table} WHERE key = ?", [key]).fetchone() is None:
            return False
        what = "a source" if table == "sources" else "an editorial file"
        self.errors.append(SeedError(file, path, "key.conflict", f"{key!r} is already the key of {what} in "
                                     f"{self.label}: a key is unique across sources and editorial files"))  # fmt: skip
        return True

    def replace_editorial(self, key: str, rows: dict[str, list[store.Values]] | None, digest: str | None) -> None:
        """Make the editors' file `key` hold exactly `rows` (None: removed); the records its decisions (old and new)
        address are merged again."""
        conn = self.conn
        self.digests[key] = digest
        new = rows["decisions"] if rows is not None else []
        existed = conn.execute("SELECT 1 FROM editorials WHERE key = ?", [key]).fetchone() is not None
        if rows is not None and not existed:
            conn.execute("INSERT INTO editorials (key) VALUES (?)", [key])
            self.record("added", "editorials", [key])
        gone, added = store.replace_rows(conn, "decisions", "editorial = ?", [key], new)
        names = store.columns("decisions")[0]
        kind_at, record_at = names.index("kind"), names.index("record")
        for row in chain(gone, added):
            self.touch("meetings" if row[kind_at] == "delegations" else row[kind_at], [row[record_at]])
        if rows is None:
            conn.execute("DELETE FROM editorials WHERE key = ?", [key])
            self.record("removed", "editorials", [key])
        elif existed and (gone or added):
            self.record("changed", "editorials", [key])

    def replace_source(
        self, key: str, new: store.Values | None, rows: dict[str, list[store.Values]], digest: str | None
    ) -> None:
        """Make `key`'s row `new` and its reports exactly `rows` (None and no rows: the source is removed)."""
        conn = self.conn
        if new is None:
            rows = {table.name: [] for table in REPORT_TABLES}
        self.digests[key] = digest
        names = store.columns("sources")[0]
        old = conn.execute(f"SELECT {', '.join(names)} FROM sources WHERE key = ?", [key]).fetchone()
        if old is not None and old != new:  # its publication time orders everything it reports: merge them again
            self.order.forget(key)
            for kind, (table, column) in REPORT_TABLE.items():
                sql = f"SELECT {column} FROM {table} WHERE source = ?"
                self.touch(kind, [k for (k,) in conn.execute(sql, [key])])
        if new is not None:
            store.replace_rows(conn, "sources", "key = ?", [key], [new])
            if old != new:
                self.record("added" if old is None else "changed", "sources", [key])
        reported: dict[RecordKind, set[str]] = {kind: set() for kind in REPORT_TABLE}
        for report_table in REPORT_TABLES:
            table, kind = report_table.name, report_table.kind
            index = store.columns(table)[0].index(report_table.key)
            # A source not in the database has no reports there: nothing to read back.
            gone_rows, added_rows = store.replace_rows(conn, table, report_table.where, [key], rows[table],
                                                       new=old is None)  # fmt: skip
            if kind in REPORT_TABLE:  # evidence changes no merged record: it is read by report
                reported[kind].update(row[index] for row in chain(gone_rows, added_rows))
        # Most records have one report, and it arrives with its source's file: merged now, from this file's rows,
        # their rows are written while the next files are read, not left for the end. A record already written,
        # or one whose merge waits for the end (`_found`, `ignored`), is merged at the end from all its reports.
        for kind, keys in reported.items():
            given = reports_from(kind, rows)
            first = keys.intersection(given) - self._recorded(kind, keys) - self.ignored[kind]
            self._merge_keys(kind, sorted(first), {k: given[k] for k in first})
            self.touch(kind, keys - first)
        if new is None:
            conn.execute("DELETE FROM sources WHERE key = ?", [key])
            self.record("removed", "sources", [key])

    def remove_source(self, key: str) -> None:
        if self.conn.execute("SELECT 1 FROM editorials WHERE key = ?", [key]).fetchone() is not None:
            self.files.setdefault(key, "")
            self.replace_editorial(key, None, None)
            return
        if self.conn.execute("SELECT 1 FROM sources WHERE key = ?", [key]).fetchone() is None:
            self.errors.append(SeedError(self.label, f"sources[key={key}]", "ref.unknown",
                                         f"no source or editorial file {key!r} in the database to remove"))  # fmt: skip
            return
        self.files.setdefault(key, "")
        self.replace_source(key, None, {}, None)

    def prune(self) -> None:
        """Remove every source that this load's files do not report."""
        sql = "SELECT key FROM sources UNION SELECT key FROM editorials ORDER BY key"
        for (key,) in self.conn.execute(sql).fetchall():
            if key not in self.files:
                self.remove_source(key)

    # --- merging and checking -----------------------------------------------------------------------------

    def finish(self) -> LoadResult:
        """Merge what changed, run the rules between records; raise `SeedErrors` with every error found."""
        for kind in REPORT_TABLE:
            self._merge(kind)
        if self.bulk:
            # SQLite sorts each index in up to the page cache's size of memory, beside the cache itself.
            self.conn.execute(f"PRAGMA cache_size = -{SORT_KIB}")
            store.create_indexes(self.conn)
            self.conn.execute(f"PRAGMA cache_size = -{CACHE_KIB}")
        self.errors.extend(
            crosscheck.check(self.conn, [k for k, file in self.files.items() if file], self.removed, self.ignored)
        )
        warnings: list[Finding | SeedError] = [*self.warnings]
        warnings += [w for kind in DUPLICATES for w in possible_duplicates(self.conn, kind, self.added[kind])]
        if self.strict:
            self.errors.extend(warnings)
            warnings = []
        self.result.warnings = sorted((self._located(w) for w in warnings), key=lambda w: (w.file, w.line, w.column))
        if self.errors.items or self.errors.more:
            located = [self._located(e) for e in self.errors.items]
            raise SeedErrors(located, more=self.errors.more, warnings=self.result.warnings)
        if self.bulk:  # the rules found no wrong reference; the database's own check agrees, or says what it missed
            store.check_foreign_keys(self.conn)
        return self.result

    def _merged_early(self, kind: RecordKind, keys: Sequence[str]) -> set[str]:
        """Which of `keys` are records this load added as their file was written (`replace_source`): their rows
        are the only ones written past the rowids the table had when the load began (records are only added until
        the end's merge)."""
        sql = f"SELECT key FROM {kind} WHERE key IN ({store.marks(keys)}) AND rowid > ?"
        return {k for (k,) in self.conn.execute(sql, [*keys, self.rowids_before[kind]])}

    def _recorded(self, kind: RecordKind, keys: Iterable[str]) -> set[str]:
        """Which of `keys` have a record."""
        found: set[str] = set()
        for chunk in store.chunks(list(keys)):
            found.update(k for (k,) in self.conn.execute(f"SELECT key FROM {kind} WHERE key IN ({store.marks(chunk)})",
                                                         chunk))  # fmt: skip
        return found

    def _merge(self, kind: RecordKind) -> None:
        # A chunk at a time, each read in full: a statement left reading would keep the file from leaving WAL mode
        # if the load is interrupted (`publish.self_contained`).
        sql = f"SELECT key FROM temp.changed WHERE kind = ? AND pending AND key > ? ORDER BY key LIMIT {store.CHUNK}"
        last = ""
        while chunk := [key for (key,) in self.conn.execute(sql, [kind, last]).fetchall()]:
            self._merge_keys(kind, chunk)
            last = chunk[-1]

    def _merge_keys(self, kind: RecordKind, keys: Sequence[str], reports: dict[str, list[Report]] | None = None
                    ) -> None:  # fmt: skip
        """Merge the records `keys` again from their reports, and record what changed. Given their `reports`, they
        are records not yet written, merged from those alone."""
        new = reports is not None
        for chunk in store.chunks(keys):
            given = {key: reports[key] for key in chunk} if reports is not None else None
            merged = merge(self.conn, kind, chunk, self.order, given)
            if given is not None:
                # What a first report's merge finds (a missing title, a stale decision) a report or a decision
                # still to come may settle: those records are merged at the end, with everything in.
                if later := self._found(merged, chunk):
                    self.touch(kind, later)
                    chunk = [key for key in chunk if key not in later]
                    if not chunk:
                        continue
                    merged = merge(self.conn, kind, chunk, self.order, {key: given[key] for key in chunk})
                self.touch(kind, chunk, pending=False)  # for the rules between records
            early = set() if new else self._merged_early(kind, chunk)
            diffed = {} if new else self._diffed_rows(kind, chunk)
            old_rows = {part: row for part, row in diffed.items() if part[0] not in early}
            before = {key for key, _ in old_rows}
            for table, column, kinds in RECORD_TABLES[kind]:
                where = f"{column} IN ({store.marks(chunk)})" + (
                    f" AND kind IN ({store.marks(kinds)})" if kinds else ""
                )
                _, added = store.replace_rows(self.conn, table, where, [*chunk, *kinds], merged.rows[table], new)
                if table == "statements":  # the full-text index of a statement row replaced (a trigger removes)
                    store.index_statements(self.conn, [row[0] for row in added])
            store.index_records(self.conn, kind, chunk)
            after = {row[0] for row in merged.rows[kind]} | merged.unwritable
            # A record with a report that could not be written may be right with it: its merge says nothing.
            for finding in merged.findings:
                if finding.code in WARNINGS:
                    self.warnings.append(finding)
                elif finding.place.kind == "decisions" or finding.place.key not in self.ignored[kind]:
                    self.errors.append(self._later(finding))
            self.ignored[kind] |= merged.unwritable
            self.removed[kind] |= before - after
            if kind in self.added:
                self.added[kind] |= after - before
            self.record("added", kind, after - before - early)
            self.record("changed", kind, after & before)
            self.record("removed", kind, before - after)
            if old_rows:  # a record changed only if it was there (a first load reads nothing back)
                self._diffs(kind, old_rows, self._diffed_rows(kind, sorted({key for key, _ in old_rows})))

    @staticmethod
    def _found(merged: Merged, keys: Sequence[str]) -> set[str]:
        """The keys whose merge found something (all of them, for a finding about a decision)."""
        if any(finding.place.kind == "decisions" for finding in merged.findings):
            return set(keys)
        return {finding.place.key for finding in merged.findings} | merged.unwritable

    def _diffed_rows(self, kind: RecordKind, keys: Sequence[str]) -> dict[tuple[str, str], dict[str, Any]]:
        """What a change report compares of `keys`' records, by (key, part): the record's fields (part ''), and
        for a meeting each delegation's head and role (part: its country)."""
        names = store.columns(kind)[0]
        sql = f"SELECT {', '.join(names)} FROM {kind} WHERE key IN ({store.marks(keys)})"
        found = {(row[0], ""): dict(zip(names, row, strict=True)) for row in self.conn.execute(sql, keys)}
        if kind == "meetings":
            sql = f"SELECT meeting, country, head, head_role FROM delegations WHERE meeting IN ({store.marks(keys)})"
            for meeting, country, head, role in self.conn.execute(sql, keys):
                found[meeting, country] = {"head": head, "head_role": role}
        return found

    def _diffs(self, kind: RecordKind, old: dict[tuple[str, str], dict[str, Any]],
               new: dict[tuple[str, str], dict[str, Any]]) -> None:  # fmt: skip
        """Record the fields of `kind`'s changed records whose values changed (of the first `SAMPLE` records)."""
        diffs = self.result.diffs.setdefault(kind, {})
        for (key, part), values in sorted(new.items()):
            if (key, "") not in old or (len(diffs) >= SAMPLE and key not in diffs):
                continue
            before = old.get((key, part), dict.fromkeys(values))
            prefix = f"delegations[{part}]." if part else ""
            changed = {f"{prefix}{name}": pair for name, pair in _diff(list(values), list(before.values()),
                                                                      list(values.values())).items()}  # fmt: skip
            if changed:
                diffs.setdefault(key, {}).update(changed)

    def _later(self, finding: Finding) -> Finding:
        """A disagreement between a report this load changes and one it does not is placed on the file that
        changes it (the one a pull request touched), not on the other."""
        other = finding.other
        loaded = other is not None and finding.place.source not in self.changing and other.source in self.changing
        if loaded and other is not None and finding.flipped is not None:
            return Finding(other, finding.code, finding.flipped, finding.place)
        return finding

    # --- locating errors ----------------------------------------------------------------------------------

    def _index(self, file: str, kind: RecordKind, key: str) -> int | str:
        """Where `key` is in `file` (read again: only files with errors found in the database are)."""
        report = _reread(file)
        return next((i for i, record in report.records[kind] if record.key == key), f"key={key}")

    def _place(self, place: Place) -> tuple[str, str]:
        file = self.files.get(place.source)
        if place.kind == "decisions":
            path = f"editorial.decisions[{place.key}]{place.suffix}"
            return (file, path) if file else (f"{self.label} (editorial {place.source})", path)
        if file:
            return file, f"{place.kind}[{self._index(file, place.kind, place.key)}]{place.suffix}"
        return f"{self.label} (source {place.source})", f"{place.kind}[key={place.key}]{place.suffix}"

    def _located(self, finding: Finding | SeedError) -> SeedError:
        """A finding or an error with its file, record path and, in a YAML file, its line and column."""
        if isinstance(finding, SeedError):
            return self.locator.locate(finding)
        file, path = self._place(finding.place)
        message = finding.message
        if finding.other is not None:
            message = message.replace("{other}", self.locator.where(*self._place(finding.other)))
        return self.locator.locate(SeedError(file, path, finding.code, message))


_rereads: dict[str, SeedReport] = {}


def _reread(file: str) -> SeedReport:
    if file not in _rereads:
        if len(_rereads) > 64:
            _rereads.clear()
        _rereads[file] = read_seed_file(Path(file), max_bytes=Path(file).stat().st_size)  # read once within its limit
    return _rereads[file]


# --- transactions ---------------------------------------------------------------------------------------------


@contextmanager
def _without_cyclic_gc() -> Iterator[None]:
    """A large load creates many objects and no cycles worth collecting; the collector's repeated traversals of
    them cost more than the rest of the load as it grows."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


@dataclass(frozen=True)
class Options:
    """How a load behaves beyond what it loads."""

    wait: float = WAIT  # seconds to wait for another load writing to the same database
    max_errors: int = MAX_ERRORS  # errors kept; past them only counted
    max_file_bytes: int = SEED_FILE_MAX_BYTES  # the largest seed file read
    strict: bool = False  # warnings (possible duplicates) are errors, for CI
    require_evidence: bool = False  # every fact has evidence or a basis (`evidence.missing`), for full provenance
    workers: int | None = None  # worker processes reading seed files (`diplo.ingest.workers`); None: by size, cores


Work = Callable[[_Load], None]


@contextmanager
def _reading(paths: Sequence[Path], progress: Progress | None, options: Options, write_meanwhile: bool
             ) -> Iterator[Reading]:  # fmt: skip
    """The seed files under `paths`, to be read as the load asks for them, in worker processes when they are
    many (`write_meanwhile`: while the load writes those already read)."""
    found = seed_paths(paths)
    count = workers.how_many(found) if options.workers is None else options.workers

    def answers() -> Iterator[tuple[bytes, bytes]]:
        return workers.read(found, count, options.max_file_bytes, options.max_errors, here=not write_meanwhile)

    # Written as they are read, the files need not be kept; otherwise they are read in full first.
    keep = not write_meanwhile
    with _without_cyclic_gc(), Reading(answers, len(found), options.max_errors, keep, progress,
                                       options.require_evidence) as r:  # fmt: skip
        try:
            yield r
        except OSError as exc:  # keeping rows aside: the temporary directory is full or cannot be written
            problem = f"the temporary directory cannot take the rows read: {store.problem(exc)}"
            raise store.StoreError(f"{problem}; nothing was written") from None


def _notices(reading: Reading) -> list[SeedError]:
    locator = Locator()  # composes only the files that have a notice
    return [locator.locate(notice) for notice in reading.notices]


def _coverage(reading: Reading) -> dict[str, Coverage]:
    return {file: Coverage(covered, facts) for file, (covered, facts) in reading.coverage.items()}


def _refused(reading: Reading) -> SeedErrors:
    """The errors of files that break their own rules, located: a load refuses them before it writes."""
    locator = Locator()
    return SeedErrors([locator.locate(error) for error in reading.errors.items], more=reading.errors.more)


def _unchanged(db_path: Path, reading: Reading, options: Options) -> LoadResult | None:
    """The result of loading `reading` (read in full) into `db_path` when that changes nothing: every file is
    valid on its own and its digest is the one the database keeps for its source. Found by reading the digests
    through a read-only connection, so the file is never opened for writing and stays byte for byte as it was
    (its time too). None when a load must run: a file changed, a new one, a file left in WAL mode, or a database
    that cannot say."""
    if reading.errors.items or len(reading.digests) != reading.files:
        return None
    if not publish.whole_on_its_own(db_path):  # a load folds its WAL into it
        return None
    if store.stored_digests(db_path, list(reading.digests), options.wait) != reading.digests:
        return None
    reading.finished()
    return LoadResult(files=reading.files, evidence=_coverage(reading), notices=_notices(reading))


def _files(reading: Reading, refuse: bool) -> Work:
    """Write every file as it is read. When `refuse`, a file that breaks its own rules refuses the load: nothing
    more is written, the other files are read for their errors, and `SeedErrors` is raised. Otherwise (a dry run,
    a validation) their errors are the load's first."""

    def work(load: _Load) -> None:
        for prepared in reading.prepared():
            if not (refuse and reading.errors.items):
                load.add_file(prepared)
            reading.step()
        if refuse and reading.errors.items:
            raise _refused(reading)
        load.result.files = reading.files
        load.result.evidence = _coverage(reading)
        load.result.notices = _notices(reading)
        load.errors.extend(reading.errors.items)
        load.errors.more += reading.errors.more

    return work


def _run(db_path: Path, label: str, work: Work, commit: bool, options: Options, aside: bool = False) -> LoadResult:
    """Run `work` in one IMMEDIATE transaction on `db_path` (created if empty); commit only when asked and valid.
    A file built `aside` has no reader to keep working during the load: it stays in rollback-journal mode, so its
    pages are written once, not to a WAL and then again into the file.

    Any fault (a full disk, a lock held too long, a read-only or damaged file) rolls back and becomes a
    `StoreError` that says so; seed errors raise `SeedErrors`. Either way nothing is written.
    """
    _rereads.clear()
    try:
        with _without_cyclic_gc(), closing(store.open_database(db_path)) as db:
            db.execute(f"PRAGMA busy_timeout = {int(options.wait * 1000)}")
            version = store.schema_version(db)  # refuse a file that is not a Diplo database before touching it
            # A large load updates some thirty indexes: a page cache of ~100 MB (not the default 2 MB) keeps
            # their hot pages in memory; memory stays bounded, whatever the size of the database.
            db.execute(f"PRAGMA cache_size = -{CACHE_KIB}")
            # A new database is filled first and indexed after, as a bulk load is: an index made from its table at
            # once costs a fraction of one kept up to date row by row. Its foreign keys are then checked in one
            # pass (`store.check_foreign_keys`), not as each row goes in: without the indexes, a deferred check
            # would look child rows up by scanning their tables. Set outside the transaction, as SQLite requires.
            bulk = version == 0
            if bulk:
                db.execute("PRAGMA foreign_keys = OFF")
            try:
                # Readers of a live file keep their snapshot during the load; a dry run writes nothing.
                if commit and not aside and not publish.journal_mode(db.conn, "wal", options.wait):
                    waited = f"gave up after waiting {options.wait:g} s (see --wait)"
                    raise store.StoreError(
                        f"another load is writing to it (database is locked); {waited}; nothing was written"
                    )
                # IMMEDIATE: what is validated against is what gets written to, even with another load under way.
                db.conn.execute("BEGIN IMMEDIATE")
                try:
                    if bulk:
                        store.create_schema(db, indexes=False)
                    load = _Load(db.conn, label, options.max_errors, options.strict, bulk)
                    work(load)
                    result = load.finish()
                    if commit:
                        if result.added + result.changed + result.removed:
                            store.record_build(db.conn, load.digests)
                        db.conn.execute("COMMIT")
                        result.written = result.added + result.changed + result.removed > 0
                    else:
                        db.conn.execute("ROLLBACK")
                except BaseException:
                    if db.conn.in_transaction:
                        db.conn.execute("ROLLBACK")
                    raise
            finally:  # committed, failed or interrupted: the file is left whole on its own
                if commit and not aside:
                    publish.self_contained(db.conn, SWITCH_WAIT)
    except (sqlite3.Error, OSError) as exc:
        problem = store.problem(exc, db_path)
        if "another load" in str(problem):
            problem = store.StoreError(f"{problem}; gave up after waiting {options.wait:g} s (see --wait)")
        raise store.StoreError(f"{problem}; nothing was written") from None
    return result


def _load(db_path: Path, reading: Reading, then: Work | None, dry_run: bool, options: Options) -> LoadResult:
    """Load what `reading` reads into `db_path`, then do `then` (prune). An existing database is opened for
    writing only once every file is read and valid on its own, and not at all when nothing would change (no
    `then`, every digest as kept); a new one is built aside while the files are read, and published only when
    complete."""
    files = _files(reading, refuse=not dry_run)

    def work(load: _Load) -> None:
        files(load)
        if then is not None:
            then(load)

    def onto_existing() -> LoadResult:
        reading.read_all()
        if reading.errors.items and not dry_run:
            raise _refused(reading)
        unchanged = _unchanged(db_path, reading, options) if then is None else None
        return unchanged or _run(db_path, str(db_path), work, commit=not dry_run, options=options)

    if db_path.exists():
        return onto_existing()
    return publish.build_aside(
        db_path,
        lambda building: _run(building, str(db_path), work, commit=not dry_run, options=options, aside=True),
        keep=not dry_run,
        onto_published=onto_existing,
    )


def load_seeds(
    db_path: Path | str,
    paths: Sequence[Path],
    *,
    prune: bool = False,
    dry_run: bool = False,
    progress: Progress | None = None,
    options: Options = Options(),
) -> LoadResult:
    """Load seed files into `db_path`: each file replaces everything its source reported before.

    With `prune`, sources that none of `paths` reports are removed too. On any error `SeedErrors` is raised and
    nothing is written (a new file is not created): a file that breaks its own rules is refused before the
    database is opened for writing, and a load refused by the rules between records leaves every page as it was
    (see the README's Faults). A load that changes nothing only reads the database. With `dry_run`, the result
    says what would change and nothing is written.
    """
    path = Path(db_path)
    with _reading(paths, progress, options, write_meanwhile=not path.exists()) as reading:
        return _load(path, reading, _Load.prune if prune else None, dry_run, options)


def remove_sources(
    db_path: Path | str, keys: Sequence[str], *, dry_run: bool = False, options: Options = Options()
) -> LoadResult:
    """Remove sources and everything only they reported; refused (`SeedErrors`) while others refer to it."""
    path = Path(db_path)
    if not path.exists():
        raise store.StoreError(f"{path} does not exist")

    def work(load: _Load) -> None:
        for key in keys:
            load.remove_source(key)

    return _run(path, str(path), work, commit=not dry_run, options=options)


def validate_seeds(
    paths: Sequence[Path], db_path: Path | str | None = None, *, options: Options = Options()
) -> LoadResult:
    """Check seed files against every rule, alone or with what `db_path` holds; raise `SeedErrors` with every
    error found. Nothing is written: the result says what a load would change."""
    with _reading(paths, None, options, write_meanwhile=db_path is None) as reading:
        if db_path is not None:
            return _load(Path(db_path), reading, None, dry_run=True, options=options)
        with tempfile.TemporaryDirectory(prefix="diplo-validate-") as tmp:
            scratch = Path(tmp) / "scratch.db"
            return _run(scratch, "(no database)", _files(reading, refuse=False), commit=False, options=options)

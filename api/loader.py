"""Validating and loading seeds: every rule checked first, then one transaction that writes only what changed."""

import gc
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import closing, contextmanager
from dataclasses import dataclass
from itertools import chain
from pathlib import Path
from typing import Any

from sqlite_utils import Database

from . import store
from .dataset import Dataset, check, merge
from .models import Meeting, Organization, Person, Record, SeedFile, Source, Statement, Topic
from .rules import SeedError, SeedErrors
from .seeds import read_seed_file, seed_paths

Progress = Callable[[int, int], None]  # (records just written, records to write in all)


@dataclass(frozen=True)
class LoadResult:
    inserted: int
    updated: int
    unchanged: int


def read_seeds(paths: Iterable[Path]) -> tuple[list[tuple[str, SeedFile]], list[SeedError]]:
    files: list[tuple[str, SeedFile]] = []
    errors: list[SeedError] = []
    for path in seed_paths(paths):
        seed, file_errors = read_seed_file(path)
        errors.extend(file_errors)
        if seed is not None:
            files.append((str(path), seed))
    return files, errors


def validate_seeds(paths: Iterable[Path], base: Dataset | None = None) -> Dataset:
    """Check seed files against every rule, together with `base`; raise `SeedErrors` with all violations."""
    files, errors = read_seeds(paths)
    dataset, conflicts = merge(files, base)
    errors.extend(conflicts)
    if not errors:
        # Cross-record rules need every file parsed; with a broken file they would report false `ref.unknown`s.
        errors.extend(check(dataset))
    if errors:
        raise SeedErrors(errors)
    return dataset


@contextmanager
def _without_cyclic_gc() -> Iterator[None]:
    """A large load holds millions of objects and creates no cycles worth collecting; the collector's repeated
    full traversals of them cost more than the rest of the load as it grows."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def load_seeds(db_path: Path | str, paths: Sequence[Path], progress: Progress | None = None) -> LoadResult:
    """Validate `paths` with what `db_path` holds, then upsert every new or changed record in one transaction.

    On any error nothing is written: the file stays byte-for-byte as it was (and is not created).
    """
    with _without_cyclic_gc():
        return _load_seeds(Path(db_path), paths, progress)


def _load_seeds(db_path: Path, paths: Sequence[Path], progress: Progress | None) -> LoadResult:
    new = not db_path.exists()
    # A new database is validated before its file exists, so that a failed first load creates nothing.
    dataset = validate_seeds(paths) if new else None
    try:
        with closing(store.open_database(db_path)) as db:
            store.schema_version(db)  # refuse a file that is not a Diplo database before touching it
            db.execute("PRAGMA journal_mode = WAL")  # readers keep reading the old snapshot during the load
            # IMMEDIATE: what is validated against is what gets written to, even with another load under way.
            db.conn.execute("BEGIN IMMEDIATE")
            try:
                result = _validate_and_write(db, db_path, paths, dataset, progress)
                db.conn.execute("COMMIT")
            except BaseException:
                if db.conn.in_transaction:
                    db.conn.execute("ROLLBACK")
                raise
    except BaseException:
        if new:
            for path in (db_path, db_path.with_name(db_path.name + "-wal"), db_path.with_name(db_path.name + "-shm")):
                path.unlink(missing_ok=True)
        raise
    return result


def _validate_and_write(
    db: Database, db_path: Path, paths: Sequence[Path], dataset: Dataset | None, progress: Progress | None
) -> LoadResult:
    base = store.read_dataset(db, str(db_path))
    if dataset is None:
        dataset = validate_seeds(paths, base)
    changed = {
        kind: [r for key, r in records.items() if base.records[kind].get(key) != r]
        for kind, records in dataset.records.items()
    }
    total = sum(len(records) for records in dataset.records.values())
    updated = sum(1 for kind, records in changed.items() for r in records if r.key in base.records[kind])
    inserted = sum(len(records) for records in changed.values()) - updated
    if inserted or updated:
        if store.schema_version(db) == 0:
            store.create_schema(db)
        write_records(db, changed, base, progress)
    return LoadResult(inserted=inserted, updated=updated, unchanged=total - inserted - updated)


def write_records(
    db: Database, changed: dict[str, list[Record]], base: Dataset, progress: Progress | None = None
) -> None:
    """Write new and changed records (inside the caller's transaction): upsert rows, replace their lists."""
    total_changed = sum(len(records) for records in changed.values())

    def write(table: str, rows: list[dict[str, Any]]) -> None:
        existing = base.records[table]
        fresh = [row for row in rows if row["key"] not in existing]
        stale = [row for row in rows if row["key"] in existing]
        insert_rows(db, table, fresh)
        db.table(table).upsert_all(stale, pk="key", batch_size=500)
        if progress:
            progress(len(rows), total_changed)

    write("sources", [store.source_row(r) for r in changed["sources"] if isinstance(r, Source)])
    write("persons", [store.person_row(r) for r in changed["persons"] if isinstance(r, Person)])
    write("organizations", [store.person_row(r) for r in changed["organizations"] if isinstance(r, Organization)])
    write("topics", [store.topic_row(r) for r in changed["topics"] if isinstance(r, Topic)])

    meetings = [r for r in changed["meetings"] if isinstance(r, Meeting)]
    write("meetings", [store.meeting_row(m) for m in meetings])
    _replace_children(
        db,
        "meeting_topics",
        "meeting",
        [m.key for m in meetings],
        ({"meeting": m.key, "position": i, "topic": t} for m in meetings for i, t in enumerate(m.topics)),
    )
    _replace_children(
        db,
        "meeting_sources",
        "meeting",
        [m.key for m in meetings],
        ({"meeting": m.key, "position": i, "source": s} for m in meetings for i, s in enumerate(m.sources)),
    )
    _replace_children(
        db,
        "delegation_members",
        "meeting",
        [m.key for m in meetings],
        (
            {"meeting": m.key, "country": d.country, "position": i, "person": p}
            for m in meetings
            for d in m.delegations
            for i, p in enumerate(d.members)
        ),
    )
    _replace_children(
        db,
        "delegations",
        "meeting",
        [m.key for m in meetings],
        (
            {"meeting": m.key, "country": d.country, "position": i, "head": d.head, "head_role": d.head_role}
            for m in meetings
            for i, d in enumerate(m.delegations)
        ),
    )

    statements = [r for r in changed["statements"] if isinstance(r, Statement)]
    write("statements", [store.statement_row(s) for s in statements])
    _replace_children(
        db,
        "statement_topics",
        "statement",
        [s.key for s in statements],
        ({"statement": s.key, "position": i, "topic": t} for s in statements for i, t in enumerate(s.topics)),
    )
    _index_statements(db, statements)


def _chunks(keys: Sequence[Any], size: int = 500) -> Iterable[Sequence[Any]]:
    for start in range(0, len(keys), size):
        yield keys[start : start + size]


def _replace_children(
    db: Database, table: str, parent: str, parents: list[str], rows: Iterable[dict[str, Any]]
) -> None:
    for chunk in _chunks(parents):
        db.execute(f"DELETE FROM {table} WHERE {parent} IN ({', '.join('?' * len(chunk))})", chunk)
    insert_rows(db, table, rows)


def insert_rows(db: Database, table: str, rows: Iterable[dict[str, Any]]) -> None:
    """New rows in one prepared statement: sqlite-utils' insert_all rebuilds its SQL and inspects every value per
    batch, which was a third of a large load; the rows here are already plain values."""
    iterator = iter(rows)
    first = next(iterator, None)
    if first is None:
        return
    columns = list(first)
    sql = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})"
    db.conn.executemany(sql, ([row[c] for c in columns] for row in chain([first], iterator)))


def _index_statements(db: Database, statements: list[Statement]) -> None:
    rowids: dict[str, int] = {}
    for chunk in _chunks([s.key for s in statements]):
        sql = f"SELECT key, rowid FROM statements WHERE key IN ({', '.join('?' * len(chunk))})"
        rowids.update(db.execute(sql, chunk).fetchall())
    for chunk in _chunks(list(rowids.values())):
        db.execute(f"DELETE FROM statements_fts WHERE rowid IN ({', '.join('?' * len(chunk))})", chunk)
    db.conn.executemany(
        "INSERT INTO statements_fts (rowid, text, translations) VALUES (?, ?, ?)",
        ((rowids[s.key], s.text, "\n".join(s.translations.values())) for s in statements),
    )

"""Reading a load's seed files before it writes them: each file parsed, checked against the record rules and the
rules within it, and turned into the rows it stores, which are set aside until the load writes them.

So a load that breaks those rules is refused before an existing database is opened for writing, and one whose
files all hold what the database already holds (their digests say so) does not write at all. A new database,
built aside, is written while the files are read (`diplo.ingest.workers` reads them on other cores). The rows
are kept in memory up to `SPOOL` bytes and in an unnamed temporary file past that: memory holds a few files at a
time, whatever the load's size.
"""

import dataclasses
import hashlib
import marshal
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import IO, Any, Self

from .. import store
from ..vocabulary import graphql_field_name
from . import evidence
from .models import Editorial
from .reports import check_report, date_readings, report_rows, source_row
from .rules import Bounded, SeedError
from .seeds import RecordKind, SeedReport, read_seed_file

MISSING = (
    "the {kind} fact `{fact}` has no evidence: quote the source's words for it under `evidence`, or give "
    "its basis and a note"
)
SPOOL = 16 << 20  # bytes of rows kept in memory before they go to a temporary file
Progress = Callable[[int, int], None]  # (steps done, steps in all): each file is read, then written


@dataclass(frozen=True)
class Prepared:
    """One seed file, checked and ready to write: its source's row and report rows (`source` None when the file
    cannot be written: it has no valid source, or another file of the load has its source key), and the keys it
    reports that are not written but exist for references (records that broke their own rules)."""

    file: str
    source: str | None
    source_row: store.Values | None
    rows: dict[str, list[store.Values]]
    ignored: dict[RecordKind, list[str]]
    digest: str | None  # of everything the file's source reports (`digest`)


def digest(source: store.Values, rows: dict[str, list[store.Values]]) -> str:
    """What `source_digests` keeps per source: a hash of its row and its report rows, so equal content gives an
    equal digest, however the file spells it and in whatever order it lists its records (a table's rows are a set:
    a list's order is in its position columns)."""
    content = hashlib.sha256(repr(source).encode())
    for table in sorted(rows):  # each row's repr once (it escapes any newline in a value)
        content.update(f"\0{table}\0".encode())
        content.update("\n".join(sorted(map(repr, rows[table]))).encode())
    return content.hexdigest()


def prepare_file(path: Path, max_bytes: int, max_errors: int) -> tuple[bytes, bytes]:
    """Read and check one seed file: (header, body), the marshalled summary a `Reading` keeps in memory (file,
    errors, source key, keys to ignore, digest) and the rows it sets aside (empty without a source), so that a
    worker process can hand them over as they are."""
    report = read_seed_file(path, max_bytes, max_errors)
    errors = [dataclasses.astuple(error) for error in report.errors]
    invalid = {kind: sorted(keys) for kind, keys in report.invalid.items() if keys}
    every_key = {kind: sorted({*report.invalid[kind], *(r.key for _, r in records)})
                 for kind, records in report.records.items()}  # fmt: skip
    if report.editorial is not None:
        return _editorial_file(report)
    if report.source is None:
        return marshal.dumps((report.file, errors, report.more_errors, None, {}, every_key, [], None, None, [])), b""
    checked = [dataclasses.astuple(error) for error in check_report(report)]
    facts, missing = evidence.coverage(report, report.evidence)
    coverage = (facts - len(missing), facts, [(f"{item.path}.{fact}", item.kind, fact) for item, fact in missing])
    row, rows = source_row(report.source), report_rows(report)
    key, summary = report.source.key, digest(row, rows)
    notices = [dataclasses.astuple(notice) for notice in date_readings(report)]
    header = (report.file, errors, report.more_errors, key, invalid, every_key, checked, summary, coverage, notices)
    return marshal.dumps(header), marshal.dumps((row, rows))


def decision_rows(editorial: Editorial) -> dict[str, list[store.Values]]:
    """The rows of an editors' file: its key, and its decisions in the file's order."""
    rows = [
        store.as_row("decisions", {
            "editorial": editorial.key, "position": i, "kind": d.kind, "record": d.record, "country": d.country,
            "seed_field": d.field, "field": graphql_field_name(d.field), "prefer": str(d.prefer), "note": d.note,
        })
        for i, d in enumerate(editorial.decisions)
    ]  # fmt: skip
    return {"editorials": [(editorial.key,)], "decisions": rows}


def _editorial_file(report: SeedReport) -> tuple[bytes, bytes]:
    """An editors' file as `prepare_file` hands it over: its key stands where a source's would, its rows hold
    `editorials` (which tells the load what it is) and no coverage."""
    assert report.editorial is not None
    rows = decision_rows(report.editorial)
    errors = [dataclasses.astuple(error) for error in report.errors]
    key, summary = report.editorial.key, digest(("editorial", report.editorial.key), rows)
    header: tuple[Any, ...] = (report.file, errors, report.more_errors, key, {}, {}, [], summary, None, [])
    return marshal.dumps(header), marshal.dumps((None, rows))


@dataclass(frozen=True)
class _Kept:
    """What a `Reading` holds of one file in memory; its rows are at `at` in the kept file."""

    file: str
    source: str | None
    ignored: dict[RecordKind, list[str]]
    digest: str | None
    at: int = 0
    length: int = 0


Answers = Callable[[], Iterator[tuple[bytes, bytes]]]  # starts reading every file, in order (`prepare_file`)


class Reading:
    """The seed files of one load, read in order as the load asks for them (`prepared`): the errors found, each
    written source's digest and, when it `keeps` them, the rows, to be replayed as often as the load needs them.
    Errors and digests are complete once every file is read (`read_all`)."""

    def __init__(self, answers: Answers, files: int, max_errors: int, keep: bool,
                 progress: Progress | None = None, require_evidence: bool = False) -> None:  # fmt: skip
        self.files = files
        self.require_evidence = require_evidence  # a fact without evidence or a basis is an error
        self._max_errors = max_errors
        self._start = answers
        self._progress = progress
        self._steps = 0
        self._answers: Iterator[tuple[bytes, bytes]] | None = None
        self._kept: IO[bytes] | None = None
        self.restart(keep)

    def restart(self, keep: bool) -> None:
        """Read the files again, from the start (a load that finds its new file published meanwhile)."""
        self.close()
        self.keeps = keep
        self.errors = Bounded[SeedError](self._max_errors)
        self.digests: dict[str, str] = {}  # source key -> digest, for every file that can be written
        self.coverage: dict[str, tuple[int, int]] = {}  # file -> (facts with evidence or a basis, facts)
        self.notices: list[SeedError] = []  # what the checks understood, where that could surprise (`rules.NOTICES`)
        self._sources: dict[str, str] = {}  # source key -> the file that reports it
        self._read: list[_Kept] = []
        self._answers = self._start()
        if keep:
            self._kept = tempfile.SpooledTemporaryFile(max_size=SPOOL)  # noqa: SIM115 - closed by close()

    def step(self) -> None:
        """One more file read or written."""
        self._steps += 1
        if self._progress and self._steps <= 2 * self.files:  # a load onto a file published meanwhile writes again
            self._progress(self._steps, 2 * self.files)

    def finished(self) -> None:
        """Nothing left to write: the progress is complete."""
        if self._progress and self._steps < 2 * self.files:
            self._progress(2 * self.files, 2 * self.files)

    def read_all(self) -> None:
        """Read every file, keeping them (read again if they were not kept)."""
        if not self.keeps:
            self.restart(keep=True)
        while len(self._read) < self.files:
            self._read_next()

    def prepared(self) -> Iterator[Prepared]:
        """Every file, in order: those read already from where they are kept, the others as they are read."""
        if self._read and not self.keeps:
            self.restart(keep=True)
        for index in range(self.files):
            body = self._read_next() if index == len(self._read) else None
            kept = self._read[index]
            row: store.Values | None = None
            rows: dict[str, list[store.Values]] = {}
            if kept.source is not None:
                if body is None:
                    assert self._kept is not None
                    self._kept.seek(kept.at)
                    body = self._kept.read(kept.length)
                row, rows = marshal.loads(body)
            yield Prepared(kept.file, kept.source, row, rows, kept.ignored, kept.digest)

    def _read_next(self) -> bytes:
        assert self._answers is not None
        header, body = next(self._answers)
        file, errors, more, source, invalid, every_key, checked, digest_, coverage, notices = marshal.loads(header)
        self.notices.extend(SeedError(*notice) for notice in notices)
        self.errors.extend(SeedError(*error) for error in errors)
        self.errors.more += more
        if source is not None and source in self._sources:
            self.errors.append(SeedError(file, "source.key", "key.conflict",
                                         f"source {source!r} is also the source of {self._sources[source]}: each "
                                         "source has one seed file; give this one its own key"))  # fmt: skip
            source = None
        if source is None:  # nothing can be written without its source; its keys still exist
            self._read.append(_Kept(file, None, every_key, None))
        else:
            self._sources[source] = file
            self.errors.extend(SeedError(*error) for error in checked)
            covered, facts, missing = coverage or (0, 0, [])
            if coverage is not None:  # an editors' file has no facts of its own
                self.coverage[file] = (covered, facts)
            if self.require_evidence:
                self.errors.extend(SeedError(file, path, "evidence.missing", MISSING.format(kind=kind, fact=fact))
                                   for path, kind, fact in missing)  # fmt: skip
            self.digests[source] = digest_
            at = 0
            if self._kept is not None:
                at = self._kept.seek(0, 2)
                self._kept.write(body)
            self._read.append(_Kept(file, source, invalid, digest_, at, len(body)))
        self.step()
        if len(self._read) == self.files:  # the last one: workers are not kept through the rest of the load
            self._stop()
        return body

    def _stop(self) -> None:
        close: Any = getattr(self._answers, "close", None)
        if close is not None:  # a generator: its workers stop
            close()
        self._answers = None

    def close(self) -> None:
        self._stop()
        if self._kept is not None:
            self._kept.close()
        self._kept = None

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *_: type[BaseException] | BaseException | TracebackType | None) -> None:
        self.close()

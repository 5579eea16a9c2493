"""Reading a load's seed files before its database is opened: each file parsed, checked against the record rules
and the rules within it, and turned into the rows it stores, which are kept aside until the load writes them.

So a load that breaks those rules is refused without opening the database for writing, and one whose files all
hold what the database already holds (their digests say so) need not write at all. The rows are kept in memory up
to `SPOOL` bytes and in an unnamed temporary file past that: memory holds one file at a time, whatever the load's
size.
"""

import hashlib
import marshal
import struct
import tempfile
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import IO, Self

from .. import store
from .reports import check_report, report_rows, source_row
from .rules import Bounded, SeedError
from .seeds import RecordKind, SeedReport, read_seed_file, seed_paths

SPOOL = 16 << 20  # bytes of prepared files kept in memory before they go to a temporary file
_LENGTH = struct.Struct("<Q")
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
    equal digest, however the file spells it."""
    return hashlib.sha256(repr((source, sorted(rows.items()))).encode()).hexdigest()


class Reading:
    """The files of one load, read: how many, the errors found, each written source's digest, and the prepared
    files themselves, which can be replayed (`prepared`) as often as a load needs them."""

    def __init__(self, max_errors: int) -> None:
        self.files = 0
        self.errors = Bounded[SeedError](max_errors)
        self.digests: dict[str, str] = {}  # source key -> digest, for every file that can be written
        self.sources: dict[str, str] = {}  # source key -> the file that reports it
        self._kept: IO[bytes] = tempfile.SpooledTemporaryFile(max_size=SPOOL)  # noqa: SIM115 - closed by close()

    def add(self, report: SeedReport) -> None:
        self.files += 1
        self.errors.extend(report.errors)
        self.errors.more += report.more_errors
        # Copied before the rules within the file move more records out of `records`: as loads always have.
        ignored = {kind: sorted(keys) for kind, keys in report.invalid.items() if keys}
        source = report.source
        if source is not None and source.key in self.sources:
            self.errors.append(SeedError(report.file, "source.key", "key.conflict",
                                         f"source {source.key!r} is also the source of {self.sources[source.key]}: "
                                         "each source has one seed file; give this one its own key"))  # fmt: skip
            source = None
        if source is None:  # nothing can be written without its source; its keys still exist
            for kind, records in report.records.items():
                ignored[kind] = sorted({*ignored.get(kind, ()), *(record.key for _, record in records)})
            self._keep(Prepared(report.file, None, None, {}, ignored, None))
            return
        self.sources[source.key] = report.file
        self.errors.extend(check_report(report))
        row, rows = source_row(source), report_rows(report)
        self.digests[source.key] = digest(row, rows)
        self._keep(Prepared(report.file, source.key, row, rows, ignored, self.digests[source.key]))

    def _keep(self, prepared: Prepared) -> None:
        data = marshal.dumps(
            (prepared.file, prepared.source, prepared.source_row, prepared.rows, prepared.ignored, prepared.digest)
        )
        self._kept.write(_LENGTH.pack(len(data)))
        self._kept.write(data)

    def prepared(self) -> Iterator[Prepared]:
        """Every file, in the order read."""
        self._kept.seek(0)
        for _ in range(self.files):
            (length,) = _LENGTH.unpack(self._kept.read(_LENGTH.size))
            yield Prepared(*marshal.loads(self._kept.read(length)))
        self._kept.seek(0, 2)

    def close(self) -> None:
        self._kept.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *_: type[BaseException] | BaseException | TracebackType | None) -> None:
        self.close()


def read(paths: Sequence[Path], max_bytes: int, max_errors: int, progress: Progress | None = None) -> Reading:
    """Read and check every seed file under `paths`; `progress` hears of each file read, out of twice their
    number (the load writes them after)."""
    found = seed_paths(paths)
    reading = Reading(max_errors)
    try:
        for done, path in enumerate(found, 1):
            reading.add(read_seed_file(path, max_bytes, max_errors))
            if progress:
                progress(done, 2 * len(found))
    except BaseException:
        reading.close()
        raise
    return reading

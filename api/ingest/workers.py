"""Reading seed files in worker processes: a large load parses and checks its files on the machine's other cores,
while it writes those already read (a new database) or while it reads its own share (an existing one, which is
written only once every file is read).

Parsing, the record rules and building rows are Python, bound to one core; each worker is `python -m
diplo.ingest.workers`, asked for files by path on its stdin and answering each with what `prepare.prepare_file`
gives, in order. A worker ignores Ctrl-C: the load stops its workers when it ends, however it ends, and one whose
load was killed ends when it finds its stdin closed or cannot deliver an answer. A worker that fails (it cannot
start, dies, or is another installed copy of Diplo) leaves the load to read the files it was given itself.
"""

import contextlib
import fcntl
import os
import signal
import struct
import subprocess
import sys
from collections import deque
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import IO

from . import prepare
from .prepare import prepare_file

WORKERS_FROM = 16 << 20  # bytes of seed files from which a load reads them in worker processes
MAX_WORKERS = 4  # past a few, reading outruns the one process that writes
AHEAD = 8  # files asked of a worker before its first answer is read, so that it can work ahead of the load
PIPE_BYTES = 1 << 20  # answers a worker can write ahead before it waits for the load to read them
_LENGTH = struct.Struct("<Q")
Answer = tuple[bytes, bytes]  # (header, body): see `prepare.prepare_file`


def how_many(paths: Sequence[Path]) -> int:
    """Worker processes for reading `paths`: none for a small load (starting one costs a few tenths of a second),
    else one per core but the load's own, which writes meanwhile or reads its share (`read`)."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    wanted = min(MAX_WORKERS, cores - 1)
    if wanted < 1:
        return 0
    size = 0
    for path in paths:
        with contextlib.suppress(OSError):  # gone meanwhile: reading it will say so
            size += path.stat().st_size
        if size >= WORKERS_FROM:
            return wanted
    return 0


def command(max_bytes: int, max_errors: int) -> list[str]:
    """How a worker is started. It checks that it runs this very code: another installed copy of Diplo answers
    nothing, and the load reads the files itself."""
    return [sys.executable, "-m", __name__, str(max_bytes), str(max_errors), prepare.__file__]


def _frame(data: bytes) -> bytes:
    return _LENGTH.pack(len(data)) + data


def _receive(stream: IO[bytes]) -> bytes:
    """One frame; EOFError when the stream ends before it does."""
    size = stream.read(_LENGTH.size)
    if len(size) < _LENGTH.size:
        raise EOFError
    (length,) = _LENGTH.unpack(size)
    parts = []
    while length > 0:  # a megabyte at a time: a length that is not one never allocates what it says
        part = stream.read(min(length, 1 << 20))
        if not part:
            raise EOFError
        parts.append(part)
        length -= len(part)
    return b"".join(parts)


class _Worker:
    def __init__(self, max_bytes: int, max_errors: int) -> None:
        self.asked: deque[Path] = deque()
        try:
            self.process: subprocess.Popen[bytes] | None = subprocess.Popen(
                command(max_bytes, max_errors), stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
            )  # fmt: skip
        except OSError:  # no process to be had (a limit, no interpreter to run): the load reads itself
            self.process = None
        if self.process is not None and hasattr(fcntl, "F_SETPIPE_SZ"):
            with contextlib.suppress(OSError):  # past the system's limit it stays at its default, 64 KiB
                fcntl.fcntl(self.process.stdout.fileno(), fcntl.F_SETPIPE_SZ, PIPE_BYTES)  # type: ignore[union-attr]

    def ask(self, path: Path) -> None:
        self.asked.append(path)
        if self.process is not None:
            try:
                assert self.process.stdin is not None
                self.process.stdin.write(_frame(os.fsencode(path)))
                self.process.stdin.flush()
            except OSError:
                self.stop()

    def answer(self, max_bytes: int, max_errors: int) -> Answer:
        path = self.asked.popleft()
        if self.process is not None:
            try:
                assert self.process.stdout is not None
                return _receive(self.process.stdout), _receive(self.process.stdout)
            except (OSError, EOFError):
                self.stop()
        return prepare_file(path, max_bytes, max_errors)

    def stop(self) -> None:
        process, self.process = self.process, None
        if process is None:
            return
        process.kill()  # it only reads: whatever it was doing, nothing is lost
        process.wait()
        for stream in (process.stdin, process.stdout):
            if stream is not None:
                with contextlib.suppress(OSError):
                    stream.close()


def read(paths: Sequence[Path], count: int, max_bytes: int, max_errors: int, here: bool) -> Iterator[Answer]:
    """`prepare_file` of every path, in order, by `count` worker processes and, when `here` (the load has nothing
    else to do meanwhile) or there are none, by this one too, every path in turn to the next of them."""
    if count == 0:
        for path in paths:
            yield prepare_file(path, max_bytes, max_errors)
        return
    lanes: list[_Worker | None] = [None] if here else []  # None: this process
    try:
        for _ in range(count):
            lanes.append(_Worker(max_bytes, max_errors))
        asked = 0
        for index in range(len(paths)):
            while asked < len(paths) and asked < index + AHEAD * len(lanes):
                if (worker := lanes[asked % len(lanes)]) is not None:
                    worker.ask(paths[asked])
                asked += 1
            if (worker := lanes[index % len(lanes)]) is not None:
                yield worker.answer(max_bytes, max_errors)
            else:
                yield prepare_file(paths[index], max_bytes, max_errors)
    finally:
        for lane in lanes:
            if lane is not None:
                lane.stop()


def main() -> None:
    """A worker: paths in on stdin, answers out on stdout, until either closes."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    max_bytes, max_errors, expected = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
    if Path(prepare.__file__).resolve() != Path(expected).resolve():
        return
    requests, answers = sys.stdin.buffer, sys.stdout.buffer
    try:
        while True:
            header, body = prepare_file(Path(os.fsdecode(_receive(requests))), max_bytes, max_errors)
            answers.write(_frame(header) + _frame(body))
            answers.flush()
    except (EOFError, OSError):  # the load closed our stdin, or ended before reading the answer
        pass


if __name__ == "__main__":
    main()

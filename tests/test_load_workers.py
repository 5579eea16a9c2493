"""Reading seed files in worker processes (`diplo.ingest.workers`) gives what reading them in the load's own process
gives, errors included; a worker that fails leaves the load to read the files itself, and a load killed or
interrupted leaves no worker behind."""

import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from diplo.ingest import workers
from diplo.ingest.rules import SeedErrors
from diplo.ingest.session import Options, load_seeds, validate_seeds
from diplo.ingest.synth import write_synthetic


@pytest.fixture(scope="module")
def seeds(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("workers") / "seeds"
    write_synthetic(path, 60, 3)
    return path


def dump(db: Path) -> list[str]:
    with sqlite3.connect(db) as conn:
        found = list(conn.iterdump())
    conn.close()
    return found


def _not_here(*_: object) -> None:
    raise AssertionError("a file was read in the load's own process")


def test_workers_load_what_the_load_itself_loads(seeds: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    alone = load_seeds(tmp_path / "alone.db", [seeds], options=Options(workers=0))
    with monkeypatch.context() as patch:
        patch.setattr(workers, "prepare_file", _not_here)  # a new database: every file is the workers'
        helped = load_seeds(tmp_path / "helped.db", [seeds], options=Options(workers=2))
    assert helped.as_dict() == alone.as_dict()
    assert dump(tmp_path / "helped.db") == dump(tmp_path / "alone.db")
    # Onto an existing database the load reads its share too, before it writes.
    edited = tmp_path / "edited"
    shutil.copytree(seeds, edited)
    text = (edited / "synthetic-source-2.json").read_text()
    (edited / "synthetic-source-2.json").write_text(text.replace('"Meeting 20"', '"Meeting twenty"'))
    for db, count in (("alone.db", 0), ("helped.db", 2)):
        assert load_seeds(tmp_path / db, [edited], options=Options(workers=count)).changed == 1
    assert dump(tmp_path / "helped.db") == dump(tmp_path / "alone.db")
    assert not load_seeds(tmp_path / "helped.db", [edited], options=Options(workers=2)).written


def test_workers_find_the_errors_the_load_itself_finds(seeds: Path, tmp_path: Path) -> None:
    broken = tmp_path / "broken"
    broken.mkdir()
    for path in sorted(seeds.iterdir()):
        (broken / path.name).write_text(path.read_text())
    (broken / "synthetic-source-1.json").write_text("{")
    text = (broken / "synthetic-source-3.json").read_text()
    (broken / "synthetic-source-3.json").write_text(text.replace('"statement-30-0"', '"Statement-30-0"'))
    (broken / "zz-twin.json").write_text(text.replace('"meeting-', '"twin-meeting-'))  # the same source key
    found = []
    for count in (0, 2):
        options = Options(workers=count)
        for check in (lambda o=options: load_seeds(tmp_path / "new.db", [broken], options=o),
                      lambda o=options: validate_seeds([broken], options=o)):  # fmt: skip
            with pytest.raises(SeedErrors) as raised:
                check()
            found.append(raised.value.errors)
    assert found[2:] == found[:2]
    assert {e.code for e in found[0]} == {"seed.syntax", "key.format", "key.conflict"}
    assert not (tmp_path / "new.db").exists()


def test_a_worker_that_fails_leaves_the_load_to_read_the_files_itself(
    seeds: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    load_seeds(tmp_path / "alone.db", [seeds], options=Options(workers=0))
    real = workers.command
    failing = {
        "gone": lambda *_: [sys.executable, "-c", "pass"],
        "cut short": lambda *_: [sys.executable, "-c", "import sys; sys.stdin.buffer.read(9); print(1000 * 'x')"],
        "another copy": lambda max_bytes, max_errors: [*real(max_bytes, max_errors)[:-1], __file__],
        "no interpreter": lambda *_: [str(tmp_path / "no-such-python")],
    }
    for name, command in failing.items():
        monkeypatch.setattr(workers, "command", command)
        load_seeds(tmp_path / f"{name}.db", [seeds], options=Options(workers=2))
        assert dump(tmp_path / f"{name}.db") == dump(tmp_path / "alone.db"), name


# `diplo load` with workers whatever the size of the load, Ctrl-C taken as a terminal gives it (a test run in the
# background of a shell inherits it ignored).
LOAD = (
    "import signal; signal.signal(signal.SIGINT, signal.default_int_handler); "
    "from diplo.ingest import workers; workers.WORKERS_FROM = 0; from diplo.cli import cli; cli()"
)


def _workers_of(marker: int) -> list[int]:
    """The worker processes started with `marker` as their error limit, wherever they are now."""
    found = []
    for entry in Path("/proc").iterdir():
        try:
            command = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if b"diplo.ingest.workers" in command and str(marker).encode() in command:
            found.append(int(entry.name))
    return found


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGINT])
def test_no_worker_outlives_its_load(tmp_path: Path, sig: signal.Signals) -> None:
    """Killed, its workers end as soon as they find it gone; interrupted (Ctrl-C reaches every process of the
    terminal's group), they ignore it and the load stops them and says so."""
    marker = 900_000 + os.getpid() % 1000 * 10 + sig
    write_synthetic(tmp_path / "seeds", 2000, 10)  # seconds of load
    command = [sys.executable, "-c", LOAD, "load", str(tmp_path / "seeds"), "--db", str(tmp_path / "d.db"),
               "--max-errors", str(marker)]  # fmt: skip
    load = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)
    deadline = time.monotonic() + 30
    while not _workers_of(marker) and time.monotonic() < deadline and load.poll() is None:
        time.sleep(0.05)
    assert _workers_of(marker), "the load started no worker"
    if sig == signal.SIGKILL:
        os.kill(load.pid, sig)
    else:
        os.killpg(load.pid, sig)
    _, stderr = load.communicate(timeout=30)
    if sig == signal.SIGINT:
        assert (load.returncode, stderr.decode()) == (130, "interrupted: nothing was written\n")
    while _workers_of(marker) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _workers_of(marker)
    assert not (tmp_path / "d.db").exists()

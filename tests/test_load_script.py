"""The load test script, on a small scale: the harness works and the server holds (timing is not judged here)."""

import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).resolve().parent.parent / "bench" / "load.py"


def test_load_script_small_scale() -> None:
    result = subprocess.run(
        [sys.executable, str(SCRIPT), "--seconds", "2", "--clients", "4", "--max-requests", "2000"],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    assert "requests/s" in result.stdout
    assert result.stdout.strip().endswith("ok")

"""The code's own standards: ruff and mypy --strict are clean on api/ (and ruff on the tests)."""

import subprocess
import sys

import pytest


@pytest.mark.parametrize(
    "command",
    [
        ["ruff", "check", "api", "tests", "bench"],
        ["ruff", "format", "--check", "api", "tests", "bench"],
        ["mypy", "api"],
    ],
    ids=["ruff-check", "ruff-format", "mypy-strict"],
)
def test_clean(command: list[str]) -> None:
    result = subprocess.run([sys.executable, "-m", *command], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr

"""The package's layout is its architecture: the write side (`diplo.ingest`) turns seeds into a database, the read
side (`diplo.graphql`) and the server (`diplo.server`) only read one, so serving never imports the seed models (nor
pydantic, which they are written in)."""

import subprocess
import sys

import pytest

WRITE_SIDE = ("diplo.ingest", "pydantic")


@pytest.mark.parametrize(
    "module", ["diplo.server.app", "diplo.server.serve", "diplo.graphql.schema", "diplo.store", "diplo.contract"]
)
def test_the_read_side_never_imports_the_write_side(module: str) -> None:
    probe = f"import sys, {module}; print('\\n'.join(sys.modules))"
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    loaded = result.stdout.split()
    assert module in loaded
    assert sorted({m for m in loaded if m.startswith(WRITE_SIDE)}) == []


def test_the_library_entry_points_still_load_the_write_side() -> None:
    import diplo

    assert diplo.load_seeds.__module__ == "diplo.ingest.session"
    assert diplo.SeedErrors.__module__ == "diplo.ingest.rules"

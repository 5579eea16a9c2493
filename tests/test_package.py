"""The package installs anywhere: a wheel built from the project, installed into a fresh virtualenv outside the
checkout, serves its bundled seeds and checks its committed schema from there."""

import os
import shutil
import site
import subprocess
import sys
from pathlib import Path

import httpx
from test_serve import QUERY, serving

ROOT = Path(__file__).resolve().parent.parent


def test_a_wheel_serves_and_checks_its_schema_away_from_the_checkout(tmp_path: Path) -> None:
    source = tmp_path / "source"  # a copy, so that the build leaves nothing in the checkout
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, source / name)
    for name in ("api", "seeds", "schema"):
        shutil.copytree(ROOT / name, source / name, ignore=shutil.ignore_patterns("__pycache__"))
    pip = [sys.executable, "-m", "pip", "-q", "--disable-pip-version-check"]
    subprocess.run(
        [*pip, "wheel", "--no-deps", "--no-build-isolation", "-w", tmp_path / "dist", source],
        check=True,
        capture_output=True,
    )
    (wheel,) = (tmp_path / "dist").glob("diplo-*.whl")

    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", venv], check=True)
    python = venv / "bin" / "python"
    # The dependencies come from this environment's site-packages, named by a .pth (no index is needed, and the
    # editable install of diplo there is not seen: a .pth in a directory named by another .pth is not read).
    purelib = subprocess.run([python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                             check=True, capture_output=True, text=True).stdout.strip()  # fmt: skip
    Path(purelib, "dependencies.pth").write_text(site.getsitepackages()[0] + "\n", encoding="utf-8")
    subprocess.run([*pip, "--python", python, "install", "--no-deps", wheel], check=True, capture_output=True)

    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"} | {"XDG_CACHE_HOME": str(tmp_path / "cache")}
    where = subprocess.run([python, "-c", "import diplo; print(diplo.__file__)"], cwd=elsewhere, env=env,
                           check=True, capture_output=True, text=True).stdout  # fmt: skip
    assert where.startswith(purelib)
    diplo = venv / "bin" / "diplo"
    check = subprocess.run([diplo, "schema", "--check"], cwd=elsewhere, env=env, capture_output=True, text=True)
    assert check.returncode == 0, check.stderr
    assert "schema/schema.graphql is current" in check.stdout

    with serving([diplo, "serve"], env, cwd=elsewhere) as url:
        body = httpx.post(f"{url}/graphql", json={"query": QUERY}).json()
        assert body["data"]["meeting"]["city"] == "Istanbul"

"""The deployment recipe is checked as CI can without a container daemon: hadolint lints the Dockerfile and
kubernetes-validate checks the manifests against Kubernetes' schemas (both installed by the test extra)."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
MANIFESTS = sorted((ROOT / "deploy" / "kubernetes").glob("*.yaml"))


def tool(name: str) -> str:
    found = shutil.which(name, path=str(BIN)) or shutil.which(name)
    if found is None:
        pytest.fail(f"{name} is not installed: install the test extra (`pip install -e '.[test]'`)")
    return found


def test_the_dockerfile_passes_hadolint_and_declares_a_read_only_non_root_runtime() -> None:
    linted = subprocess.run([tool("hadolint"), ROOT / "Dockerfile"], capture_output=True, text=True)
    assert linted.returncode == 0, linted.stdout + linted.stderr
    text = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    assert text.count("\nFROM ") >= 2  # multi-stage: the runtime image has no build tools
    assert "diplo load seeds --db" in text  # the database is built at build time
    assert "--chmod=0444" in text
    assert "USER 10001" in text


def test_hadolint_fails_a_bad_dockerfile(tmp_path: Path) -> None:
    bad = tmp_path / "Dockerfile"
    bad.write_text("FROM python:latest\nRUN pip install diplo\n", encoding="utf-8")
    assert subprocess.run([tool("hadolint"), bad], capture_output=True).returncode != 0


def test_the_kubernetes_manifests_are_valid() -> None:
    kinds = {path.stem for path in MANIFESTS}
    assert kinds == {"deployment", "service", "hpa"}
    checked = subprocess.run([tool("kubernetes-validate"), "--strict", "-k", "1.30.0", *MANIFESTS],
                             capture_output=True, text=True)  # fmt: skip
    assert checked.returncode == 0, checked.stdout + checked.stderr
    deployment = (ROOT / "deploy" / "kubernetes" / "deployment.yaml").read_text(encoding="utf-8")
    for needed in ("readinessProbe", "livenessProbe", "path: /readyz", "path: /healthz", "limits:", "runAsNonRoot"):
        assert needed in deployment


def test_kubernetes_validate_fails_a_bad_manifest(tmp_path: Path) -> None:
    bad = tmp_path / "deployment.yaml"
    text = (ROOT / "deploy" / "kubernetes" / "deployment.yaml").read_text(encoding="utf-8")
    bad.write_text(text.replace("containerPort: 8000", "containerPort: eight-thousand"), encoding="utf-8")
    assert (
        subprocess.run([tool("kubernetes-validate"), "--strict", "-k", "1.30.0", bad], capture_output=True).returncode
        != 0
    )

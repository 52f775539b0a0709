"""A typed katalog through ork push / inspect / pull / simulate as a user sees them: the
hook sources published and restored, ``Typed`` and ``Runtime`` shown, the pulled code run
only when trusted, and a symlink out of the pattern refused before anything is pushed."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from orkestra.registry.artifact import K, Metadata, PatternArtifact, PatternFile, Typed
from orkestra.registry.client import RegistryClient
from tests.conftest import RegistryTarget, run
from tests.gates.test_typed_push import PUBLISHED, typed_pattern
from tests.registry.server import DistributionRegistry

REF = "database-operator:v1.0.0"


@pytest.fixture
def pushed(tmp_path: Path, capsys: pytest.CaptureFixture[str], registry: RegistryTarget) -> Path:
    """The typed pattern, pinning Orkestra 0.0.7, pushed with ork push (to each registry)."""
    pattern = typed_pattern(tmp_path / "database-operator")
    (pattern / "pyproject.toml").write_text(
        '[project]\nname = "dbhooks"\ndependencies = ["orkestra-patterns>=0.0.7"]\n'
    )
    code, out, err = run(capsys, "push", str(pattern))
    assert code == 0, err
    assert "  ✓ pyproject.toml       (" in out
    assert "  ✓ dbhooks/database.py  (" in out and "  ✓ api/v1alpha1.py      (" in out
    assert "  ✓ Simulate passed (" in out
    return pattern


def test_inspect_shows_the_code_and_its_runtime(
    pushed: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(capsys, "inspect", REF)
    assert code == 0
    assert "  Typed:       ✓ Has hooks · requires custom runtime\n  Runtime:     v0.0.7\n" in out
    assert "    dbhooks/database.py            " in out
    code, out, _ = run(capsys, "inspect", REF, "-o", "json")
    data = json.loads(out)
    assert (data["typed"], data["runtimeVersion"]) == (
        {"hooks": True, "constructor": False},
        "v0.0.7",
    )
    files = {f["name"]: f["mediaType"] for f in data["files"]}
    assert files["dbhooks/database.py"] == "text/x-python"
    assert files["pyproject.toml"] == "application/toml"
    code, out, _ = run(capsys, "inspect", REF, "--view", "dbhooks/naming.py")
    assert code == 0 and out.startswith("# ── dbhooks/naming.py ──\ndef service_name(")


@pytest.mark.parametrize(
    ("typed", "shown"),
    [
        (Typed(constructor=True), "✓ Has constructor · requires custom runtime"),
        (Typed(True, True), "✓ Has hooks, constructor · requires custom runtime"),
    ],
)
def test_inspect_names_the_kind_of_code(
    typed: Typed, shown: str, capsys: pytest.CaptureFixture[str]
) -> None:
    client = RegistryClient()
    artifact = PatternArtifact(
        metadata=Metadata(kind="Katalog", name="db", version="v1"),
        files=(PatternFile("katalog.yaml", b"kind: Katalog\n"),),
        typed=typed,
        runtime_version="v0.0.9",
    )
    client.push(artifact, client.resolve("db:v1"))
    code, out, _ = run(capsys, "inspect", "db:v1")
    assert code == 0 and f"  Typed:       {shown}\n  Runtime:     v0.0.9\n" in out


def test_pull_restores_the_code_and_simulate_runs_it_when_trusted(
    pushed: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(capsys, "pull", REF)
    assert code == 0
    cached = RegistryClient().cache.lookup(RegistryClient().resolve(REF))
    assert cached is not None
    assert "    dbhooks/sql/queries.py         " in out
    assert (
        "Re-run the author's assertions (this runs its Python code: read it first):\n"
        f"  ork simulate -f {cached / 'simulate.yaml'} --trust-hooks\n" in out
    )
    for name in PUBLISHED:
        assert (cached / name).read_bytes() == (pushed / name).read_bytes()
    code, out, err = run(capsys, "simulate", "-f", str(cached / "simulate.yaml"))
    assert code == 1
    assert "was pulled from a registry and runs Python code" in out + err
    code, out, err = run(capsys, "simulate", "-f", str(cached / "simulate.yaml"), "--trust-hooks")
    assert code == 0, out + err
    assert "1/1 assertions passed" in out
    code, out, _ = run(capsys, "pull", REF, "-o", str(tmp_path / "local"))
    assert code == 0
    written = sorted(
        p.relative_to(tmp_path / "local").as_posix()
        for p in (tmp_path / "local").rglob("*")
        if p.is_file()
    )
    # no __pycache__ from the run; the signed gate report travels like any layer
    assert written == sorted([*PUBLISHED, "pyproject.toml", "gate-report.dsse.json"])


def test_a_symlink_out_of_the_pattern_blocks_the_push(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pattern = typed_pattern(tmp_path / "database-operator")
    secret = tmp_path / "credentials.py"
    secret.write_text("PASSWORD = 'hunter2'\n")
    (pattern / "dbhooks" / "credentials.py").symlink_to(secret)
    code, out, err = run(capsys, "push", str(pattern))
    assert code == 1
    assert (
        f"dbhooks/credentials.py is a symlink to {secret}, outside the pattern directory "
        f"{pattern}; it is not published" in err
    )
    assert "hint: copy the file into the pattern directory" in err
    assert "Running simulate gate" not in out  # refused before any gate runs
    code, _, err = run(capsys, "inspect", REF)
    assert code == 1 and "not found" in err
    stored = [p.read_bytes() for p in RegistryClient().local_root.rglob("*") if p.is_file()]
    assert not any(b"hunter2" in data for data in stored)


@pytest.mark.integration
def test_skopeo_reads_the_code_layers(
    distribution: DistributionRegistry,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    if not shutil.which("skopeo"):
        pytest.skip("skopeo is not installed")
    monkeypatch.setenv("ORK_REGISTRY", f"{distribution.host}/typed/katalogs")
    pattern = typed_pattern(tmp_path / "database-operator")
    code, _, err = run(capsys, "push", str(pattern))
    assert code == 0, err
    manifest = _skopeo(f"docker://{distribution.host}/typed/katalogs/{REF}")
    titles = [
        layer["annotations"]["org.opencontainers.image.title"] for layer in manifest["layers"]
    ]
    assert titles == [*PUBLISHED, "gate-report.dsse.json"]  # the signed gate report last
    assert {
        layer["mediaType"]
        for layer in manifest["layers"]
        if layer["annotations"]["org.opencontainers.image.title"].endswith(".py")
    } == {"text/x-python"}
    notes = manifest["annotations"]
    assert (notes[K + "typed"], notes[K + "has_hooks"]) == ("true", "true")
    assert notes[K + "runtime_version"].startswith("v")


def _skopeo(image: str) -> Any:
    result = subprocess.run(
        ["skopeo", "inspect", "--raw", "--tls-verify=false", image],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)

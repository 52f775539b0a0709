"""The installed console script, as a user runs it (separate processes)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.registry.server import DistributionRegistry

pytestmark = pytest.mark.integration

ORK = shutil.which("ork", path=str(Path(sys.executable).parent)) or "ork"


def run(
    *args: str, cwd: Path | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [ORK, *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        timeout=60,
    )


def test_help_and_exit_codes(tmp_path: Path) -> None:
    assert run("--help").returncode == 0
    assert run("no-such-command").returncode == 2
    assert run("validate", cwd=tmp_path).returncode == 2
    assert run("init", "--pack", "registry-guide", cwd=tmp_path).returncode == 0
    katalog_dir = tmp_path / "registry-guide" / "02-katalog-api"
    ok = run("validate", cwd=katalog_dir)
    assert ok.returncode == 0, ok.stderr
    (katalog_dir / "bad.yaml").write_text("apiVersion: orkestra.orkspace.io/v1\nkind: Motif\n")
    bad = run("validate", "-f", "bad.yaml", cwd=katalog_dir)
    assert bad.returncode == 1
    assert 'bad.yaml:1:1: error: missing required key "metadata"' in bad.stderr


def test_no_color_and_no_tty_means_plain_text(tmp_path: Path) -> None:
    run("init", "--pack", "registry-guide", cwd=tmp_path)
    cwd = tmp_path / "registry-guide" / "02-katalog-api"
    plain = run("validate", cwd=cwd)
    assert "\033[" not in plain.stdout
    forced = run("validate", cwd=cwd, env={"FORCE_COLOR": "1"})
    assert "\033[32m" in forced.stdout
    both = run("validate", cwd=cwd, env={"FORCE_COLOR": "1", "NO_COLOR": "1"})
    assert "\033[" not in both.stdout


def test_python_dash_m(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "orkestra", "version"], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0 and result.stdout.startswith("ork v")


def test_push_inspect_pull_against_docker_registry(
    tmp_path: Path, distribution: DistributionRegistry
) -> None:
    host = distribution.host
    env = {
        "ORK_HOME": str(tmp_path / "home"),
        "ORK_REGISTRY": f"{host}/proc/katalogs",
        "ORK_MOTIFS_REGISTRY": f"{host}/proc/motifs",
        "NO_COLOR": "1",
    }
    run("init", "--pack", "registry-guide", cwd=tmp_path)
    motifs = tmp_path / "registry-guide" / "01-motifs"
    pushed = run("push", "./web-service", cwd=motifs, env=env)
    assert pushed.returncode == 0, pushed.stderr
    assert pushed.stderr == ""  # no spinner without a terminal
    assert f"✓ Pushed: oci://{host}/proc/motifs/web-service:v1.0.0" in pushed.stdout
    shown = run("inspect", "web-service:v1.0.0", "--motif", env=env)
    assert shown.returncode == 0 and "Kind:        Motif" in shown.stdout
    pulled = run("pull", "web-service:v1.0.0", "-m", "-o", str(tmp_path / "out"), env=env)
    assert pulled.returncode == 0, pulled.stderr
    assert (tmp_path / "out" / "motif.yaml").read_bytes() == (
        motifs / "web-service" / "motif.yaml"
    ).read_bytes()
    missing = run("pull", "nope:v1", env=env)
    assert missing.returncode == 1 and "Traceback" not in missing.stderr
    assert f"oci://{host}/proc/katalogs/nope:v1 not found in {host}" in missing.stderr

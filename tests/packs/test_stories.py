"""The pack's stories as their READMEs tell them: consume (00), the zoo (06), an upgrade
(07), a bad actor caught by ork plan (08), a deprecation (09), and the official patterns."""

from __future__ import annotations

import datetime
import re
from pathlib import Path

import pytest

from orkestra.registry.client import RegistryClient
from tests.conftest import run
from tests.gates.test_push import push
from tests.packs.conftest import OFFICIAL, publish_pack


@pytest.fixture
def pack(pack_copy: Path) -> Path:
    publish_pack(pack_copy)
    return pack_copy


def test_official_patterns_are_published_verified(pack: Path) -> None:
    client = RegistryClient()
    for name in OFFICIAL:
        info = client.info(client.resolve(f"{name}:v1.0.0"))
        assert info.simulate is not None and info.simulate.status == "passed", name
        assert info.simulate.assertions >= 4, name
        assert info.e2e is not None and info.e2e.status == "skipped", name
        assert [f.title for f in info.files] == [
            "katalog.yaml",
            "crd.yaml",
            "README.md",
            "cr.yaml",
            "e2e.yaml",
            "simulate.yaml",
            "gate-report.dsse.json",
        ]


def test_00_consume(
    pack: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(pack / "00-consume")
    code, out, _ = run(capsys, "inspect", "postgres:v1.0.0")
    assert code == 0
    assert re.search(r"Simulate:    ✓ Verified · 5 assertions · \d+ms · tested \d+s ago", out)
    code, out, _ = run(capsys, "inspect", "postgres:v1.0.0", "--view", "katalog.yaml,simulate.yaml")
    assert "# ── simulate.yaml ──" in out and "name: my-postgres-postgres-headless" in out
    assert run(capsys, "pull", "postgres:v1.0.0", "-o", "./postgres")[0] == 0
    code, out, _ = run(capsys, "simulate", "-f", "./postgres/simulate.yaml")
    assert code == 0 and "5/5 assertions passed" in out
    assert run(capsys, "pull", "-f", "komposer.yaml")[0] == 0
    assert Path("komposer.lock").is_file()
    code, out, _ = run(capsys, "validate")
    assert code == 0 and "1 CRD valid (0 built-in, 1 custom)" in out
    code, out, _ = run(capsys, "template")
    assert code == 0 and "kind: Postgres" in out
    code, out, _ = run(capsys, "plan")
    assert (
        code == 0 and "4 object declaration(s), 0 cluster-scoped, all in the author's proof" in out
    )


def test_06_pattern_zoo(
    pack: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(pack / "06-pattern-zoo")
    code, out, err = run(capsys, "pull", "-f", "komposer.yaml")
    assert code == 0, err
    assert "Wrote komposer.lock (9 imports pinned)" in out  # 7 katalogs + 02's, 03's motifs
    code, out, _ = run(capsys, "validate")
    assert code == 0 and "9 CRDs valid (0 built-in, 9 custom)" in out
    code, out, _ = run(capsys, "simulate")
    assert code == 0 and out.count("  PASS") == 9
    code, out, _ = run(capsys, "template")
    assert code == 0 and out.count("      apiTypes:") == 9
    Path("komposer-next.yaml").write_text(
        Path("komposer.yaml").read_text().replace("workers: 6", "workers: 8")
    )
    code, out, _ = run(
        capsys, "plan", "komposer-next.yaml", "--against", "komposer.yaml", "--exit-code"
    )
    assert code == 0
    assert "~ CRD application  (changed)\n    workers: 6 → 8\n" in out
    assert "No risk findings." in out


def test_07_upgrade(
    pack: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(pack / "07-upgrade")
    code, out, _ = run(
        capsys,
        "plan",
        "webapp-operator:v1.1.0",
        "--against",
        "webapp-operator:v1.0.0",
        "--exit-code",
    )
    assert code == 0
    assert "    ~ Deployment           {{ .metadata.name }}" in out
    assert "-    path: /healthz" in out and "+    path: /ready" in out
    assert "+    initialDelaySeconds: 5" in out
    assert "No risk findings." in out
    assert run(capsys, "pull", "-f", "komposer.yaml")[0] == 0
    code, out, _ = run(capsys, "template")
    assert code == 0 and "path: /ready" in out and "path: /healthz" in out


def test_08_bad_actor(
    pack: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(pack / "08-bad-actor")
    result, _ = push(Path("webapp-operator-v1.2.0"))
    assert result.simulate is not None and result.simulate.status == "passed"
    code, out, _ = run(
        capsys,
        "plan",
        "webapp-operator:v1.2.0",
        "--against",
        "webapp-operator:v1.1.0",
        "--exit-code",
    )
    assert code == 1
    lines = out.splitlines()
    admin = next(line for line in lines if "binds-cluster-admin" in line)
    assert admin.lstrip().startswith("HIGH") and "⚠ not in the author's proof" in admin
    crb = next(line for line in lines if "new-cluster-role-binding" in line)
    assert "⚠ not in the author's proof" in crb
    assert not any(
        "ConfigMap" in line and "not in the author's proof" in line for line in lines
    )  # the asserted telemetry ConfigMap is proven
    code, out, _ = run(capsys, "plan", "webapp-operator:v1.2.0")
    binding = next(line for line in out.splitlines() if "ClusterRoleBinding" in line)
    assert "cluster" in binding and "⚠ not in the author's proof" in binding
    code, out, _ = run(capsys, "inspect", "webapp-operator", "--versions")
    tags = [line.split()[0] for line in out.splitlines()[1:]]
    # pushed within the same second (v2.0.0 is 11's)
    assert sorted(tags) == ["v1.0.0", "v1.1.0", "v1.2.0", "v2.0.0"]
    assert len(set(re.findall(r"sha256:[0-9a-f]{12}", out))) == 4


def test_09_deprecation(
    pack: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(pack / "09-deprecation")
    code, out, err = run(capsys, "push", ".")
    print(err)
    days = (datetime.date(2027, 6, 30) - datetime.date.today()).days
    assert (
        code == 0 and f"⚠  DEPRECATION WARNING\n  End of life in {days} days (2027-06-30)." in out
    )
    code, out, _ = run(capsys, "patterns", "--katalogs")
    row = next(line for line in out.splitlines() if "webapp-operator" in line)
    assert row.startswith("⚠  webapp-operator")
    assert "⚠  webapp-operator: v1.0.0 deprecated — ork inspect webapp-operator:v1.0.0" in out
    code, out, _ = run(capsys, "inspect", "webapp-operator:v1.0.0")
    assert out.startswith("⚠  This pattern is deprecated.\n  Migrate to:  webapp-operator:v1.1.0\n")
    monkeypatch.chdir(pack / "09-deprecation" / "consumer")
    assert run(capsys, "pull", "-f", "komposer.yaml")[0] == 0
    code, _, err = run(capsys, "validate")
    assert code == 0
    assert "imported pattern webapp-operator v1.0.0 is deprecated" in err
    assert "hint: migrate to webapp-operator:v1.1.0" in err
    monkeypatch.chdir(pack / "09-deprecation" / "accepted")
    assert run(capsys, "pull", "-f", "komposer.yaml")[0] == 0
    code, _, err = run(capsys, "validate")
    assert code == 0 and "deprecated" not in err

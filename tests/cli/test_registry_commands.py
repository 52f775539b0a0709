"""ork push / pull / inspect / patterns as a user sees them: the seed's stories, the
output formats, -o json, and the error paths with their exit codes."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from orkestra.cli import main
from orkestra.registry.client import RegistryClient
from tests.conftest import RegistryTarget, run, use_published_motifs


@pytest.fixture
def motifs(pack_copy: Path, capsys: pytest.CaptureFixture[str], registry: RegistryTarget) -> Path:
    """The three motifs pushed (to each registry in turn) and the katalogs switched to
    their references."""
    for name in ("web-service", "data-store", "platform-admission"):
        assert main(["push", str(pack_copy / "01-motifs" / name)]) == 0
    capsys.readouterr()
    for step in ("02-katalog-api", "03-katalog-cache", "04-katalog-platform"):
        use_published_motifs(pack_copy / step / "katalog.yaml")
    return pack_copy


def katalogs() -> str:
    """Where katalogs go in the current environment (``local/katalogs`` by default)."""
    return RegistryClient().bases.katalogs


def motif_base() -> str:
    return RegistryClient().bases.motifs


def test_03_story_as_the_seed_tells_it(
    motifs: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(motifs / "03-katalog-cache")
    code, out, _ = run(capsys, "simulate")
    assert code == 1
    assert "  ✗ configmaps/my-cache-config not found (expected cycle 1 create)\n" in out
    assert "  3/4 assertions passed, 1 failed\n  FAIL\n" in out
    code, out, err = run(capsys, "push", ".")
    assert code == 1
    assert err.startswith(
        "✗ Simulate gate failed — push blocked\n"
        "  Run 'ork simulate' to see the failures\n"
        "  Use --force to override (recorded in the artifact)\n"
    )
    assert "Running simulate gate (simulate.yaml)..." in out
    code, out, err = run(capsys, "push", "--force", "--no-e2e", ".")
    assert code == 0, err
    assert out.splitlines()[:8] == [
        f"Pushing cache-operator:v1.0.0 (Katalog) to {katalogs()}...",
        "  ✓ katalog.yaml         valid",
        "  ✓ crd.yaml             valid",
        f"  ✓ README.md            ({_kb(Path('README.md'))})",
        f"  ✓ cr.yaml              ({Path('cr.yaml').stat().st_size} B)",
        f"  ✓ simulate.yaml        ({Path('simulate.yaml').stat().st_size} B)",
        "  ⊘ Simulate skipped",
        "  ⊘ E2E skipped",
    ]
    assert f"\n✓ Pushed: oci://{katalogs()}/cache-operator:v1.0.0\n  Digest: sha256:" in out
    assert "  Simulate: ⊘ Skipped\n  E2E:      ⊘ Skipped\n" in out
    code, out, _ = run(capsys, "inspect", "cache-operator:v1.0.0")
    assert code == 0
    assert "  Simulate:    ⊘ Skipped (pushed with --force or --no-simulate)\n" in out
    assert "  E2E:         ⊘ Skipped (pushed with --force or --no-e2e)\n" in out
    simulate = Path("simulate.yaml")
    text = simulate.read_text()
    simulate.write_text(
        text[: text.index("      - cycle: 1\n        verb: create\n        resource: configmaps")]
    )
    code, out, err = run(capsys, "push", ".")
    assert code == 0, err
    code, out, _ = run(capsys, "inspect", "cache-operator:v1.0.0")
    assert re.search(r"  Simulate:    ✓ Verified · 3 assertions · \d+ms · tested \d+s ago\n", out)


def _kb(path: Path) -> str:
    return f"{path.stat().st_size / 1024:.1f} KB"


def test_inspect_shows_every_row(motifs: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["push", str(motifs / "02-katalog-api")]) == 0
    capsys.readouterr()
    code, out, _ = run(capsys, "inspect", "webapp-operator:v1.0.0")
    assert code == 0
    lines = out.splitlines()
    assert lines[0] == "webapp-operator:v1.0.0"
    assert lines[1:3] == [f"  Registry:    {katalogs()}", "  Kind:        Katalog"]
    assert re.fullmatch(r"  Digest:      sha256:[0-9a-f]{12}\.\.\.", lines[3])
    assert re.fullmatch(r"  Pushed:      \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ \(\d+s ago\)", lines[4])
    for row in (
        "  Tags:        web, api",
        "  Author:      myorg",
        "  License:     Apache-2.0",
        "  Report:      ✓ gate report attached (ork inspect webapp-operator:v1.0.0 --report)",
        "  Files:",
        "To pull:",
        "  ork pull webapp-operator:v1.0.0",
        f"      - url: oci://{katalogs()}/webapp-operator:v1.0.0",
    ):
        assert row in lines
    assert any(re.fullmatch(r"  Runtime:     v\d+\.\d+\.\d+", line) for line in lines)
    # Where e2e ran is part of its line: the embedded server is a weaker proof.
    assert any(
        re.fullmatch(
            r"  E2E:         ✓ Verified · [\d.]+m?s · embedded API server "
            r"\(no kubelet\) · tested \d+s ago",
            line,
        )
        for line in lines
    )
    code, out, _ = run(capsys, "inspect", "webapp-operator:v1.0.0", "-o", "json")
    data = json.loads(out)
    assert (data["simulate"]["status"], data["simulate"]["assertions"]) == ("passed", 2)
    assert data["kind"] == "Katalog"
    assert (data["e2e"]["status"], data["e2e"]["assertions"], data["e2e"]["cluster"]) == (
        "passed",
        5,
        "embedded",
    )
    assert data["referrers"] == []  # the signed gate report is a layer of the artifact
    assert (data["signature"]["status"], data["signature"]["trusted"]) == ("verified", True)
    assert data["simulate"]["verified"] is data["e2e"]["verified"] is True
    code, out, _ = run(capsys, "inspect", "webapp-operator:v1.0.0", "--report")
    assert "✓ create deployments/my-webapp (cycle 1)" in out
    code, out, _ = run(capsys, "inspect", "webapp-operator:v1.0.0", "--versions")
    assert re.search(
        r"  v1\.0\.0\s+✓ Simulate · 2 assertions\s+✓ E2E · [\d.]+m?s · embedded "
        r"API server \(no kubelet\)\s+sha256:\S+\s+\d+s ago  ← latest",
        out,
    )


def test_inspect_view_and_errors(motifs: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(
        capsys, "inspect", "web-service:v1.0.0", "--motif", "--view", "motif.yaml,nope.yaml"
    )
    assert code == 1
    assert out.startswith("# ── motif.yaml ──\n# A Deployment")
    assert err == '⚠ "nope.yaml" not in artifact (available: motif.yaml, gate-report.dsse.json)\n'
    code, _, err = run(capsys, "inspect", "web-service:v1.0.0")
    assert code == 1
    assert f"oci://{katalogs()}/web-service:v1.0.0 not found" in err
    assert f"hint: oci://{motif_base()}/web-service:v1.0.0 is a motif: re-run with --motif" in err
    code, out, _ = run(capsys, "inspect", "web-service:v1.0.0", "-m")
    assert "E2E:" not in out and f"    - motif: oci://{motif_base()}/web-service:v1.0.0" in out
    code, _, err = run(capsys, "inspect", "web-service@v1")
    assert code == 1 and "use ':' not '@' for version tags" in err
    code, out, _ = run(capsys, "inspect", "web-service:v1.0.0", "-m", "--report")
    assert code == 0 and "Validate: passed · motif.yaml\n" in out  # motifs are signed too


def test_patterns_table(motifs: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "patterns", "--motifs")
    assert code == 0
    lines = out.splitlines()
    assert lines[1:3] == ["Orkestra Motifs", "─" * 57]
    assert lines[3].split() == [
        "NAME",
        "LATEST",
        "KIND",
        "SIM",
        "E2E",
        "SIGNED",
        "TAGS",
        "DESCRIPTION",
    ]
    assert lines[4].startswith("   web-service         v1.0.0  Motif")
    assert "3 patterns  ·  Updated " in out
    code, out, _ = run(capsys, "patterns", "--tag", "POLICY")
    assert "platform-admission" in out and "web-service " not in out
    code, out, _ = run(capsys, "patterns", "-k")
    assert f"No patterns published in {katalogs()} yet." in out
    code, out, _ = run(capsys, "patterns", "-o", "json")
    data = json.loads(out)
    assert sorted(p["name"] for p in data["patterns"]) == [
        "data-store",
        "platform-admission",
        "web-service",
    ]


def test_patterns_marks_deprecated(pack_copy: Path, capsys: pytest.CaptureFixture[str]) -> None:
    web = pack_copy / "01-motifs" / "web-service" / "motif.yaml"
    web.write_text(
        web.read_text().replace(
            "  version: v1.0.0\n", "  version: v1.0.0\n  deprecation:\n    message: gone soon\n"
        )
    )
    code, out, _ = run(capsys, "push", str(web.parent))
    assert code == 0 and "⚠  DEPRECATION WARNING\n  gone soon\n" in out
    code, out, _ = run(capsys, "patterns")
    assert any(line.startswith("⚠  web-service") for line in out.splitlines())
    code, out, _ = run(capsys, "inspect", "web-service:v1.0.0", "-m")
    assert out.startswith("⚠  This pattern is deprecated.\n  Note:        gone soon\n")


def test_patterns_listing_failure(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "patterns", "127.0.0.1:9/nothing")
    assert code == 1
    assert "registry listing failed: 127.0.0.1:9/nothing" in err
    assert "cannot connect to 127.0.0.1:9" in err


def test_pull_outputs(motifs: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["push", str(motifs / "02-katalog-api")]) == 0
    capsys.readouterr()
    code, out, _ = run(capsys, "pull", "webapp-operator:v1.0.0")
    assert code == 0
    assert out.startswith(
        "Pulling webapp-operator:v1.0.0\n"
        f"  → oci://{katalogs()}/webapp-operator:v1.0.0\n  ✓ Cached at "
    )
    assert f"Pulling motif dependencies...\n  ✓ oci://{motif_base()}/web-service:v1.0.0" in out
    code, out, _ = run(capsys, "pull", "webapp-operator:v1.0.0", "-o", str(tmp_path / "local"))
    assert out.startswith("  ✓ Already cached\n")
    assert sorted(p.name for p in (tmp_path / "local").iterdir()) == [
        "README.md",
        "cr.yaml",
        "crd.yaml",
        "e2e.yaml",
        "gate-report.dsse.json",
        "katalog.yaml",
        "simulate.yaml",
    ]
    assert (tmp_path / "local" / "katalog.yaml").read_bytes() == (
        motifs / "02-katalog-api" / "katalog.yaml"
    ).read_bytes()
    code, out, _ = run(capsys, "simulate", "-f", str(tmp_path / "local" / "simulate.yaml"))
    assert code == 0 and "2/2 assertions passed" in out
    code, out, _ = run(capsys, "pull", "web-service:v1.0.0", "-m")
    assert '        image: ""   # required' in out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["pull"], "provide a reference (e.g. postgres:v14) or --file <katalog.yaml>"),
        (["pull", "x:v1", "-f", "pyproject.toml"], "give a reference or --file, not both"),
        (["pull", "--oci-layout", "./lay:v1"], "--oci-layout pulls need -o DIR"),
        (["push"], "ork push takes [NAME:VERSION] DIR"),
        (["push", "a", "b", "c"], "ork push takes [NAME:VERSION] DIR"),
    ],
)
def test_usage_errors(
    args: list[str],
    message: str,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(Path(__file__).parents[2])
    code, _, err = run(capsys, *args)
    assert code == 2 and message in err


def test_push_json(motifs: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "push", str(motifs / "02-katalog-api"), "-o", "json")
    assert code == 0
    data = json.loads(out)
    assert data["ref"].endswith("/katalogs/webapp-operator:v1.0.0")
    assert (data["simulate"]["status"], data["e2e"]["status"]) == ("passed", "passed")
    assert (data["e2e"]["cluster"], data["e2e"]["clusterLabel"]) == (
        "embedded",
        "embedded API server (no kubelet)",
    )
    assert data["files"][0]["name"] == "katalog.yaml"
    code, out, _ = run(capsys, "inspect", "webapp-operator:v1.0.0", "-o", "json")
    assert json.loads(out)["digest"] == data["digest"]


def test_typed_katalogs_say_so(motifs: Path, capsys: pytest.CaptureFixture[str]) -> None:
    katalog = motifs / "02-katalog-api" / "katalog.yaml"
    katalog.write_text(
        katalog.read_text().replace(
            "        reconciler:\n",
            "        reconciler:\n          hooks:\n"
            "            module: myorg.hooks.webapp\n            function: reconcile\n",
        )
    )
    # An installed module (not beside the katalog, not here): the gates cannot run it.
    assert main(["push", "--no-simulate", "--no-e2e", str(katalog.parent)]) == 0
    capsys.readouterr()
    code, out, _ = run(capsys, "inspect", "webapp-operator:v1.0.0")
    assert code == 0 and "  Typed:       ✓ Has hooks · requires custom runtime\n" in out
    code, out, _ = run(capsys, "pull", "webapp-operator:v1.0.0")
    assert code == 0 and "↳ Typed operator — requires a custom runtime image" in out

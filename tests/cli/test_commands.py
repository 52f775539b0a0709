"""The ork commands, run in-process through the entry point."""

from __future__ import annotations

import datetime
import json
import shutil
from pathlib import Path

import pytest
import yaml

from orkestra.cli import main
from tests.conftest import PACK


@pytest.fixture
def pack(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    assert main(["init", "--pack", "registry-guide", "-d", str(tmp_path / "rg")]) == 0
    monkeypatch.chdir(tmp_path / "rg" / "02-katalog-api")
    return tmp_path / "rg"


def test_init_writes_the_pack_and_refuses_to_overwrite(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "rg"
    assert main(["init", "--pack", "registry-guide", "-d", str(target)]) == 0
    written = sorted(p.relative_to(target).as_posix() for p in target.rglob("*") if p.is_file())
    shipped = sorted(
        p.relative_to(PACK).as_posix()
        for p in PACK.rglob("*")
        if p.is_file() and "__pycache__" not in p.parts
    )
    assert written == shipped
    assert main(["init", "--pack", "registry-guide", "-d", str(target)]) == 1
    assert "already exists; use --force" in capsys.readouterr().err
    assert main(["init", "--pack", "registry-guide", "-d", str(target), "--force"]) == 0
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


def test_init_list_and_unknown_pack(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["init", "--list"]) == 0
    assert capsys.readouterr().out.startswith("registry-guide — ")
    assert main(["init", "--pack", "nope"]) == 1
    assert 'no pack named "nope"' in capsys.readouterr().err
    assert main(["init"]) == 2


def test_validate_summarizes_the_katalog(pack: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate"]) == 0
    out = capsys.readouterr().out
    assert "● webapp\n" in out
    assert (
        "    kind: WebApp / group: rkguide.demo / version: v1 / plural: webapps / "
        "scope: Namespaced\n"
    ) in out
    assert "    mode: dynamic / workers: 2 / resync: 30s\n" in out
    assert "✓ 1 CRD valid (0 built-in, 1 custom)\n" in out
    assert "✓ simulate.yaml: simulate webapp-sim valid" in out


def test_validate_full_shows_rbac(pack: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", "--full", "-f", "katalog.yaml"]) == 0
    out = capsys.readouterr().out
    assert "apps               deployments         get list watch create update patch delete" in out
    assert "gateway: not needed" in out
    assert "Start order: webapp" in out


def test_validate_json(pack: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", "-o", "json", "--full", "-f", "katalog.yaml"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["valid"] is True
    crd = report["files"][0]["crds"][0]
    assert (crd["name"], crd["kind"], crd["workers"]) == ("webapp", "WebApp", 2)
    assert {
        "apiGroups": ["apps"],
        "resources": ["deployments"],
        "verbs": ["get", "list", "watch", "create", "update", "patch", "delete"],
    } in report["files"][0]["rbac"]["webapp"]


def test_validate_reports_errors_on_stderr_with_exit_1(
    pack: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    Path("bad.yaml").write_text(
        Path("katalog.yaml").read_text().replace("resync: 30s", "resync: soon")
    )
    assert main(["validate", "-f", "bad.yaml"]) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert (
        "bad.yaml:35:19: error: spec.crds.webapp.operatorBox.reconciler.resync: "
        '"soon" is not a duration' in captured.err
    )
    assert main(["validate", "-o", "json", "-f", "bad.yaml"]) == 1
    report = json.loads(capsys.readouterr().out)
    assert report["files"][0]["errors"][0]["line"] == 35


def test_validate_without_files_is_a_usage_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(["validate"]) == 2
    assert "no pattern file in" in capsys.readouterr().err


def test_validate_warns_about_deprecation(pack: Path, capsys: pytest.CaptureFixture[str]) -> None:
    text = (
        Path("katalog.yaml")
        .read_text()
        .replace(
            "  version: v1.0.0\n",
            "  version: v1.0.0\n  deprecation:\n    message: use v2\n"
            "    migratedTo: webapp-operator:v2.0.0\n    timeline: {from: 2020-01-01, "
            "to: 2099-01-01}\n",
        )
    )
    Path("katalog.yaml").write_text(text)
    assert main(["validate", "-f", "katalog.yaml"]) == 0
    err = capsys.readouterr().err
    days = (datetime.date(2099, 1, 1) - datetime.date.today()).days
    assert (
        f"⚠  DEPRECATION WARNING\n  End of life in {days} days (2099-01-01).\n  use v2\n"
        "  Migrate to:  webapp-operator:v2.0.0\n" in err
    )
    Path("katalog.yaml").write_text(text.replace("2099-01-01", "2021-01-01"))
    assert main(["validate", "-f", "katalog.yaml"]) == 0
    assert (
        "✗  END OF LIFE\n  This pattern reached end of life on 2021-01-01.\n"
        in capsys.readouterr().err
    )


def test_template_prints_g2_and_round_trips(pack: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["template"]) == 0
    text = capsys.readouterr().out
    assert text.startswith("---\napiVersion: orkestra.orkspace.io/v1\nkind: Katalog\n")
    expanded = yaml.safe_load(text)
    box = expanded["spec"]["crds"]["webapp"]["operatorBox"]
    assert set(box) == {"reconcile", "emit"}
    assert box["reconcile"]["onReconcile"]["deployments"][0]["image"] == "{{ .spec.image }}"
    Path("expanded.yaml").write_text(text)
    assert main(["template", "-f", "expanded.yaml"]) == 0
    assert yaml.safe_load(capsys.readouterr().out) == expanded


def test_template_json_crd_filter_and_output_file(
    pack: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["template", "-o", "json", "-c", "webapp", "--output-file", "out/x.json"]) == 0
    assert capsys.readouterr().out == "✓ written to out/x.json\n"
    assert list(json.loads(Path("out/x.json").read_text())["spec"]["crds"]) == ["webapp"]
    assert main(["template", "-c", "nope"]) == 1
    assert 'CRD "nope" not found; available: webapp' in capsys.readouterr().err


def test_template_failure_leaves_no_output_file(pack: Path) -> None:
    Path("bad.yaml").write_text("kind: Katalog\n")
    assert main(["template", "-f", "bad.yaml", "--output-file", "t.yaml"]) == 1
    assert not Path("t.yaml").exists()


def test_template_no_validate_skips_semantic_checks(pack: Path) -> None:
    text = Path("katalog.yaml").read_text().replace("value: Running", 'value: "{{ nope }}"')
    Path("katalog.yaml").write_text(text)
    assert main(["template"]) == 1
    assert main(["template", "--no-validate"]) == 0


def test_schema_version_and_completion(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["schema", "Motif"]) == 0
    schema = json.loads(capsys.readouterr().out)
    assert schema["title"] == "Orkestra Motif"
    assert main(["schema", "--list"]) == 0
    listed = capsys.readouterr().out.splitlines()
    assert listed[:5] == ["katalog", "motif", "komposer", "simulate", "e2e"]
    assert [line.split()[1] for line in listed[5:]] == ["error", "simulate", "simulate-tree"]
    assert main(["schema", "katalogue"]) == 2
    assert main(["version", "-o", "json"]) == 0
    assert json.loads(capsys.readouterr().out)["version"]
    assert main(["completion", "bash"]) == 0
    assert "_ORK_COMPLETE" in capsys.readouterr().out


def test_notes_and_profiles_listings(pack: Path, capsys: pytest.CaptureFixture[str]) -> None:
    text = (
        Path("katalog.yaml")
        .read_text()
        .replace(
            "spec:\n  crds:",
            "notes:\n  functions:\n    - {name: fullName, expression: "
            '"{{ .metadata.name }}"}\nprofiles:\n  resources:\n    - {name: tiny, requests: '
            "{cpu: 50m}}\nspec:\n  crds:",
        )
    )
    Path("katalog.yaml").write_text(text)
    assert main(["validate", "-f", "katalog.yaml", "--notes", "--profiles"]) == 0
    out = capsys.readouterr().out
    assert "allReplicasReady" in out and "fullName (user note): {{ .metadata.name }}" in out
    assert "Profiles of webapp-operator:\n  resources: tiny\n" in out


def test_motif_and_aggregate_validation(pack: Path, capsys: pytest.CaptureFixture[str]) -> None:
    motifs = pack / "01-motifs"
    assert main(["validate", "-f", str(motifs / "web-service/motif.yaml")]) == 0
    assert "motif web-service v1.0.0 valid (5 inputs, 3 resources)" in capsys.readouterr().out
    shutil.copy(motifs / "data-store/motif.yaml", "motif.yaml")
    assert main(["validate", "-f", "motif.yaml", "-f", "katalog.yaml"]) == 0

"""``ork generate bundle``, run in-process through the entry point (and once as a process)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from orkestra.cli import main
from tests.conftest import PACK, WriteFiles

KINDS = [
    "Namespace",
    "ServiceAccount",
    "ClusterRole",
    "ClusterRoleBinding",
    "Role",
    "RoleBinding",
    "ConfigMap",
]


@pytest.fixture
def api(pack_copy: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The current directory: a copy of 02-katalog-api."""
    monkeypatch.chdir(pack_copy / "02-katalog-api")
    return pack_copy / "02-katalog-api"


def documents(text: str) -> list[dict[str, Any]]:
    return [d for d in yaml.safe_load_all(text) if d]


def test_prints_the_bundle_of_the_pattern_here(
    api: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["generate", "bundle"]) == 0
    captured = capsys.readouterr()
    assert captured.out.startswith(
        "# ork generate bundle: webapp-operator v1.0.0 in namespace orkestra-system\n"
    )
    assert [d["kind"] for d in documents(captured.out)] == KINDS
    assert captured.err == ""


def test_writes_the_file_atomically(api: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["generate", "bundle", "-f", "katalog.yaml"]) == 0
    printed = capsys.readouterr().out
    assert main(["generate", "bundle", "-o", "out/bundle.yaml"]) == 0
    assert capsys.readouterr().out == "✓ written to out/bundle.yaml\n"
    assert (api / "out" / "bundle.yaml").read_text() == printed
    assert [p.name for p in (api / "out").iterdir()] == ["bundle.yaml"]  # no temp files


def test_a_failure_writes_nothing(api: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (api / "bundle.yaml").write_text("previous\n")
    (api / "broken.yaml").write_text(
        (api / "katalog.yaml").read_text().replace("resync: 30s", "resync: soon")
    )
    assert main(["generate", "bundle", "-f", "broken.yaml", "-o", "bundle.yaml"]) == 1
    assert "broken.yaml:" in capsys.readouterr().err
    assert (api / "bundle.yaml").read_text() == "previous\n"
    assert main(["generate", "bundle", "-f", "broken.yaml", "-o", "new.yaml"]) == 1
    assert not (api / "new.yaml").exists()
    assert not [p for p in api.iterdir() if p.name.startswith(".")]


def test_dry_run_lists_and_writes_nothing(api: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["generate", "bundle", "--dry-run", "-o", "bundle.yaml", "-n", "apps"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == (
        "Bundle for webapp-operator v1.0.0 in namespace apps (would be written "
        "to bundle.yaml; nothing written)"
    )
    assert [line.split()[0] for line in out[1:]] == KINDS
    assert out[3].split() == ["ClusterRole", "orkestra-runtime", "8", "rules"]
    assert out[-1].split()[:3] == ["ConfigMap", "apps/orkestra-katalog", "katalog.yaml"]
    assert not (api / "bundle.yaml").exists()


def test_namespace_and_crds(api: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["generate", "bundle", "-n", "platform", "--with-crds"]) == 0
    docs = documents(capsys.readouterr().out)
    assert [d["kind"] for d in docs] == ["CustomResourceDefinition", *KINDS]
    assert {
        d["metadata"].get("namespace")
        for d in docs
        if d["kind"]
        not in ("CustomResourceDefinition", "Namespace", "ClusterRole", "ClusterRoleBinding")
    } == {"platform"}


def test_a_komposer_here_is_the_pattern(
    write: WriteFiles, capsys: pytest.CaptureFixture[str]
) -> None:
    write(
        **{
            "katalog.yaml": (PACK / "02-katalog-api" / "katalog.yaml").read_text(),
            "komposer.yaml": f"""
                apiVersion: orkestra.orkspace.io/v1
                kind: Komposer
                metadata: {{name: composed, version: v2.0.0}}
                imports:
                  files: [{PACK / "official" / "redis" / "katalog.yaml"}]
                """,
        }
    )
    assert main(["generate", "bundle", "--dry-run"]) == 0
    assert capsys.readouterr().out.startswith("Bundle for composed v2.0.0 in namespace")


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["-f", "missing.yaml"], 1, "missing.yaml: error: file not found"),
        (
            ["-f", str(PACK / "01-motifs" / "web-service" / "motif.yaml")],
            1,
            "error: kind: a Motif is not expected here\n  expected: one of Katalog, Komposer",
        ),
        (["-f", "katalog.yaml", "--bogus"], 2, "Error: No such option '--bogus'"),
        (
            ["-f", "katalog.yaml", "-n", "Not_A_Name"],
            2,
            'namespace "Not_A_Name" is not a valid name\n  hint: lower-case letters',
        ),
        (["-f", "katalog.yaml", "-o"], 2, "Error: Option '-o' requires an argument."),
    ],
)
def test_bad_input(
    api: Path, capsys: pytest.CaptureFixture[str], args: list[str], code: int, message: str
) -> None:
    assert main(["generate", "bundle", *args]) == code
    captured = capsys.readouterr()
    assert message in captured.err and captured.out == ""


def test_no_pattern_file_here(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(["generate", "bundle"]) == 2
    assert capsys.readouterr().err == (
        f"no komposer.yaml or katalog.yaml in {tmp_path}\n  hint: name the pattern with -f FILE\n"
    )


def test_a_kind_only_a_cr_decides_is_a_warning(
    write: WriteFiles, capsys: pytest.CaptureFixture[str]
) -> None:
    write(
        **{
            "katalog.yaml": """
        apiVersion: orkestra.orkspace.io/v1
        kind: Katalog
        metadata: {name: anything, version: v1.0.0}
        spec:
          crds:
            thing:
              apiTypes: {group: t.io, version: v1, kind: Thing, plural: things}
              operatorBox:
                onReconcile:
                  custom:
                    - {apiVersion: "{{ .spec.api }}", kind: Widget, metadata: {name: w}}
        """
        }
    )
    assert main(["generate", "bundle"]) == 0
    captured = capsys.readouterr()
    assert "⚠ thing onReconcile/custom/0: {{ .spec.api }} Widget is a template" in captured.err
    assert "widgets" not in captured.out


def test_help_lists_the_command(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--help"]) == 0
    assert (
        "  generate    Generate the RBAC and katalog bundle to deploy." in capsys.readouterr().out
    )
    assert main(["generate", "--help"]) == 0
    assert "  bundle  Least-privilege RBAC and the katalog ConfigMap" in capsys.readouterr().out


@pytest.mark.integration
def test_the_process_writes_the_same_bytes_as_in_process(
    api: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["generate", "bundle"]) == 0
    done = subprocess.run(
        [sys.executable, "-m", "orkestra", "generate", "bundle"],
        capture_output=True,
        text=True,
        check=False,
        cwd=api,
    )
    assert (done.returncode, done.stderr) == (0, "")
    assert done.stdout == capsys.readouterr().out

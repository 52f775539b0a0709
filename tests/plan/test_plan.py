"""ork plan on the pack: the inventory, the proof marks, diffs, bundles and the CLI."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from orkestra.cli import main
from orkestra.compose import compose_file
from orkestra.plan.objects import inventory
from orkestra.plan.proof import prove
from orkestra.plan.source import from_bundle
from tests.conftest import PACK

CRB = """        onReconcile:
          clusterRoleBindings:
            - name: "{{ .metadata.name }}-telemetry"
              roleRef: {kind: ClusterRole, name: cluster-admin}
              subjects:
                - {kind: ServiceAccount, name: default, namespace: "{{ .metadata.namespace }}"}
"""


def test_inventory_of_02() -> None:
    composed = compose_file(PACK / "02-katalog-api" / "katalog.yaml")
    inv = inventory(composed)
    [crd] = inv.crds
    assert (crd.name, crd.kind, crd.group, crd.versions, crd.namespaced) == (
        "webapp",
        "WebApp",
        "rkguide.demo",
        ("v1",),
        True,
    )
    assert [(o.phase, o.kind, o.name, o.scope, o.conditions) for o in crd.objects] == [
        ("onReconcile", "Deployment", "{{ .metadata.name }}", "namespaced", ()),
        ("onReconcile", "Service", "{{ .metadata.name }}-svc", "namespaced", ()),
        (
            "onReconcile",
            "Ingress",
            "{{ .metadata.name }}-ingress",
            "namespaced",
            ("{{ .spec.host }} exists",),
        ),
    ]
    proof = prove(composed, inv)
    assert [proof.covers(o) for o in crd.objects] == [True, True, False]
    assert proof.files == [str(PACK / "02-katalog-api" / "simulate.yaml")]


def test_plan_cli_marks_what_the_proof_misses(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["plan", str(PACK / "02-katalog-api")]) == 0
    out = capsys.readouterr().out
    assert "CRD webapp — WebApp.rkguide.demo (v1), namespaced\n  onReconcile\n" in out
    ingress = next(line for line in out.splitlines() if "Ingress" in line)
    assert "⚠ not in the author's proof" in ingress
    assert "3 object declaration(s), 0 cluster-scoped, 1 not in the author's proof" in out
    assert main(["plan", "-f", str(PACK / "02-katalog-api" / "katalog.yaml"), "-o", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert [o["inProof"] for o in data["crds"][0]["objects"]] == [True, True, False]


@pytest.fixture
def bad_actor(pack_copy: Path) -> Path:
    bad = pack_copy / "bad"
    bad.mkdir()
    for name in ("crd.yaml", "cr.yaml", "simulate.yaml"):
        (bad / name).write_text((pack_copy / "02-katalog-api" / name).read_text())
    text = (pack_copy / "02-katalog-api" / "katalog.yaml").read_text()
    text = text.replace("version: v1.0.0", "version: v1.1.0").replace(
        "      operatorBox:\n", "      operatorBox:\n" + CRB, 1
    )
    (bad / "katalog.yaml").write_text(text)
    return bad


def test_against_flags_the_cluster_admin_binding(
    bad_actor: Path, pack_copy: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["plan", str(bad_actor), "--against", str(pack_copy / "02-katalog-api")]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "    + ClusterRoleBinding   {{ .metadata.name }}-telemetry" in out
    high = next(line for line in out.splitlines() if "binds-cluster-admin" in line)
    assert high.lstrip().startswith("HIGH") and "⚠ not in the author's proof" in high
    assert main([*args, "--exit-code"]) == 1
    capsys.readouterr()
    assert main([*args, "--exit-code", "-o", "json"]) == 1
    data = json.loads(capsys.readouterr().out)
    assert {(f["rule"], f["inProof"]) for f in data["findings"]} >= {
        ("binds-cluster-admin", False),
        ("new-cluster-role-binding", False),
    }
    assert (data["from"]["version"], data["to"]["version"]) == ("v1.0.0", "v1.1.0")


def test_no_changes_exits_zero(capsys: pytest.CaptureFixture[str]) -> None:
    api = str(PACK / "02-katalog-api")
    assert main(["plan", api, "--against", api, "--exit-code"]) == 0
    out = capsys.readouterr().out
    assert "No changes." in out and "No risk findings." in out


def bundle(path: Path, katalog: dict[str, object] | None) -> Path:
    docs: list[dict[str, object]] = [
        {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "orkestra"}}
    ]
    if katalog is not None:
        docs.append(
            {
                "apiVersion": "v1",
                "kind": "ConfigMap",
                "metadata": {"name": "orkestra-katalog"},
                "data": {"katalog.yaml": yaml.safe_dump(katalog)},
            }
        )
    path.write_text(yaml.safe_dump_all(docs))
    return path


def test_against_a_bundle(
    tmp_path: Path, bad_actor: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    deployed = compose_file(PACK / "02-katalog-api" / "katalog.yaml").as_katalog()
    path = bundle(tmp_path / "bundle.yaml", deployed)
    source = from_bundle(path)
    assert source.label.endswith("(ConfigMap orkestra-katalog, key katalog.yaml)")
    assert sorted(o.kind for o in source.inventory.objects()) == [
        "Deployment",
        "Ingress",
        "Service",
    ]
    assert main(["plan", str(bad_actor), "--bundle", str(path), "--exit-code"]) == 1
    assert "binds-cluster-admin" in capsys.readouterr().out
    empty = bundle(tmp_path / "empty.yaml", None)
    assert main(["plan", str(bad_actor), "--cm", str(empty)]) == 0
    out = capsys.readouterr().out
    assert "(no deployed katalog)" in out and "+ CRD webapp  (added)" in out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["plan", "a", "-f", "b"], "give SOURCE or -f FILE, not both"),
        (["plan", ".", "--against", "x", "--cm", "y"], "compare with one of"),
    ],
)
def test_usage(args: list[str], message: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(args) == 2
    assert message in capsys.readouterr().err


def test_nothing_to_plan(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "empty").mkdir()
    assert main(["plan", "empty"]) == 1
    assert "no katalog.yaml or komposer.yaml in empty" in capsys.readouterr().err

"""Table-driven risk rules: each case composes two versions of a katalog (and its CRD
schema) and checks exactly which findings fire."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from orkestra.compose import compose_file
from orkestra.plan.diff import compare
from orkestra.plan.objects import inventory
from orkestra.plan.risks import SEVERITIES, findings
from tests.plan.risk_cases import CASES, RiskCase


def katalog(
    directory: Path,
    resources: str,
    extra: str,
    top: str,
    box: str,
    crd_schema: dict[str, object] | None,
    versions: tuple[str, ...],
) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    crd_file = ""
    if crd_schema is not None:
        (directory / "crd.yaml").write_text(json.dumps(_manifest(crd_schema, versions)))
        crd_file = "      crdFile: ./crd.yaml\n"
    path = directory / "katalog.yaml"
    path.write_text(f"""apiVersion: orkestra.orkspace.io/v1
kind: Katalog
metadata:
  name: demo
  version: v1.0.0
{top}spec:
  crds:
    app:
      apiTypes: {{group: demo.io, version: {versions[-1]}, kind: App, plural: apps}}
{crd_file}{extra}      operatorBox:
{box}        onReconcile:
{resources}""")
    return path


def _manifest(schema: dict[str, object], versions: tuple[str, ...]) -> dict[str, object]:
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": "apps.demo.io"},
        "spec": {
            "group": "demo.io",
            "scope": "Namespaced",
            "names": {"kind": "App", "plural": "apps", "singular": "app"},
            "versions": [
                {
                    "name": v,
                    "served": True,
                    "storage": v == versions[-1],
                    "schema": {"openAPIV3Schema": schema},
                }
                for v in versions
            ],
        },
    }


def test_enough_cases() -> None:
    assert len(CASES) >= 25
    assert len({c.id for c in CASES}) == len(CASES)
    assert sum(1 for c in CASES if not c.rules) >= 8  # negatives too


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_risk_rule(case: RiskCase, tmp_path: Path) -> None:
    old = compose_file(
        katalog(
            tmp_path / "old",
            case.old,
            case.old_extra,
            case.old_top,
            case.old_box,
            case.old_schema,
            case.old_versions,
        )
    )
    new = compose_file(
        katalog(
            tmp_path / "new",
            case.new,
            case.new_extra,
            case.new_top,
            case.new_box,
            case.new_schema,
            case.new_versions,
        )
    )
    found = findings(compare(inventory(old), inventory(new)))
    assert {f.rule for f in found} == case.rules, [f.message for f in found]
    assert all(f.severity in SEVERITIES for f in found)
    for f in found:
        if f.rule in (
            "binds-cluster-admin",
            "rbac-wildcard",
            "rbac-escalation",
            "crd-removed-field",
            "crd-namespaced-to-cluster",
        ):
            assert f.severity == "high", f

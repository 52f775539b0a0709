"""Komposer: file imports, stamping, deep-merge overrides, enabled: false, G0 sources."""

from __future__ import annotations

from pathlib import Path

from orkestra.compose import compose_file
from tests.conftest import WriteFiles

KATALOG = """
apiVersion: orkestra.orkspace.io/v1
kind: Katalog
metadata: {name: web-operator, version: v1.2.0, description: Web things}
spec:
  crds:
    web:
      apiTypes: {group: g.io, version: v1, kind: Web, plural: webs}
      labelSelector: {a: b}
      operatorBox:
        reconciler: {workers: 2, resync: 30s}
        onReconcile:
          configMaps: [{name: one}]
    cache:
      apiTypes: {group: g.io, version: v1, kind: Cache, plural: caches}
"""

KOMPOSER = """
apiVersion: orkestra.orkspace.io/v1
kind: Komposer
metadata: {name: platform, version: v1.0.0}
security:
  deletionProtection: {enabled: true}
imports:
  files: [./katalog.yaml]
spec:
  crds:
    web:
      labelSelector: {c: d}
      operatorBox:
        reconciler: {workers: 5}
    cache:
      enabled: false
"""


def test_overrides_deep_merge_and_disable(write: WriteFiles) -> None:
    write(**{"katalog.yaml": KATALOG, "komposer.yaml": KOMPOSER})
    composed = compose_file(Path("komposer.yaml"))
    web = composed.crds["web"]
    assert web["operatorBox"]["reconcile"]["workers"] == 5
    assert web["operatorBox"]["reconcile"]["resync"] == "30s"
    assert web["labelSelector"] == {"a": "b", "c": "d"}
    assert web["katalogName"] == "web-operator"
    assert web["katalogVersion"] == "v1.2.0"
    assert list(composed.enabled_crds) == ["web"]
    assert composed.top["security"]["deletionProtection"]["enabled"] is True
    assert composed.name == "platform"


def test_g0_sources_and_list_overrides(write: WriteFiles) -> None:
    g0 = (
        KOMPOSER.replace("imports:", "sources:")
        .replace("spec:\n  crds:\n    web:\n", "spec:\n  crds:\n    - name: web\n")
        .replace("    cache:\n      enabled: false\n", "")
    )
    write(**{"katalog.yaml": KATALOG, "komposer.yaml": g0})
    composed = compose_file(Path("komposer.yaml"))
    assert composed.crds["web"]["operatorBox"]["reconcile"]["workers"] == 5

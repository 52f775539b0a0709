"""Cross-namespace copies in simulate: a copy whose source simulate was not given is
skipped with upstream's note and the run has no error; a source object in a CR file
(its namespace created when missing) is copied for real."""

from __future__ import annotations

import pytest

from tests.conftest import WriteFiles, run

KATALOG = """
    apiVersion: orkestra.orkspace.io/v1
    kind: Katalog
    metadata: {name: shop}
    spec:
      crds:
        app:
          apiTypes: {group: test.io, version: v1, kind: App, plural: apps}
          operatorBox:
            reconcile:
              onCreate:
                secrets:
                  - name: registry-creds
                    fromSecret: registry-creds
                    fromNamespace: platform
                    toNamespaces: ["{{ .metadata.namespace }}"]
                configMaps:
                  - name: "{{ .metadata.name }}-settings"
                    fromConfigMap: settings
                    fromNamespace: platform
"""
CR = """
    apiVersion: test.io/v1
    kind: App
    metadata: {name: shop, namespace: default}
    spec: {}
"""
SOURCE = """
    ---
    apiVersion: v1
    kind: ConfigMap
    metadata: {name: settings, namespace: platform}
    data: {region: eu}
"""
SIMULATE = """
    apiVersion: orkestra.orkspace.io/v1
    kind: Simulate
    spec:
      katalog: katalog.yaml
      cr: cr.yaml
      cycles: 3
      expect:
        noErrors: true
        absent: [{verb: create, resource: secrets}]
"""
NOTE = "cross-namespace copy skipped in simulate — requires a live cluster"


def test_missing_sources_are_skipped_with_a_note(
    write: WriteFiles, capsys: pytest.CaptureFixture[str]
) -> None:
    write(**{"katalog.yaml": KATALOG, "cr.yaml": CR, "simulate.yaml": SIMULATE})
    code, out, _ = run(capsys, "simulate", "-f", "simulate.yaml")
    assert code == 0, out
    assert out.startswith(
        "Simulating app/shop\n"
        f"  note: secrets/registry-creds: {NOTE}\n"
        f"  note: configmaps/{{{{ .metadata.name }}}}-settings: {NOTE}\n"
        "  Cycle 1:\n"
        "    ~ status/shop\n"
    )


def test_a_source_in_a_cr_file_is_copied(
    write: WriteFiles, capsys: pytest.CaptureFixture[str]
) -> None:
    write(**{"katalog.yaml": KATALOG, "cr.yaml": CR + SOURCE, "simulate.yaml": SIMULATE})
    code, out, _ = run(capsys, "simulate", "-f", "simulate.yaml")
    assert code == 0, out
    assert f"  note: secrets/registry-creds: {NOTE}\n" in out
    assert "configmaps/{{" not in out
    assert "    + configmaps/shop-settings\n" in out

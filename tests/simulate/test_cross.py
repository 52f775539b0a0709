"""``cross`` in simulate: peers are the CR files' documents, sources answer from the
simulate file's ``spec.cross`` stubs, and a source without a stub reads as not found with
a note (simulate makes no network call)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from orkestra.simulate.runner import Simulation
from orkestra.simulate.spec import load_specs
from tests.conftest import WriteFiles, run

KATALOG = """
    apiVersion: orkestra.orkspace.io/v1
    kind: Katalog
    metadata: {name: shop}
    spec:
      crds:
        database:
          apiTypes: {group: test.io, version: v1, kind: Database, plural: databases}
          labelSelector: {tier: data}
          crossAccess: %s
        app:
          apiTypes: {group: test.io, version: v1, kind: App, plural: apps}
          operatorBox:
            observe:
              cross:
                - crd: database
                  as: db
                  selector: {name: "{{ .metadata.name }}-db"}
                - labelSelector: {tier: data}
                  as: tiered
                - crd: billing
                  selector: {name: "{{ .metadata.name }}"}
                  source: {host: "http://billing:8080", cacheFor: 1m}
                - crd: ledger
                  as: ledger
                  source: {endpoint: "https://ledger/{{ .metadata.name }}"}
            reconcile:
              onReconcile:
                configMaps:
                  - name: seen
                    data: {cross: "{{ toJson .cross }}"}
"""
CR = """
    apiVersion: test.io/v1
    kind: App
    metadata: {name: shop, namespace: default}
    spec: {}
    ---
    apiVersion: test.io/v1
    kind: Database
    metadata: {name: shop-db, namespace: default, labels: {tier: data}}
    spec: {engine: postgres}
"""
SIMULATE = """
    apiVersion: orkestra.orkspace.io/v1
    kind: Simulate
    spec:
      katalog: katalog.yaml
      cr: cr.yaml
      cycles: 2
      cross:
        %s
      expect:
        crds:
          app:
            noErrors: true
            ops: [{cycle: 1, verb: create, resource: configmaps, name: seen}]
"""


def simulate_json(
    write: WriteFiles,
    capsys: pytest.CaptureFixture[str],
    *,
    stubs: str = "billing: {name: shop, plan: gold}",
    cross_access: str = "true",
) -> dict[str, Any]:
    write(
        **{"katalog.yaml": KATALOG % cross_access, "cr.yaml": CR, "simulate.yaml": SIMULATE % stubs}
    )
    code, out, err = run(capsys, "simulate", "-f", "simulate.yaml", "-o", "json")
    assert code == 0, out + err
    [app] = [r for r in json.loads(out)["runs"] if r["crd"] == "app"]
    result: dict[str, Any] = app
    return result


def seen(
    write: WriteFiles, capsys: pytest.CaptureFixture[str], **kwargs: str
) -> tuple[dict[str, Any], list[str]]:
    """``.cross`` as the app's ConfigMap recorded it, and the run's notes."""
    notes = simulate_json(write, capsys, **kwargs)["notes"]
    [plan] = load_specs(write() / "simulate.yaml")
    sim = Simulation(plan, only_crd="app")
    sim.run(1)
    cm = sim.cluster.find("v1", "ConfigMap", "seen", "default")
    assert cm is not None
    return json.loads(cm["data"]["cross"]), notes


def test_peers_come_from_the_cr_file_and_sources_from_the_stubs(
    write: WriteFiles, capsys: pytest.CaptureFixture[str]
) -> None:
    cross, notes = seen(write, capsys)
    assert cross["db"] == {
        "found": "true",
        "name": "shop-db",
        "namespace": "default",
        "spec": {"engine": "postgres"},
        "status": {},
        "labels": {"tier": "data"},
    }
    assert cross["tiered"]["name"] == "shop-db"  # the CRD found by its labelSelector
    assert cross["billing"] == {"name": "shop", "plan": "gold", "found": "true"}
    assert cross["ledger"] == {
        "found": "false",
        "name": "",
        "namespace": "default",
        "spec": {},
        "status": {},
    }
    assert notes == [
        'cross "ledger": https://ledger/shop not called in simulate (no '
        "network) and spec.cross.ledger gives no stub; it reads as not found"
    ]


def test_a_target_with_cross_access_off_shows_no_peer(
    write: WriteFiles, capsys: pytest.CaptureFixture[str]
) -> None:
    cross, _ = seen(write, capsys, cross_access="false")
    assert cross["db"] == {"found": "false", "spec": {}, "status": {}}


def test_the_note_is_printed(write: WriteFiles, capsys: pytest.CaptureFixture[str]) -> None:
    simulate_json(write, capsys)
    code, out, _ = run(capsys, "simulate", "-f", "simulate.yaml")
    assert code == 0
    assert 'Simulating app/shop\n  note: cross "ledger": https://ledger/shop not called' in out


def test_a_stub_no_source_reads_is_an_error_at_its_line(
    write: WriteFiles, capsys: pytest.CaptureFixture[str]
) -> None:
    write(
        **{
            "katalog.yaml": KATALOG % "true",
            "cr.yaml": CR,
            "simulate.yaml": SIMULATE % "db: {found: 'true'}",
        }
    )
    code, out, err = run(capsys, "simulate", "-f", "simulate.yaml")
    assert code == 1
    assert "simulate.yaml:8" in out + err
    assert 'spec.cross.db: no cross entry with a source reads as "db"' in out + err
    assert "billing, ledger" in out + err


@pytest.mark.parametrize(
    ("stubs", "message"),
    [
        ("billing: gold", "expected a mapping"),
        ("'9lives': {}", "a key such as db"),
    ],
)
def test_stubs_are_checked(
    write: WriteFiles, capsys: pytest.CaptureFixture[str], stubs: str, message: str
) -> None:
    write(**{"katalog.yaml": KATALOG % "true", "cr.yaml": CR, "simulate.yaml": SIMULATE % stubs})
    code, out, err = run(capsys, "validate", "-f", "simulate.yaml")
    assert code == 1
    assert message in out + err

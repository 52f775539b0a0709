"""What simulate cannot exercise is said, not ignored (PRODUCT.md D1): watches, gates
(eventAware included) and queue behaviour are listed by ``ork simulate -v``; a watched
object's change still makes the next cycle run."""

from __future__ import annotations

import json

import pytest

from orkestra.simulate.unexercised import unexercised
from tests.conftest import WriteFiles, run

KATALOG = """
    apiVersion: orkestra.orkspace.io/v1
    kind: Katalog
    metadata: {name: shop}
    profiles:
      reconciler:
        - {name: bounded, queue: {maxDepth: 5, behaviour: {onLimit: drop}}}
    spec:
      crds:
        app:
          apiTypes: {group: test.io, version: v1, kind: App, plural: apps}
          operatorBox:
            observe:
              watch:
                - {apiVersion: v1, kind: ConfigMap, namespace: shared, name: flags}
            preReconcile:
              sentinels: [generationChanged]
              reconcileGate: {eventAware: true, sentinels: [generationChanged]}
            reconcile:
              queue: {maxDepth: 10, behaviour: {onThreshold: {value: 50}}}
        worker:
          apiTypes: {group: test.io, version: v1, kind: Worker, plural: workers}
          operatorBox:
            reconcile: {profile: bounded}
"""
CR = """
    apiVersion: test.io/v1
    kind: App
    metadata: {name: shop, namespace: default}
    ---
    apiVersion: test.io/v1
    kind: Worker
    metadata: {name: w, namespace: default}
"""
WHY = "not exercised in simulate"


def test_verbose_lists_what_simulate_does_not_exercise(
    write: WriteFiles, capsys: pytest.CaptureFixture[str]
) -> None:
    write(**{"katalog.yaml": KATALOG, "cr.yaml": CR})
    code, quiet, _ = run(capsys, "simulate", "-f", "katalog.yaml")
    assert code == 0 and "note:" not in quiet
    code, out, _ = run(capsys, "simulate", "-f", "katalog.yaml", "-v")
    assert code == 0
    notes = [line for line in out.splitlines() if line.startswith("  note: ")]
    assert notes == [
        f"  note: observe.watch v1 ConfigMap shared/flags: {WHY} (no events; every cycle "
        "reconciles the CR, and a changed object makes the next cycle run)",
        f"  note: preReconcile.reconcileGate: {WHY} (gates filter events; every cycle "
        "reconciles the CR)",
        f"  note: preReconcile.reconcileGate.eventAware: {WHY} (one reconcile per cycle: no "
        "concurrent events to keep apart)",
        f"  note: reconcile.queue.behaviour.onThreshold: {WHY} (the queue holds only the CR "
        "under test; maxDepth 10)",
        f"  note: reconcile.queue.behaviour.onLimit: {WHY} (the queue holds only the CR "
        "under test; maxDepth 5)",
    ]
    code, out, _ = run(capsys, "simulate", "-f", "katalog.yaml", "-o", "json")
    runs = json.loads(out)["runs"]
    assert [len(r["notExercised"]) for r in runs] == [4, 1]


def test_nothing_to_say_for_a_plain_crd() -> None:
    assert (
        unexercised(
            {
                "operatorBox": {
                    "preReconcile": {"enqueueGate": {"eventAware": False}, "reconcileGate": {}}
                }
            }
        )
        == []
    )

"""``preReconcile`` gates at run time: ``reconcileGate`` with ``eventAware`` sees each event's
own sentinels, and ``enqueueGate`` gates a CR's updates."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from orkestra.apiserver import EmbeddedServer
from orkestra.runtime.store import Change
from tests.runtime.harness import (
    Runtime,
    apply,
    crd_manifest,
    katalog,
    paused_controller,
    wait_for,
    write_files,
)

Obj = dict[str, Any]
APP = ("test.orkestra.dev/v1", "App")
RECONCILE_GATE = {"crd": "app", "gate": "preReconcile.reconcileGate"}


def app_katalog(directory: Path, pre_reconcile: str) -> Path:
    write_files(directory, **{"crd.yaml": crd_manifest("App")})
    return katalog(
        directory,
        f"""
        app:
          apiTypes: {{group: test.orkestra.dev, version: v1, kind: App, plural: apps}}
          operatorBox:
            preReconcile: {pre_reconcile}
            reconcile:
              onReconcile:
                configMaps:
                  - name: "{{{{ .metadata.name }}}}-config"
                    data: {{mode: "{{{{ .spec.mode }}}}"}}
        """,
    )


def labels_gate(event_aware: bool) -> str:
    return (
        "{sentinels: [labelsChanged], reconcileGate: {eventAware: "
        f"{str(event_aware).lower()}, sentinels: [labelsChanged]}}}}"
    )


def mode(server: EmbeddedServer) -> str | None:
    found = server.cluster.find("v1", "ConfigMap", "e1-config", "default")
    return None if found is None else str(found["data"]["mode"])


def change(
    server: EmbeddedServer, *, labels: dict[str, str] | None = None, spec_mode: str | None = None
) -> None:
    cr = server.cluster.find(*APP, "e1", "default")
    assert cr is not None
    meta = cr["metadata"]
    if labels is not None:
        meta = {**meta, "labels": {**meta.get("labels", {}), **labels}}
    spec = cr["spec"] if spec_mode is None else {**cr["spec"], "mode": spec_mode}
    server.cluster.update({**cr, "metadata": meta, "spec": spec})


def started(server: EmbeddedServer, path: Path) -> Runtime:
    """e1 first, then the runtime, once its create has met the gate."""
    apply(server, path.parent / "crd.yaml")
    server.cluster.create(
        {
            "apiVersion": APP[0],
            "kind": APP[1],
            "spec": {"mode": "a"},
            "metadata": {"name": "e1", "namespace": "default"},
        },
        record=False,
    )
    runtime = Runtime(server, path, resync=0).start()
    wait_for(lambda: held(runtime) == 1, "the create to be held back (it changes no label)")
    return runtime


def held(runtime: Runtime) -> float:
    return runtime.metric("orkestra_gated_total", **RECONCILE_GATE)


def caught_up(server: EmbeddedServer, runtime: Runtime) -> bool:
    """Whether the runtime's cache holds e1 as it is now."""
    cached = runtime.operator.controllers["app"].store.get(("default", "e1"))
    current = server.cluster.find(*APP, "e1", "default")
    return (
        cached is not None
        and current is not None
        and cached["metadata"]["resourceVersion"] == current["metadata"]["resourceVersion"]
    )


def settled(server: EmbeddedServer, runtime: Runtime) -> bool:
    """Whether the runtime has seen e1 as it is now and has nothing left to do (so no
    echo of its own writes is still on its way)."""
    queue = runtime.operator.controllers["app"].queue
    return (
        caught_up(server, runtime) and not queue.processing and not len(queue) and not queue.delayed
    )


@pytest.mark.integration
def test_a_label_change_reconciles_and_a_spec_change_does_not(
    server: EmbeddedServer, tmp_path: Path
) -> None:
    runtime = started(server, app_katalog(tmp_path, labels_gate(True)))
    try:
        assert mode(server) is None
        change(server, labels={"stage": "one"})
        wait_for(lambda: mode(server) == "a", "the label change's reconcile")
        wait_for(lambda: settled(server, runtime), "the reconciles to settle")
        before = held(runtime)
        change(server, spec_mode="b")
        wait_for(lambda: held(runtime) == before + 1, "the spec change to be held back")
        wait_for(lambda: settled(server, runtime), "nothing else to happen")
        assert mode(server) == "a"
        change(server, labels={"stage": "two"})
        wait_for(lambda: mode(server) == "b", "a reconcile of the current spec")
    finally:
        runtime.stop()


@pytest.mark.integration
@pytest.mark.parametrize("event_aware", [True, False])
def test_event_aware_items_keep_their_own_sentinels(
    server: EmbeddedServer, tmp_path: Path, event_aware: bool
) -> None:
    """A label change then a spec change while no worker takes anything: kept apart, the
    label change's item passes the gate; merged, the one item has the last event's
    sentinels (the spec change's) and is held back."""
    runtime = started(server, app_katalog(tmp_path, labels_gate(event_aware)))
    try:
        controller = runtime.operator.controllers["app"]
        controller.pause()
        change(server, labels={"stage": "one"})
        change(server, spec_mode="b")
        wait_for(lambda: caught_up(server, runtime), "both events")
        assert len(controller.queue) == (2 if event_aware else 1)
        controller.resume()
        if event_aware:
            wait_for(lambda: mode(server) == "b", "the label change's item to reconcile")
        else:
            wait_for(lambda: held(runtime) == 2, "the merged item to be held back")
            wait_for(lambda: settled(server, runtime), "nothing else to happen")
            assert mode(server) is None
    finally:
        runtime.stop()


def test_the_enqueue_gate_passes_updates_with_its_sentinels_only(tmp_path: Path) -> None:
    path = app_katalog(
        tmp_path, "{sentinels: [generationChanged], enqueueGate: {sentinels: [generationChanged]}}"
    )
    made, metrics = paused_controller(path, "app")
    cr: Obj = {
        "apiVersion": APP[0],
        "kind": APP[1],
        "spec": {"mode": "a"},
        "metadata": {"name": "e1", "namespace": "default", "generation": 1},
    }
    relabelled = {**cr, "metadata": {**cr["metadata"], "labels": {"a": "b"}}}
    edited = {**cr, "metadata": {**cr["metadata"], "generation": 2}}
    made._on_cr(Change("ADDED", cr))  # a create is not gated, as upstream
    assert made.queue.take() is None and len(made.queue) == 1
    made.queue.resume()
    made.queue.done(made.queue.take() or ())
    made._on_cr(Change("MODIFIED", relabelled, cr))
    assert len(made.queue) == 0
    assert (
        metrics.registry.get_sample_value(
            "orkestra_gated_total", {"crd": "app", "gate": "preReconcile.enqueueGate"}
        )
        == 1
    )
    made._on_cr(Change("MODIFIED", edited, relabelled))
    assert made.queue.take() == ("default", "e1")

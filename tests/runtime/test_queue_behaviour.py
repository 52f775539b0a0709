"""``queue.behaviour``: a full queue drops new keys and counts them in ``/metrics``."""

from __future__ import annotations

from pathlib import Path

import pytest

from orkestra.apiserver import EmbeddedServer
from orkestra.runtime.controller import Controller
from orkestra.runtime.metrics import RuntimeMetrics
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

APP = ("test.orkestra.dev/v1", "App")


def app_katalog(directory: Path, queue: str) -> Path:
    write_files(directory, **{"crd.yaml": crd_manifest("App")})
    return katalog(
        directory,
        f"""
        app:
          apiTypes: {{group: test.orkestra.dev, version: v1, kind: App, plural: apps}}
          operatorBox:
            reconcile:
              queue: {queue}
              onReconcile:
                configMaps:
                  - name: "{{{{ .metadata.name }}}}-config"
                    data: {{mode: "{{{{ .spec.mode }}}}"}}
        """,
    )


def app(name: str, **labels: str) -> dict[str, object]:
    return {
        "apiVersion": APP[0],
        "kind": APP[1],
        "spec": {"mode": "a"},
        "metadata": {"name": name, "namespace": "default", "labels": labels},
    }


def configs(server: EmbeddedServer) -> list[str]:
    return sorted(
        c["metadata"]["name"]
        for c in server.cluster.list("v1", "ConfigMap", "default")
        if c["metadata"]["name"].endswith("-config")
    )


@pytest.mark.integration
def test_a_burst_beyond_max_depth_is_dropped_and_counted(
    server: EmbeddedServer, tmp_path: Path
) -> None:
    path = app_katalog(tmp_path, "{maxDepth: 1, behaviour: {onLimit: drop}}")
    apply(server, tmp_path / "crd.yaml")
    for number in range(5):  # listed at start, a burst of five events before any worker
        server.cluster.create(app(f"a{number}"), record=False)
    with Runtime(server, path, resync=0) as runtime:
        controller = runtime.operator.controllers["app"]
        wait_for(lambda: configs(server), "the admitted app's ConfigMap")
        wait_for(
            lambda: (
                not controller.queue.processing
                and not len(controller.queue)
                and not controller.queue.delayed
            ),
            "the admitted app to settle",
        )
        dropped = runtime.metric("orkestra_queue_dropped_total", crd="app", rule="onLimit")
        assert dropped == 4
        assert configs(server) == ["a0-config"]
        late = server.cluster.find(*APP, "a3", "default")
        assert late is not None  # a dropped CR's next event finds room again
        server.cluster.update({**late, "spec": {"mode": "b"}})
        wait_for(lambda: configs(server) == ["a0-config", "a3-config"], "a3's ConfigMap")
        assert runtime.metric("orkestra_queue_dropped_total", crd="app") == 4


def controller(path: Path) -> tuple[Controller, RuntimeMetrics]:
    """The App controller without a cluster, its queue paused: a burst of events meets a
    queue that only fills."""
    return paused_controller(path, "app")


def burst(made: Controller, *crs: dict[str, object]) -> None:
    for cr in crs:
        made._on_cr(Change("ADDED", cr))


def dropped(metrics: RuntimeMetrics, rule: str) -> float | None:
    return metrics.registry.get_sample_value(
        "orkestra_queue_dropped_total", {"crd": "app", "rule": rule}
    )


def test_on_threshold_drops_from_its_share_of_max_depth(tmp_path: Path) -> None:
    made, metrics = controller(
        app_katalog(tmp_path, "{maxDepth: 4, behaviour: {onThreshold: {value: 50}}}")
    )
    burst(made, *(app(f"a{n}") for n in range(5)))
    assert len(made.queue) == 2 and dropped(metrics, "onThreshold") == 3


def test_a_rule_with_conditions_drops_only_what_they_match(tmp_path: Path) -> None:
    made, metrics = controller(
        app_katalog(
            tmp_path,
            """{maxDepth: 1, behaviour: {onLimit: {
        drop: true, when: [{field: metadata.labels.tier, equals: batch}]}}}""",
        )
    )
    burst(made, app("a"), app("b", tier="batch"), app("c"), app("d", tier="batch"), app("e"))
    assert dropped(metrics, "onLimit") == 2
    made.queue.resume()
    assert [made.queue.take() for _ in range(4)] == [("default", n) for n in "ace"] + [None]


def test_a_key_already_queued_is_not_a_drop(tmp_path: Path) -> None:
    made, metrics = controller(app_katalog(tmp_path, "{maxDepth: 1, behaviour: {onLimit: drop}}"))
    burst(made, app("a"), app("a"), app("a"))
    assert len(made.queue) == 1 and dropped(metrics, "onLimit") == 0

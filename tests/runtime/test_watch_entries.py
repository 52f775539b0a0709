"""``observe.watch`` on the embedded API server: events of watched kinds reconcile the CRs
their entries resolve, through the enqueue path and its gates."""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

import pytest
import yaml

from orkestra.apiserver import EmbeddedServer
from tests.runtime.harness import (
    Runtime,
    apply,
    crd_manifest,
    katalog,
    reconciled,
    wait_for,
    write_files,
)

pytestmark = pytest.mark.integration
Obj = dict[str, Any]
APP = ("test.orkestra.dev/v1", "App")


def app_katalog(directory: Path, watch: str) -> Path:
    """An App CRD whose CRs get a ConfigMap, watching what ``watch`` (YAML) lists."""
    write_files(directory, **{"crd.yaml": crd_manifest("App")})
    box = textwrap_block(watch)
    return katalog(
        directory,
        f"""
        app:
          apiTypes: {{group: test.orkestra.dev, version: v1, kind: App, plural: apps}}
          operatorBox:
            observe:
              watch:
{box}
            reconcile:
              onReconcile:
                configMaps:
                  - name: "{{{{ .metadata.name }}}}-config"
                    data: {{mode: "{{{{ .spec.mode }}}}"}}
        """,
    )


def textwrap_block(text: str) -> str:
    return textwrap.indent(textwrap.dedent(text).strip("\n"), " " * 16)


def start(server: EmbeddedServer, path: Path, *names: str, **objects: Obj) -> Runtime:
    """Apps ``names`` and the other objects first, then the runtime, until every app has
    its ConfigMap and nothing is left to do."""
    apply(server, path.parent / "crd.yaml")
    for name in names:
        server.cluster.create(
            {
                "apiVersion": APP[0],
                "kind": APP[1],
                "metadata": {"name": name, "namespace": "default"},
                "spec": {"mode": "a"},
            },
            record=False,
        )
    for obj in objects.values():
        server.cluster.create(obj, record=False)
    runtime = Runtime(server, path, resync=0).start()
    controller = runtime.operator.controllers["app"]
    wait_for(
        lambda: all(
            server.cluster.find("v1", "ConfigMap", f"{n}-config", "default") for n in names
        ),
        "every app's ConfigMap",
    )
    wait_for(
        lambda: not controller.queue.processing and not len(controller.queue),
        "the first reconciles to settle",
    )
    return runtime


def configmap(name: str, namespace: str, **metadata: Any) -> Obj:
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": name, "namespace": namespace, **metadata},
        "data": {"flag": "off"},
    }


def namespace(name: str) -> Obj:
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}}


def edit(server: EmbeddedServer, kind: str, name: str, ns: str, **data: str) -> None:
    found = server.cluster.find("v1", kind, name, ns)
    assert found is not None
    server.cluster.update({**found, "data": {**found.get("data", {}), **data}})


def settle(runtime: Runtime) -> None:
    """Wait until the controller has nothing queued or running."""
    controller = runtime.operator.controllers["app"]
    wait_for(
        lambda: (
            not controller.queue.processing
            and not len(controller.queue)
            and not controller.queue.delayed
        ),
        "the controller to settle",
    )


def test_a_watched_configmap_reconciles_the_cr_its_label_names(
    server: EmbeddedServer, tmp_path: Path
) -> None:
    path = app_katalog(
        tmp_path,
        """
        - apiVersion: v1
          kind: ConfigMap
          namespace: default
          name: feature-flags
          on: [update]
          keyFrom: {label: test.orkestra.dev/owner}
        """,
    )
    owner = {"labels": {"test.orkestra.dev/owner": "a1"}}  # a CR of the object's namespace
    runtime = start(
        server,
        path,
        "a1",
        "a2",
        ns=namespace("elsewhere"),
        flags=configmap("feature-flags", "default", **owner),
        other=configmap("other", "default", **owner),
        away=configmap("feature-flags", "elsewhere", **owner),
    )
    try:
        with reconciled() as names:
            edit(server, "ConfigMap", "feature-flags", "default", flag="on")
            wait_for(lambda: names, "a reconcile after the watched ConfigMap changed")
            edit(server, "ConfigMap", "other", "default", flag="on")  # not the named object
            edit(server, "ConfigMap", "feature-flags", "elsewhere", flag="on")  # nor there
            server.cluster.delete("v1", "ConfigMap", "feature-flags", "default")  # not in on
            server.cluster.create(
                configmap("feature-flags", "default", **owner), record=False
            )  # nor a create
            edit(server, "ConfigMap", "feature-flags", "default", flag="again")
            wait_for(lambda: len(names) == 2, "the last update's reconcile")
            settle(runtime)
        assert names == ["a1", "a1"]  # the events between them enqueued nothing
    finally:
        runtime.stop()


def test_keys_come_from_a_fixed_name_then_an_owner_then_every_cr(
    server: EmbeddedServer, tmp_path: Path
) -> None:
    path = app_katalog(
        tmp_path,
        """
        - {apiVersion: v1, kind: Secret, namespace: vault, keyFrom: {name: a2,
           namespace: default}, on: [create]}
        - {apiVersion: v1, kind: ConfigMap, namespace: default}
        """,
    )
    runtime = start(server, path, "a1", "a2", "a3", ns=namespace("vault"))
    try:
        with reconciled() as names:
            server.cluster.create(
                {
                    "apiVersion": "v1",
                    "kind": "Secret",
                    "metadata": {"name": "token", "namespace": "vault"},
                },
                record=False,
            )
            wait_for(lambda: names, "the Secret's reconcile")
            settle(runtime)
            assert names == ["a2"]
            names.clear()
            a3 = server.cluster.find(*APP, "a3", "default")
            assert a3 is not None
            owned = configmap(
                "a3-extra",
                "default",
                ownerReferences=[
                    {
                        "apiVersion": APP[0],
                        "kind": "App",
                        "name": "a3",
                        "uid": a3["metadata"]["uid"],
                    }
                ],
            )
            server.cluster.create(owned, record=False)
            wait_for(lambda: names, "the owner's reconcile")
            settle(runtime)
            assert names == ["a3"]
            names.clear()
            server.cluster.create(configmap("shared-settings", "default"), record=False)
            wait_for(lambda: len(names) == 3, "every app's reconcile")
            settle(runtime)
        assert sorted(names) == ["a1", "a2", "a3"]
        watched = runtime.operator.controllers["app"].informers
        assert [key[2] for key in watched.scoped] == ["vault"]  # Secrets of vault only
    finally:
        runtime.stop()


def test_a_watch_entry_gate_sees_the_watched_object_and_its_changes(
    server: EmbeddedServer, tmp_path: Path
) -> None:
    path = app_katalog(
        tmp_path,
        """
        - apiVersion: v1
          kind: ConfigMap
          namespace: default
          on: [update]
          keyFrom: {label: test.orkestra.dev/owner}
          enqueueGate: {sentinels: [labelsChanged]}
        """,
    )
    runtime = start(
        server,
        path,
        "a1",
        flags=configmap("flags", "default", labels={"test.orkestra.dev/owner": "a1"}),
    )
    gate = {"crd": "app", "gate": "observe.watch[0].enqueueGate"}
    try:
        with reconciled() as names:
            edit(server, "ConfigMap", "flags", "default", flag="on")  # data only
            wait_for(
                lambda: runtime.metric("orkestra_gated_total", **gate) == 1,
                "the data-only change to be held back",
            )
            found = server.cluster.find("v1", "ConfigMap", "flags", "default")
            assert found is not None
            labels = {**found["metadata"]["labels"], "stage": "two"}
            server.cluster.update({**found, "metadata": {**found["metadata"], "labels": labels}})
            wait_for(lambda: names, "the label change's reconcile")
            settle(runtime)
        assert names == ["a1"]
        assert runtime.metric("orkestra_gated_total", **gate) == 1
    finally:
        runtime.stop()


def test_the_compat_pattern_watches_run(server: EmbeddedServer, tmp_path: Path) -> None:
    """tests/compat's watch pattern (G2) runs: its Deployment watch broadcasts."""
    source = Path(__file__).parents[1] / "compat" / "patterns" / "watch"
    write_files(
        tmp_path,
        **{name: (source / name).read_text() for name in ("g2.yaml", "watches.yaml")},
        **{"crd.yaml": crd_manifest("App").replace("test.orkestra.dev", "compat.example.io")},
    )
    apply(server, tmp_path / "crd.yaml")
    server.cluster.create(
        {
            "apiVersion": "compat.example.io/v1",
            "kind": "App",
            "metadata": {"name": "c1", "namespace": "default"},
            "spec": {"mode": "x"},
        },
        record=False,
    )
    with Runtime(server, tmp_path / "g2.yaml", resync=0) as runtime:
        wait_for(
            lambda: server.cluster.find("v1", "ConfigMap", "c1-config", "default"), "c1's ConfigMap"
        )
        settle(runtime)
        with reconciled() as names:
            deployment = yaml.safe_load("""
                apiVersion: apps/v1
                kind: Deployment
                metadata: {name: unrelated, namespace: default}
                spec:
                  selector: {matchLabels: {app: x}}
                  template:
                    metadata: {labels: {app: x}}
                    spec: {containers: [{name: x, image: nginx}]}
                """)
            server.cluster.create(deployment, record=False)
            wait_for(lambda: names, "the broadcast reconcile")
        assert names[0] == "c1"


def test_a_watch_hears_what_another_controller_of_the_runtime_writes(
    server: EmbeddedServer, tmp_path: Path
) -> None:
    """Both CRDs have ConfigMap children, so one informer (and store) serves both: the
    watcher's entry must hear of the App controller's write, whose watch echo the shared
    store already holds."""
    write_files(tmp_path, **{"crd.yaml": crd_manifest("App") + "\n---\n" + crd_manifest("Watcher")})
    path = katalog(
        tmp_path,
        """
        app:
          apiTypes: {group: test.orkestra.dev, version: v1, kind: App, plural: apps}
          operatorBox:
            reconcile:
              onReconcile:
                configMaps:
                  - name: "{{ .metadata.name }}-config"
                    data: {mode: "{{ .spec.mode }}"}
        watcher:
          apiTypes: {group: test.orkestra.dev, version: v1, kind: Watcher, plural: watchers}
          operatorBox:
            observe:
              watch:
                - {apiVersion: v1, kind: ConfigMap, namespace: default, name: a1-config,
                   on: [update], keyFrom: {name: w1}}
            reconcile:
              onReconcile:
                configMaps:
                  - name: "{{ .metadata.name }}-seen"
                    data: {seen: "yes"}
        """,
    )
    apply(server, tmp_path / "crd.yaml")
    for kind, name in (("App", "a1"), ("Watcher", "w1")):
        server.cluster.create(
            {
                "apiVersion": APP[0],
                "kind": kind,
                "metadata": {"name": name, "namespace": "default"},
                "spec": {"mode": "a"},
            },
            record=False,
        )
    with Runtime(server, path, resync=0) as runtime:
        for made in ("a1-config", "w1-seen"):
            wait_for(
                lambda made=made: server.cluster.find("v1", "ConfigMap", made, "default"), made
            )
        controllers = runtime.operator.controllers.values()
        wait_for(
            lambda: all(not c.queue.processing and not len(c.queue) for c in controllers),
            "the first reconciles to settle",
        )
        with reconciled() as names:
            app = server.cluster.find(*APP, "a1", "default")
            assert app is not None
            server.cluster.update({**app, "spec": {"mode": "b"}})  # the App controller writes
            wait_for(lambda: "w1" in names, "the watcher's reconcile after that write")
        assert "a1" in names  # w1's entry fired on a1-config, which only a1's reconcile wrote

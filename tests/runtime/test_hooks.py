"""Typed hooks under the runtime, on the embedded API server: the children they make, their
status and Events, and a failing hook that costs only its own CR."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from orkestra.apiserver import EmbeddedServer
from tests.hooks.patterns import write_pattern
from tests.runtime.harness import Runtime, wait_for

pytestmark = pytest.mark.integration
Obj = dict[str, Any]
DB = ("test.io/v1", "Db")
HOOKS = """
from orkestra.hooks import HookSet

def hooks():
    return HookSet(on_create=created, on_reconcile=reconcile)

def created(cr, ctx):
    ctx.events.normal("Provisioning", "creating " + cr["metadata"]["name"])

def reconcile(cr, ctx):
    if cr["spec"].get("broken"):
        raise ValueError("spec.broken is set")
    name = cr["metadata"]["name"]
    ctx.client.apply({"apiVersion": "v1", "kind": "Service", "metadata": {"name": name},
                      "spec": {"clusterIP": "None", "selector": {"app": name},
                               "ports": [{"port": 5432}]}})
    ctx.status["endpoint"] = f"{name}.{ctx.namespace}.svc:5432"
    return {"apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": {"name": name},
            "spec": {"serviceName": name, "replicas": ctx.args.get_int("replicas"),
                     "selector": {"matchLabels": {"app": name}},
                     "template": {"metadata": {"labels": {"app": name}},
                                  "spec": {"containers": [{"name": "db",
                                                           "image": "postgres:16"}]}}}}
"""
CRD = {
    "apiVersion": "apiextensions.k8s.io/v1",
    "kind": "CustomResourceDefinition",
    "metadata": {"name": "dbs.test.io"},
    "spec": {
        "group": "test.io",
        "scope": "Namespaced",
        "names": {"kind": "Db", "plural": "dbs"},
        "versions": [
            {
                "name": "v1",
                "served": True,
                "storage": True,
                "subresources": {"status": {}},
                "schema": {
                    "openAPIV3Schema": {
                        "type": "object",
                        "x-kubernetes-preserve-unknown-fields": True,
                    }
                },
            }
        ],
    },
}


def db(name: str, **spec: Any) -> Obj:
    return {
        "apiVersion": "test.io/v1",
        "kind": "Db",
        "metadata": {"name": name, "namespace": "default"},
        "spec": spec,
    }


def condition(server: EmbeddedServer, name: str) -> Obj | None:
    cr = server.cluster.find(*DB, name, "default")
    for found in ((cr or {}).get("status") or {}).get("conditions") or []:
        if found["type"] == "Ready":
            return {**found, "status_fields": cr["status"]}  # type: ignore[index]
    return None


def events(server: EmbeddedServer, name: str) -> list[tuple[str, str, str]]:
    return [
        (e["type"], e["reason"], e["message"])
        for e in server.cluster.list("v1", "Event", "default")
        if e["involvedObject"]["name"] == name
    ]


def test_hooks_reconcile_on_the_api_server_and_a_failing_one_costs_only_its_cr(
    server: EmbeddedServer, tmp_path: Path
) -> None:
    katalog = write_pattern(
        tmp_path,
        HOOKS,
        hooks={
            "args": {"replicas": 2},
            "resources": [{"kind": "StatefulSet"}, {"kind": "Service"}],
        },
    )
    server.cluster.create(CRD, record=False)
    server.cluster.create(db("broken", broken=True), record=False)
    server.cluster.create(db("orders"), record=False)
    with Runtime(server, katalog):
        ready = wait_for(
            lambda: (c := condition(server, "orders")) and c["status"] == "True" and c,
            "orders to be Ready",
        )
        failed = wait_for(
            lambda: (c := condition(server, "broken")) and c["reason"] == "ReconcileError" and c,
            "broken to fail",
        )
        warning = wait_for(
            lambda: [e for e in events(server, "broken") if e[0] == "Warning"], "a Warning Event"
        )
        normal = wait_for(
            lambda: [e for e in events(server, "orders") if e[0] == "Normal"], "the hook's Event"
        )
        # The informers the hooks' resources asked for: deleting a child brings it back.
        server.cluster.delete("v1", "Service", "orders", "default")
        wait_for(
            lambda: server.cluster.find("v1", "Service", "orders", "default"),
            "the Service to come back",
        )
    statefulset = server.cluster.find("apps/v1", "StatefulSet", "orders", "default")
    assert statefulset is not None and statefulset["spec"]["replicas"] == 2
    assert statefulset["metadata"]["ownerReferences"][0]["name"] == "orders"
    assert ready["status_fields"]["endpoint"] == "orders.default.svc:5432"
    assert "on_reconcile failed: ValueError: spec.broken is set" in failed["message"]
    assert warning[0][1] == "ReconcileError" and "spec.broken is set" in warning[0][2]
    assert normal == [("Normal", "Provisioning", "creating orders")]
    assert server.cluster.find("apps/v1", "StatefulSet", "broken", "default") is None


def test_in_a_komposer_the_typed_crd_starts_before_those_that_depend_on_it(
    server: EmbeddedServer, tmp_path: Path
) -> None:
    db_katalog = write_pattern(tmp_path / "db", HOOKS, hooks={"args": {"replicas": 1}})
    app = tmp_path / "app"
    app.mkdir()
    (app / "katalog.yaml").write_text("""apiVersion: orkestra.orkspace.io/v1
kind: Katalog
metadata: {name: app-operator, version: v1.0.0}
spec:
  crds:
    app:
      apiTypes: {group: test.io, version: v1, kind: App, plural: apps}
      operatorBox:
        reconcile:
          onReconcile:
            configMaps: [{name: "{{ .metadata.name }}-app", data: {a: b}}]
""")
    komposer = tmp_path / "komposer.yaml"
    komposer.write_text(f"""apiVersion: orkestra.orkspace.io/v1
kind: Komposer
metadata: {{name: platform, version: v1.0.0}}
imports:
  files: [{app / "katalog.yaml"}, {db_katalog}]
spec:
  crds:
    app: {{dependsOn: [db]}}
""")
    app_crd = {
        **CRD,
        "metadata": {"name": "apps.test.io"},
        "spec": {**CRD["spec"], "names": {"kind": "App", "plural": "apps"}},
    }
    server.cluster.create(app_crd, record=False)
    runtime = Runtime(server, komposer).start(ready=False)
    try:
        db, app_controller = (runtime.operator.controllers[n] for n in ("db", "app"))
        wait_for(lambda: runtime.operator.addresses, "start-up")
        time.sleep(0.3)
        assert not db.started.is_set() and not app_controller.started.is_set()
        server.cluster.create(CRD, record=False)  # the typed CRD becomes established
        wait_for(lambda: app_controller.started.is_set(), "app to start after db")
        assert db.started.is_set()
    finally:
        runtime.stop()

"""The runtime on the embedded API server: reconcile, drift, deletion, restart, leader
election, faults."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from orkestra.apiserver import EmbeddedServer, Faults
from orkestra.apiserver.server import free_port
from tests.conftest import PACK
from tests.runtime.harness import (
    Runtime,
    apply,
    crd_manifest,
    katalog,
    wait_for,
    write_files,
)

pytestmark = pytest.mark.integration
Obj = dict[str, Any]
API = PACK / "02-katalog-api"
WIDGET = ("test.orkestra.dev/v1", "Widget")


@pytest.fixture
def server() -> Iterator[EmbeddedServer]:
    with EmbeddedServer(port=0, audit=True) as running:
        yield running


def find(
    server: EmbeddedServer,
    api_version: str,
    kind: str,
    name: str,
    namespace: str | None = "default",
) -> Obj | None:
    return server.cluster.find(api_version, kind, name, namespace)


def ready(server: EmbeddedServer, api_version: str, kind: str, name: str) -> Obj | None:
    cr = find(server, api_version, kind, name)
    conditions = ((cr or {}).get("status") or {}).get("conditions") or []
    done = any(c["type"] == "Ready" and c["status"] == "True" for c in conditions)
    return cr if done else None


def observed(server: EmbeddedServer, generation: int) -> Obj | None:
    cr = find(server, "rkguide.demo/v1", "WebApp", "my-webapp")
    done = cr is not None and (cr.get("status") or {}).get("observedGeneration") == generation
    return cr if done else None


def test_a_cr_gets_its_children_and_a_ready_status(server: EmbeddedServer) -> None:
    apply(server, API / "crd.yaml")
    apply(server, API / "cr.yaml")
    with Runtime(server, API / "katalog.yaml"):
        cr = wait_for(
            lambda: ready(server, "rkguide.demo/v1", "WebApp", "my-webapp"), "my-webapp to be Ready"
        )
        deployment = find(server, "apps/v1", "Deployment", "my-webapp")
        service = find(server, "v1", "Service", "my-webapp-svc")
    assert deployment is not None and service is not None
    assert deployment["spec"]["replicas"] == 2
    owner = deployment["metadata"]["ownerReferences"][0]
    assert (owner["kind"], owner["name"], owner["uid"]) == (
        "WebApp",
        "my-webapp",
        cr["metadata"]["uid"],
    )
    assert cr["status"]["phase"] == "Running" and cr["status"]["ready"] is True
    assert cr["status"]["observedGeneration"] == cr["metadata"]["generation"]
    assert find(server, "networking.k8s.io/v1", "Ingress", "my-webapp-ingress") is None


def test_drift_is_corrected_and_spec_edits_reach_the_children(server: EmbeddedServer) -> None:
    apply(server, API / "crd.yaml")
    apply(server, API / "cr.yaml")
    with Runtime(server, API / "katalog.yaml"):
        wait_for(lambda: ready(server, "rkguide.demo/v1", "WebApp", "my-webapp"), "Ready")
        service = find(server, "v1", "Service", "my-webapp-svc")
        assert service is not None
        old_uid = service["metadata"]["uid"]
        server.cluster.delete("v1", "Service", "my-webapp-svc", "default")
        wait_for(
            lambda: (
                (find(server, "v1", "Service", "my-webapp-svc") or {})
                .get("metadata", {})
                .get("uid")
                not in (None, old_uid)
            ),
            "the Service to come back",
        )
        deployment = find(server, "apps/v1", "Deployment", "my-webapp")
        assert deployment is not None
        server.cluster.update({**deployment, "spec": {**deployment["spec"], "replicas": 7}})
        wait_for(
            lambda: (
                (find(server, "apps/v1", "Deployment", "my-webapp") or {})["spec"]["replicas"] == 2
            ),
            "the Deployment's replicas to be restored",
        )
        cr = find(server, "rkguide.demo/v1", "WebApp", "my-webapp")
        assert cr is not None
        server.cluster.update(
            {**cr, "spec": {**cr["spec"], "replicas": 3, "host": "web.example.com"}}
        )
        wait_for(
            lambda: (
                (find(server, "apps/v1", "Deployment", "my-webapp") or {})["spec"]["replicas"] == 3
            ),
            "the Deployment to follow the spec",
        )
        wait_for(
            lambda: find(server, "networking.k8s.io/v1", "Ingress", "my-webapp-ingress"),
            "the Ingress the host asks for",
        )
        edited = wait_for(lambda: observed(server, 2), "observedGeneration 2")
    assert edited["metadata"]["generation"] == 2


def test_deleting_a_cr_runs_on_delete_releases_the_finalizer_and_collects_children(
    server: EmbeddedServer, widgets: Path
) -> None:
    apply(server, widgets.parent / "crd.yaml")
    apply(server, widgets.parent / "cr.yaml")
    with Runtime(server, widgets):
        cr = wait_for(lambda: ready(server, *WIDGET, "w1"), "w1 to be Ready")
        assert cr["metadata"]["finalizers"] == ["widgets.test.orkestra.dev/cleanup"]
        assert find(server, "apps/v1", "Deployment", "w1") is not None
        server.cluster.delete(*WIDGET, "w1", "default")
        wait_for(lambda: find(server, *WIDGET, "w1") is None, "w1 to be gone")
        farewell = find(server, "v1", "Namespace", "w1-farewell", None)
        wait_for(
            lambda: all(
                find(server, a, k, n) is None
                for a, k, n in (
                    ("apps/v1", "Deployment", "w1"),
                    ("v1", "ConfigMap", "w1-config"),
                    ("v1", "Secret", "w1-token"),
                )
            ),
            "the children to be garbage-collected",
        )
    assert farewell is not None  # onDelete ran before the finalizer went


def test_a_denied_cr_gets_a_warning_event_counted_not_repeated(server: EmbeddedServer) -> None:
    platform = PACK / "04-katalog-platform"
    apply(server, platform / "crd.yaml")
    [cr] = apply(server, platform / "cr-denied.yaml")
    name, namespace = cr["metadata"]["name"], cr["metadata"]["namespace"]

    def warnings() -> list[Obj]:
        return [
            e
            for e in server.cluster.list("v1", "Event", namespace)
            if e["involvedObject"]["name"] == name and e["type"] == "Warning"
        ]

    with Runtime(server, platform / "katalog.yaml", resync=0.2):
        [event] = wait_for(lambda: warnings(), "a Warning event")
        wait_for(lambda: warnings()[0]["count"] >= 2, "the repeat to be counted")
    assert event["reason"] == "ValidationFailed"
    assert event["source"]["component"] == "orkestra"
    assert event["involvedObject"]["uid"] == cr["metadata"]["uid"]
    assert len(warnings()) == 1
    denied = find(server, cr["apiVersion"], cr["kind"], name, namespace)
    assert denied is not None
    assert denied["status"]["conditions"][0]["reason"] == "ValidationFailed"


def test_a_crd_starts_after_the_crds_it_depends_on(server: EmbeddedServer, tmp_path: Path) -> None:
    write_files(tmp_path, **{"a.yaml": crd_manifest("Alpha"), "b.yaml": crd_manifest("Beta")})
    katalog(
        tmp_path,
        """
        beta:
          apiTypes: {group: test.orkestra.dev, version: v1, kind: Beta, plural: betas}
          dependsOn: [alpha]
          operatorBox:
            reconcile:
              onReconcile:
                configMaps: [{name: "{{ .metadata.name }}-beta", data: {a: b}}]
        alpha:
          apiTypes: {group: test.orkestra.dev, version: v1, kind: Alpha, plural: alphas}
          operatorBox:
            reconcile:
              onReconcile:
                configMaps: [{name: "{{ .metadata.name }}-alpha", data: {a: b}}]
        """,
    )
    apply(server, tmp_path / "b.yaml")
    runtime = Runtime(server, tmp_path / "katalog.yaml").start(ready=False)
    try:
        alpha, beta = (runtime.operator.controllers[n] for n in ("alpha", "beta"))
        wait_for(lambda: runtime.operator.addresses, "start-up")
        time.sleep(0.3)
        assert not alpha.started.is_set() and not beta.started.is_set()
        apply(server, tmp_path / "a.yaml")
        wait_for(lambda: beta.started.is_set(), "beta to start after alpha")
        assert alpha.started.is_set()
    finally:
        runtime.stop()


def test_a_restart_does_not_rotate_once_secrets_or_rewrite_anything(
    server: EmbeddedServer, widgets: Path
) -> None:
    apply(server, widgets.parent / "crd.yaml")
    apply(server, widgets.parent / "cr.yaml")
    with Runtime(server, widgets):
        wait_for(lambda: ready(server, *WIDGET, "w1"), "w1 to be Ready")
    secret = find(server, "v1", "Secret", "w1-token")
    assert secret is not None
    with Runtime(server, widgets) as again:
        wait_for(
            lambda: again.operator.controllers["widget"].health()["reconciles"] >= 1,
            "a reconcile after the restart",
        )
    assert find(server, "v1", "Secret", "w1-token") == secret
    assert again.writes() == 0


def test_only_the_leader_writes_and_a_follower_takes_over(server: EmbeddedServer) -> None:
    apply(server, API / "crd.yaml")
    apply(server, API / "cr.yaml")
    election = {
        "leader_elect": True,
        "lease_duration": 2.0,
        "renew_deadline": 1.5,
        "retry_period": 0.1,
    }
    first = Runtime(server, API / "katalog.yaml", identity="first", **election).start()
    wait_for(lambda: ready(server, "rkguide.demo/v1", "WebApp", "my-webapp"), "Ready")
    second = Runtime(server, API / "katalog.yaml", identity="second", **election).start()
    try:
        cr = find(server, "rkguide.demo/v1", "WebApp", "my-webapp")
        assert cr is not None
        server.cluster.update({**cr, "spec": {**cr["spec"], "replicas": 4}})
        wait_for(
            lambda: (
                (find(server, "apps/v1", "Deployment", "my-webapp") or {})["spec"]["replicas"] == 4
            ),
            "the leader to apply the edit",
        )
        assert second.writes() == 0 and first.writes() > 0
        lease = find(server, "coordination.k8s.io/v1", "Lease", "orkestra-webapp-operator")
        assert lease is not None and lease["spec"]["holderIdentity"] == "first"
        assert server.audit is not None  # what the server saw, not what the runtimes say
        assert not [r for r in server.audit if r.user_agent.endswith("(second)")]
        assert [
            r for r in server.audit if r.user_agent.endswith("(first)") and "/leases/" not in r.path
        ]
        first.stop()  # releases the lease
        cr = find(server, "rkguide.demo/v1", "WebApp", "my-webapp")
        assert cr is not None
        server.cluster.update({**cr, "spec": {**cr["spec"], "replicas": 5}})
        wait_for(
            lambda: (
                (find(server, "apps/v1", "Deployment", "my-webapp") or {})["spec"]["replicas"] == 5
            ),
            "the new leader to apply the edit",
        )
        wait_for(lambda: second.writes() > 0, "the new leader's writes to be counted")
    finally:
        first.stop()
        second.stop()


def end_state(server: EmbeddedServer) -> list[tuple[str, str, object, object]]:
    """Every child and CR: kind, name, spec (cluster IPs aside) and, for the CRs, the status
    (conditions by type and state)."""
    found = []
    for api_version, kind in (
        ("apps/v1", "Deployment"),
        ("v1", "Service"),
        ("rkguide.demo/v1", "WebApp"),
    ):
        for obj in server.cluster.list(api_version, kind, "default"):
            spec = {k: v for k, v in obj["spec"].items() if k not in ("clusterIP", "clusterIPs")}
            status = {
                k: v
                for k, v in (obj.get("status") or {}).items()
                if k != "conditions" and kind == "WebApp"
            }
            states = sorted(
                (c["type"], c["status"])
                for c in (obj.get("status") or {}).get("conditions", [])
                if kind == "WebApp"
            )
            found.append((kind, obj["metadata"]["name"], spec, (status, states)))
    return found


def five_apps(server: EmbeddedServer) -> None:
    apply(server, API / "crd.yaml")
    for number in range(5):
        cr = yaml.safe_load((API / "cr.yaml").read_text())
        cr["metadata"]["name"] = f"app-{number}"
        server.cluster.create(cr, record=False)


def scale_first_app(server: EmbeddedServer) -> None:
    cr = find(server, "rkguide.demo/v1", "WebApp", "app-0")
    assert cr is not None
    server.cluster.update({**cr, "spec": {**cr["spec"], "replicas": 3}})


def all_ready(server: EmbeddedServer) -> bool:
    return all(ready(server, "rkguide.demo/v1", "WebApp", f"app-{n}") for n in range(5))


def test_conflicts_errors_cut_and_expired_watches_end_in_the_same_state(tmp_path: Path) -> None:
    with EmbeddedServer(port=0) as calm:
        five_apps(calm)
        scale_first_app(calm)
        with Runtime(calm, API / "katalog.yaml"):
            wait_for(lambda: all_ready(calm), "every app Ready without faults", 30)
        expected = end_state(calm)
    faults = Faults(
        conflict_ratio=0.3,
        error_ratio=0.1,
        watch_cut_every=3,
        seed=7,
        only_paths=("/apis/apps/", "/api/v1/namespaces/default/services", "/apis/rkguide.demo/"),
    )
    with EmbeddedServer(port=0, faults=faults) as server:
        five_apps(server)
        with Runtime(server, API / "katalog.yaml"):
            wait_for(
                lambda: server.cluster.list("apps/v1", "Deployment", "default"),
                "the first children",
            )
            server.expire_history()  # every watch must list again (410 Gone) ...
            scale_first_app(server)  # ... to see this
            wait_for(
                lambda: all_ready(server) and end_state(server)[0][2]["replicas"] == 3,
                "every app Ready, app-0 scaled",
                30,
            )
        assert end_state(server) == expected  # no duplicate children, no lost status
    assert faults.injected["conflict"] > 0 and faults.injected["error"] > 0


def test_a_server_restart_with_its_data_loses_nothing(tmp_path: Path) -> None:
    port = free_port()
    with EmbeddedServer(port=port, data_dir=tmp_path / "data") as server:
        apply(server, API / "crd.yaml")
        apply(server, API / "cr.yaml")
        runtime = Runtime(server, API / "katalog.yaml").start()
        wait_for(lambda: ready(server, "rkguide.demo/v1", "WebApp", "my-webapp"), "Ready")
    try:
        with EmbeddedServer(port=port, data_dir=tmp_path / "data") as again:
            cr = find(again, "rkguide.demo/v1", "WebApp", "my-webapp")
            assert cr is not None
            again.cluster.update({**cr, "spec": {**cr["spec"], "replicas": 6}})
            wait_for(
                lambda: (
                    (find(again, "apps/v1", "Deployment", "my-webapp") or {})["spec"]["replicas"]
                    == 6
                ),
                "the runtime to reconnect and reconcile",
                30,
            )
            assert len(again.cluster.list("apps/v1", "Deployment", "default")) == 1
    finally:
        runtime.stop()


def test_a_runtime_killed_mid_reconcile_and_restarted_ends_the_same(server: EmbeddedServer) -> None:
    apply(server, API / "crd.yaml")
    for number in range(40):
        cr = yaml.safe_load((API / "cr.yaml").read_text())
        cr["metadata"]["name"] = f"app-{number}"
        server.cluster.create(cr, record=False)
    command = [
        sys.executable,
        "-m",
        "orkestra",
        "run",
        "-f",
        str(API / "katalog.yaml"),
        "--kubeconfig",
        str(server.kubeconfig),
        "--http-port",
        "0",
    ]
    first = subprocess.Popen(command, stderr=subprocess.DEVNULL)
    wait_for(lambda: server.cluster.list("apps/v1", "Deployment", "default"), "the first children")
    first.kill()
    first.wait(10)
    second = subprocess.Popen(command, stderr=subprocess.DEVNULL)
    try:
        wait_for(
            lambda: all(ready(server, "rkguide.demo/v1", "WebApp", f"app-{n}") for n in range(40)),
            "every app Ready",
            60,
        )
    finally:
        second.send_signal(signal.SIGTERM)
        assert second.wait(30) == 0
    assert len(server.cluster.list("apps/v1", "Deployment", "default")) == 40
    assert len(server.cluster.list("v1", "Service", "default")) == 40

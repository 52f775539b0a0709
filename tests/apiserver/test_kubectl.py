"""Real kubectl against the embedded API server: what a user types must work as on a
real cluster (issue 9: "real kubectl ... cannot tell the difference")."""

from __future__ import annotations

import json
import queue
import threading
from pathlib import Path
from typing import Any

import pytest
import yaml

from orkestra.apiserver import EmbeddedServer
from tests.apiserver.conftest import PACK_API, Kubectl, load_yaml, webapp

pytestmark = pytest.mark.integration
Obj = dict[str, Any]


def deployment(
    name: str,
    namespace: str,
    *containers: tuple[str, str],
    replicas: int = 1,
    labels: dict[str, str] | None = None,
) -> Obj:
    pod_labels = {"app": name}
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "namespace": namespace, "labels": labels or {"app": name}},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": pod_labels},
            "template": {
                "metadata": {"labels": pod_labels},
                "spec": {
                    "containers": [
                        {"name": c, "image": image}
                        for c, image in containers or [("app", "nginx:1")]
                    ]
                },
            },
        },
    }


def configmap(name: str, namespace: str, labels: dict[str, str] | None = None, **data: str) -> Obj:
    meta: Obj = {"name": name, "namespace": namespace}
    if labels:
        meta["labels"] = labels
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": meta, "data": data}


def header(table: str) -> list[str]:
    return table.splitlines()[0].split()


def rows(table: str) -> list[list[str]]:
    return [line.split() for line in table.splitlines()[1:]]


@pytest.fixture(scope="module")
def crd_applied(kubectl: Kubectl) -> str:
    """The pack's WebApp CRD, applied by kubectl and Established."""
    kubectl("apply", "-f", str(PACK_API / "crd.yaml"))
    kubectl("wait", "--for=condition=Established", "--timeout=10s", "crd/webapps.rkguide.demo")
    return "webapps.rkguide.demo"


# -- discovery ------------------------------------------------------------------------


def test_version(kubectl: Kubectl) -> None:
    versions = json.loads(kubectl("version", "-o", "json"))
    assert versions["serverVersion"]["major"] == "1"
    assert versions["serverVersion"]["gitVersion"].startswith("v1.")
    raw = json.loads(kubectl("get", "--raw", "/version"))
    assert raw["gitVersion"] == versions["serverVersion"]["gitVersion"]


def test_api_resources_include_an_applied_crd(kubectl: Kubectl, crd_applied: str) -> None:
    table = kubectl("api-resources")
    assert header(table) == ["NAME", "SHORTNAMES", "APIVERSION", "NAMESPACED", "KIND"]
    by_name = {row[0]: row for row in rows(table)}
    assert by_name["deployments"] == ["deployments", "deploy", "apps/v1", "true", "Deployment"]
    assert by_name["namespaces"] == ["namespaces", "ns", "v1", "false", "Namespace"]
    assert by_name["webapps"] == ["webapps", "wa", "rkguide.demo/v1", "true", "WebApp"]
    names = kubectl("api-resources", "--api-group=rkguide.demo", "-o", "name").split()
    assert names == ["webapps.rkguide.demo"]


def test_unauthorized_without_the_right_token(kubectl: Kubectl, tmp_path: Path) -> None:
    config = yaml.safe_load(kubectl.kubeconfig.read_text())
    config["users"][0]["user"]["token"] = "not-the-token"
    wrong = tmp_path / "kubeconfig"
    wrong.write_text(yaml.safe_dump(config))
    done = kubectl.run("get", "configmaps", kubeconfig=wrong, check=False)
    assert done.returncode != 0
    assert "Unauthorized" in done.stderr


def test_imperative_generators_send_protobuf(kubectl: Kubectl, ns: str) -> None:
    """These send protobuf only: decoded for the core kinds, 415 for the others."""
    kubectl("create", "namespace", f"{ns}-x")
    kubectl("create", "configmap", "lit", "-n", ns, "--from-literal=a=b")
    assert kubectl.json("get", "configmap", "lit", "-n", ns)["data"] == {"a": "b"}
    error = kubectl.fails("create", "deployment", "web", "-n", ns, "--image=nginx")
    assert "the body of the request was in an unknown format" in error
    assert "Deployment (apps/v1) in protobuf is not supported" in error
    assert "apply -f" in error


# -- get --------------------------------------------------------------------------------


def test_get_tables_have_the_columns_of_a_real_server(
    kubectl: Kubectl, ns: str, crd_applied: str
) -> None:
    kubectl.apply(
        [
            deployment("web", ns),
            configmap("settings", ns, a="1", b="2"),
            {
                "apiVersion": "v1",
                "kind": "Service",
                "metadata": {"name": "web", "namespace": ns},
                "spec": {"selector": {"app": "web"}, "ports": [{"port": 80, "targetPort": 8080}]},
            },
            webapp("shop", ns),
        ]
    )
    deployments = kubectl("get", "deployments", "-n", ns)
    assert header(deployments) == ["NAME", "READY", "UP-TO-DATE", "AVAILABLE", "AGE"]
    assert rows(deployments)[0][0] == "web"
    services = kubectl("get", "svc", "-n", ns)
    assert header(services) == ["NAME", "TYPE", "CLUSTER-IP", "EXTERNAL-IP", "PORT(S)", "AGE"]
    svc = rows(services)[0]
    assert svc[:2] == ["web", "ClusterIP"] and svc[3:5] == ["<none>", "80/TCP"]
    configmaps = kubectl("get", "cm", "settings", "-n", ns)
    assert header(configmaps) == ["NAME", "DATA", "AGE"]
    assert rows(configmaps)[0][:2] == ["settings", "2"]
    namespaces = kubectl("get", "ns", ns)
    assert header(namespaces) == ["NAME", "STATUS", "AGE"]
    assert rows(namespaces)[0][:2] == [ns, "Active"]
    webapps = kubectl("get", "wa", "-n", ns)  # the CRD's additionalPrinterColumns
    assert header(webapps) == ["NAME", "READY", "PHASE"]
    assert rows(webapps) == [["shop"]]
    kubectl(
        "patch",
        "webapp",
        "shop",
        "-n",
        ns,
        "--subresource=status",
        "--type=merge",
        "-p",
        '{"status":{"ready":true,"phase":"Running"}}',
    )
    assert rows(kubectl("get", "webapps.rkguide.demo", "-n", ns)) == [["shop", "true", "Running"]]


def test_get_wide_json_and_yaml(kubectl: Kubectl, ns: str) -> None:
    kubectl.apply(deployment("web", ns, ("app", "nginx:1"), ("log", "fluent:1")))
    wide = kubectl("get", "deploy", "web", "-n", ns, "-o", "wide")
    assert header(wide) == [
        "NAME",
        "READY",
        "UP-TO-DATE",
        "AVAILABLE",
        "AGE",
        "CONTAINERS",
        "IMAGES",
        "SELECTOR",
    ]
    assert rows(wide)[0][-3:] == ["app,log", "nginx:1,fluent:1", "app=web"]
    as_json = kubectl.json("get", "deploy", "web", "-n", ns)
    assert as_json["kind"] == "Deployment" and as_json["apiVersion"] == "apps/v1"
    meta = as_json["metadata"]
    assert meta["uid"] and meta["resourceVersion"] and meta["creationTimestamp"]
    assert meta["generation"] == 1
    as_yaml = yaml.safe_load(kubectl("get", "deploy", "web", "-n", ns, "-o", "yaml"))
    assert as_yaml["metadata"]["uid"] == meta["uid"]
    listed = kubectl.json("get", "deploy", "-n", ns)
    assert listed["kind"] == "List" and [i["metadata"]["name"] for i in listed["items"]] == ["web"]
    assert (
        kubectl(
            "get",
            "deploy",
            "web",
            "-n",
            ns,
            "-o",
            "jsonpath={.spec.template.spec.containers[*].name}",
        )
        == "app log"
    )


def test_get_with_selectors_and_across_namespaces(
    kubectl: Kubectl, ns: str, server: EmbeddedServer
) -> None:
    other = f"{ns}-b"
    kubectl.apply({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": other}})
    kubectl.apply(
        [
            configmap("red", ns, {"color": "red", "tier": "a"}),
            configmap("blue", ns, {"color": "blue", "tier": "a"}),
            configmap("green", other, {"color": "green", "tier": "a"}),
        ]
    )

    def names(*args: str) -> list[str]:
        return sorted(kubectl("get", "cm", *args, "-o", "name").split())

    assert names("-n", ns, "-l", "color=red") == ["configmap/red"]
    assert names("-n", ns, "-l", "color!=red,tier=a") == ["configmap/blue"]
    assert names("-n", ns, "-l", "color in (red,blue)") == ["configmap/blue", "configmap/red"]
    assert names("-n", ns, "-l", "!tier") == []
    assert names("-n", ns, "--field-selector", "metadata.name=blue") == ["configmap/blue"]
    assert names("-n", ns, "--field-selector", "metadata.name!=blue", "-l", "tier") == [
        "configmap/red"
    ]
    everywhere = kubectl("get", "cm", "-A", "-l", "tier=a")
    assert header(everywhere) == ["NAMESPACE", "NAME", "DATA", "AGE"]
    assert sorted((r[0], r[1]) for r in rows(everywhere)) == [
        (ns, "blue"),
        (ns, "red"),
        (other, "green"),
    ]


def test_get_in_chunks(kubectl: Kubectl, ns: str) -> None:
    kubectl.apply([configmap(f"c{i}", ns, {"chunked": "yes"}) for i in range(5)])
    table = kubectl("get", "cm", "-n", ns, "-l", "chunked", "--chunk-size=2")
    assert [r[0] for r in rows(table)] == [f"c{i}" for i in range(5)]
    names = kubectl("get", "cm", "-n", ns, "-l", "chunked", "--chunk-size=2", "-o", "name")
    assert names.split() == [f"configmap/c{i}" for i in range(5)]
    first = json.loads(
        kubectl("get", "--raw", f"/api/v1/namespaces/{ns}/configmaps?limit=2&labelSelector=chunked")
    )
    assert len(first["items"]) == 2 and first["metadata"]["continue"]
    assert first["metadata"]["remainingItemCount"] == 3


# -- apply, create, replace -------------------------------------------------------------


def test_apply_creates_then_reapply_gives_exactly_the_new_containers(
    kubectl: Kubectl, ns: str
) -> None:
    first = deployment("web", ns, ("app", "nginx:1"), ("sidecar", "envoy:1"))
    first["spec"]["template"]["spec"]["containers"][0]["ports"] = [{"containerPort": 80}]
    assert "deployment.apps/web created" in kubectl.apply(first)
    assert "unchanged" in kubectl.apply(first)
    second = deployment("web", ns, ("app", "nginx:2"), ("logger", "fluent:1"))
    second["spec"]["template"]["spec"]["containers"][0]["ports"] = [{"containerPort": 80}]
    assert "deployment.apps/web configured" in kubectl.apply(second)
    obj = kubectl.json("get", "deploy", "web", "-n", ns)
    containers = obj["spec"]["template"]["spec"]["containers"]
    assert [(c["name"], c["image"]) for c in containers] == [
        ("app", "nginx:2"),
        ("logger", "fluent:1"),
    ]
    assert containers[0]["ports"][0]["containerPort"] == 80
    assert "sidecar" not in json.dumps(obj) and "$setElementOrder" not in json.dumps(obj)
    assert obj["metadata"]["generation"] == 2
    applied = obj["metadata"]["annotations"]["kubectl.kubernetes.io/last-applied-configuration"]
    assert json.loads(applied)["spec"]["template"]["spec"]["containers"][1]["name"] == "logger"


def test_apply_a_crd_then_its_cr(kubectl: Kubectl, crd_applied: str) -> None:
    assert "webapp.rkguide.demo/my-webapp created" in kubectl(
        "apply", "-f", str(PACK_API / "cr.yaml")
    )
    obj = kubectl.json("get", "webapp", "my-webapp")
    assert obj["spec"] == {"image": "ghcr.io/orkspace/demo-web:1.0.0", "replicas": 2, "port": 8080}
    kubectl("delete", "-f", str(PACK_API / "cr.yaml"))
    kubectl.apply(webapp("defaults", "default", replicas=None))
    defaulted = kubectl.json("get", "wa", "defaults")
    assert defaulted["spec"]["port"] == 8080  # schema defaults apply
    kubectl("delete", "wa", "defaults")


def test_apply_rejects_a_typo_with_validation_on(
    kubectl: Kubectl, ns: str, crd_applied: str
) -> None:
    typo = deployment("typo", ns)
    typo["spec"]["replicaz"] = 2
    error = kubectl.fails("apply", "-f", "-", stdin=yaml.safe_dump(typo))
    assert 'unknown field "spec.replicaz"' in error
    cr = webapp("typo", ns)
    cr["spec"]["imagee"] = "x"
    error = kubectl.fails("apply", "-f", "-", stdin=yaml.safe_dump(cr))
    assert "imagee" in error
    bad = webapp("bad", ns, replicas=99)
    error = kubectl.fails("apply", "-f", "-", stdin=yaml.safe_dump(bad))
    assert "Invalid" in error and "spec.replicas" in error
    assert kubectl.fails("get", "deploy", "typo", "-n", ns).strip().endswith("not found")
    kubectl("apply", "--validate=false", "-f", "-", stdin=yaml.safe_dump(typo))
    assert "replicaz" not in kubectl.json("get", "deploy", "typo", "-n", ns)["spec"]


def test_server_side_apply_with_conflicts(kubectl: Kubectl, ns: str) -> None:
    cm = configmap("shared", ns, owner="alice", color="red")
    kubectl.apply(cm, "--server-side", "--field-manager=alice")
    obj = kubectl.json("get", "cm", "shared", "-n", ns, "--show-managed-fields")
    managers = {m["manager"]: m for m in obj["metadata"]["managedFields"]}
    assert managers["alice"]["operation"] == "Apply"
    assert "f:color" in json.dumps(managers["alice"]["fieldsV1"])
    bob = configmap("shared", ns, color="blue")
    error = kubectl.fails(
        "apply", "--server-side", "--field-manager=bob", "-f", "-", stdin=yaml.safe_dump(bob)
    )
    assert "conflict" in error.lower() and "alice" in error and ".data.color" in error
    kubectl.apply(bob, "--server-side", "--field-manager=bob", "--force-conflicts")
    obj = kubectl.json("get", "cm", "shared", "-n", ns, "--show-managed-fields")
    assert obj["data"] == {"owner": "alice", "color": "blue"}
    managers = {m["manager"]: m for m in obj["metadata"]["managedFields"]}
    assert "f:color" in json.dumps(managers["bob"]["fieldsV1"])
    assert "f:color" not in json.dumps(managers["alice"]["fieldsV1"])
    # alice applies again without the field she lost: it stays (bob owns it)
    kubectl.apply(configmap("shared", ns, owner="alice"), "--server-side", "--field-manager=alice")
    assert kubectl.json("get", "cm", "shared", "-n", ns)["data"] == {
        "owner": "alice",
        "color": "blue",
    }


def test_create_and_replace(kubectl: Kubectl, ns: str, tmp_path: Path) -> None:
    manifest = tmp_path / "cm.yaml"
    manifest.write_text(yaml.safe_dump(configmap("conf", ns, a="1")))
    assert "configmap/conf created" in kubectl("create", "-f", str(manifest))
    assert "AlreadyExists" in kubectl.fails("create", "-f", str(manifest))
    manifest.write_text(yaml.safe_dump(configmap("conf", ns, a="2")))
    assert "configmap/conf replaced" in kubectl("replace", "-f", str(manifest))
    current = kubectl.json("get", "cm", "conf", "-n", ns)
    assert current["data"] == {"a": "2"}
    stale = configmap("conf", ns, a="3")
    stale["metadata"]["resourceVersion"] = "1"
    error = kubectl.fails("replace", "-f", "-", stdin=yaml.safe_dump(stale))
    assert "Conflict" in error and "the object has been modified" in error
    missing = configmap("nope", ns)
    assert "NotFound" in kubectl.fails("replace", "-f", "-", stdin=yaml.safe_dump(missing))


def test_patch_merge_and_json(kubectl: Kubectl, ns: str, crd_applied: str) -> None:
    kubectl.apply(deployment("web", ns, ("app", "nginx:1"), ("log", "fluent:1")))
    kubectl(
        "patch",
        "deploy",
        "web",
        "-n",
        ns,
        "--type=merge",
        "-p",
        '{"metadata":{"labels":{"merged":"yes"}},"spec":{"replicas":2}}',
    )
    kubectl(
        "patch",
        "deploy",
        "web",
        "-n",
        ns,
        "--type=json",
        "-p",
        '[{"op":"replace","path":"/spec/template/spec/containers/0/image","value":"nginx:3"}]',
    )
    obj = kubectl.json("get", "deploy", "web", "-n", ns)
    assert obj["metadata"]["labels"]["merged"] == "yes" and obj["spec"]["replicas"] == 2
    assert obj["spec"]["template"]["spec"]["containers"][0]["image"] == "nginx:3"
    error = kubectl.fails(
        "patch",
        "deploy",
        "web",
        "-n",
        ns,
        "--type=json",
        "-p",
        '[{"op":"test","path":"/spec/replicas","value":7}]',
    )
    assert "invalid" in error.lower()  # 422, as a real server answers a failed test
    # custom resources take merge and JSON patches, not strategic ones
    kubectl.apply(webapp("shop", ns))
    kubectl("patch", "wa", "shop", "-n", ns, "--type=merge", "-p", '{"spec":{"replicas":3}}')
    assert kubectl.json("get", "wa", "shop", "-n", ns)["spec"]["replicas"] == 3
    error = kubectl.fails("patch", "wa", "shop", "-n", ns, "-p", '{"spec":{"replicas":4}}')
    assert "application/strategic-merge-patch+json is not supported" in error


def test_patch_strategic(kubectl: Kubectl, ns: str) -> None:
    kubectl.apply(deployment("web", ns, ("app", "nginx:1"), ("log", "fluent:1")))
    kubectl(
        "patch",
        "deploy",
        "web",
        "-n",
        ns,
        "--type=strategic",
        "-p",
        json.dumps(
            {"spec": {"template": {"spec": {"containers": [{"name": "log", "image": "fluent:2"}]}}}}
        ),
    )
    containers = kubectl.json("get", "deploy", "web", "-n", ns)["spec"]["template"]["spec"][
        "containers"
    ]
    assert [(c["name"], c["image"]) for c in containers] == [
        ("app", "nginx:1"),
        ("log", "fluent:2"),
    ]
    kubectl(
        "patch",
        "deploy",
        "web",
        "-n",
        ns,
        "-p",
        json.dumps(
            {"spec": {"template": {"spec": {"containers": [{"name": "app", "$patch": "delete"}]}}}}
        ),
    )
    containers = kubectl.json("get", "deploy", "web", "-n", ns)["spec"]["template"]["spec"][
        "containers"
    ]
    assert [c["name"] for c in containers] == ["log"]


def test_set_image_rolls_out(kubectl: Kubectl, ns: str) -> None:
    kubectl.apply(deployment("web", ns, replicas=2))
    kubectl("rollout", "status", "deploy/web", "-n", ns, "--timeout=10s")
    kubectl("set", "image", "deploy/web", "-n", ns, "app=nginx:2")
    assert "successfully rolled out" in kubectl(
        "rollout", "status", "deploy/web", "-n", ns, "--timeout=10s"
    )
    obj = kubectl.json("get", "deploy", "web", "-n", ns)
    assert obj["status"]["observedGeneration"] == 2
    assert obj["spec"]["template"]["spec"]["containers"][0]["image"] == "nginx:2"


def test_label_annotate_and_scale(kubectl: Kubectl, ns: str) -> None:
    kubectl.apply(deployment("web", ns))
    kubectl("label", "deploy", "web", "-n", ns, "tier=front")
    assert "--overwrite" in kubectl.fails("label", "deploy", "web", "-n", ns, "tier=back")
    kubectl("label", "deploy", "web", "-n", ns, "tier=back", "--overwrite")
    kubectl("annotate", "deploy", "web", "-n", ns, "note=hello")
    meta = kubectl.json("get", "deploy", "web", "-n", ns)["metadata"]
    assert meta["labels"]["tier"] == "back" and meta["annotations"]["note"] == "hello"
    kubectl("label", "deploy", "web", "-n", ns, "tier-")
    kubectl("annotate", "deploy", "web", "-n", ns, "note-")
    meta = kubectl.json("get", "deploy", "web", "-n", ns)["metadata"]
    assert "tier" not in meta["labels"] and "note" not in meta.get("annotations", {})
    assert "scaled" in kubectl("scale", "deploy", "web", "-n", ns, "--replicas=3")
    kubectl("rollout", "status", "deploy/web", "-n", ns, "--timeout=10s")
    obj = kubectl.json("get", "deploy", "web", "-n", ns)
    assert obj["spec"]["replicas"] == 3 and obj["status"]["readyReplicas"] == 3
    error = kubectl.fails(
        "scale", "deploy", "web", "-n", ns, "--replicas=1", "--current-replicas=2"
    )
    assert "precondition" in error.lower() or "expected replicas" in error.lower()


# -- delete -------------------------------------------------------------------------------


def _owned_configmap(kubectl: Kubectl, ns: str, owner: str) -> None:
    uid = kubectl("get", "deploy", owner, "-n", ns, "-o", "jsonpath={.metadata.uid}")
    cm = configmap(f"{owner}-child", ns)
    cm["metadata"]["ownerReferences"] = [
        {"apiVersion": "apps/v1", "kind": "Deployment", "name": owner, "uid": uid}
    ]
    kubectl.apply(cm)


def test_delete_cascades_and_orphans(kubectl: Kubectl, ns: str) -> None:
    for name in ("orphaner", "foreground", "background"):
        kubectl.apply(deployment(name, ns))
        _owned_configmap(kubectl, ns, name)
    kubectl("delete", "deploy", "orphaner", "-n", ns, "--cascade=orphan")
    child = kubectl.json("get", "cm", "orphaner-child", "-n", ns)
    assert not child["metadata"].get("ownerReferences")
    assert "deleted" in kubectl("delete", "deploy", "foreground", "-n", ns, "--cascade=foreground")
    assert "NotFound" in kubectl.fails("get", "cm", "foreground-child", "-n", ns)
    kubectl("delete", "deploy", "background", "-n", ns)
    kubectl("wait", "--for=delete", "cm/background-child", "-n", ns, "--timeout=10s")
    assert "NotFound" in kubectl.fails("get", "deploy", "background", "-n", ns)
    assert "NotFound" in kubectl.fails("delete", "deploy", "background", "-n", ns)
    assert kubectl("delete", "deploy", "background", "-n", ns, "--ignore-not-found") == ""


def test_foreground_deletion_waits_for_blocking_children(kubectl: Kubectl, ns: str) -> None:
    kubectl.apply(deployment("parent", ns))
    uid = kubectl("get", "deploy", "parent", "-n", ns, "-o", "jsonpath={.metadata.uid}")
    child = configmap("blocker", ns)
    child["metadata"]["finalizers"] = ["example.com/hold"]
    child["metadata"]["ownerReferences"] = [
        {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "name": "parent",
            "uid": uid,
            "blockOwnerDeletion": True,
        }
    ]
    kubectl.apply(child)
    kubectl("delete", "deploy", "parent", "-n", ns, "--cascade=foreground", "--wait=false")
    parent = kubectl.json("get", "deploy", "parent", "-n", ns)
    assert parent["metadata"]["deletionTimestamp"]
    assert "foregroundDeletion" in parent["metadata"]["finalizers"]
    kubectl(
        "patch",
        "cm",
        "blocker",
        "-n",
        ns,
        "--type=json",
        "-p",
        '[{"op":"remove","path":"/metadata/finalizers"}]',
    )
    kubectl("wait", "--for=delete", "deploy/parent", "-n", ns, "--timeout=10s")


def test_delete_namespace_terminates_then_removes_its_content(kubectl: Kubectl) -> None:
    kubectl.apply({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "doomed"}})
    held = configmap("held", "doomed")
    held["metadata"]["finalizers"] = ["example.com/hold"]
    kubectl.apply([configmap("plain", "doomed"), deployment("web", "doomed"), held])
    kubectl("delete", "ns", "doomed", "--wait=false")
    namespace = kubectl.json("get", "ns", "doomed")
    assert namespace["status"]["phase"] == "Terminating"
    assert rows(kubectl("get", "ns", "doomed"))[0][1] == "Terminating"
    assert kubectl("get", "cm,deploy", "-n", "doomed", "-o", "name").split() == ["configmap/held"]
    error = kubectl.fails("apply", "-f", "-", stdin=yaml.safe_dump(configmap("late", "doomed")))
    assert "Forbidden" in error and "being terminated" in error
    kubectl(
        "patch",
        "cm",
        "held",
        "-n",
        "doomed",
        "--type=merge",
        "-p",
        '{"metadata":{"finalizers":null}}',
    )
    kubectl("wait", "--for=delete", "ns/doomed", "--timeout=10s")
    assert "NotFound" in kubectl.fails("get", "ns", "doomed")


# -- wait, rollout -------------------------------------------------------------------------


def test_wait_for_condition_and_delete(kubectl: Kubectl, ns: str) -> None:
    kubectl.apply(deployment("web", ns, replicas=2))
    out = kubectl("wait", "--for=condition=Available", "deploy/web", "-n", ns, "--timeout=10s")
    assert "condition met" in out
    kubectl(
        "wait", "--for=jsonpath={.status.readyReplicas}=2", "deploy/web", "-n", ns, "--timeout=10s"
    )
    kubectl(
        "patch",
        "deploy",
        "web",
        "-n",
        ns,
        "--type=merge",
        "-p",
        '{"metadata":{"finalizers":["example.com/hold"]}}',
    )
    kubectl("delete", "deploy", "web", "-n", ns, "--wait=false")
    waiting = kubectl.watching("wait", "--for=delete", "deploy/web", "-n", ns, "--timeout=10s")
    kubectl(
        "patch",
        "deploy",
        "web",
        "-n",
        ns,
        "--type=json",
        "-p",
        '[{"op":"remove","path":"/metadata/finalizers"}]',
    )
    assert "deployment.apps/web condition met" in waiting.finish()
    assert kubectl("wait", "--for=delete", "deploy/web", "-n", ns, "--timeout=1s") == ""


def test_rollout_status_of_every_workload(kubectl: Kubectl, ns: str) -> None:
    template = {
        "metadata": {"labels": {"app": "w"}},
        "spec": {"containers": [{"name": "app", "image": "nginx:1"}]},
    }
    spec = {"selector": {"matchLabels": {"app": "w"}}, "template": template}
    kubectl.apply(
        [
            deployment("deploy", ns, replicas=2),
            {
                "apiVersion": "apps/v1",
                "kind": "StatefulSet",
                "metadata": {"name": "sts", "namespace": ns},
                "spec": {**spec, "replicas": 2, "serviceName": "sts"},
            },
            {
                "apiVersion": "apps/v1",
                "kind": "DaemonSet",
                "metadata": {"name": "ds", "namespace": ns},
                "spec": spec,
            },
        ]
    )
    for target in ("deployment/deploy", "statefulset/sts", "daemonset/ds"):
        out = kubectl("rollout", "status", target, "-n", ns, "--timeout=10s")
        assert "successfully rolled out" in out or "roll out complete" in out, out


# -- watch --------------------------------------------------------------------------------


def _lines(process: Any) -> queue.Queue[str]:
    lines: queue.Queue[str] = queue.Queue()

    def pump() -> None:
        for line in process.stdout:
            lines.put(line)

    threading.Thread(target=pump, daemon=True).start()
    return lines


def test_get_watch_sees_each_event_exactly_once(kubectl: Kubectl, ns: str) -> None:
    kubectl.apply(configmap("watched", ns, a="1"))
    process = kubectl.popen("get", "cm", "watched", "-n", ns, "-w", "--output-watch-events")
    try:
        lines = _lines(process)
        seen: list[list[str]] = []

        def next_row() -> list[str]:
            row = lines.get(timeout=10).split()
            seen.append(row)
            return row

        assert next_row()[:2] == ["EVENT", "NAME"]
        assert next_row()[:3] == ["ADDED", "watched", "1"]
        kubectl("patch", "cm", "watched", "-n", ns, "--type=merge", "-p", '{"data":{"b":"2"}}')
        assert next_row()[:3] == ["MODIFIED", "watched", "2"]
        kubectl("delete", "cm", "watched", "-n", ns)
        assert next_row()[:2] == ["DELETED", "watched"]
        kubectl.apply(configmap("watched", ns, a="1", b="2", c="3"))  # an end marker
        assert next_row()[:3] == ["ADDED", "watched", "3"]
    finally:
        process.terminate()
        process.wait(timeout=10)
    assert [row[0] for row in seen] == ["EVENT", "ADDED", "MODIFIED", "DELETED", "ADDED"]
    assert lines.empty()


# -- describe, explain ----------------------------------------------------------------------


def test_describe_lists_events(kubectl: Kubectl, ns: str) -> None:
    kubectl.apply(deployment("web", ns))
    uid = kubectl("get", "deploy", "web", "-n", ns, "-o", "jsonpath={.metadata.uid}")
    kubectl.apply(
        {
            "apiVersion": "v1",
            "kind": "Event",
            "metadata": {"name": "web.1", "namespace": ns},
            "involvedObject": {
                "apiVersion": "apps/v1",
                "kind": "Deployment",
                "name": "web",
                "namespace": ns,
                "uid": uid,
            },
            "reason": "ScalingReplicaSet",
            "message": "Scaled up to 1",
            "type": "Normal",
            "count": 1,
            "source": {"component": "test"},
            "firstTimestamp": "2026-01-01T00:00:00Z",
            "lastTimestamp": "2026-01-01T00:00:00Z",
        }
    )
    kubectl.apply(
        {
            "apiVersion": "v1",
            "kind": "Event",
            "metadata": {"name": "other.1", "namespace": ns},
            "involvedObject": {"kind": "ConfigMap", "name": "other", "namespace": ns},
            "reason": "Unrelated",
            "message": "not about web",
            "type": "Warning",
        }
    )
    text = kubectl("describe", "deploy", "web", "-n", ns)
    assert "Name:" in text and "web" in text and "Replicas:" in text
    events = text[text.index("Events:") :]
    assert "ScalingReplicaSet" in events and "Scaled up to 1" in events
    assert "Unrelated" not in events
    assert "Labels:" in kubectl("describe", "ns", ns)


def test_explain_builtin_fields_and_crd_schemas(kubectl: Kubectl, crd_applied: str) -> None:
    replicas = kubectl("explain", "deployment.spec.replicas")
    assert "KIND:" in replicas and "Deployment" in replicas
    assert "FIELD: replicas <integer>" in replicas
    assert "Number of desired pods" in replicas
    spec = kubectl("explain", "webapp.spec")
    assert "WebApp" in spec and "rkguide.demo" in spec
    for field_name in ("image", "replicas", "port", "host"):
        assert field_name in spec
    assert "Container image to run" in spec
    assert "-required-" in spec


def test_get_all_lists_workloads(kubectl: Kubectl, ns: str) -> None:
    kubectl.apply([deployment("web", ns), configmap("not-in-all", ns)])
    names = kubectl("get", "all", "-n", ns, "-o", "name").split()
    assert "deployment.apps/web" in names
    assert all("configmap" not in n for n in names)


def test_crd_objects_round_trip(
    kubectl: Kubectl, ns: str, crd_applied: str, tmp_path: Path
) -> None:
    path = tmp_path / "cr.yaml"
    cr = load_yaml(PACK_API / "cr.yaml")
    cr["metadata"]["namespace"] = ns
    path.write_text(yaml.safe_dump(cr))
    kubectl("create", "-f", str(path))
    obj = kubectl.json("get", "-f", str(path))
    obj["spec"]["replicas"] = 5
    path.write_text(json.dumps(obj))
    kubectl("replace", "-f", str(path))
    assert kubectl.json("get", "wa", "my-webapp", "-n", ns)["spec"]["replicas"] == 5
    assert kubectl.json("get", "wa", "my-webapp", "-n", ns)["metadata"]["generation"] == 2
    kubectl("delete", "-f", str(path))
    assert kubectl("get", "wa", "-n", ns, "-o", "name") == ""


def test_wait_for_a_status_condition_on_a_cr(kubectl: Kubectl, ns: str, crd_applied: str) -> None:
    kubectl.apply(webapp("app", ns))
    waiting = kubectl.watching("wait", "--for=condition=Ready", "wa/app", "-n", ns, "--timeout=10s")
    kubectl(
        "patch",
        "wa",
        "app",
        "-n",
        ns,
        "--subresource=status",
        "--type=merge",
        "-p",
        json.dumps(
            {
                "status": {
                    "conditions": [
                        {
                            "type": "Ready",
                            "status": "True",
                            "reason": "Up",
                            "message": "",
                            "lastTransitionTime": "2026-01-01T00:00:00Z",
                        }
                    ]
                }
            }
        ),
    )
    assert "webapp.rkguide.demo/app condition met" in waiting.finish()


GADGETS = """
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: gadgets.example.com}
spec:
  group: example.com
  scope: Namespaced
  names: {kind: Gadget, plural: gadgets, singular: gadget, shortNames: [gd], categories: [all]}
  versions:
  - name: v1
    served: true
    storage: true
    subresources:
      status: {}
      scale: {specReplicasPath: .spec.replicas, statusReplicasPath: .status.replicas}
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec: {type: object, properties: {replicas: {type: integer}}}
          status: {type: object, properties: {replicas: {type: integer}}}
"""


def test_a_crd_with_scale_and_categories(kubectl: Kubectl, ns: str) -> None:
    kubectl("apply", "-f", "-", stdin=GADGETS)
    kubectl("wait", "--for=condition=Established", "crd/gadgets.example.com", "--timeout=10s")
    kubectl.apply(
        {
            "apiVersion": "example.com/v1",
            "kind": "Gadget",
            "metadata": {"name": "g1", "namespace": ns},
            "spec": {"replicas": 1},
        }
    )
    assert header(kubectl("get", "gd", "-n", ns)) == ["NAME", "AGE"]  # no printer columns
    assert "scaled" in kubectl("scale", "gadget", "g1", "-n", ns, "--replicas=4")
    assert kubectl.json("get", "gd", "g1", "-n", ns)["spec"]["replicas"] == 4
    scale = json.loads(
        kubectl("get", "--raw", f"/apis/example.com/v1/namespaces/{ns}/gadgets/g1/scale")
    )
    assert scale["kind"] == "Scale" and scale["spec"] == {"replicas": 4}
    assert "gadget.example.com/g1" in kubectl("get", "all", "-n", ns, "-o", "name").split()

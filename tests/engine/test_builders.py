"""Each resource kind builds the object Kubernetes expects.

Where ``kubectl create --dry-run=client -o yaml`` can make the same object, the test
compares field by field with what the real kubectl writes (every field kubectl sets must
be there with the same value; ours may add more, such as the managed labels). The other
kinds are compared with the manifest the Kubernetes API reference describes.
"""

from __future__ import annotations

import base64
import os
import shutil
import subprocess
from typing import Any

import pytest
import yaml

from tests.engine.harness import Harness

pytestmark = pytest.mark.integration

KUBECTL = shutil.which("kubectl")


def kubectl(*args: str) -> dict[str, Any]:
    assert KUBECTL, "kubectl is needed (make test installs it)"
    split = args.index("--") if "--" in args else len(args)
    argv = [KUBECTL, "create", *args[:split], "--dry-run=client", "-o", "yaml", *args[split:]]
    out = subprocess.run(
        argv,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
        env={**os.environ, "KUBECONFIG": os.devnull},
    )
    return yaml.safe_load(out.stdout)  # type: ignore[no-any-return]


def contains(expected: Any, actual: Any, path: str = "") -> None:
    """Every field of ``expected`` is in ``actual`` with the same value."""
    if isinstance(expected, dict):
        assert isinstance(actual, dict), f"{path}: expected a mapping, got {actual!r}"
        for key, value in expected.items():
            if value is None and key == "creationTimestamp":
                continue
            assert key in actual, f"{path}.{key} missing in {actual!r}"
            contains(value, actual[key], f"{path}.{key}")
    elif isinstance(expected, list):
        assert isinstance(actual, list) and len(actual) == len(expected), (
            f"{path}: {actual!r} != {expected!r}"
        )
        for i, (e, a) in enumerate(zip(expected, actual, strict=True)):
            contains(e, a, f"{path}[{i}]")
    else:
        assert actual == expected, f"{path}: {actual!r} != {expected!r}"


def build(
    key: str,
    item: dict[str, Any],
    api: str,
    kind: str,
    name: str,
    namespace: str | None = "default",
    **harness: Any,
) -> dict[str, Any]:
    h = Harness({"reconcile": {"onReconcile": {key: [item]}}}, **harness)
    h.cycle()
    assert h.results[-1].error is None, h.results[-1].error
    found = h.get(api, kind, name, namespace)
    assert found is not None, f"{kind} {name} was not created"
    return found


def _owned(obj: dict[str, Any]) -> None:
    meta = obj["metadata"]
    assert meta["labels"]["managed-by"] == "orkestra"
    assert meta["labels"]["orkestra-owner"] == "demo"
    ref = meta["ownerReferences"][0]
    assert (ref["kind"], ref["name"], ref["controller"], ref["blockOwnerDeletion"]) == (
        "App",
        "demo",
        True,
        True,
    )


def test_deployment_matches_kubectl() -> None:
    ours = build(
        "deployments",
        {"name": "web", "image": "nginx:1.25", "replicas": "3", "port": "8080"},
        "apps/v1",
        "Deployment",
        "web",
    )
    theirs = kubectl("deployment", "web", "--image=nginx:1.25", "--replicas=3", "--port=8080")
    # kubectl names the container after the image; Orkestra after the workload
    theirs["spec"]["template"]["spec"]["containers"][0]["name"] = "web"
    contains(theirs["spec"], ours["spec"], "spec")
    contains(theirs["metadata"]["labels"], ours["metadata"]["labels"])
    _owned(ours)


def test_service_types_match_kubectl() -> None:
    ours = build(
        "services",
        {"name": "web-svc", "port": 80, "targetPort": 8080, "selector": {"app": "web-svc"}},
        "v1",
        "Service",
        "web-svc",
    )
    contains(kubectl("service", "clusterip", "web-svc", "--tcp=80:8080")["spec"], ours["spec"])
    assert ours["spec"]["clusterIP"].startswith("10.96.")  # allocated by the cluster
    ours = build(
        "services",
        {
            "name": "np",
            "type": "NodePort",
            "port": 80,
            "targetPort": 8080,
            "nodePort": 30080,
            "selector": {"app": "np"},
        },
        "v1",
        "Service",
        "np",
    )
    contains(
        kubectl("service", "nodeport", "np", "--tcp=80:8080", "--node-port=30080")["spec"],
        ours["spec"],
    )
    ours = build(
        "services",
        {
            "name": "lb",
            "type": "LoadBalancer",
            "port": 443,
            "targetPort": 8443,
            "selector": {"app": "lb"},
        },
        "v1",
        "Service",
        "lb",
    )
    contains(kubectl("service", "loadbalancer", "lb", "--tcp=443:8443")["spec"], ours["spec"])
    ours = build(
        "services",
        {"name": "hl", "headless": True, "port": 6379, "selector": {"app": "hl"}},
        "v1",
        "Service",
        "hl",
    )
    contains(
        kubectl("service", "clusterip", "hl", "--clusterip=None", "--tcp=6379:6379")["spec"],
        ours["spec"],
    )


def test_configmap_and_secret_match_kubectl() -> None:
    ours = build(
        "configMaps",
        {"name": "cfg", "data": {"a": "1", "b": "{{ .metadata.name }}"}},
        "v1",
        "ConfigMap",
        "cfg",
    )
    contains(
        kubectl("configmap", "cfg", "--from-literal=a=1", "--from-literal=b=demo")["data"],
        ours["data"],
    )
    ours = build(
        "secrets", {"name": "creds", "data": {"password": "hunter2"}}, "v1", "Secret", "creds"
    )
    theirs = kubectl("secret", "generic", "creds", "--from-literal=password=hunter2")
    contains(theirs["data"], ours["data"])
    assert ours["type"] == "Opaque"  # what the API server defaults kubectl's secret to


def test_job_and_cronjob_match_kubectl() -> None:
    ours = build(
        "jobs",
        {"name": "migrate", "image": "busybox", "command": ["echo", "hi"]},
        "batch/v1",
        "Job",
        "migrate",
    )
    theirs = kubectl("job", "migrate", "--image=busybox", "--", "echo", "hi")
    theirs["spec"]["template"]["spec"]["containers"][0]["name"] = "migrate"
    contains(theirs["spec"]["template"]["spec"], ours["spec"]["template"]["spec"])
    assert ours["spec"]["backoffLimit"] == 3
    ours = build(
        "cronJobs",
        {"name": "backup", "image": "busybox", "schedule": "*/5 * * * *"},
        "batch/v1",
        "CronJob",
        "backup",
    )
    theirs = kubectl("cronjob", "backup", "--image=busybox", "--schedule=*/5 * * * *")
    theirs["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"][0]["name"] = "backup"
    contains(theirs["spec"], ours["spec"])
    assert (ours["spec"]["successfulJobsHistoryLimit"], ours["spec"]["failedJobsHistoryLimit"]) == (
        3,
        1,
    )


def test_ingress_matches_kubectl() -> None:
    ours = build(
        "ingresses",
        {
            "name": "web",
            "host": "example.com",
            "serviceName": "web-svc",
            "servicePort": 8080,
            "pathType": "Exact",
        },
        "networking.k8s.io/v1",
        "Ingress",
        "web",
    )
    contains(kubectl("ingress", "web", "--rule=example.com/=web-svc:8080")["spec"], ours["spec"])


def test_rbac_and_accounts_match_kubectl() -> None:
    ours = build("serviceAccounts", {"name": "app"}, "v1", "ServiceAccount", "app")
    _owned(ours)
    role = build(
        "roles",
        {"name": "reader", "rules": [{"resources": ["pods"], "verbs": ["get", "list"]}]},
        "rbac.authorization.k8s.io/v1",
        "Role",
        "reader",
    )
    # `kubectl create role` needs API discovery to resolve "pods", so it cannot run offline;
    # this is the rule it writes for --verb=get,list --resource=pods.
    assert role["rules"] == [{"apiGroups": [""], "resources": ["pods"], "verbs": ["get", "list"]}]
    binding = build(
        "roleBindings",
        {
            "name": "rb",
            "roleRef": {"kind": "Role", "name": "reader"},
            "subjects": [{"kind": "ServiceAccount", "name": "app"}],
        },
        "rbac.authorization.k8s.io/v1",
        "RoleBinding",
        "rb",
    )
    theirs = kubectl("rolebinding", "rb", "--role=reader", "--serviceaccount=default:app")
    contains(theirs["roleRef"], binding["roleRef"])
    contains(theirs["subjects"], binding["subjects"])
    crb = build(
        "clusterRoleBindings",
        {
            "name": "admins",
            "roleRef": {"kind": "ClusterRole", "name": "admin"},
            "subjects": [{"kind": "Group", "name": "devs"}],
        },
        "rbac.authorization.k8s.io/v1",
        "ClusterRoleBinding",
        "admins",
        None,
    )
    theirs = kubectl("clusterrolebinding", "admins", "--clusterrole=admin", "--group=devs")
    contains(theirs["roleRef"], crb["roleRef"])
    contains(theirs["subjects"], crb["subjects"])
    # cluster-scoped: no ownerReference is possible, ownership is a label
    assert "ownerReferences" not in crb["metadata"]
    assert crb["metadata"]["labels"]["orkestra.io/owner"] == "app.default.demo"
    ns = build(
        "namespaces", {"name": "team-{{ .metadata.name }}"}, "v1", "Namespace", "team-demo", None
    )
    contains(
        {
            k: v
            for k, v in kubectl("namespace", "team-demo").items()
            if k in ("apiVersion", "kind", "spec")
        },
        ns,
    )


def test_pdb_and_quota_match_kubectl() -> None:
    ours = build(
        "pdb",
        {"name": "web", "minAvailable": 1, "selector": {"app": "web"}},
        "policy/v1",
        "PodDisruptionBudget",
        "web",
    )
    contains(kubectl("pdb", "web", "--selector=app=web", "--min-available=1")["spec"], ours["spec"])
    ours = build(
        "resourceQuotas",
        {"name": "q", "hard": {"pods": 10, "requests.cpu": "4"}},
        "v1",
        "ResourceQuota",
        "q",
    )
    contains(kubectl("quota", "q", "--hard=pods=10,requests.cpu=4")["spec"], ours["spec"])


def test_statefulset_with_claims_and_tag() -> None:
    ours = build(
        "statefulSets",
        {
            "name": "db",
            "image": "postgres",
            "tag": "16",
            "port": 5432,
            "replicas": "{{ 2 }}",
            "serviceName": "db-headless",
            "volumeClaimTemplates": [
                {
                    "name": "data",
                    "storageSize": "5Gi",
                    "mountPath": "/var/lib/data",
                    "storageClass": "fast",
                }
            ],
        },
        "apps/v1",
        "StatefulSet",
        "db",
    )
    spec = ours["spec"]
    assert (spec["replicas"], spec["serviceName"]) == (2, "db-headless")
    assert spec["selector"] == {"matchLabels": {"app": "db"}}
    container = spec["template"]["spec"]["containers"][0]
    assert container["image"] == "postgres:16"
    assert container["volumeMounts"] == [{"name": "data", "mountPath": "/var/lib/data"}]
    assert spec["volumeClaimTemplates"] == [
        {
            "metadata": {"name": "data"},
            "spec": {
                "accessModes": ["ReadWriteOnce"],
                "resources": {"requests": {"storage": "5Gi"}},
                "storageClassName": "fast",
            },
        }
    ]


def test_workload_profiles_probes_env_and_security() -> None:
    ours = build(
        "deployments",
        {
            "name": "api",
            "image": "api:1",
            "port": "8080",
            "resources": {"profile": "small"},
            "probes": {
                "readiness": {"type": "http", "path": "/ready", "profile": "fast"},
                "liveness": {"type": "tcp"},
            },
            "securityContext": {"profile": "restricted"},
            "podSecurity": {"profile": "baseline"},
            "rollingUpdate": {"profile": "safe"},
            "env": [
                {"name": "MODE", "value": "{{ .spec.mode }}"},
                {"name": "PASS", "valueFrom": {"secretKeyRef": {"name": "s", "key": "p"}}},
            ],
            "envFrom": {"configMapRef": [{"name": "cfg"}]},
            "serviceAccountName": "app",
            "imagePullSecrets": ["regcred"],
        },
        "apps/v1",
        "Deployment",
        "api",
        spec={"mode": "prod"},
    )
    pod = ours["spec"]["template"]["spec"]
    c = pod["containers"][0]
    assert c["resources"] == {
        "requests": {"cpu": "100m", "memory": "128Mi"},
        "limits": {"cpu": "250m", "memory": "256Mi"},
    }
    assert c["readinessProbe"] == {
        "httpGet": {"path": "/ready", "port": 8080},
        "initialDelaySeconds": 1,
        "periodSeconds": 5,
        "timeoutSeconds": 1,
        "failureThreshold": 3,
    }
    assert c["livenessProbe"] == {"tcpSocket": {"port": 8080}}
    assert c["securityContext"]["runAsNonRoot"] is True
    assert c["env"] == [
        {"name": "MODE", "value": "prod"},
        {"name": "PASS", "valueFrom": {"secretKeyRef": {"name": "s", "key": "p"}}},
    ]
    assert c["envFrom"] == [{"configMapRef": {"name": "cfg"}}]
    assert pod["securityContext"] == {"seccompProfile": {"type": "RuntimeDefault"}}
    assert pod["serviceAccountName"] == "app"
    assert pod["imagePullSecrets"] == [{"name": "regcred"}]
    assert ours["spec"]["strategy"] == {
        "type": "RollingUpdate",
        "rollingUpdate": {"maxSurge": 1, "maxUnavailable": 0},
    }


def test_storage_hpa_netpol_limits_and_pods() -> None:
    pvc = build(
        "persistentVolumeClaims",
        {"name": "data", "storageSize": "2Gi"},
        "v1",
        "PersistentVolumeClaim",
        "data",
    )
    assert pvc["spec"] == {
        "accessModes": ["ReadWriteOnce"],
        "resources": {"requests": {"storage": "2Gi"}},
    }
    pv = build(
        "persistentVolumes",
        {"name": "vol", "hostPath": "/mnt/x"},
        "v1",
        "PersistentVolume",
        "vol",
        None,
    )
    assert pv["spec"]["hostPath"] == {"path": "/mnt/x"}
    assert pv["spec"]["persistentVolumeReclaimPolicy"] == "Retain"
    h = Harness(
        {
            "reconcile": {
                "onReconcile": {
                    "deployments": [{"name": "web", "image": "nginx"}],
                    "hpa": [
                        {"minReplicas": 2, "maxReplicas": 6, "targetCPUUtilizationPercentage": 70}
                    ],
                    "networkPolicies": [{"profile": "deny-ingress", "podSelector": {"app": "web"}}],
                    "limitRanges": [{"profile": "default-limits"}],
                    "pods": [{"name": "probe", "image": "busybox", "restartPolicy": "Never"}],
                }
            }
        }
    )
    h.cycle()
    hpa = h.get("autoscaling/v2", "HorizontalPodAutoscaler", "demo-hpa")
    assert hpa is not None and hpa["spec"] == {
        "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web"},
        "minReplicas": 2,
        "maxReplicas": 6,
        "metrics": [
            {
                "type": "Resource",
                "resource": {
                    "name": "cpu",
                    "target": {"type": "Utilization", "averageUtilization": 70},
                },
            }
        ],
    }
    policy = h.get("networking.k8s.io/v1", "NetworkPolicy", "demo-netpol")
    assert policy is not None and policy["spec"] == {
        "policyTypes": ["Ingress"],
        "podSelector": {"matchLabels": {"app": "web"}},
    }
    limits = h.get("v1", "LimitRange", "demo-limits")
    assert limits is not None and limits["spec"]["limits"][0]["type"] == "Container"
    pod = h.get("v1", "Pod", "probe")
    assert pod is not None and pod["spec"]["restartPolicy"] == "Never"


def test_custom_resource_values_are_typed() -> None:
    ours = build(
        "custom",
        {
            "apiVersion": "db.example.com/v1",
            "kind": "Database",
            "metadata": {"name": "{{ .metadata.name }}-db"},
            "spec": {
                "size": "{{ .spec.size }}",
                "ha": "{{ .spec.ha }}",
                "engine": "postgres",
                "tags": "{{ toJson .spec.tags }}",
            },
        },
        "db.example.com/v1",
        "Database",
        "demo-db",
        spec={"size": 3, "ha": True, "tags": ["a"]},
    )
    assert ours["spec"] == {"size": 3, "ha": True, "engine": "postgres", "tags": ["a"]}
    _owned(ours)


def test_default_names_follow_the_reference() -> None:
    h = Harness(
        {
            "reconcile": {
                "onReconcile": {
                    "deployments": [{"image": "nginx"}],
                    "services": [{}],
                    "configMaps": [{}],
                    "jobs": [{"image": "busybox"}],
                    "roles": [{}],
                    "ingresses": [{}],
                }
            }
        }
    )
    h.cycle()
    names = {o.resource: o.name for o in h.cluster.operations if o.verb == "create"}
    assert names == {
        "deployments": "demo-deployment",
        "services": "demo-svc",
        "configmaps": "demo-config",
        "jobs": "demo-job",
        "roles": "demo-role",
        "ingresses": "demo-ingress",
    }


def test_tls_secret_is_a_real_certificate() -> None:
    from cryptography import x509

    ours = build(
        "secrets",
        {
            "name": "tls",
            "tls": {"commonName": "demo.example.com", "dnsNames": ["demo.example.com"]},
        },
        "v1",
        "Secret",
        "tls",
    )
    assert ours["type"] == "kubernetes.io/tls"
    cert = x509.load_pem_x509_certificate(base64.b64decode(ours["data"]["tls.crt"]))
    names = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert names.get_values_for_type(x509.DNSName) == ["demo.example.com"]
    assert b"PRIVATE KEY" in base64.b64decode(ours["data"]["tls.key"])

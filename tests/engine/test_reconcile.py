"""Reconcile behaviour: never write what did not change, drift correction, create-once
kinds, secrets, forEach, gates, status state machines, admission, finalizers."""

from __future__ import annotations

from typing import Any

import pytest

from orkestra.cluster import MemoryCluster
from orkestra.template import UserNote
from tests.engine.harness import Harness, RecordingHooks, mark_ready

WEB = {
    "reconcile": {
        "onReconcile": {
            "deployments": [
                {
                    "name": "{{ .metadata.name }}",
                    "image": "{{ .spec.image }}",
                    "replicas": "{{ .spec.replicas | default 1 }}",
                }
            ],
            "services": [{"name": "{{ .metadata.name }}-svc", "port": 80}],
        }
    }
}


def test_first_cycle_creates_then_nothing_is_rewritten() -> None:
    h = Harness(WEB, {"image": "nginx", "replicas": 2})
    assert h.cycle(mark_ready) == [
        ("create", "deployments", "demo"),
        ("create", "services", "demo-svc"),
        ("update", "apps/status", "demo"),
    ]
    assert h.cycle() == [("update", "apps/status", "demo")]  # the deployment became ready
    assert h.cycle() == []
    assert h.cycle() == []


def test_drift_is_corrected_and_spec_changes_are_applied() -> None:
    h = Harness(WEB, {"image": "nginx", "replicas": 2})
    h.cycle(mark_ready)
    h.cycle()
    drifted = h.get("apps/v1", "Deployment", "demo")
    assert drifted is not None
    h.cluster.update({**drifted, "spec": {**drifted["spec"], "replicas": 7}})
    assert ("update", "deployments", "demo") in h.cycle()
    restored = h.get("apps/v1", "Deployment", "demo")
    assert restored is not None and restored["spec"]["replicas"] == 2
    h.patch_spec(image="nginx:2")
    assert ("update", "deployments", "demo") in h.cycle()
    updated = h.get("apps/v1", "Deployment", "demo")
    assert updated is not None
    assert updated["spec"]["template"]["spec"]["containers"][0]["image"] == "nginx:2"
    assert updated["metadata"]["generation"] == 4  # created, drifted, restored, new image


def test_on_create_is_created_once_unless_reconcile_true() -> None:
    box = {
        "reconcile": {
            "onCreate": {
                "configMaps": [
                    {"name": "frozen", "data": {"v": "{{ .spec.v }}"}},
                    {"name": "live", "data": {"v": "{{ .spec.v }}"}, "reconcile": True},
                ]
            }
        }
    }
    h = Harness(box, {"v": "1"})
    h.cycle()
    h.patch_spec(v="2")
    assert [w for w in h.cycle() if w[1] == "configmaps"] == [("update", "configmaps", "live")]
    frozen, live = (h.get("v1", "ConfigMap", n) for n in ("frozen", "live"))
    assert frozen is not None and frozen["data"] == {"v": "1"}
    assert live is not None and live["data"] == {"v": "2"}


def test_jobs_are_created_once() -> None:
    box = {
        "reconcile": {"onReconcile": {"jobs": [{"name": "migrate", "image": "{{ .spec.image }}"}]}}
    }
    h = Harness(box, {"image": "tool:1"})
    assert ("create", "jobs", "migrate") in h.cycle()
    h.patch_spec(image="tool:2")
    assert [w for w in h.cycle() if w[1] == "jobs"] == []


def test_once_secret_keeps_its_value_and_rotates_after_its_age() -> None:
    box = {
        "reconcile": {
            "onCreate": {
                "secrets": [
                    {
                        "name": "creds",
                        "once": True,
                        "rotateAfter": "30d",
                        "data": {"password": "{{ randomAlphanumeric 24 }}"},
                    }
                ]
            }
        }
    }
    h = Harness(box)
    h.cycle()
    first = h.get("v1", "Secret", "creds")
    assert first is not None
    for _ in range(3):
        assert [w for w in h.cycle() if w[1] == "secrets"] == []
    h.clock.advance(days=31)
    assert [w for w in h.cycle() if w[1] == "secrets"] == [
        ("delete", "secrets", "creds"),
        ("create", "secrets", "creds"),
    ]
    rotated = h.get("v1", "Secret", "creds")
    assert rotated is not None and rotated["data"] != first["data"]
    assert (
        rotated["metadata"]["annotations"]["orkestra.orkspace.io/generated-at"]
        == "2026-12-22T12:00:00Z"
    )


def test_for_each_creates_one_per_item_and_removes_what_went_away() -> None:
    box = {
        "reconcile": {
            "onReconcile": {
                "configMaps": [
                    {
                        "name": "{{ .metadata.name }}-{{ .region }}",
                        "forEach": {"field": "spec.regions", "as": "region"},
                        "data": {"index": "{{ .index }}"},
                    }
                ]
            }
        }
    }
    h = Harness(box, {"regions": ["eu", "us", "ap"]})
    assert [w[2] for w in h.cycle() if w[1] == "configmaps"] == ["demo-eu", "demo-us", "demo-ap"]
    h.patch_spec(regions=["eu", "ap"])
    assert [w for w in h.cycle() if w[1] == "configmaps"] == [
        ("update", "configmaps", "demo-ap"),
        ("delete", "configmaps", "demo-us"),
    ]
    assert h.get("v1", "ConfigMap", "demo-us") is None


def test_for_each_over_a_map_uses_sorted_keys_and_values() -> None:
    box = {
        "reconcile": {
            "onReconcile": {
                "configMaps": [
                    {
                        "name": "{{ .item }}",
                        "forEach": {"field": "spec.tenants"},
                        "data": {"quota": "{{ .value }}"},
                    }
                ]
            }
        }
    }
    h = Harness(box, {"tenants": {"b": "10", "a": "5"}})
    assert [w[2] for w in h.cycle() if w[1] == "configmaps"] == ["a", "b"]
    cm = h.get("v1", "ConfigMap", "b")
    assert cm is not None and cm["data"] == {"quota": "10"}


def test_a_gate_turning_false_deletes_the_object() -> None:
    box = {
        "reconcile": {
            "onReconcile": {
                "ingresses": [
                    {
                        "name": "web",
                        "host": "{{ .spec.host }}",
                        "when": [{"field": "{{ .spec.host }}", "exists": True}],
                    }
                ]
            }
        }
    }
    h = Harness(box, {"host": "a.example.com"})
    assert ("create", "ingresses", "web") in h.cycle()
    h.patch_spec(host=None)
    assert ("delete", "ingresses", "web") in h.cycle()
    assert h.cycle() == []


def _job_done(cluster: MemoryCluster) -> None:
    for job in cluster.list("batch/v1", "Job", None, record=False):
        cluster.update_status({**job, "status": {"succeeded": 1}})


def test_status_state_machine_last_passing_entry_wins() -> None:
    box = {
        "reconcile": {"onReconcile": {"jobs": [{"name": "init", "image": "busybox"}]}},
        "emit": {
            "status": {
                "fields": [
                    {"path": "phase", "value": "Pending"},
                    {
                        "path": "phase",
                        "value": "Initializing",
                        "when": [{"field": "children.job.metadata.name", "exists": True}],
                    },
                    {
                        "path": "phase",
                        "value": "Ready",
                        "when": [{"field": "children.job.status.succeeded", "equals": "1"}],
                    },
                    {
                        "path": "jobs.done",
                        "value": "{{ jobSucceeded .children.job }}",
                        "type": "bool",
                    },
                    {
                        "path": "flag",
                        "value": "on",
                        "clearOnFalse": True,
                        "when": [{"field": "spec.flag", "equals": "true"}],
                    },
                ]
            }
        },
    }
    h = Harness(box, {"flag": True})
    h.cycle(_job_done)
    status = h.cr()["status"]
    assert (status["phase"], status["jobs"]["done"], status["flag"]) == (
        "Initializing",
        False,
        "on",
    )
    h.patch_spec(flag=False)
    h.cycle()
    status = h.cr()["status"]
    assert (status["phase"], status["jobs"]["done"], status["flag"]) == ("Ready", True, "")
    ready = status["conditions"][0]
    assert (ready["type"], ready["status"], ready["reason"]) == ("Ready", "True", "Reconciled")
    assert status["observedGeneration"] == 2


def test_ready_condition_waits_for_workloads_and_keeps_its_transition_time() -> None:
    h = Harness(WEB, {"image": "nginx"})
    h.cycle()
    first = h.cr()["status"]["conditions"][0]
    assert (first["status"], first["reason"], first["message"]) == (
        "False",
        "Progressing",
        "waiting for deployments/demo",
    )
    mark_ready(h.cluster)
    h.clock.advance(seconds=5)
    h.cycle()
    ready = h.cr()["status"]["conditions"][0]
    assert ready["status"] == "True" and ready["lastTransitionTime"] == "2026-11-21T12:00:05Z"
    h.clock.advance(seconds=5)
    assert h.cycle() == []


def test_validation_deny_creates_nothing_and_says_why() -> None:
    entry = {
        "validation": {
            "rules": [
                {"field": "spec.image", "prefix": "ghcr.io/", "message": "internal images only"},
                {
                    "field": "metadata.labels.team",
                    "exists": True,
                    "action": "warn",
                    "message": "label the team",
                },
            ]
        }
    }
    h = Harness(WEB, {"image": "docker.io/nginx"}, entry=entry)
    assert h.cycle() == [("update", "apps/status", "demo")]
    result = h.results[-1]
    assert result.error == (
        'validation denied: field "spec.image": internal images only (got "docker.io/nginx")'
    )
    assert result.warnings == [
        'validation warning: field "metadata.labels.team": label the team (got "")'
    ]
    ready = h.cr()["status"]["conditions"][0]
    assert (ready["status"], ready["reason"]) == ("False", "ValidationFailed")
    h.patch_spec(image="ghcr.io/nginx")
    assert ("create", "deployments", "demo") in h.cycle()


def test_mutation_defaults_and_overrides_feed_the_templates() -> None:
    entry = {
        "mutation": {
            "mutateFirst": True,
            "rules": [
                {"field": "spec.replicas", "default": "3", "valueType": "int"},
                {"field": "spec.image", "override": "ghcr.io/{{ .spec.image }}"},
            ],
        },
        "validation": {"rules": [{"field": "spec.replicas", "max": "5", "valueType": "int"}]},
    }
    h = Harness(WEB, {"image": "nginx"}, entry=entry)
    h.cycle()
    deployment = h.get("apps/v1", "Deployment", "demo")
    assert deployment is not None and deployment["spec"]["replicas"] == 3
    assert deployment["spec"]["template"]["spec"]["containers"][0]["image"] == "ghcr.io/nginx"
    assert "replicas" not in h.cr()["spec"]  # mutation at reconcile is in memory only


def test_normalize_accepts_two_cr_shapes() -> None:
    box = {"reconcile": {"onReconcile": {"services": [{"name": "s", "port": "{{ .spec.port }}"}]}}}
    entry = {
        "normalize": {
            "spec": {
                "port": "{{ if typeMap .spec.expose }}{{ .spec.expose.port }}{{ else }}"
                "{{ .spec.port }}{{ end }}"
            }
        }
    }
    flat = Harness(box, {"port": 8080}, entry=entry)
    flat.cycle()
    structured = Harness(box, {"expose": {"port": 9090}}, entry=entry)
    structured.cycle()
    ports = [h.get("v1", "Service", "s") for h in (flat, structured)]
    assert [p["spec"]["ports"][0]["port"] for p in ports if p] == [8080, 9090]


def test_finalizers_on_delete_and_cluster_scoped_cleanup() -> None:
    box = {
        "reconcile": {
            "onReconcile": {
                "namespaces": [{"name": "tenant-{{ .metadata.name }}"}],
                "configMaps": [{"name": "cfg"}],
            },
            "onDelete": {"jobs": [{"name": "cleanup", "image": "busybox"}]},
        },
        "runtime": {"finalizers": ["test.io/cleanup"]},
    }
    h = Harness(box)
    assert h.cycle()[0] == ("update", "apps", "demo")  # the finalizer goes on first
    assert h.cr()["metadata"]["finalizers"] == ["test.io/cleanup"]
    namespace = h.get("v1", "Namespace", "tenant-demo", None)
    assert namespace is not None
    assert namespace["metadata"]["labels"]["orkestra.io/owner"] == "app.default.demo"
    h.cluster.delete("test.io/v1", "App", "demo", "default")
    assert h.get("test.io/v1", "App", "demo") is not None  # held by the finalizer
    writes = h.cycle()
    assert ("create", "jobs", "cleanup") in writes
    assert ("delete", "namespaces", "tenant-demo") in writes
    assert h.get("test.io/v1", "App", "demo") is None
    assert h.get("v1", "ConfigMap", "cfg") is None  # garbage-collected through ownership
    assert h.results[-1].error is None


def test_copies_fan_out_and_children_context() -> None:
    h = Harness(
        {
            "reconcile": {
                "onReconcile": {
                    "secrets": [
                        {
                            "name": "pull",
                            "fromSecret": "registry",
                            "fromNamespace": "kube-system",
                            "toNamespaces": ["default", "team-b"],
                        }
                    ],
                    "deployments": [{"name": "web", "image": "nginx"}],
                    "configMaps": [
                        {
                            "name": "info",
                            "data": {
                                "ready": '{{ get .children.deployment "status" '
                                '"readyReplicas" | default 0 }}',
                                "full": "{{ fullName }}",
                            },
                        }
                    ],
                }
            }
        },
        notes=[UserNote("fullName", "{{ .metadata.namespace }}/{{ .metadata.name }}")],
    )
    h.cluster.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "team-b"}})
    h.cluster.create(
        {
            "apiVersion": "v1",
            "kind": "Secret",
            "type": "kubernetes.io/dockerconfigjson",
            "metadata": {"name": "registry", "namespace": "kube-system"},
            "data": {".dockerconfigjson": "e30="},
        }
    )
    h.cycle(mark_ready)
    copy_b = h.get("v1", "Secret", "pull", "team-b")
    assert copy_b is not None and copy_b["data"] == {".dockerconfigjson": "e30="}
    assert copy_b["type"] == "kubernetes.io/dockerconfigjson"
    assert "ownerReferences" not in copy_b["metadata"]  # other namespace: label ownership
    local = h.get("v1", "Secret", "pull")
    assert local is not None and local["metadata"]["ownerReferences"][0]["name"] == "demo"
    h.cycle()
    info = h.get("v1", "ConfigMap", "info")
    assert info is not None and info["data"] == {"ready": "1", "full": "default/demo"}


NESTED = {
    "reconcile": {
        "onReconcile": {"configMaps": [{"name": "x", "data": {"v": "{{ .spec.nested.deep }}"}}]}
    }
}


def test_template_errors_fail_the_cycle_and_show_on_status() -> None:
    h = Harness(NESTED, {})
    h.cycle()
    error = h.results[-1].error
    assert error is not None and "nil pointer evaluating interface {}.deep" in error
    assert error.startswith("onReconcile.configMaps[0].data.v:")
    status = h.cr()["status"]
    ready = status["conditions"][0]
    assert (ready["status"], ready["reason"]) == ("False", "ReconcileError")
    assert status["observedGeneration"] == 1  # without hooks, nothing waits on it


def test_a_cycle_failing_before_the_hooks_leaves_on_create_to_the_next_one() -> None:
    hooks = RecordingHooks()
    h = Harness(NESTED, {}, hooks=hooks)
    h.cycle()
    assert h.results[-1].error is not None and hooks.ran == []  # the templates failed first
    assert "observedGeneration" not in h.cr()["status"]
    h.patch_spec(nested={"deep": "fixed"})
    h.cycle()
    h.cycle()
    assert h.results[-1].error is None
    assert hooks.ran == [("on_create", "on_reconcile"), ("on_reconcile",)]
    assert h.cr()["status"]["observedGeneration"] == 2


def test_a_missing_cr_is_not_an_error() -> None:
    h = Harness(WEB, {"image": "nginx"})
    h.cluster.delete("test.io/v1", "App", "demo", "default")
    assert h.reconciler.reconcile("demo", "default").found is False


def test_replicas_that_are_not_numbers_are_cycle_errors() -> None:
    h = Harness(WEB, {"image": "nginx", "replicas": "many"})
    h.cycle()
    assert h.results[-1].error == 'onReconcile.deployments[0].replicas: "many" is not an integer'


def _service_when(condition: dict[str, Any]) -> dict[str, Any]:
    return {
        "reconcile": {
            "onReconcile": {"services": [{"name": "web", "port": 80, "when": [condition]}]}
        }
    }


@pytest.mark.parametrize(
    ("box", "spec", "error"),
    [
        (
            {
                "reconcile": {
                    "onReconcile": {
                        "deployments": [
                            {
                                "name": "web",
                                "image": "nginx",
                                "resources": {"profile": "{{ .spec.size }}"},
                            }
                        ]
                    }
                }
            },
            {"size": "huge"},
            'onReconcile.deployments[0].resources.profile: no resources profile named "huge" '
            "(known: burst, compute-heavy, small, standard)",
        ),
        (
            {
                "emit": {
                    "status": {
                        "fields": [{"path": "count", "value": "{{ .spec.count }}", "type": "int"}]
                    }
                }
            },
            {"count": "many"},
            'status.count: "many" is not a valid int',
        ),
        (
            _service_when({"cron": "{{ .spec.schedule }}"}),
            {},
            "cron: '{{ .spec.schedule }}' needs 5 fields (minute hour day month weekday)",
        ),
        (_service_when({"time": {"after": "25:00"}}), {}, "time: expected HH:MM, got '25:00'"),
        (
            {
                "reconcile": {
                    "onCreate": {
                        "secrets": [
                            {
                                "name": "creds",
                                "once": True,
                                "rotateAfter": "{{ .spec.every }}",
                                "data": {"password": "x"},
                            }
                        ]
                    }
                }
            },
            {"every": "soon"},
            "invalid duration 'soon' (expected a number and a unit such as 30s, 5m, 1h30m, 7d, 2w, "
            "1mo, 1y)",
        ),
    ],
)
def test_what_a_cycle_cannot_evaluate_is_its_error(
    box: dict[str, Any], spec: dict[str, Any], error: str
) -> None:
    """Profile, status, condition and duration errors end the cycle with their message (on
    the CR's status), never as an exception out of the reconciler."""
    h = Harness(box, spec)
    h.cycle()
    h.cycle()  # a once secret's rotateAfter is read once the secret exists
    assert h.results[-1].error == error

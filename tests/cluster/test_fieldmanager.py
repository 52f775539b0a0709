"""managedFields and server-side apply.

The hand-written tables follow the Kubernetes documentation (Server-Side Apply: managers,
conflicts, ``--force-conflicts``, merge strategies) and the FieldsV1 format the API server
stores. ``test_same_as_structured_merge_diff`` replays scenarios through Kubernetes' own Go
library (structured-merge-diff, as Debian packages it: ``tools/smd-oracle``) when Go and that
package are installed.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from orkestra.cluster.data import clone
from orkestra.cluster.errors import ApplyConflictError, BadRequestError, InvalidError
from orkestra.cluster.fieldmanager import (
    MAX_UPDATE_MANAGERS,
    apply,
    diff,
    intersect,
    paths,
    record_update,
    subtract,
    union,
)
from orkestra.cluster.kubeschema import (
    SchemaNode,
    crd_node,
    definitions,
    kind_node,
    kind_schema,
    resolve,
)

Obj = dict[str, Any]
T0, T1, T2 = "2024-01-01T00:00:00Z", "2024-01-01T00:01:00Z", "2024-01-01T00:02:00Z"
DEPLOYMENT = kind_node("apps", "v1", "Deployment")
CONFIGMAP = kind_node("", "v1", "ConfigMap")
APPS = "apps/v1"


def deployment(replicas: int = 1, image: str = "nginx:1", **extra: Any) -> Obj:
    return {
        "apiVersion": APPS,
        "kind": "Deployment",
        "metadata": {"name": "web", "namespace": "default", "labels": {"app": "web"}},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": "web"}},
            "template": {
                "metadata": {"labels": {"app": "web"}},
                "spec": {"containers": [{"name": "app", "image": image}]},
            },
            **extra,
        },
    }


def stored(obj: Obj, managed: list[Obj], **server: Any) -> Obj:
    """``obj`` as the store keeps it: with its managedFields and server-set metadata."""
    out = clone(obj)
    out["metadata"].update(
        {"uid": "u-1", "resourceVersion": "1", "generation": 1, "creationTimestamp": T0, **server}
    )
    if managed:
        out["metadata"]["managedFields"] = managed
    return out


def update(
    old: Obj | None, new: Obj, manager: str, now: str = T1, subresource: str = "", **kw: Any
) -> list[Obj]:
    return record_update(
        old,
        new,
        manager=manager,
        api_version=APPS,
        subresource=subresource,
        now=now,
        schema=DEPLOYMENT,
        **kw,
    )


def fields(managed: list[Obj]) -> dict[str, Obj]:
    """manager[/subresource] (Apply entries marked) -> FieldsV1."""
    out = {}
    for entry in managed:
        name = entry["manager"] + ("(apply)" if entry["operation"] == "Apply" else "")
        name += f"/{entry['subresource']}" if entry.get("subresource") else ""
        out[name] = entry["fieldsV1"]
    return out


CREATED: Obj = {
    "f:metadata": {"f:labels": {".": {}, "f:app": {}}},
    "f:spec": {
        "f:replicas": {},
        "f:selector": {},
        "f:template": {
            "f:metadata": {"f:labels": {".": {}, "f:app": {}}},
            "f:spec": {
                "f:containers": {'k:{"name":"app"}': {".": {}, "f:image": {}, "f:name": {}}}
            },
        },
    },
}


# --- record_update -------------------------------------------------------------------------


def test_create_owns_every_field_sent() -> None:
    managed = update(None, stored(deployment(), []), "kubectl-create", now=T0)
    assert managed == [
        {
            "manager": "kubectl-create",
            "operation": "Update",
            "apiVersion": APPS,
            "time": T0,
            "fieldsType": "FieldsV1",
            "fieldsV1": CREATED,
        }
    ]
    assert json.dumps(managed[0]["fieldsV1"], separators=(",", ":")).startswith(
        '{"f:metadata":{"f:labels":{".":{},"f:app":{}}},"f:spec":{"f:replicas":{},'
        '"f:selector":{},"f:template"'
    ), "the API server's key order"


def test_list_map_keys_sorted_and_set_values() -> None:
    obj = deployment()
    obj["metadata"]["finalizers"] = ["example.com/a"]
    obj["spec"]["template"]["spec"]["containers"][0]["ports"] = [
        {"protocol": "TCP", "containerPort": 80}
    ]
    managed = update(None, obj, "m", now=T0)
    tree = managed[0]["fieldsV1"]
    assert tree["f:metadata"]["f:finalizers"] == {'v:"example.com/a"': {}}
    container = tree["f:spec"]["f:template"]["f:spec"]["f:containers"]['k:{"name":"app"}']
    assert container["f:ports"] == {
        ".": {},
        'k:{"containerPort":80,"protocol":"TCP"}': {
            ".": {},
            "f:containerPort": {},
            "f:protocol": {},
        },
    }


def test_fields_come_out_in_canonical_order_whatever_the_object_order() -> None:
    """Trees are built sorted (no second pass): fields by name, list-map items by key,
    set values by value, on a create and on an update."""

    def unsorted(replicas: int, images: tuple[str, str]) -> Obj:
        return {
            "spec": {
                "template": {
                    "spec": {
                        "containers": [
                            {
                                "image": images[0],
                                "name": "zeta",
                                "ports": [
                                    {"protocol": "UDP", "containerPort": 53},
                                    {"protocol": "TCP", "containerPort": 53},
                                ],
                            },
                            {"name": "alpha", "image": images[1]},
                        ]
                    }
                },
                "selector": {"matchLabels": {"app": "web"}},
                "replicas": replicas,
            },
            "metadata": {
                "labels": {"z": "1", "a": "2"},
                "namespace": "default",
                "finalizers": ["x/b", "x/a"],
                "name": "web",
            },
            "kind": "Deployment",
            "apiVersion": APPS,
        }

    def text(managed: list[Obj], manager: str) -> str:
        tree = next(e["fieldsV1"] for e in managed if e["manager"] == manager)
        return json.dumps(tree, separators=(",", ":"))

    created = update(None, unsorted(1, ("a:1", "b:1")), "m", now=T0)
    assert text(created, "m") == (
        '{"f:metadata":{"f:finalizers":{"v:\\"x/a\\"":{},"v:\\"x/b\\"":{}},'
        '"f:labels":{".":{},"f:a":{},"f:z":{}}},"f:spec":{"f:replicas":{},"f:selector":{},'
        '"f:template":{"f:spec":{"f:containers":{"k:{\\"name\\":\\"alpha\\"}":{".":{},'
        '"f:image":{},"f:name":{}},"k:{\\"name\\":\\"zeta\\"}":{".":{},"f:image":{},'
        '"f:name":{},"f:ports":{".":{},"k:{\\"containerPort\\":53,\\"protocol\\":'
        '\\"TCP\\"}":{".":{},"f:containerPort":{},"f:protocol":{}},'
        '"k:{\\"containerPort\\":53,\\"protocol\\":\\"UDP\\"}":{".":{},'
        '"f:containerPort":{},"f:protocol":{}}}}}}}}}'
    )
    updated = update(stored(unsorted(1, ("a:1", "b:1")), created), unsorted(3, ("a:2", "b:2")), "n")
    assert text(updated, "n") == (
        '{"f:spec":{"f:replicas":{},"f:template":{"f:spec":{"f:containers":{'
        '"k:{\\"name\\":\\"alpha\\"}":{"f:image":{}},'
        '"k:{\\"name\\":\\"zeta\\"}":{"f:image":{}}}}}}}'
    )


# (name, old, new, manager, subresource, expected fields per manager)
UPDATES: list[tuple[str, Obj, Obj, str, str, dict[str, Obj]]] = [
    (
        "another manager takes the field it changed",
        deployment(replicas=1),
        deployment(replicas=3),
        "hpa",
        "",
        {
            "kubectl-create": {
                **CREATED,
                "f:spec": {k: v for k, v in CREATED["f:spec"].items() if k != "f:replicas"},
            },
            "hpa": {"f:spec": {"f:replicas": {}}},
        },
    ),
    (
        "a PUT resending the same values takes nothing",
        deployment(),
        deployment(),
        "other",
        "",
        {"kubectl-create": CREATED},
    ),
    (
        "a removed field is lost by its owner",
        deployment(),
        {**deployment(), "metadata": {"name": "web", "namespace": "default"}},
        "editor",
        "",
        {"kubectl-create": {"f:spec": CREATED["f:spec"]}},
    ),
    (
        "a new container item is owned as a node",
        deployment(),
        {
            **deployment(),
            "spec": {
                **deployment()["spec"],
                "template": {
                    "metadata": {"labels": {"app": "web"}},
                    "spec": {
                        "containers": [
                            {"name": "app", "image": "nginx:1"},
                            {
                                "name": "log",
                                "image": "fluent:1",
                                "env": [{"name": "A", "value": "1"}],
                            },
                        ]
                    },
                },
            },
        },
        "editor",
        "",
        {
            "kubectl-create": CREATED,
            "editor": {
                "f:spec": {
                    "f:template": {
                        "f:spec": {
                            "f:containers": {
                                'k:{"name":"log"}': {
                                    ".": {},
                                    "f:env": {
                                        ".": {},
                                        'k:{"name":"A"}': {".": {}, "f:name": {}, "f:value": {}},
                                    },
                                    "f:image": {},
                                    "f:name": {},
                                }
                            }
                        }
                    }
                }
            },
        },
    ),
    (
        "status through the main resource is not owned",
        deployment(),
        {**deployment(), "status": {"replicas": 1}},
        "writer",
        "",
        {"kubectl-create": CREATED},
    ),
    (
        "the status subresource owns status only",
        deployment(),
        {**deployment(replicas=9), "status": {"replicas": 1}},
        "controller",
        "status",
        {"kubectl-create": CREATED, "controller/status": {"f:status": {"f:replicas": {}}}},
    ),
    (
        "server-set metadata is never owned",
        deployment(),
        {
            **deployment(),
            "metadata": {
                **deployment()["metadata"],
                "resourceVersion": "9",
                "generation": 4,
                "uid": "other",
            },
        },
        "writer",
        "",
        {"kubectl-create": CREATED},
    ),
]


@pytest.mark.parametrize(
    ("name", "old", "new", "manager", "subresource", "expected"),
    UPDATES,
    ids=[c[0] for c in UPDATES],
)
def test_record_update(
    name: str, old: Obj, new: Obj, manager: str, subresource: str, expected: dict[str, Obj]
) -> None:
    first = update(None, old, "kubectl-create", now=T0)
    before = stored(old, first)
    after = stored(new, first)
    snapshot = clone(before)
    managed = update(before, after, manager, subresource=subresource)
    assert fields(managed) == expected
    assert before == snapshot, "inputs are not mutated"
    for entry in managed:
        changed = entry["manager"] == manager
        assert entry["time"] == (T1 if changed else T0)
        assert entry.get("subresource", "") == (subresource if changed else "")


def test_entries_keyed_by_manager_operation_version_and_subresource() -> None:
    obj = stored(deployment(), update(None, deployment(), "m", now=T0))
    managed = record_update(
        obj,
        stored(deployment(replicas=2), obj["metadata"]["managedFields"]),
        manager="m",
        api_version="apps/v1beta2",
        subresource="",
        now=T1,
        schema=DEPLOYMENT,
    )
    assert [(e["manager"], e["apiVersion"]) for e in managed] == [
        ("m", APPS),
        ("m", "apps/v1beta2"),
    ]
    obj = stored(deployment(replicas=2), managed)
    again = record_update(
        obj,
        stored(deployment(replicas=3), managed),
        manager="m",
        api_version="apps/v1beta2",
        subresource="",
        now=T2,
        schema=DEPLOYMENT,
    )
    assert len(again) == 2 and again[1]["time"] == T2


def test_client_sent_managed_fields_are_taken_and_empty_entry_clears() -> None:
    old = stored(deployment(), update(None, deployment(), "a", now=T0))
    new = clone(old)
    new["metadata"]["managedFields"] = [{}]
    assert update(old, new, "b") == []
    edited = clone(old)
    edited["metadata"]["managedFields"][0]["manager"] = "renamed"
    assert [e["manager"] for e in update(old, edited, "b")] == ["renamed"]
    new["metadata"]["managedFields"] = []
    assert [e["manager"] for e in update(old, new, "b")] == ["a"], "[] keeps them"


def test_update_managers_are_capped() -> None:
    body = deployment()
    obj = stored(body, update(None, body, "creator", now=T0))
    for i in range(MAX_UPDATE_MANAGERS + 2):
        body["metadata"]["labels"][f"k{i}"] = "v"  # every manager adds a field of its own
        new = stored(body, obj["metadata"]["managedFields"])
        managed = update(obj, new, f"m{i:02}", now=f"2024-01-02T00:00:{i:02}Z")
        obj = stored(body, managed)
    managed = obj["metadata"]["managedFields"]
    assert len(managed) == MAX_UPDATE_MANAGERS
    assert [e["manager"] for e in managed][:2] == ["ancient-changes", "m03"], "oldest first"
    ancient = managed[0]
    assert ancient["manager"] == "ancient-changes"
    assert ancient["time"] == "2024-01-02T00:00:02Z"
    labels = ancient["fieldsV1"]["f:metadata"]["f:labels"]
    assert {"f:app", "f:k0", "f:k1", "f:k2"} <= set(labels) and "f:k3" not in labels


def test_crd_struct_nodes_are_owned_on_create() -> None:
    schema = {
        "type": "object",
        "properties": {
            "spec": {
                "type": "object",
                "properties": {
                    "size": {"type": "integer"},
                    "tags": {"type": "array", "items": {"type": "string"}},
                },
            }
        },
    }
    obj = {
        "apiVersion": "ex.com/v1",
        "kind": "Thing",
        "metadata": {"name": "t"},
        "spec": {"size": 1, "tags": ["a"]},
    }
    managed = record_update(
        None,
        obj,
        manager="m",
        api_version="ex.com/v1",
        subresource="",
        now=T0,
        schema=crd_node(schema),
    )
    assert managed[0]["fieldsV1"] == {"f:spec": {".": {}, "f:size": {}, "f:tags": {}}}


def test_noop_write_keeps_entries() -> None:
    obj = stored(deployment(), update(None, deployment(), "a", now=T0))
    assert update(obj, clone(obj), "b") == obj["metadata"]["managedFields"]


# --- FieldsV1 set operations ---------------------------------------------------------------


def test_set_operations() -> None:
    a: Obj = {"f:spec": {"f:replicas": {}, "f:template": {"f:x": {}}}, "f:l": {".": {}, "f:k": {}}}
    b: Obj = {"f:spec": {"f:replicas": {}}, "f:l": {}}
    assert subtract(a, b) == {"f:spec": {"f:template": {"f:x": {}}}, "f:l": {"f:k": {}}}
    assert subtract(b, b) is None
    assert intersect(a, b) == b
    assert intersect(a, {"f:other": {}}) is None
    assert union({"f:b": {}}, {"f:a": {"f:c": {}}}) == {"f:a": {"f:c": {}}, "f:b": {}}
    assert list(union({"f:b": {}}, {"f:a": {}})) == ["f:a", "f:b"]
    assert paths(
        {
            "f:spec": {
                "f:template": {"f:c": {'k:{"name":"a","port":80}': {"f:image": {}}}},
                "f:replicas": {},
            }
        }
    ) == [".spec.replicas", '.spec.template.c[name="a",port=80].image']
    assert paths({"f:f": {'v:"x"': {}}}) == ['.f[="x"]']


def test_diff_reports_added_modified_and_removed() -> None:
    gained, lost = diff(
        deployment(replicas=1), {**deployment(replicas=2), "metadata": {"name": "web"}}, DEPLOYMENT
    )
    assert gained == {"f:spec": {"f:replicas": {}}}
    assert lost == {"f:metadata": {"f:labels": {".": {}, "f:app": {}}}}


# --- server-side apply -----------------------------------------------------------------------


def ssa(
    current: Obj | None, config: Obj, manager: str, force: bool = False, now: str = T1, **kw: Any
) -> Obj:
    return apply(
        current,
        config,
        manager=manager,
        force=force,
        api_version=APPS,
        subresource=kw.pop("subresource", ""),
        now=now,
        schema=DEPLOYMENT,
        **kw,
    )


def applied(replicas: int | None = None, image: str = "nginx:1", **spec: Any) -> Obj:
    config = deployment(image=image, **spec)
    if replicas is None:
        del config["spec"]["replicas"]
    else:
        config["spec"]["replicas"] = replicas
    return config


def test_apply_creates_with_an_apply_entry() -> None:
    obj = ssa(None, applied(2), "kubectl", now=T0)
    assert obj["spec"]["replicas"] == 2
    assert obj["metadata"]["managedFields"] == [
        {
            "manager": "kubectl",
            "operation": "Apply",
            "apiVersion": APPS,
            "time": T0,
            "fieldsType": "FieldsV1",
            "fieldsV1": {
                "f:metadata": {"f:labels": {"f:app": {}}},
                "f:spec": {
                    "f:replicas": {},
                    "f:selector": {},
                    "f:template": {
                        "f:metadata": {"f:labels": {"f:app": {}}},
                        "f:spec": {
                            "f:containers": {
                                'k:{"name":"app"}': {".": {}, "f:image": {}, "f:name": {}}
                            }
                        },
                    },
                },
            },
        }
    ]


def test_conflict_with_an_update_manager() -> None:
    live = stored(
        deployment(replicas=1), update(None, deployment(), "kubectl-client-side-apply", now=T0)
    )
    with pytest.raises(ApplyConflictError) as caught:
        ssa(live, applied(3), "kubectl")
    assert caught.value.message == (
        "Apply failed with 1 conflict: conflict with "
        '"kubectl-client-side-apply" using apps/v1: .spec.replicas'
    )
    assert caught.value.code == 409
    assert caught.value.status()["details"]["causes"] == [
        {
            "type": "FieldManagerConflict",
            "field": ".spec.replicas",
            "message": 'conflict with "kubectl-client-side-apply" using apps/v1',
        }
    ]


def test_several_conflicts_grouped_by_manager() -> None:
    live = stored(deployment(), update(None, deployment(), "x", now=T0))
    with pytest.raises(ApplyConflictError) as caught:
        ssa(live, applied(5, image="nginx:2"), "kubectl")
    assert caught.value.message == (
        'Apply failed with 2 conflicts: conflicts with "x" using apps/v1:\n'
        "- .spec.replicas\n"
        '- .spec.template.spec.containers[name="app"].image'
    )


def test_conflict_with_another_applier_and_force() -> None:
    live = ssa(None, applied(2), "alice", now=T0)
    with pytest.raises(ApplyConflictError, match=r'conflict with "alice": \.spec\.replicas'):
        ssa(live, applied(4), "bob")
    forced = ssa(live, applied(4), "bob", force=True)
    assert forced["spec"]["replicas"] == 4
    owners = fields(forced["metadata"]["managedFields"])
    assert "f:replicas" not in owners["alice(apply)"]["f:spec"]
    assert "f:replicas" in owners["bob(apply)"]["f:spec"]


def test_same_value_is_shared_without_conflict() -> None:
    live = ssa(None, applied(2), "alice", now=T0)
    both = ssa(live, applied(2), "bob")
    owners = fields(both["metadata"]["managedFields"])
    assert owners["alice(apply)"] == owners["bob(apply)"]
    assert [e["time"] for e in both["metadata"]["managedFields"]] == [T0, T1]


def test_fields_no_longer_applied_are_removed() -> None:
    live = ssa(None, applied(2, minReadySeconds=5), "kubectl", now=T0)
    live["metadata"]["labels"]["tier"] = "fe"
    live = ssa(
        live,
        {
            **applied(2, minReadySeconds=5),
            "metadata": {"name": "web", "labels": {"app": "web", "tier": "fe"}},
        },
        "kubectl",
    )
    again = ssa(live, applied(2), "kubectl", now=T2)
    assert "minReadySeconds" not in again["spec"]
    assert again["metadata"]["labels"] == {"app": "web"}


def test_fields_another_manager_owns_are_kept() -> None:
    live = ssa(None, applied(2, minReadySeconds=5), "kubectl", now=T0)
    shared = ssa(
        live,
        {
            "apiVersion": APPS,
            "kind": "Deployment",
            "metadata": {"name": "web"},
            "spec": {"minReadySeconds": 5},
        },
        "other",
    )
    again = ssa(shared, applied(2), "kubectl", now=T2)
    assert again["spec"]["minReadySeconds"] == 5
    owners = fields(again["metadata"]["managedFields"])
    assert owners["other(apply)"] == {"f:spec": {"f:minReadySeconds": {}}}


def test_list_map_items_owned_by_different_managers() -> None:
    live = ssa(None, applied(1), "kubectl", now=T0)
    sidecar = {
        "apiVersion": APPS,
        "kind": "Deployment",
        "metadata": {"name": "web"},
        "spec": {
            "template": {"spec": {"containers": [{"name": "istio-proxy", "image": "proxy:1"}]}}
        },
    }
    both = ssa(live, sidecar, "injector")
    assert [c["name"] for c in both["spec"]["template"]["spec"]["containers"]] == [
        "app",
        "istio-proxy",
    ]
    owners = fields(both["metadata"]["managedFields"])
    containers = owners["injector(apply)"]["f:spec"]["f:template"]["f:spec"]["f:containers"]
    assert list(containers) == ['k:{"name":"istio-proxy"}']
    # kubectl's next apply does not mention the sidecar: it stays, the injector owns it.
    again = ssa(both, applied(1, image="nginx:2"), "kubectl", now=T2)
    assert [(c["name"], c["image"]) for c in again["spec"]["template"]["spec"]["containers"]] == [
        ("app", "nginx:2"),
        ("istio-proxy", "proxy:1"),
    ]
    # and the injector removing it from its config removes it.
    gone = ssa(again, {**sidecar, "spec": {}}, "injector")
    assert [c["name"] for c in gone["spec"]["template"]["spec"]["containers"]] == ["app"]


def test_atomic_and_granular_maps() -> None:
    live = ssa(None, applied(1), "kubectl", now=T0)
    other = {
        "apiVersion": APPS,
        "kind": "Deployment",
        "metadata": {"name": "web"},
        "spec": {"selector": {"matchLabels": {"app": "web", "extra": "x"}}},
    }
    with pytest.raises(ApplyConflictError, match=r"\.spec\.selector$"):
        ssa(live, other, "other")
    labels = {
        "apiVersion": APPS,
        "kind": "Deployment",
        "metadata": {"name": "web", "labels": {"team": "a"}},
    }
    merged = ssa(live, labels, "labeller")
    assert merged["metadata"]["labels"] == {"app": "web", "team": "a"}


def test_status_is_ignored_on_the_main_resource_and_applied_on_status() -> None:
    live = ssa(None, {**applied(1), "status": {"replicas": 7}}, "kubectl", now=T0)
    assert "status" not in live
    assert "f:status" not in live["metadata"]["managedFields"][0]["fieldsV1"]
    status = ssa(
        live,
        {
            "apiVersion": APPS,
            "kind": "Deployment",
            "metadata": {"name": "web"},
            "status": {"replicas": 1},
            "spec": {"replicas": 9},
        },
        "controller",
        subresource="status",
    )
    assert status["status"] == {"replicas": 1} and status["spec"]["replicas"] == 1
    entry = next(e for e in status["metadata"]["managedFields"] if e["manager"] == "controller")
    assert entry["subresource"] == "status"
    assert entry["fieldsV1"] == {"f:status": {"f:replicas": {}}}


def test_noop_apply_keeps_the_time() -> None:
    live = ssa(None, applied(1), "kubectl", now=T0)
    again = ssa(live, applied(1), "kubectl", now=T2)
    assert again["metadata"]["managedFields"][0]["time"] == T0
    assert again == live


def test_apply_does_not_mutate_inputs() -> None:
    live = ssa(None, applied(1), "kubectl", now=T0)
    config = applied(2)
    snapshot, config_snapshot = clone(live), clone(config)
    ssa(live, config, "kubectl")
    assert live == snapshot and config == config_snapshot


# (name, config, error, message)
BAD_APPLIES: list[tuple[str, Obj, type[Exception], str]] = [
    (
        "version mismatch",
        {**applied(1), "apiVersion": "apps/v1beta1"},
        BadRequestError,
        "Incorrect version specified in apply patch. Specified patch version: apps/v1beta1, "
        "expected: apps/v1",
    ),
    (
        "managedFields in the config",
        {**applied(1), "metadata": {"name": "web", "managedFields": []}},
        BadRequestError,
        "metadata.managedFields must be nil",
    ),
    (
        "no kind",
        {"apiVersion": APPS, "metadata": {"name": "web"}},
        BadRequestError,
        "apiVersion and kind must be set in an applied configuration",
    ),
    (
        "duplicate list-map keys",
        {
            **applied(1),
            "spec": {
                "template": {
                    "spec": {
                        "containers": [{"name": "a", "image": "x"}, {"name": "a", "image": "y"}]
                    }
                }
            },
        },
        InvalidError,
        "failed to create typed patch object (apps/v1, Kind=Deployment): "
        '.spec.template.spec.containers: duplicate entries for key [name="a"]',
    ),
    (
        "item without its key",
        {**applied(1), "spec": {"template": {"spec": {"containers": [{"image": "x"}]}}}},
        InvalidError,
        "failed to create typed patch object (apps/v1, Kind=Deployment): "
        ".spec.template.spec.containers: element 0: associative list with keys has an element "
        'that omits key field "name" (and doesn\'t have default value)',
    ),
]


@pytest.mark.parametrize(
    ("name", "config", "error", "message"), BAD_APPLIES, ids=[c[0] for c in BAD_APPLIES]
)
def test_bad_apply(name: str, config: Obj, error: type[Exception], message: str) -> None:
    with pytest.raises(error) as caught:
        ssa(None, config, "kubectl")
    assert str(caught.value) == message


# --- against structured-merge-diff (Go) ------------------------------------------------------

ORACLE_DIR = Path(__file__).resolve().parents[2] / "tools" / "smd-oracle"
UNTYPED = "__untyped_deduced_"
SMD_BUILTINS = [
    {
        "name": "__untyped_atomic_",
        "scalar": "untyped",
        "list": {
            "elementType": {"namedType": "__untyped_atomic_"},
            "elementRelationship": "atomic",
        },
        "map": {"elementType": {"namedType": "__untyped_atomic_"}, "elementRelationship": "atomic"},
    },
    {
        "name": UNTYPED,
        "scalar": "untyped",
        "list": {
            "elementType": {"namedType": "__untyped_atomic_"},
            "elementRelationship": "atomic",
        },
        "map": {"elementType": {"namedType": UNTYPED}, "elementRelationship": "separable"},
    },
]


def _smd_atom(schema: Obj, todo: list[str]) -> Obj:
    """A schema as a structured-merge-diff type (what Kubernetes derives from OpenAPI)."""
    ref = schema.get("$ref") or next(
        (p["$ref"] for p in schema.get("allOf") or () if "$ref" in p), None
    )
    own = {k for k in schema if k.startswith("x-kubernetes-") and "patch" not in k}
    if ref and not own:
        name = ref.rsplit("/", 1)[-1]
        todo.append(name)
        return {"namedType": name}
    node = SchemaNode(schema, definitions())
    if node.shape == "list":
        relationship = "atomic" if node.list_type == "atomic" else "associative"
        atom: Obj = {
            "elementType": _smd_atom(node.schema.get("items") or {}, todo),
            "elementRelationship": relationship,
        }
        if node.list_type == "map":
            atom["keys"] = list(node.map_keys)
        return {"list": atom}
    if node.shape == "map":
        props = node.schema.get("properties") or {}
        extra = node.schema.get("additionalProperties")
        out: Obj = {
            "fields": [{"name": k, "type": _smd_atom(v, todo)} for k, v in sorted(props.items())]
        }
        if isinstance(extra, dict):
            out["elementType"] = _smd_atom(extra, todo)
        elif not props or node.preserves_unknown:
            out["elementType"] = {"namedType": UNTYPED}
        if node.map_atomic:
            out["elementRelationship"] = "atomic"
        return {"map": out}
    if node.shape == "any":
        return {"namedType": UNTYPED}
    kind = str(node.schema.get("type"))
    return {
        "scalar": {
            "string": "string",
            "integer": "numeric",
            "number": "numeric",
            "boolean": "boolean",
        }.get(kind, "untyped")
    }


def smd_schema(root: str) -> str:
    types: dict[str, Obj] = {}
    todo = [root]
    while todo:
        name = todo.pop()
        if name not in types:
            types[name] = {"name": name, **_smd_atom(resolve(definitions()[name]), todo)}
    return json.dumps({"types": [*types.values(), *SMD_BUILTINS]})


@pytest.fixture(scope="session")
def smd_oracle(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if shutil.which("go") is None:
        pytest.skip("Go is not installed (apt-get install golang-go)")
    if not Path("/usr/share/gocode/src/sigs.k8s.io/structured-merge-diff").is_dir():
        pytest.skip(
            "structured-merge-diff is not installed "
            "(apt-get install golang-k8s-sigs-structured-merge-diff-dev)"
        )
    binary = tmp_path_factory.mktemp("smd") / "smd-oracle"
    build = subprocess.run(
        [str(ORACLE_DIR / "build.sh"), str(binary)],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    if build.returncode:
        pytest.skip(f"the structured-merge-diff oracle did not build: {build.stderr[-500:]}")
    return binary


def _strip_meta(tree: Obj) -> Obj | None:
    """What the API server strips from every entry (apiVersion, kind, metadata.name, ...)."""
    tree = {k: v for k, v in tree.items() if k not in ("f:apiVersion", "f:kind")}
    meta = tree.pop("f:metadata", None)
    if meta is not None:
        meta = {k: v for k, v in meta.items() if k not in (".", "f:name", "f:namespace")}
        if meta:
            tree["f:metadata"] = meta
    return tree or None


def _no_nulls(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _no_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_no_nulls(v) for v in value]
    return value


def _container(name: str, image: str, **extra: Any) -> Obj:
    return {"name": name, "image": image, **extra}


def _dep(
    *containers: Obj, replicas: int | None = None, labels: Obj | None = None, **spec: Any
) -> Obj:
    obj: Obj = {"apiVersion": APPS, "kind": "Deployment", "metadata": {"name": "web"}}
    if labels is not None:
        obj["metadata"]["labels"] = labels
    body: Obj = dict(spec)
    if replicas is not None:
        body["replicas"] = replicas
    if containers:
        body["template"] = {"spec": {"containers": list(containers)}}
    if body:
        obj["spec"] = body
    return obj


# Scenarios: lists of (operation, manager, object, force).
SCENARIOS: dict[str, list[tuple[str, str, Obj, bool]]] = {
    "create then update": [
        ("update", "a", _dep(_container("app", "x:1"), replicas=1, labels={"app": "w"}), False),
        ("update", "b", _dep(_container("app", "x:2"), replicas=1, labels={"app": "w"}), False),
    ],
    "apply, then another applier conflicts": [
        ("apply", "a", _dep(_container("app", "x:1"), replicas=1), False),
        ("apply", "b", _dep(replicas=2), False),
        ("apply", "b", _dep(replicas=2), True),
    ],
    "update then apply conflicts, force": [
        ("update", "u", _dep(_container("app", "x:1"), replicas=1), False),
        ("apply", "a", _dep(_container("app", "x:2"), replicas=3), False),
        ("apply", "a", _dep(_container("app", "x:2"), replicas=3), True),
    ],
    "items owned by different appliers": [
        ("apply", "a", _dep(_container("app", "x:1"), replicas=1), False),
        ("apply", "b", _dep(_container("side", "s:1")), False),
        ("apply", "a", _dep(_container("app", "x:2"), replicas=1), False),
        ("apply", "b", _dep(replicas=1), False),
    ],
    "removal of un-applied fields": [
        (
            "apply",
            "a",
            _dep(
                _container(
                    "app", "x:1", env=[{"name": "A", "value": "1"}, {"name": "B", "value": "2"}]
                ),
                labels={"x": "1", "y": "2"},
                minReadySeconds=3,
            ),
            False,
        ),
        (
            "apply",
            "a",
            _dep(_container("app", "x:1", env=[{"name": "B", "value": "2"}]), labels={"y": "2"}),
            False,
        ),
    ],
    "shared field survives one applier": [
        ("apply", "a", _dep(replicas=2, minReadySeconds=1), False),
        ("apply", "b", _dep(minReadySeconds=1), False),
        ("apply", "a", _dep(replicas=2), False),
    ],
    "updater keeps a field an applier drops": [
        ("apply", "a", _dep(_container("app", "x:1"), minReadySeconds=1), False),
        ("update", "u", _dep(_container("app", "x:1"), minReadySeconds=2), False),
        ("apply", "a", _dep(_container("app", "x:1")), False),
    ],
    "sets and atomic lists": [
        (
            "apply",
            "a",
            {
                **_dep(_container("app", "x:1", args=["1", "2"])),
                "metadata": {"name": "web", "finalizers": ["f/a", "f/b"]},
            },
            False,
        ),
        (
            "apply",
            "b",
            {
                **_dep(_container("app", "x:1", args=["1", "2"])),
                "metadata": {"name": "web", "finalizers": ["f/c"]},
            },
            False,
        ),
        (
            "apply",
            "a",
            {
                **_dep(_container("app", "x:1", args=["3"])),
                "metadata": {"name": "web", "finalizers": ["f/b"]},
            },
            False,
        ),
    ],
    "update removes what others own": [
        ("apply", "a", _dep(_container("app", "x:1"), labels={"k": "v"}), False),
        ("update", "u", _dep(_container("app", "x:1")), False),
    ],
}


def _ours(steps: list[tuple[str, str, Obj, bool]]) -> list[Obj]:
    node = SchemaNode(kind_schema("apps", "v1", "Deployment"), definitions(), typed=False)
    current: Obj | None = None
    out = []
    for op, manager, obj, force in steps:
        try:
            if op == "apply":
                current = apply(
                    current,
                    obj,
                    manager=manager,
                    force=force,
                    api_version=APPS,
                    subresource="",
                    now=T1,
                    schema=node,
                )
            else:
                new = clone(obj)
                if current is not None and current["metadata"].get("managedFields"):
                    new["metadata"]["managedFields"] = current["metadata"]["managedFields"]
                managed = record_update(
                    current,
                    new,
                    manager=manager,
                    api_version=APPS,
                    subresource="",
                    now=T1,
                    schema=node,
                )
                new["metadata"].pop("managedFields", None)
                if managed:
                    new["metadata"]["managedFields"] = managed
                current = new
            error = None
        except ApplyConflictError as exc:
            error = sorted(path for _, path in exc.conflicts)
        assert current is not None
        managed_fields = current["metadata"].get("managedFields") or []
        managers = {
            f"{e['manager']}/{e['operation'].lower()}": e["fieldsV1"] for e in managed_fields
        }
        body = clone(current)
        body["metadata"].pop("managedFields", None)
        out.append({"object": body, "managers": managers, "conflicts": error})
    return out


def _theirs(binary: Path, steps: list[tuple[str, str, Obj, bool]]) -> list[Obj]:
    request = {
        "schema": smd_schema("io.k8s.api.apps.v1.Deployment"),
        "type": "io.k8s.api.apps.v1.Deployment",
        "steps": [
            {"op": op, "manager": f"{m}/{op}", "object": obj, "force": force}
            for op, m, obj, force in steps
        ],
    }
    run = subprocess.run(
        [str(binary)],
        input=json.dumps(request) + "\n",
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    answer = json.loads(run.stdout)
    assert "error" not in answer, answer
    out = []
    for step in answer["steps"]:
        assert not step.get("error") or step.get("conflicts"), step
        managers = {}
        for name, entry in step["managers"].items():
            tree = _strip_meta(entry["fields"])
            if tree:
                managers[name] = tree
        conflicts = sorted(c["path"] for c in step.get("conflicts") or ()) or None
        out.append(
            {"object": _no_nulls(step["object"]), "managers": managers, "conflicts": conflicts}
        )
    return out


@pytest.mark.integration
@pytest.mark.parametrize("name", list(SCENARIOS))
def test_same_as_structured_merge_diff(name: str, smd_oracle: Path) -> None:
    steps = SCENARIOS[name]
    for i, (ours, theirs) in enumerate(zip(_ours(steps), _theirs(smd_oracle, steps), strict=True)):
        assert ours == theirs, f"step {i} ({steps[i][0]} by {steps[i][1]})"

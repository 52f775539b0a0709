"""Strategic merge patch: table-driven cases, checked against real Go.

Every expectation below was checked by hand against the Kubernetes documentation and
against ``kubectl patch --local --type strategic`` (Kubernetes' own Go implementation, v1.32):
``test_same_as_kubectl`` replays the whole table through kubectl when it is installed. The
only differences allowed are the directive keys Go leaves in values the original did not have
(the API server drops them when it decodes into the Go type; we never store them).
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from orkestra.cluster.data import clone
from orkestra.cluster.errors import ApiError, BadRequestError, InvalidError
from orkestra.cluster.kubeschema import kind_node
from orkestra.cluster.strategic import go_str, strategic_merge_patch

Obj = dict[str, Any]


def pod(spec: Obj, **metadata: Any) -> Obj:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "p", "namespace": "default", **metadata},
        "spec": spec,
    }


def deployment(pod_spec: Obj, **spec: Any) -> Obj:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "web", "namespace": "default"},
        "spec": {
            "selector": {"matchLabels": {"app": "web"}},
            "template": {"metadata": {"labels": {"app": "web"}}, "spec": pod_spec},
            **spec,
        },
    }


def containers(*names: str, tag: str = "1") -> list[Obj]:
    return [{"name": n, "image": f"{n}:{tag}"} for n in names]


def pod_spec(result: Obj) -> Obj:
    spec: Obj = result["spec"]
    return spec


# (name, original, patch, what to compare, expected)
CASES: list[tuple[str, Obj, Obj, str, Any]] = [
    # What `kubectl apply` sends when a Deployment's containers changed.
    (
        "kubectl apply: containers changed",
        deployment({"containers": containers("app", "sidecar", "logger", tag="0")}),
        {
            "spec": {
                "template": {
                    "spec": {
                        "$setElementOrder/containers": [{"name": "app"}, {"name": "logger"}],
                        "containers": [
                            {"image": "nginx:2", "name": "app"},
                            {"image": "fluent:1", "name": "logger"},
                            {"$patch": "delete", "name": "sidecar"},
                        ],
                    }
                }
            }
        },
        "spec.template.spec.containers",
        [{"name": "app", "image": "nginx:2"}, {"name": "logger", "image": "fluent:1"}],
    ),
    (
        "maps merge, null deletes",
        pod({"containers": containers("a")}, labels={"a": "1", "b": "2"}),
        {"metadata": {"labels": {"b": None, "c": "3"}}},
        "metadata.labels",
        {"a": "1", "c": "3"},
    ),
    (
        "merge list: new items follow the patch order, then the others",
        pod({"containers": containers("a", "b", "c")}),
        {"spec": {"containers": [{"name": "d", "image": "d"}, {"name": "a", "image": "a2"}]}},
        "spec.containers",
        [
            {"name": "d", "image": "d"},
            {"name": "a", "image": "a2"},
            {"name": "b", "image": "b:1"},
            {"name": "c", "image": "c:1"},
        ],
    ),
    (
        "merge list: patched item keeps its place, new ones appended",
        pod({"containers": containers("a", "b", "c")}),
        {"spec": {"containers": [{"name": "c", "image": "c2"}, {"name": "d", "image": "d"}]}},
        "spec.containers",
        [
            {"name": "a", "image": "a:1"},
            {"name": "b", "image": "b:1"},
            {"name": "c", "image": "c2"},
            {"name": "d", "image": "d"},
        ],
    ),
    (
        "env merges by name",
        pod(
            {
                "containers": [
                    {
                        "name": "a",
                        "image": "a",
                        "env": [{"name": "X", "value": "1"}, {"name": "Y", "value": "2"}],
                    }
                ]
            }
        ),
        {
            "spec": {
                "containers": [
                    {
                        "name": "a",
                        "env": [{"name": "Y", "value": "3"}, {"name": "X", "$patch": "delete"}],
                    }
                ]
            }
        },
        "spec.containers",
        [{"name": "a", "image": "a", "env": [{"name": "Y", "value": "3"}]}],
    ),
    (
        "volumes merge by name",
        pod({"containers": containers("a"), "volumes": [{"name": "v", "emptyDir": {}}]}),
        {"spec": {"volumes": [{"name": "w", "configMap": {"name": "cm"}}]}},
        "spec.volumes",
        [{"name": "w", "configMap": {"name": "cm"}}, {"name": "v", "emptyDir": {}}],
    ),
    (
        "container ports merge on containerPort only",
        pod(
            {
                "containers": [
                    {
                        "name": "a",
                        "image": "a",
                        "ports": [
                            {"containerPort": 80, "protocol": "TCP"},
                            {"containerPort": 80, "protocol": "UDP"},
                        ],
                    }
                ]
            }
        ),
        {"spec": {"containers": [{"name": "a", "ports": [{"containerPort": 80, "name": "http"}]}]}},
        "spec.containers",
        [
            {
                "name": "a",
                "image": "a",
                "ports": [
                    {"containerPort": 80, "protocol": "TCP", "name": "http"},
                    {"containerPort": 80, "protocol": "UDP"},
                ],
            }
        ],
    ),
    (
        "service ports merge by port",
        {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {"name": "s"},
            "spec": {"ports": [{"port": 80, "targetPort": 8080}, {"port": 443}]},
        },
        {"spec": {"ports": [{"port": 80, "targetPort": 9090}]}},
        "spec.ports",
        [{"port": 80, "targetPort": 9090}, {"port": 443}],
    ),
    (
        "lists without a merge strategy are replaced",
        pod({"containers": containers("a"), "tolerations": [{"key": "a"}]}),
        {"spec": {"tolerations": [{"key": "b"}]}},
        "spec.tolerations",
        [{"key": "b"}],
    ),
    (
        "args are replaced",
        pod({"containers": [{"name": "a", "image": "a", "args": ["x", "y"]}]}),
        {"spec": {"containers": [{"name": "a", "args": ["z"]}]}},
        "spec.containers",
        [{"name": "a", "image": "a", "args": ["z"]}],
    ),
    (
        "primitive merge list is a union in patch order",
        pod({"containers": containers("a")}, finalizers=["a", "b", "c"]),
        {"metadata": {"finalizers": ["d", "a"]}},
        "metadata.finalizers",
        ["d", "a", "b", "c"],
    ),
    (
        "$deleteFromPrimitiveList",
        pod({"containers": containers("a")}, finalizers=["a", "b", "c", "b"]),
        {"metadata": {"$deleteFromPrimitiveList/finalizers": ["b", "zz"]}},
        "metadata.finalizers",
        ["a", "c"],
    ),
    (
        "$deleteFromPrimitiveList with additions",
        pod({"containers": containers("a")}, finalizers=["a", "b", "c"]),
        {"metadata": {"$deleteFromPrimitiveList/finalizers": ["b"], "finalizers": ["e"]}},
        "metadata.finalizers",
        ["e", "a", "c"],
    ),
    (
        "$deleteFromPrimitiveList of a missing list does nothing",
        pod({"containers": containers("a")}),
        {"metadata": {"$deleteFromPrimitiveList/finalizers": ["a"]}},
        "metadata",
        {"name": "p", "namespace": "default"},
    ),
    (
        "$setElementOrder of primitives",
        pod({"containers": containers("a")}, finalizers=["a", "b", "c"]),
        {"metadata": {"$setElementOrder/finalizers": ["c", "a", "b"]}},
        "metadata.finalizers",
        ["c", "a", "b"],
    ),
    (
        "$setElementOrder alone reorders, unlisted items keep their relative place",
        pod({"containers": containers("a", "b", "c")}),
        {"spec": {"$setElementOrder/containers": [{"name": "c"}, {"name": "a"}]}},
        "spec.containers",
        containers("b", "c", "a"),
    ),
    (
        "$setElementOrder with a new item",
        pod({"containers": containers("a", "b", "c")}),
        {
            "spec": {
                "$setElementOrder/containers": [{"name": "d"}, {"name": "b"}],
                "containers": [{"name": "d", "image": "d"}],
            }
        },
        "spec.containers",
        [{"name": "d", "image": "d"}, *containers("a", "b", "c")],
    ),
    (
        "$setElementOrder moves a patched item",
        pod({"containers": containers("a", "b")}),
        {
            "spec": {
                "$setElementOrder/containers": [{"name": "b"}, {"name": "a"}],
                "containers": [{"name": "a", "image": "q"}],
            }
        },
        "spec.containers",
        [{"name": "b", "image": "b:1"}, {"name": "a", "image": "q"}],
    ),
    (
        "$retainKeys clears what it does not list",
        deployment(
            {"containers": containers("a")},
            strategy={"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 1}},
        ),
        {"spec": {"strategy": {"$retainKeys": ["type"], "type": "Recreate"}}},
        "spec.strategy",
        {"type": "Recreate"},
    ),
    (
        "$retainKeys with a null",
        deployment(
            {"containers": containers("a")},
            strategy={"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 1}},
        ),
        {
            "spec": {
                "strategy": {
                    "$retainKeys": ["type", "rollingUpdate"],
                    "type": "RollingUpdate",
                    "rollingUpdate": None,
                }
            }
        },
        "spec.strategy",
        {"type": "RollingUpdate"},
    ),
    (
        "$retainKeys in a volume (merge,retainKeys)",
        pod({"containers": containers("a"), "volumes": [{"name": "v", "emptyDir": {}}]}),
        {
            "spec": {
                "volumes": [
                    {"$retainKeys": ["name", "hostPath"], "name": "v", "hostPath": {"path": "/x"}}
                ]
            }
        },
        "spec.volumes",
        [{"name": "v", "hostPath": {"path": "/x"}}],
    ),
    (
        "$patch: replace on a map",
        pod({"containers": containers("a")}, labels={"a": "1", "b": "2"}),
        {"metadata": {"labels": {"$patch": "replace", "c": "3"}}},
        "metadata.labels",
        {"c": "3"},
    ),
    (
        "$patch: delete on a map empties it",
        pod({"containers": containers("a")}, labels={"a": "1"}),
        {"metadata": {"labels": {"$patch": "delete", "x": "1"}}},
        "metadata.labels",
        {},
    ),
    (
        "$patch: replace as a list element",
        pod({"containers": containers("a", "b")}),
        {"spec": {"containers": [{"$patch": "replace"}, {"name": "z", "image": "z"}]}},
        "spec.containers",
        [{"name": "z", "image": "z"}],
    ),
    (
        "$patch: replace inside an item replaces the list with nothing else",
        pod({"containers": containers("a")}),
        {"spec": {"containers": [{"name": "a", "$patch": "replace", "image": "q"}]}},
        "spec.containers",
        [],
    ),
    (
        "delete then re-add in one patch",
        pod({"containers": containers("a")}),
        {"spec": {"containers": [{"name": "a", "$patch": "delete"}, {"name": "a", "image": "n"}]}},
        "spec.containers",
        [{"name": "a", "image": "n"}],
    ),
    (
        "an empty merge list changes nothing",
        pod({"containers": containers("a", "b")}),
        {"spec": {"containers": []}},
        "spec.containers",
        containers("a", "b"),
    ),
    (
        "null deletes a list",
        pod({"containers": containers("a", "b")}),
        {"spec": {"containers": None}},
        "spec",
        {},
    ),
    (
        "a value of another type replaces",
        pod({"containers": containers("a")}),
        {"spec": {"containers": {"a": 1}}},
        "spec.containers",
        {"a": 1},
    ),
    (
        "same merge key twice: the second merges into the first",
        pod({"containers": containers("a", "b")}),
        {"spec": {"containers": [{"name": "a", "image": "x"}, {"name": "a", "image": "y"}]}},
        "spec.containers",
        [{"name": "a", "image": "y"}, {"name": "b", "image": "b:1"}],
    ),
    (
        "new list keeps duplicates, drops directive elements",
        pod({"containers": containers("a")}),
        {
            "spec": {
                "volumes": [
                    {"$patch": "delete", "name": "q"},
                    {"name": "v", "emptyDir": {}},
                    {"name": "v", "hostPath": {"path": "/"}},
                ]
            }
        },
        "spec.volumes",
        [{"name": "v", "emptyDir": {}}, {"name": "v", "hostPath": {"path": "/"}}],
    ),
    (
        "new map with $patch is not stored",
        pod({"containers": containers("a")}),
        {"metadata": {"annotations": {"$patch": "replace", "x": "1"}}},
        "metadata",
        {"name": "p", "namespace": "default"},
    ),
    (
        "nulls in new values are dropped",
        pod({"containers": containers("a")}),
        {"spec": {"securityContext": {"runAsUser": None, "fsGroup": 1}}},
        "spec.securityContext",
        {"fsGroup": 1},
    ),
    (
        "directives in a new item are not stored",
        pod({"containers": containers("a")}),
        {
            "spec": {
                "containers": [
                    {
                        "name": "b",
                        "image": "b",
                        "$setElementOrder/env": [{"name": "x"}],
                        "env": [{"name": "x", "value": "1"}],
                        "resources": {"$patch": "replace", "limits": {"cpu": "1"}},
                    }
                ]
            }
        },
        "spec.containers",
        [
            {
                "name": "b",
                "image": "b",
                "env": [{"name": "x", "value": "1"}],
                "resources": {"limits": {"cpu": "1"}},
            },
            {"name": "a", "image": "a:1"},
        ],
    ),
    (
        "$patch: replace at the top",
        pod({"containers": containers("a")}),
        {"$patch": "replace", "apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}},
        "",
        {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}},
    ),
]

# (name, original, patch, error class, message)
ERRORS: list[tuple[str, Obj, Obj, type[ApiError], str]] = [
    (
        "$patch: merge on a map",
        pod({"containers": containers("a")}, labels={"a": "1"}),
        {"metadata": {"labels": {"$patch": "merge", "c": "3"}}},
        BadRequestError,
        "unknown patch type: merge in map: map[$patch:merge c:3]",
    ),
    (
        "unknown $patch",
        pod({"containers": containers("a")}, labels={"a": "1"}),
        {"metadata": {"labels": {"$patch": "bogus"}}},
        BadRequestError,
        "unknown patch type: bogus in map: map[$patch:bogus]",
    ),
    (
        "$patch: merge as a list element",
        pod({"containers": containers("a")}),
        {"spec": {"containers": [{"$patch": "merge"}]}},
        BadRequestError,
        "merging lists cannot yet be specified in the patch",
    ),
    (
        "item without merge key",
        pod({"containers": containers("a")}),
        {"spec": {"containers": [{"image": "z"}]}},
        BadRequestError,
        "map: map[image:z] does not contain declared merge key: name",
    ),
    (
        "delete without merge key",
        pod({"containers": containers("a")}),
        {"spec": {"containers": [{"$patch": "delete", "image": "z"}]}},
        BadRequestError,
        "map: map[$patch:delete image:z] does not contain declared merge key: name",
    ),
    (
        "$retainKeys not naming a patched key",
        deployment({"containers": containers("a")}, strategy={"type": "RollingUpdate"}),
        {"spec": {"strategy": {"$retainKeys": ["type"], "rollingUpdate": {"maxSurge": 2}}}},
        BadRequestError,
        "invalid patch format of retainKeys",
    ),
    (
        "$retainKeys not a list",
        deployment({"containers": containers("a")}, strategy={"type": "RollingUpdate"}),
        {"spec": {"strategy": {"$retainKeys": "type"}}},
        BadRequestError,
        "invalid patch format of retainKeys",
    ),
    (
        "$setElementOrder not a list",
        pod({"containers": containers("a", "b")}),
        {"spec": {"$setElementOrder/containers": {"name": "a"}}},
        BadRequestError,
        "expected a []interface {}, but received a map[string]interface {}",
    ),
    (
        "$setElementOrder item without merge key",
        pod({"containers": containers("a", "b")}),
        {"spec": {"$setElementOrder/containers": [{"image": "c"}]}},
        BadRequestError,
        "map: map[image:c] does not contain declared merge key: name",
    ),
    (
        "$setElementOrder missing a patched item",
        pod({"containers": containers("a", "b")}),
        {
            "spec": {
                "$setElementOrder/containers": [{"name": "b"}],
                "containers": [{"name": "a", "image": "q"}],
            }
        },
        BadRequestError,
        "The order in patch list:\n[map[image:q name:a]]\n doesn't match $setElementOrder "
        "list:\n[map[name:b]]\n",
    ),
    (
        "mixed element types",
        pod({"containers": containers("a")}),
        {"spec": {"containers": [[1]]}},
        BadRequestError,
        "list element types are not identical: [[map[image:a:1 name:a]] [[1]]]",
    ),
    (
        "$patch element in a primitive list",
        pod({"containers": containers("a")}, finalizers=["a"]),
        {"metadata": {"finalizers": [{"$patch": "replace"}]}},
        BadRequestError,
        "list element types are not identical: [[a] [map[$patch:replace]]]",
    ),
]


def _kind_node(obj: Obj) -> Any:
    group, _, version = obj["apiVersion"].rpartition("/")
    return kind_node(group, version, obj["kind"])


def _at(obj: Any, path: str) -> Any:
    for part in path.split(".") if path else ():
        obj = obj[part]
    return obj


@pytest.mark.parametrize(
    ("name", "original", "patch", "path", "expected"), CASES, ids=[c[0] for c in CASES]
)
def test_patch(name: str, original: Obj, patch: Obj, path: str, expected: Any) -> None:
    before, patch_before = clone(original), clone(patch)
    result = strategic_merge_patch(original, patch, _kind_node(original))
    assert _at(result, path) == expected
    assert original == before and patch == patch_before, "inputs must not be mutated"
    assert "$" not in json.dumps(result), "no directive is ever stored"


@pytest.mark.parametrize(
    ("name", "original", "patch", "error", "message"), ERRORS, ids=[c[0] for c in ERRORS]
)
def test_bad_patch(
    name: str, original: Obj, patch: Obj, error: type[ApiError], message: str
) -> None:
    with pytest.raises(error) as caught:
        strategic_merge_patch(original, patch, _kind_node(original))
    assert caught.value.message == message


def test_list_of_lists_is_invalid() -> None:
    obj = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p", "finalizers": [["a"]]}}
    with pytest.raises(InvalidError, match="lists of lists are not supported"):
        strategic_merge_patch(obj, {"metadata": {"finalizers": [["b"]]}}, _kind_node(obj))


def test_patch_must_be_an_object() -> None:
    with pytest.raises(BadRequestError, match="cannot unmarshal array"):
        strategic_merge_patch({}, [{"op": "add"}], None)  # type: ignore[arg-type]


def test_without_schema_lists_are_replaced() -> None:
    result = strategic_merge_patch({"a": {"b": [1, 2], "c": 1}}, {"a": {"b": [3]}}, None)
    assert result == {"a": {"b": [3], "c": 1}}


def test_result_shares_nothing_with_inputs() -> None:
    original = pod({"containers": containers("a")}, labels={"a": "1"})
    patch = {"spec": {"volumes": [{"name": "v", "emptyDir": {}}]}}
    result = strategic_merge_patch(original, patch, _kind_node(original))
    result["metadata"]["labels"]["a"] = "changed"
    result["spec"]["volumes"][0]["emptyDir"]["medium"] = "Memory"
    assert original["metadata"]["labels"] == {"a": "1"}
    assert patch["spec"]["volumes"][0]["emptyDir"] == {}


def test_go_str() -> None:
    assert go_str({"b": [1.0, True, None], "a": "x"}) == "map[a:x b:[1 true <nil>]]"


# --- against real Go -------------------------------------------------------------------------

KUBECTL = shutil.which("kubectl")


def _without_directives(value: Any) -> Any:
    """What decoding into the Go type leaves of Go's result: no directive keys or elements."""
    if isinstance(value, dict):
        return {
            k: _without_directives(v)
            for k, v in value.items()
            if not k.startswith("$") and v is not None
        }
    if isinstance(value, list):
        return [
            _without_directives(v) for v in value if not (isinstance(v, dict) and "$patch" in v)
        ]
    return value


def _kubectl_patch(original: Obj, patch: Obj, tmp_path: Path) -> Obj | str:
    assert KUBECTL
    source = tmp_path / "object.json"
    source.write_text(json.dumps(original))
    run = subprocess.run(
        [
            KUBECTL,
            "patch",
            "--local",
            "-f",
            str(source),
            "--type",
            "strategic",
            "-o",
            "json",
            "-p",
            json.dumps(patch),
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    if run.returncode:
        return run.stderr.strip().removeprefix("error: ")
    result: Obj = json.loads(run.stdout)
    return result


@pytest.mark.integration
@pytest.mark.skipif(KUBECTL is None, reason="kubectl is not installed (make test installs it)")
@pytest.mark.parametrize("case", [*CASES, *ERRORS], ids=[c[0] for c in [*CASES, *ERRORS]])
def test_same_as_kubectl(case: tuple[Any, ...], tmp_path: Path) -> None:
    _, original, patch = case[:3]
    go = _kubectl_patch(original, patch, tmp_path)
    try:
        mine: Obj | str = strategic_merge_patch(original, patch, _kind_node(original))
    except ApiError as exc:
        mine = exc.message
    if isinstance(go, str) or isinstance(mine, str):
        assert isinstance(mine, str) and isinstance(go, str), f"Go: {go!r}, we: {mine!r}"
        assert mine.strip() == go.strip()
    else:
        assert mine == _without_directives(go)

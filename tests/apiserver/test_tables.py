"""Server-side printing matches what the real API server sends ``kubectl get``."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from orkestra.apiserver import tables
from orkestra.apiserver.tables import TableRequest, human_age, table_request, to_table
from orkestra.cluster.resources import BUILTIN_TYPES, ResourceType, crd_types
from orkestra.units import format_timestamp

Obj = dict[str, Any]
NOW = datetime(2026, 6, 14, 12, 0, 0, tzinfo=UTC)
KUBECTL_ACCEPT = (
    "application/json;as=Table;v=v1;g=meta.k8s.io,"
    "application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json"
)


def ago(**delta: float) -> str:
    return format_timestamp(NOW - timedelta(**delta))


def builtin(kind: str, group: str = "") -> ResourceType:
    return next(t for t in BUILTIN_TYPES if t.kind == kind and t.group == group)


def meta(name: str, **extra: Any) -> Obj:
    return {
        "name": name,
        "namespace": "default",
        "creationTimestamp": ago(minutes=5),
        "resourceVersion": "7",
        "uid": "u-1",
        **extra,
    }


def headers(table: Obj) -> list[str]:
    return [c["name"] for c in table["columnDefinitions"]]


def cells(rt: ResourceType, obj: Obj) -> list[Any]:
    row: list[Any] = to_table(rt, [obj], now=NOW)["rows"][0]["cells"]
    return row


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (-5, "<invalid>"),
        (-1, "0s"),
        (0, "0s"),
        (5, "5s"),
        (119, "119s"),
        (120, "2m"),
        (182, "3m2s"),
        (599, "9m59s"),
        (600, "10m"),
        (3 * 3600 - 1, "179m"),
        (3 * 3600, "3h"),
        (4 * 3600 + 5 * 60, "4h5m"),
        (8 * 3600 + 59, "8h"),
        (47 * 3600, "47h"),
        (48 * 3600, "2d"),
        (3 * 86400 + 4 * 3600, "3d4h"),
        (8 * 86400, "8d"),
        (729 * 86400, "729d"),
        (730 * 86400, "2y"),
        ((730 + 3) * 86400, "2y3d"),
        (8 * 365 * 86400 + 100 * 86400, "8y"),
    ],
)
def test_ages_read_like_kubectl(seconds: float, text: str) -> None:
    assert human_age(seconds) == text


def test_age_of_a_missing_timestamp_is_unknown() -> None:
    assert tables.age(None, NOW) == "<unknown>"
    assert tables.age("not a time", NOW) == "<unknown>"


@pytest.mark.parametrize(
    ("accept", "include", "wanted"),
    [
        (KUBECTL_ACCEPT, None, TableRequest("v1", "Metadata")),
        (KUBECTL_ACCEPT, "Object", TableRequest("v1", "Object")),
        (KUBECTL_ACCEPT, "None", TableRequest("v1", "None")),
        (
            "application/json;as=Table;v=v1beta1;g=meta.k8s.io",
            None,
            TableRequest("v1beta1", "Metadata"),
        ),
        ("application/json; as=Table; g=meta.k8s.io; v=v1", None, TableRequest("v1", "Metadata")),
        ("application/json;as=Table;v=v2;g=meta.k8s.io,application/json", None, None),
        ("application/json,application/json;as=Table;v=v1;g=meta.k8s.io", None, None),
        ("application/json;as=PartialObjectMetadataList;v=v1;g=meta.k8s.io", None, None),
        ("*/*", None, None),
        ("", None, None),
        (None, None, None),
    ],
)
def test_accept_header_negotiates_a_table(
    accept: str | None, include: str | None, wanted: TableRequest | None
) -> None:
    assert table_request(accept, include) == wanted


def test_an_unknown_include_object_is_refused() -> None:
    with pytest.raises(ValueError, match="includeObject"):
        table_request(KUBECTL_ACCEPT, "Everything")


DEPLOYMENT: Obj = {
    "apiVersion": "apps/v1",
    "kind": "Deployment",
    "metadata": meta("web", labels={"app": "web"}, creationTimestamp=ago(hours=4, minutes=5)),
    "spec": {
        "replicas": 3,
        "selector": {
            "matchLabels": {"app": "web", "tier": "front"},
            "matchExpressions": [{"key": "env", "operator": "In", "values": ["prod", "dev"]}],
        },
        "template": {
            "spec": {
                "containers": [
                    {"name": "nginx", "image": "nginx:1.27"},
                    {"name": "side", "image": "busybox"},
                ]
            }
        },
    },
    "status": {"replicas": 3, "readyReplicas": 2, "updatedReplicas": 3, "availableReplicas": 2},
}


def test_deployment_table_has_kubectls_columns_and_wide_ones() -> None:
    table = to_table(
        builtin("Deployment", "apps"),
        [DEPLOYMENT],
        now=NOW,
        list_metadata={"resourceVersion": "42", "continue": "", "name": "not list metadata"},
    )
    assert table["kind"] == "Table" and table["apiVersion"] == "meta.k8s.io/v1"
    assert table["metadata"] == {"resourceVersion": "42"}
    assert headers(table) == [
        "Name",
        "Ready",
        "Up-to-date",
        "Available",
        "Age",
        "Containers",
        "Images",
        "Selector",
    ]
    assert [c["priority"] for c in table["columnDefinitions"]] == [0, 0, 0, 0, 0, 1, 1, 1]
    assert table["columnDefinitions"][0]["format"] == "name"
    assert all(
        set(c) == {"name", "type", "format", "description", "priority"}
        for c in table["columnDefinitions"]
    )
    assert table["rows"][0]["cells"] == [
        "web",
        "2/3",
        3,
        2,
        "4h5m",
        "nginx,side",
        "nginx:1.27,busybox",
        "app=web,env in (dev,prod),tier=front",
    ]


def test_row_object_follows_include_object() -> None:
    rt = builtin("Deployment", "apps")
    partial = to_table(rt, [DEPLOYMENT], now=NOW)["rows"][0]["object"]
    assert partial == {
        "kind": "PartialObjectMetadata",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": DEPLOYMENT["metadata"],
    }
    beta = to_table(rt, [DEPLOYMENT], now=NOW, request=TableRequest("v1beta1", "Metadata"))
    assert beta["apiVersion"] == "meta.k8s.io/v1beta1"
    assert beta["rows"][0]["object"]["apiVersion"] == "meta.k8s.io/v1beta1"
    assert (
        to_table(rt, [DEPLOYMENT], now=NOW, include_object="Object")["rows"][0]["object"]
        == DEPLOYMENT
    )
    assert to_table(rt, [DEPLOYMENT], now=NOW, include_object="None")["rows"][0]["object"] is None
    with pytest.raises(ValueError):
        to_table(rt, [DEPLOYMENT], now=NOW, include_object="All")


def test_empty_list_still_has_columns() -> None:
    table = to_table(builtin("ConfigMap"), [], now=NOW)
    assert headers(table) == ["Name", "Data", "Age"] and table["rows"] == []
    quiet = to_table(builtin("ConfigMap"), [{"metadata": meta("c")}], now=NOW, no_headers=True)
    assert quiet["columnDefinitions"] == [] and quiet["rows"][0]["cells"] == ["c", 0, "5m"]


def pod(**status: Any) -> Obj:
    return {
        "metadata": meta("p"),
        "spec": {"containers": [{"name": "app"}], "nodeName": "node-1"},
        "status": {"phase": "Running", "podIP": "10.0.0.5", **status},
    }


def test_pod_running_and_ready() -> None:
    obj = pod(
        containerStatuses=[
            {"name": "app", "ready": True, "restartCount": 0, "state": {"running": {}}}
        ]
    )
    assert cells(builtin("Pod"), obj) == [
        "p",
        "1/1",
        "Running",
        "0",
        "5m",
        "10.0.0.5",
        "node-1",
        "<none>",
        "<none>",
    ]
    assert headers(to_table(builtin("Pod"), [obj], now=NOW))[:5] == [
        "Name",
        "Ready",
        "Status",
        "Restarts",
        "Age",
    ]


def test_pod_crash_loop_shows_reason_and_last_restart() -> None:
    obj = pod(
        containerStatuses=[
            {
                "name": "app",
                "ready": False,
                "restartCount": 2,
                "state": {"waiting": {"reason": "CrashLoopBackOff"}},
                "lastState": {"terminated": {"exitCode": 1, "finishedAt": ago(minutes=3)}},
            }
        ]
    )
    assert cells(builtin("Pod"), obj)[1:4] == ["0/1", "CrashLoopBackOff", "2 (3m ago)"]


def test_pod_init_containers_and_termination() -> None:
    obj = pod(
        phase="Pending",
        initContainerStatuses=[
            {"name": "init", "restartCount": 0, "state": {"waiting": {"reason": "PodInitializing"}}}
        ],
    )
    obj["spec"]["initContainers"] = [{"name": "init"}]
    assert cells(builtin("Pod"), obj)[2] == "Init:0/1"
    obj["status"]["initContainerStatuses"][0]["state"] = {"terminated": {"exitCode": 2}}
    assert cells(builtin("Pod"), obj)[2] == "Init:ExitCode:2"
    done = pod(
        phase="Succeeded",
        containerStatuses=[
            {"name": "app", "state": {"terminated": {"exitCode": 0, "reason": "Completed"}}}
        ],
    )
    table = to_table(builtin("Pod"), [done], now=NOW)
    assert table["rows"][0]["cells"][2] == "Completed"
    assert table["rows"][0]["conditions"] == [{"type": "Completed", "status": "True"}]
    going = pod()
    going["metadata"]["deletionTimestamp"] = ago(seconds=1)
    assert cells(builtin("Pod"), going)[2] == "Terminating"


def test_pod_without_status_is_pending() -> None:
    assert cells(builtin("Pod"), {"metadata": meta("p"), "spec": {"containers": [{}]}})[1:3] == [
        "0/1",
        "Pending",
    ]


def test_services() -> None:
    rt = builtin("Service")
    cluster_ip = {
        "metadata": meta("s"),
        "spec": {
            "type": "ClusterIP",
            "clusterIP": "10.96.0.10",
            "selector": {"b": "2", "a": "1"},
            "ports": [{"port": 80, "protocol": "TCP"}, {"port": 443, "nodePort": 30443}],
        },
    }
    assert cells(rt, cluster_ip) == [
        "s",
        "ClusterIP",
        "10.96.0.10",
        "<none>",
        "80/TCP,443:30443/TCP",
        "5m",
        "a=1,b=2",
    ]
    balancer = {"metadata": meta("lb"), "spec": {"type": "LoadBalancer", "clusterIP": "1.2.3.4"}}
    assert cells(rt, balancer)[3:5] == ["<pending>", "<none>"]
    balancer["status"] = {"loadBalancer": {"ingress": [{"ip": "5.6.7.8"}]}}
    assert cells(rt, balancer)[3] == "5.6.7.8"
    external = {
        "metadata": meta("x"),
        "spec": {"type": "ExternalName", "externalName": "db.example.com"},
    }
    assert cells(rt, external)[2:4] == ["<none>", "db.example.com"]


def test_config_and_secrets_count_keys() -> None:
    assert cells(
        builtin("ConfigMap"),
        {"metadata": meta("c"), "data": {"a": "1"}, "binaryData": {"b": "AA=="}},
    ) == ["c", 2, "5m"]
    assert cells(builtin("Secret"), {"metadata": meta("s"), "data": {"a": "MQ=="}}) == [
        "s",
        "Opaque",
        1,
        "5m",
    ]
    assert cells(
        builtin("Secret"),
        {
            "metadata": meta("t"),
            "type": "kubernetes.io/tls",
            "data": {"tls.crt": "", "tls.key": ""},
        },
    )[1:3] == ["kubernetes.io/tls", 2]


@pytest.mark.parametrize(
    ("kind", "group", "obj", "expected"),
    [
        (
            "Namespace",
            "",
            {"metadata": meta("team"), "status": {"phase": "Terminating"}},
            ["team", "Terminating", "5m"],
        ),
        (
            "StatefulSet",
            "apps",
            {"metadata": meta("db"), "spec": {"replicas": 2}, "status": {"readyReplicas": 1}},
            ["db", "1/2", "5m", "", ""],
        ),
        (
            "ServiceAccount",
            "",
            {"metadata": meta("sa"), "secrets": [{"name": "x"}]},
            ["sa", 1, "5m"],
        ),
        (
            "Lease",
            "coordination.k8s.io",
            {"metadata": meta("l"), "spec": {"holderIdentity": "me"}},
            ["l", "me", "5m"],
        ),
        (
            "CustomResourceDefinition",
            "apiextensions.k8s.io",
            {
                "metadata": {
                    "name": "widgets.example.com",
                    "creationTimestamp": "2026-06-01T10:00:00Z",
                }
            },
            ["widgets.example.com", "2026-06-01T10:00:00Z"],
        ),
        ("Role", "rbac.authorization.k8s.io", {"metadata": meta("r")}, ["r", ago(minutes=5)]),
        (
            "RoleBinding",
            "rbac.authorization.k8s.io",
            {
                "metadata": meta("rb"),
                "roleRef": {"kind": "Role", "name": "r"},
                "subjects": [
                    {"kind": "User", "name": "ann"},
                    {"kind": "ServiceAccount", "name": "bot", "namespace": "ops"},
                ],
            },
            ["rb", "Role/r", "5m", "ann", "", "ops/bot"],
        ),
    ],
)
def test_simple_printers(kind: str, group: str, obj: Obj, expected: list[Any]) -> None:
    assert cells(builtin(kind, group), obj) == expected


def test_jobs_and_cronjobs() -> None:
    job = {
        "metadata": meta("j"),
        "spec": {"completions": 3},
        "status": {
            "succeeded": 1,
            "startTime": ago(minutes=2),
            "conditions": [{"type": "Complete", "status": "False"}],
        },
    }
    table = to_table(builtin("Job", "batch"), [job], now=NOW)
    assert headers(table)[:5] == ["Name", "Status", "Completions", "Duration", "Age"]
    assert table["rows"][0]["cells"][:5] == ["j", "Running", "1/3", "2m", "5m"]
    job["status"].update(
        completionTime=ago(seconds=50),
        succeeded=3,
        conditions=[{"type": "Complete", "status": "True"}],
    )
    assert cells(builtin("Job", "batch"), job)[1:4] == ["Complete", "3/3", "70s"]
    unstarted = {"metadata": meta("k"), "spec": {"parallelism": 2}}
    assert cells(builtin("Job", "batch"), unstarted)[1:4] == ["Running", "0/1 of 2", ""]
    cron = {
        "metadata": meta("c"),
        "spec": {"schedule": "*/5 * * * *", "jobTemplate": {}},
        "status": {"active": [{"name": "c-1"}], "lastScheduleTime": ago(seconds=30)},
    }
    assert cells(builtin("CronJob", "batch"), cron)[:7] == [
        "c",
        "*/5 * * * *",
        "<none>",
        "False",
        1,
        "30s",
        "5m",
    ]


def test_ingress_and_claims() -> None:
    ing = {
        "metadata": meta("i"),
        "spec": {
            "ingressClassName": "nginx",
            "tls": [{}],
            "rules": [{"host": "a.io"}, {"host": "b.io"}],
        },
        "status": {"loadBalancer": {"ingress": [{"ip": "1.2.3.4"}]}},
    }
    assert cells(builtin("Ingress", "networking.k8s.io"), ing) == [
        "i",
        "nginx",
        "a.io,b.io",
        "1.2.3.4",
        "80, 443",
        "5m",
    ]
    pvc = {
        "metadata": meta("data"),
        "spec": {"volumeName": "pv-1", "storageClassName": "std"},
        "status": {
            "phase": "Bound",
            "capacity": {"storage": "1Gi"},
            "accessModes": ["ReadWriteOnce"],
        },
    }
    assert cells(builtin("PersistentVolumeClaim"), pvc) == [
        "data",
        "Bound",
        "pv-1",
        "1Gi",
        "RWO",
        "std",
        "<unset>",
        "5m",
        "<unset>",
    ]


def test_events_core_and_events_api() -> None:
    core = {
        "metadata": meta("e1"),
        "type": "Warning",
        "reason": "BackOff",
        "count": 4,
        "message": "restarting",
        "lastTimestamp": ago(seconds=10),
        "firstTimestamp": ago(minutes=6),
        "source": {"component": "kubelet"},
        "involvedObject": {"kind": "Pod", "name": "p", "fieldPath": "spec.containers{a}"},
    }
    assert cells(builtin("Event"), core) == [
        "10s",
        "Warning",
        "BackOff",
        "pod/p",
        "spec.containers{a}",
        "kubelet",
        "restarting",
        "6m",
        "4",
        "e1",
    ]
    modern = {
        "metadata": meta("e2"),
        "type": "Normal",
        "reason": "Synced",
        "note": "ok",
        "eventTime": ago(seconds=3),
        "reportingController": "ork",
        "regarding": {"kind": "Deployment", "name": "web"},
    }
    assert cells(builtin("Event", "events.k8s.io"), modern)[:7] == [
        "3s",
        "Normal",
        "Synced",
        "deployment/web",
        "",
        "ork",
        "ok",
    ]


def test_unknown_kinds_get_name_and_age() -> None:
    rt = ResourceType(group="example.com", version="v1", kind="Thing", plural="things")
    table = to_table(rt, [{"metadata": meta("t")}], now=NOW)
    assert headers(table) == ["Name", "Age"]
    assert table["columnDefinitions"][1]["type"] == "date"
    assert table["rows"][0]["cells"] == ["t", "5m"]


WIDGET_CRD: Obj = {
    "spec": {
        "group": "example.com",
        "names": {"kind": "Widget", "plural": "widgets"},
        "versions": [
            {
                "name": "v1",
                "served": True,
                "additionalPrinterColumns": [
                    {"name": "Size", "type": "integer", "jsonPath": ".spec.size"},
                    {
                        "name": "Ready",
                        "type": "string",
                        "jsonPath": '.status.conditions[?(@.type=="Ready")].status',
                    },
                    {"name": "First", "type": "string", "jsonPath": ".spec.items[0].name"},
                    {"name": "All", "type": "string", "jsonPath": ".spec.items[*].name"},
                    {"name": "Ratio", "type": "number", "jsonPath": ".spec.ratio", "priority": 1},
                    {"name": "On", "type": "boolean", "jsonPath": ".spec.on"},
                    {
                        "name": "Seen",
                        "type": "date",
                        "jsonPath": ".status.seen",
                        "description": "When it was seen.",
                    },
                    {"name": "Spec", "type": "string", "jsonPath": ".spec.nested"},
                    {"name": "Broken", "type": "string", "jsonPath": ".spec[?(@"},
                ],
            }
        ],
    }
}


def test_custom_resource_printer_columns() -> None:
    rt = crd_types(WIDGET_CRD)[0]
    obj = {
        "metadata": meta("w"),
        "spec": {
            "size": 7,
            "ratio": 1,
            "on": True,
            "items": [{"name": "a"}, {"name": "b"}],
            "nested": {"b": 1, "a": "<x>"},
        },
        "status": {
            "seen": ago(hours=2),
            "conditions": [
                {"type": "Synced", "status": "True"},
                {"type": "Ready", "status": "False"},
            ],
        },
    }
    table = to_table(rt, [obj], now=NOW)
    assert headers(table) == [
        "Name",
        "Size",
        "Ready",
        "First",
        "All",
        "Ratio",
        "On",
        "Seen",
        "Spec",
        "Broken",
    ]
    ratio = table["columnDefinitions"][5]
    assert (ratio["type"], ratio["priority"]) == ("number", 1)
    assert table["columnDefinitions"][7]["description"] == "When it was seen."
    assert table["columnDefinitions"][1]["description"].endswith(".spec.size")
    assert table["rows"][0]["cells"] == [
        "w",
        7,
        "False",
        "a",
        "a",
        1.0,
        True,
        "120m",
        '{"a":"\\u003cx\\u003e","b":1}',
        None,
    ]
    bare = to_table(rt, [{"metadata": meta("v"), "spec": {"size": "big"}}], now=NOW)
    assert bare["rows"][0]["cells"] == ["v", None, None, None, None, None, None, None, None, None]


@pytest.mark.parametrize(
    ("type_", "value", "cell"),
    [
        ("integer", 2.9, 2),
        ("integer", True, None),
        ("number", 3, 3.0),
        ("string", 1.5, "1.5"),
        ("string", 2.0, "2"),
        ("string", False, "false"),
        ("boolean", "true", None),
        ("date", "yesterday", "<invalid>"),
        ("date", 5, None),
        ("object", {"a": 1}, None),
    ],
)
def test_custom_cells_convert_to_the_column_type(type_: str, value: Any, cell: Any) -> None:
    assert tables.custom_cell(value, type_, NOW) == cell


@pytest.mark.parametrize(
    ("path", "found"),
    [
        (".a.b", [1]),
        ("{.a.b}", [1]),
        ("$.a.b", [1]),
        (".list[1].n", ["y"]),
        (".list[-1].n", ["z"]),
        (".list[*].n", ["x", "y", "z"]),
        (".list[5].n", []),
        (".list[?(@.n=='y')].v", [2]),
        (".list[?(@.v>1)].n", ["y", "z"]),
        (".list[?(@.v)].n", ["y", "z"]),
        (".list[?(@.on==true)].n", ["x"]),
        ("..n", ["x", "y", "z"]),
        (".a['b']", [1]),
        (".missing.key", []),
        (".list[?(@.v!=2)].n", ["z"]),  # elements without the field never match
    ],
)
def test_jsonpath_subset(path: str, found: list[Any]) -> None:
    doc = {"a": {"b": 1}, "list": [{"n": "x", "on": True}, {"n": "y", "v": 2}, {"n": "z", "v": 3}]}
    assert tables.find(doc, tables.compile_jsonpath(path)) == found


@pytest.mark.parametrize("path", ["spec", ".a[", ".a[?(@.x=1", ".a..", ".a[x]"])
def test_jsonpath_outside_the_subset_is_refused(path: str) -> None:
    with pytest.raises(tables.JsonPathError):
        tables.compile_jsonpath(path)


def test_every_builtin_type_prints_with_aligned_cells() -> None:
    for rt in BUILTIN_TYPES:
        table = to_table(rt, [{"metadata": meta("x")}, {}], now=NOW)
        widths = {len(row["cells"]) for row in table["rows"]}
        assert widths == {len(table["columnDefinitions"])}, rt.kind
        assert table["columnDefinitions"][0]["name"] in ("Name", "Last Seen")

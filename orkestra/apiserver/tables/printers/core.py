"""The printers of the core kinds, and of the API-group kinds that mirror them.

This module owns the columns and cells of Services (type, cluster and external IPs, ports),
ConfigMaps, Secrets, Namespaces, ServiceAccounts, PersistentVolumeClaims and
PersistentVolumes (access modes in kubectl's short form), Events (core ``v1`` and
``events.k8s.io`` share one printer), Nodes (readiness, roles, addresses), Endpoints and
EndpointSlices, ResourceQuotas and LimitRanges.
"""

from __future__ import annotations

from datetime import datetime

from orkestra.apiserver.tables.formats import (
    NONE,
    UNKNOWN,
    age,
    age_of,
    as_int,
    dict_at,
    dicts_at,
    format_labels,
    json_object,
    list_at,
    metadata,
    or_none,
    value_at,
)
from orkestra.apiserver.tables.printers.columns import (
    AGE,
    CREATED,
    NAME,
    Cell,
    Column,
    Printer,
    col,
    created,
)
from orkestra.kubeobjects import Json, JsonObject, KubeObject


def _service_external_ip(obj: KubeObject) -> str:
    spec = dict_at(obj, "spec")
    kind = spec.get("type") or "ClusterIP"
    external = [str(ip) for ip in list_at(spec, "externalIPs")]
    if kind == "ExternalName":
        return str(spec.get("externalName") or NONE)
    if kind == "LoadBalancer":
        ingress = [
            str(i.get("ip") or i.get("hostname") or "")
            for i in dicts_at(obj, "status", "loadBalancer", "ingress")
        ]
        found = [a for a in ingress + external if a]
        return ",".join(found) if found else "<pending>"
    return ",".join(external) if external else NONE


def _service_ports(obj: KubeObject) -> str:
    parts = []
    for port in dicts_at(obj, "spec", "ports"):
        text = str(port.get("port", ""))
        if port.get("nodePort"):
            text += f":{port['nodePort']}"
        parts.append(f"{text}/{port.get('protocol') or 'TCP'}")
    return ",".join(parts) or NONE


def _service(obj: KubeObject, now: datetime) -> list[Cell]:
    spec = dict_at(obj, "spec")
    return [
        metadata(obj).get("name", ""),
        spec.get("type") or "ClusterIP",
        or_none(spec.get("clusterIP")),
        _service_external_ip(obj),
        _service_ports(obj),
        age_of(obj, now),
        format_labels(spec.get("selector")),
    ]


def _configmap(obj: KubeObject, now: datetime) -> list[Cell]:
    count = len(dict_at(obj, "data")) + len(dict_at(obj, "binaryData"))
    return [metadata(obj).get("name", ""), count, age_of(obj, now)]


def _secret(obj: KubeObject, now: datetime) -> list[Cell]:
    keys = set(dict_at(obj, "data")) | set(dict_at(obj, "stringData"))
    return [metadata(obj).get("name", ""), obj.get("type") or "Opaque", len(keys), age_of(obj, now)]


def _namespace(obj: KubeObject, now: datetime) -> list[Cell]:
    return [
        metadata(obj).get("name", ""),
        value_at(obj, "status", "phase") or "Active",
        age_of(obj, now),
    ]


def _service_account(obj: KubeObject, now: datetime) -> list[Cell]:
    return [metadata(obj).get("name", ""), len(list_at(obj, "secrets")), age_of(obj, now)]


_ACCESS_MODES = {
    "ReadWriteOnce": "RWO",
    "ReadOnlyMany": "ROX",
    "ReadWriteMany": "RWX",
    "ReadWriteOncePod": "RWOP",
}


def _access_modes(modes: list[Json]) -> str:
    return ",".join(_ACCESS_MODES.get(str(m), str(m)) for m in modes)


def _pvc(obj: KubeObject, now: datetime) -> list[Cell]:
    spec, status = dict_at(obj, "spec"), dict_at(obj, "status")
    phase = "Terminating" if metadata(obj).get("deletionTimestamp") else status.get("phase", "")
    bound = bool(spec.get("volumeName"))
    capacity = dict_at(status, "capacity").get("storage", "") if bound else ""
    modes = _access_modes(list_at(status, "accessModes")) if bound else ""
    return [
        metadata(obj).get("name", ""),
        phase or "Pending",
        spec.get("volumeName", ""),
        capacity,
        modes,
        or_none(spec.get("storageClassName")),
        spec.get("volumeAttributesClassName") or "<unset>",
        age_of(obj, now),
        spec.get("volumeMode") or "<unset>",
    ]


def _pv(obj: KubeObject, now: datetime) -> list[Cell]:
    spec, status = dict_at(obj, "spec"), dict_at(obj, "status")
    claim = dict_at(spec, "claimRef")
    phase = "Terminating" if metadata(obj).get("deletionTimestamp") else status.get("phase", "")
    return [
        metadata(obj).get("name", ""),
        dict_at(spec, "capacity").get("storage", ""),
        _access_modes(list_at(spec, "accessModes")),
        spec.get("persistentVolumeReclaimPolicy", ""),
        phase,
        f"{claim.get('namespace', '')}/{claim.get('name', '')}" if claim else "",
        spec.get("storageClassName", ""),
        spec.get("volumeAttributesClassName") or "<unset>",
        status.get("reason", ""),
        age_of(obj, now),
        spec.get("volumeMode") or "<unset>",
    ]


def _event_time(obj: KubeObject, *keys: str) -> Json:
    for key in keys:
        value = value_at(obj, *key.split("."))
        if value:
            return value
    return None


def _event(obj: KubeObject, now: datetime) -> list[Cell]:
    """Core ``v1`` and ``events.k8s.io/v1`` Events share one printer."""
    event = json_object(obj)
    modern = "regarding" in event or "note" in event
    ref = dict_at(event, "regarding" if modern else "involvedObject")
    source = dict_at(event, "source")
    component = event.get("reportingController") or source.get("component") or ""
    host = event.get("reportingInstance") or source.get("host") or ""
    last = _event_time(
        obj,
        "series.lastObservedTime",
        "deprecatedLastTimestamp",
        "lastTimestamp",
        "eventTime",
        "metadata.creationTimestamp",
    )
    first = _event_time(
        obj, "deprecatedFirstTimestamp", "firstTimestamp", "eventTime", "metadata.creationTimestamp"
    )
    count = (
        as_int(value_at(event, "series", "count"))
        or as_int(event.get("deprecatedCount"))
        or as_int(event.get("count"), 1)
    )
    return [
        age(last, now),
        obj.get("type", ""),
        event.get("reason", ""),
        f"{str(ref.get('kind', '')).lower()}/{ref.get('name', '')}",
        ref.get("fieldPath", ""),
        ", ".join(str(p) for p in (component, host) if p),
        (event.get("note") if modern else event.get("message")) or "",
        age(first, now),
        str(count),
        metadata(obj).get("name", ""),
    ]


def _node_roles(labels: JsonObject) -> str:
    roles = {
        k.split("/", 1)[1]
        for k in labels
        if k.startswith("node-role.kubernetes.io/") and k.count("/") == 1
    }
    if labels.get("kubernetes.io/role"):
        roles.add(str(labels["kubernetes.io/role"]))
    return ",".join(sorted(r for r in roles if r)) or NONE


def _node_status(obj: KubeObject) -> str:
    ready = next(
        (c for c in dicts_at(obj, "status", "conditions") if c.get("type") == "Ready"), None
    )
    status = (
        "Unknown"
        if ready is None or ready.get("status") == "Unknown"
        else ("Ready" if ready.get("status") == "True" else "NotReady")
    )
    return status + (",SchedulingDisabled" if value_at(obj, "spec", "unschedulable") else "")


def _node_address(obj: KubeObject, kind: str) -> str:
    found = [
        str(a.get("address")) for a in dicts_at(obj, "status", "addresses") if a.get("type") == kind
    ]
    return found[0] if found else NONE


def _node(obj: KubeObject, now: datetime) -> list[Cell]:
    info = dict_at(obj, "status", "nodeInfo")
    roles = _node_roles(dict_at(obj, "metadata", "labels"))
    return [
        metadata(obj).get("name", ""),
        _node_status(obj),
        roles,
        age_of(obj, now),
        info.get("kubeletVersion", ""),
        _node_address(obj, "InternalIP"),
        _node_address(obj, "ExternalIP"),
        info.get("osImage") or UNKNOWN,
        info.get("kernelVersion") or UNKNOWN,
        info.get("containerRuntimeVersion") or UNKNOWN,
    ]


def _more(items: list[str], limit: int = 3) -> str:
    if not items:
        return NONE
    text = ",".join(items[:limit])
    return f"{text} + {len(items) - limit} more..." if len(items) > limit else text


def _endpoints(obj: KubeObject, now: datetime) -> list[Cell]:
    found = []
    for subset in list_at(obj, "subsets"):
        ports = [p.get("port") for p in dicts_at(subset, "ports")] or [None]
        for address in dicts_at(subset, "addresses"):
            for port in ports:
                ip = str(address.get("ip", ""))
                found.append(f"{ip}:{port}" if port is not None else ip)
    return [metadata(obj).get("name", ""), _more(found), age_of(obj, now)]


def _endpoint_slice(obj: KubeObject, now: datetime) -> list[Cell]:
    ports = ",".join(str(p.get("port")) for p in dicts_at(obj, "ports") if p.get("port"))
    addresses = [str(a) for e in list_at(obj, "endpoints") for a in list_at(e, "addresses")]
    return [
        metadata(obj).get("name", ""),
        json_object(obj).get("addressType", ""),
        ports or "<unset>",
        "<unset>" if not addresses else _more(addresses),
        age_of(obj, now),
    ]


def _quota(obj: KubeObject, now: datetime) -> list[Cell]:
    hard, used = dict_at(obj, "status", "hard"), dict_at(obj, "status", "used")
    requests: list[str] = []
    limits: list[str] = []
    for name in sorted(hard):
        text = f"{name}: {used.get(name, '0')}/{hard[name]}"
        (limits if name.startswith("limits.") else requests).append(text)
    return [metadata(obj).get("name", ""), age_of(obj, now), ", ".join(requests), ", ".join(limits)]


_EVENT = Printer(
    (
        col("Last Seen", "Time since the event was last seen."),
        col("Type", "Type of the event (Normal, Warning)."),
        col("Reason", "Short machine-readable reason for the event."),
        col("Object", "The object the event is about."),
        col("Subobject", "The part of the object the event is about.", priority=1),
        col("Source", "The component that reported the event.", priority=1),
        col("Message", "Human-readable description of the event."),
        col("First Seen", "Time since the event was first seen.", priority=1),
        col("Count", "How many times the event occurred.", priority=1),
        Column(name="Name", format="name", priority=1, description=NAME.description),
    ),
    _event,
)


PRINTERS: dict[tuple[str, str], Printer] = {
    ("", "Service"): Printer(
        (
            NAME,
            col("Type", "How the service is exposed."),
            col("Cluster-IP", "Cluster IP of the service."),
            col("External-IP", "External addresses of the service."),
            col("Port(s)", "Ports the service exposes."),
            AGE,
            col("Selector", "Label query selecting the service's pods.", priority=1),
        ),
        _service,
    ),
    ("", "ConfigMap"): Printer((NAME, col("Data", "Number of keys.", "integer"), AGE), _configmap),
    ("", "Secret"): Printer(
        (NAME, col("Type", "Type of the secret."), col("Data", "Number of keys.", "integer"), AGE),
        _secret,
    ),
    ("", "Namespace"): Printer((NAME, col("Status", "Phase of the namespace."), AGE), _namespace),
    ("", "ServiceAccount"): Printer(
        (NAME, col("Secrets", "Number of secrets.", "integer"), AGE), _service_account
    ),
    ("", "PersistentVolumeClaim"): Printer(
        (
            NAME,
            col("Status", "Phase of the claim."),
            col("Volume", "Bound volume."),
            col("Capacity", "Capacity of the bound volume."),
            col("Access Modes", "Access modes of the bound volume."),
            col("StorageClass", "Storage class requested."),
            col("VolumeAttributesClass", "Volume attributes class requested."),
            AGE,
            col("VolumeMode", "Volume mode requested.", priority=1),
        ),
        _pvc,
    ),
    ("", "PersistentVolume"): Printer(
        (
            NAME,
            col("Capacity", "Capacity of the volume."),
            col("Access Modes", "Access modes of the volume."),
            col("Reclaim Policy", "What happens when the claim is released."),
            col("Status", "Phase of the volume."),
            col("Claim", "Claim bound to the volume."),
            col("StorageClass", "Storage class of the volume."),
            col("VolumeAttributesClass", "Volume attributes class of the volume."),
            col("Reason", "Reason for the phase."),
            AGE,
            col("VolumeMode", "Volume mode.", priority=1),
        ),
        _pv,
    ),
    ("", "Event"): _EVENT,
    ("events.k8s.io", "Event"): _EVENT,
    ("", "Node"): Printer(
        (
            NAME,
            col("Status", "Readiness of the node."),
            col("Roles", "Roles of the node."),
            AGE,
            col("Version", "Kubelet version."),
            col("Internal-IP", "Internal address.", priority=1),
            col("External-IP", "External address.", priority=1),
            col("OS-Image", "Operating system image.", priority=1),
            col("Kernel-Version", "Kernel version.", priority=1),
            col("Container-Runtime", "Container runtime version.", priority=1),
        ),
        _node,
    ),
    ("", "Endpoints"): Printer((NAME, col("Endpoints", "Addresses and ports."), AGE), _endpoints),
    ("discovery.k8s.io", "EndpointSlice"): Printer(
        (
            NAME,
            col("AddressType", "Address family of the endpoints."),
            col("Ports", "Ports of the slice."),
            col("Endpoints", "Addresses of the endpoints."),
            AGE,
        ),
        _endpoint_slice,
    ),
    ("", "ResourceQuota"): Printer(
        (
            NAME,
            AGE,
            col("Request", "Requests used out of hard limits."),
            col("Limit", "Limits used out of hard limits."),
        ),
        _quota,
    ),
    ("", "LimitRange"): Printer((NAME, CREATED), created),
}

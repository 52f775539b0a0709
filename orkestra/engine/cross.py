"""``.cross``: what each ``observe.cross`` entry of a CRD reads, in upstream's order.

For each entry, its templates rendered against the CR:

1. Peers (a same-process read): when the entry selects a CR (``selector.name``,
   ``selector.matchLabels``, or the ``labelSelector`` it finds the target CRD by) and the
   cluster's :class:`~orkestra.engine.api.CrossReader` runs the target CRD, the first
   match (by namespace, then name) in upstream's shape, ``{found: "true", name,
   namespace, spec, status, labels, annotations}`` (labels and annotations only when not
   empty), or ``{found: "false", spec: {}, status: {}}`` when nothing matches.
2. The ``source``, when the target is not run here: the JSON object it answers, with
   ``found`` added when missing (``"true"`` when the body has a ``name``).
3. Otherwise ``{found: "false", name, namespace, spec: {}, status: {}}``.

``strategy: all`` reads every match as a list instead (``[]`` when nothing is read).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from orkestra.engine.api import ClusterAPI, CrossReader, PeerQuery, RemoteQuery
from orkestra.engine.crmeta import KEYS as METADATA_MAPS
from orkestra.engine.fields import Fields
from orkestra.kubeobjects import Json, JsonDict, JsonObject, KubeObject
from orkestra.model.shapes import CrossEntry, CrossSource
from orkestra.template import Renderer
from orkestra.units import parse_duration


@dataclass
class CrossResult:
    """``.cross`` and the warnings reading it gave."""

    values: JsonDict = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)


def target_name(query: PeerQuery, selectors: Mapping[str, Mapping[str, str]]) -> str | None:
    """The CRD a peer query reads: its ``crd``, else the first whose ``labelSelector`` (in
    ``selectors``, by CRD name) holds all of the query's ``crd_labels``."""
    if query.crd:
        return query.crd
    wanted = query.crd_labels.items()
    return next(
        (name for name, labels in selectors.items() if wanted and wanted <= labels.items()), None
    )


def peer_matches(obj: KubeObject, query: PeerQuery) -> bool:
    """Whether a CR of the target CRD is one ``query`` selects (a cluster-scoped CR
    matches by name alone)."""
    meta = obj.get("metadata") or {}
    if query.match_labels:
        labels = meta.get("labels") or {}
        return all(k in labels and str(labels[k]) == v for k, v in query.match_labels.items())
    return meta.get("name") == query.name and meta.get("namespace", "") in ("", query.namespace)


def peer_value(obj: KubeObject) -> JsonDict:
    """A found peer CR as templates read it."""
    meta = obj.get("metadata") or {}
    value: JsonDict = {
        "found": "true",
        "name": meta.get("name", ""),
        "namespace": meta.get("namespace", ""),
        "spec": obj.get("spec") or {},
        "status": obj.get("status") or {},
    }
    for key in METADATA_MAPS:
        if meta.get(key):
            value[key] = meta[key]
    return value


def remote_value(body: JsonObject) -> JsonObject:
    if "found" in body:
        return body
    return {**body, "found": "true" if body.get("name") is not None else "false"}


def source_url(source: CrossSource, crd: str, name: str, namespace: str, fields: Fields) -> str:
    """``endpoint`` as written, or the URL of the other Orkestra runtime's ``host`` for
    the entry's ``protocol``."""
    if source.get("endpoint"):
        return fields.text(source["endpoint"], "source.endpoint")
    host = fields.text(source.get("host"), "source.host").rstrip("/")
    protocol = source.get("protocol", "cr")
    base = f"{host}/katalog/{crd}"
    if protocol == "health":
        return f"{base}/health"
    if protocol not in ("cr", "events"):
        return base  # info, metrics: the katalog's summary
    namespace = fields.text(source.get("namespace"), "source.namespace") or namespace
    path = f"{base}/cr/{namespace}/{name}" if namespace else f"{base}/cr/{name}"
    return f"{path}/events" if protocol == "events" else path


class CrossReads:
    """Reads the ``cross`` entries of one CRD for each reconcile."""

    def __init__(self, entries: list[CrossEntry], cluster: ClusterAPI, renderer: Renderer) -> None:
        self.entries = entries
        self.reader = cluster if isinstance(cluster, CrossReader) else None
        self.renderer = renderer

    def read(self, data: Mapping[str, object], namespace: str) -> CrossResult:
        """``.cross`` for the CR whose template context is ``data``."""
        result = CrossResult()
        for index, entry in enumerate(self.entries):
            fields = Fields(self.renderer, data, f"observe.cross[{index}]")
            key = str(entry["as"])
            result.values[key] = self.entry(entry, fields, namespace, result.warnings)
        return result

    def entry(self, entry: CrossEntry, fields: Fields, namespace: str, warnings: list[str]) -> Json:
        selector = entry.get("selector") or {}
        name = fields.text(selector.get("name"), "selector.name")
        namespace = fields.text(selector.get("namespace"), "selector.namespace") or namespace
        every = entry.get("strategy") == "all"
        query = self.peer_query(entry, fields, name, namespace)
        source = entry.get("source")
        if self.reader is None:
            if query is not None or source:
                warnings.append(
                    f'cross "{entry["as"]}": this cluster reads no other CRs nor '
                    "cross sources; it reads as not found"
                )
            return [] if every else _not_found(name, namespace)
        if query is not None:
            peers = self.reader.cross_peers(query)
            if peers is not None:
                found = sorted(peers, key=_position)
                if every:
                    return [peer_value(p) for p in found]
                return (
                    peer_value(found[0]) if found else {"found": "false", "spec": {}, "status": {}}
                )
        if source:
            url = source_url(source, str(entry.get("crd", "")), name, namespace, fields)
            body = self.reader.cross_remote(
                RemoteQuery(
                    str(entry["as"]),
                    url,
                    parse_duration(str(source.get("cacheFor", "30s"))),
                    source.get("auth"),
                )
            )
            if body is not None:
                return remote_value(body)
        return [] if every else _not_found(name, namespace)

    @staticmethod
    def peer_query(
        entry: CrossEntry, fields: Fields, name: str, namespace: str
    ) -> PeerQuery | None:
        """The peers the entry selects; None when it selects none (then only its source
        is read)."""
        crd_labels: Mapping[str, str] = entry.get("labelSelector") or {}
        labels = fields.string_map(
            (entry.get("selector") or {}).get("matchLabels"), "selector.matchLabels"
        ) or dict(crd_labels)
        if not labels and not name:
            return None
        return PeerQuery(
            crd=str(entry.get("crd", "")),
            crd_labels=crd_labels,
            name=name,
            namespace=namespace,
            match_labels=labels,
        )


def _position(obj: KubeObject) -> tuple[str, str]:
    meta = obj.get("metadata") or {}
    return str(meta.get("namespace", "")), str(meta.get("name", ""))


def _not_found(name: str, namespace: str) -> JsonDict:
    return {"found": "false", "name": name, "namespace": namespace, "spec": {}, "status": {}}

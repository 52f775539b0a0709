"""``.cross``: peers through the cluster's CrossReader, then the source, then upstream's
not-found value; URLs built from a source's host and protocol."""

from __future__ import annotations

import json
from typing import Any

import pytest

from orkestra.cluster import MemoryCluster
from orkestra.engine.api import CrossReader, PeerQuery, RemoteQuery
from orkestra.engine.cross import peer_matches, source_url
from orkestra.engine.fields import Fields
from orkestra.template import Renderer
from tests.engine.harness import Clock, Harness

Obj = dict[str, Any]
DB: Obj = {
    "apiVersion": "test.io/v1",
    "kind": "Database",
    "metadata": {
        "name": "demo-db",
        "namespace": "default",
        "labels": {"tenant": "acme", "tier": "data"},
    },
    "spec": {"engine": "postgres"},
    "status": {"endpoint": "db:5432"},
}


class Reader(MemoryCluster):
    """Runs the CRD ``database`` (CRs: ``peers``) and answers sources from ``bodies``."""

    def __init__(
        self, clock: Clock, peers: list[Obj] | None = None, bodies: dict[str, Obj] | None = None
    ) -> None:
        super().__init__(clock=clock, lenient_kinds=True)
        self.peers = peers if peers is not None else [DB]
        self.bodies = bodies or {}
        self.queries: list[PeerQuery | RemoteQuery] = []

    def cross_peers(self, query: PeerQuery) -> list[Obj] | None:
        self.queries.append(query)
        if query.crd != "database" and query.crd_labels != {"tier": "data"}:
            return None
        return [p for p in self.peers if peer_matches(p, query)]

    def cross_remote(self, query: RemoteQuery) -> Obj | None:
        self.queries.append(query)
        return self.bodies.get(query.url)


def harness(cross: list[Obj], reader: bool = True, **kwargs: Any) -> Harness:
    box = {
        "observe": {"cross": cross},
        "reconcile": {
            "onReconcile": {
                "configMaps": [{"name": "seen", "data": {"cross": "{{ toJson .cross }}"}}]
            }
        },
    }
    return Harness(
        box, {"tenant": "acme"}, cluster=(lambda clock: Reader(clock, **kwargs)) if reader else None
    )


def seen(h: Harness) -> Any:
    h.cycle()
    cm = h.get("v1", "ConfigMap", "seen")
    assert cm is not None, h.results[-1].error
    return json.loads(cm["data"]["cross"])


def entry(**fields: Any) -> Obj:
    return {"strategy": "first", **fields}


def test_a_peer_is_read_by_name_in_upstreams_shape() -> None:
    h = harness(
        [entry(crd="database", **{"as": "db"}, selector={"name": "{{ .metadata.name }}-db"})]
    )
    assert seen(h) == {
        "db": {
            "found": "true",
            "name": "demo-db",
            "namespace": "default",
            "spec": {"engine": "postgres"},
            "status": {"endpoint": "db:5432"},
            "labels": {"tenant": "acme", "tier": "data"},
        }
    }
    assert isinstance(h.cluster, CrossReader) and isinstance(h.cluster, Reader)
    assert h.cluster.queries == [
        PeerQuery(
            crd="database", crd_labels={}, name="demo-db", namespace="default", match_labels={}
        )
    ]


def test_match_labels_and_a_crd_found_by_its_label_selector() -> None:
    h = harness(
        [
            entry(
                crd="database",
                **{"as": "byLabel"},
                selector={"matchLabels": {"tenant": "{{ .spec.tenant }}"}},
            ),
            # the CRD whose labelSelector holds tier=data, and its CR labelled so
            entry(labelSelector={"tier": "data"}, **{"as": "tier"}),
            entry(crd="database", **{"as": "other"}, selector={"name": "nope"}),
        ]
    )
    got = seen(h)
    assert got["byLabel"]["name"] == got["tier"]["name"] == "demo-db"
    # the CRD runs here but no CR matches: no source is tried
    assert got["other"] == {"found": "false", "spec": {}, "status": {}}


def test_a_target_not_run_here_is_read_from_its_source() -> None:
    url = "http://billing:8080/katalog/billing/cr/default/demo"
    h = harness(
        [
            entry(
                crd="billing",
                selector={"name": "{{ .metadata.name }}"},
                **{"as": "billing"},
                source={
                    "host": "http://billing:8080/",
                    "protocol": "cr",
                    "cacheFor": "10s",
                    "auth": {"token": "$T"},
                },
            ),
            entry(
                crd="ledger",
                **{"as": "ledger"},
                source={"endpoint": "https://x/{{ .metadata.name }}", "cacheFor": "1m"},
            ),
            entry(
                crd="gone",
                **{"as": "gone"},
                selector={"name": "g"},
                source={"endpoint": "https://gone", "cacheFor": "30s"},
            ),
        ],
        bodies={url: {"plan": "gold"}, "https://x/demo": {"found": "false"}},
    )
    got = seen(h)
    assert got["billing"] == {"plan": "gold", "found": "false"}  # no name: found is false
    assert got["ledger"] == {"found": "false"}  # a 404 answer is kept as is
    # the source failed: upstream's not-found value with the selector's name
    assert got["gone"] == {
        "found": "false",
        "name": "g",
        "namespace": "default",
        "spec": {},
        "status": {},
    }
    assert isinstance(h.cluster, Reader)
    remote = [q for q in h.cluster.queries if isinstance(q, RemoteQuery)]
    assert remote[0] == RemoteQuery("billing", url, 10.0, {"token": "$T"})
    assert remote[1].cache_for == 60.0


def test_strategy_all_reads_every_match_as_a_list() -> None:
    second = {**DB, "metadata": {**DB["metadata"], "name": "a-db"}}
    h = harness(
        [
            entry(
                crd="database",
                **{"as": "all"},
                strategy="all",
                selector={"matchLabels": {"tenant": "acme"}},
            ),
            entry(crd="billing", **{"as": "none"}, strategy="all", selector={"name": "x"}),
        ],
        peers=[DB, second],
    )
    got = seen(h)
    assert [p["name"] for p in got["all"]] == ["a-db", "demo-db"]
    assert got["none"] == []


def test_a_cluster_without_a_reader_reads_not_found_and_warns() -> None:
    h = harness([entry(crd="database", **{"as": "db"}, selector={"name": "demo-db"})], reader=False)
    assert seen(h) == {
        "db": {
            "found": "false",
            "name": "demo-db",
            "namespace": "default",
            "spec": {},
            "status": {},
        }
    }
    assert h.results[-1].warnings == [
        'cross "db": this cluster reads no other CRs nor cross sources; it reads as not found'
    ]


def test_a_selector_template_error_fails_the_cycle() -> None:
    h = harness(
        [
            entry(
                crd="database",
                **{"as": "db"},
                selector={"name": "{{ .spec.tenant.missing.deeper }}"},
            )
        ]
    )
    h.cycle()
    assert (h.results[-1].error or "").startswith("observe.cross[0].selector.name:")


@pytest.mark.parametrize(
    ("protocol", "namespace", "url"),
    [
        ("cr", "", "h/katalog/db/cr/default/n"),
        ("cr", "ops", "h/katalog/db/cr/ops/n"),
        ("events", "", "h/katalog/db/cr/default/n/events"),
        ("health", "", "h/katalog/db/health"),
        ("metrics", "", "h/katalog/db"),
        ("info", "", "h/katalog/db"),
    ],
)
def test_source_urls(protocol: str, namespace: str, url: str) -> None:
    fields = Fields(Renderer(), {}, "observe.cross[0]")
    source = {"host": "h/", "protocol": protocol, "namespace": namespace}
    assert source_url(source, "db", "n", "default", fields) == url
    assert source_url({"host": "h", "endpoint": "e"}, "db", "n", "", fields) == "e"
    assert source_url({"host": "h"}, "db", "n", "", fields) == "h/katalog/db/cr/n"


def test_peer_matches() -> None:
    query = PeerQuery(
        crd="database", crd_labels={}, name="demo-db", namespace="default", match_labels={}
    )
    assert peer_matches(DB, query)
    assert not peer_matches(
        DB,
        PeerQuery(
            crd="database", crd_labels={}, name="demo-db", namespace="other", match_labels={}
        ),
    )
    cluster_scoped = {"metadata": {"name": "demo-db"}}
    assert peer_matches(
        cluster_scoped,
        PeerQuery(
            crd="database", crd_labels={}, name="demo-db", namespace="other", match_labels={}
        ),
    )
    assert not peer_matches(
        DB,
        PeerQuery(
            crd="database", crd_labels={}, name="", namespace="", match_labels={"tenant": "other"}
        ),
    )

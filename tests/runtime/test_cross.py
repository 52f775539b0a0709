"""``cross`` in the runtime: peers read from the informer stores, sources fetched over HTTP
and cached for ``cacheFor``, ``crossAccess: false``.

The reconciles run as a worker runs them: a CachedCluster over informers of the embedded
API server, the CRD's reconciler, and a CrossSources over the katalog (its clock a test
clock, so that ``cacheFor`` expires without waiting). The sources are a small aiohttp
server that counts its hits."""

from __future__ import annotations

import asyncio
import base64
import functools
import json
import threading
from collections import Counter
from collections.abc import Callable, Coroutine, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import pytest
import yaml
from aiohttp import web

from orkestra.apiserver import EmbeddedServer
from orkestra.cluster import MemoryCluster
from orkestra.cluster.errors import NotFoundError
from orkestra.engine.api import PeerQuery, RemoteQuery
from orkestra.engine.reconcile import Reconciler
from orkestra.loops import new_event_loop
from orkestra.runtime.cache import CachedCluster
from orkestra.runtime.cross import BODY_LIMIT, CrossSources
from orkestra.runtime.informer import Informers
from orkestra.runtime.kube import KubeClient, Resource, load_config
from orkestra.runtime.metrics import RuntimeMetrics
from orkestra.runtime.pattern import Unit
from tests.runtime.fakes import FakeClient, FakeInformers
from tests.runtime.harness import Runtime, crd_manifest, wait_for

Obj = dict[str, Any]
T = TypeVar("T")
GROUP = "test.orkestra.dev/v1"
KATALOG = """
apiVersion: orkestra.orkspace.io/v1
kind: Katalog
metadata: {name: shop, version: v1.0.0}
crossAccess: %(katalog_access)s
spec:
  crds:
    database:
      apiTypes: {group: test.orkestra.dev, version: v1, kind: Database, plural: databases}
      labelSelector: {tier: data}
      crossAccess: %(entry_access)s
    app:
      apiTypes: {group: test.orkestra.dev, version: v1, kind: App, plural: apps}
      operatorBox:
        observe:
          cross: %(cross)s
        reconcile:
          onReconcile:
            configMaps:
              - name: "{{ .metadata.name }}-seen"
                data: {cross: "{{ toJson .cross }}"}
                reconcile: true
"""
PEERS = """
            - crd: database
              as: db
              selector: {name: "{{ .metadata.name }}-db"}
            - labelSelector: {tier: data}
              as: tiered"""


class Loop:
    """An event loop on a thread of its own, for the informers and the HTTP sources."""

    def __init__(self) -> None:
        self.loop = new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()

    def run(self, work: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(work, self.loop).result(15)

    def close(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)
        self.loop.close()


@dataclass
class Clock:
    now: float = 1000.0

    def __call__(self) -> float:
        return self.now


@dataclass
class Source:
    """The HTTP sources: ``/cr/NAME`` answers a CR, ``/missing`` 404, ``/flaky`` 503 while
    ``down``, ``/big`` over 64 KiB, ``/list`` a JSON list, ``/auth`` the Authorization
    header it got."""

    url: str = ""
    hits: Counter[str] = field(default_factory=Counter)
    down: bool = True

    def app(self) -> web.Application:
        async def answer(request: web.Request) -> web.StreamResponse:
            path = request.match_info["path"]
            self.hits[path.split("/")[0]] += 1
            assert request.headers["Accept"] == "application/json"
            if path.startswith("cr/"):
                return web.json_response({"name": path[3:], "status": {"phase": "Ready"}})
            if path == "flaky" and not self.down:
                return web.json_response({"name": "flaky"})
            answers: dict[str, web.StreamResponse] = {
                "big": web.json_response({"name": "big", "pad": "x" * BODY_LIMIT}),
                "list": web.json_response([{"name": "a"}]),
                "auth": web.json_response(
                    {"authorization": request.headers.get("Authorization", "")}
                ),
                "flaky": web.Response(status=503),
            }
            return answers.get(path) or web.Response(status=404)

        app = web.Application()
        app.add_routes([web.get("/{path:.*}", answer)])
        return app


@pytest.fixture
def loop() -> Iterator[Loop]:
    running = Loop()
    yield running
    running.close()


@pytest.fixture
def client(server: EmbeddedServer, loop: Loop) -> Iterator[KubeClient]:
    made = KubeClient(load_config(str(server.kubeconfig)))
    yield made
    made.close()
    loop.run(made.aclose())


@pytest.fixture
def source(loop: Loop) -> Iterator[Source]:
    found = Source()

    async def start() -> web.AppRunner:
        runner = web.AppRunner(found.app(), access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        host, port = runner.addresses[0][:2]
        found.url = f"http://{host}:{port}"
        return runner

    runner = loop.run(start())
    yield found
    loop.run(runner.cleanup())


@dataclass
class Worker:
    """One worker thread's reconciles of the app CRD, as the controller sets them up."""

    server: EmbeddedServer
    informers: Informers
    cluster: CachedCluster
    reconciler: Reconciler

    def reconcile(self, name: str = "shop") -> Obj:
        """Reconcile the app ``name``: what its ConfigMap says ``.cross`` was."""
        self.cluster.begin()
        result = self.reconciler.reconcile(name, "default")
        assert result.error is None, result.error
        seen = self.server.cluster.find("v1", "ConfigMap", f"{name}-seen", "default")
        assert seen is not None
        value: Obj = json.loads(seen["data"]["cross"])
        return value


MakeWorker = Callable[..., Worker]


@pytest.fixture
def worker_of(
    server: EmbeddedServer, client: KubeClient, loop: Loop, tmp_path: Path
) -> Iterator[MakeWorker]:
    informers = Informers(client, RuntimeMetrics())

    def make(
        cross: str,
        *,
        clock: Clock | None = None,
        entry_access: str = "true",
        katalog_access: str = "true",
    ) -> Worker:
        path = tmp_path / "katalog.yaml"
        path.write_text(
            KATALOG
            % {"cross": cross, "entry_access": entry_access, "katalog_access": katalog_access}
        )
        for kind in ("App", "Database"):
            server.cluster.create(_crd(kind), record=False)
        create(server, "App", "shop")
        unit = Unit.load(path)
        kinds = [(GROUP, "App"), (GROUP, "Database"), ("v1", "ConfigMap")]
        resources = [
            wait_for(functools.partial(_served, client, *k), f"{k[1]} served") for k in kinds
        ]

        async def start() -> None:
            started = [informers.informer(r) for r in resources]
            await asyncio.gather(*(i.synced.wait() for i in started))

        loop.run(start())
        cluster = CachedCluster(
            client, informers, CrossSources(client, [unit.composed], clock=clock or Clock())
        )
        return Worker(server, informers, cluster, unit.reconciler("app", cluster))

    yield make
    loop.run(informers.stop())


def _crd(kind: str) -> Obj:
    manifest: Obj = yaml.safe_load(crd_manifest(kind))
    return manifest


def _served(client: KubeClient, api_version: str, kind: str) -> Resource | None:
    try:
        return client.resource(api_version, kind)
    except NotFoundError:  # the CRD is not established yet
        return None


def create(server: EmbeddedServer, kind: str, name: str, **meta: Any) -> None:
    server.cluster.create(
        {
            "apiVersion": GROUP,
            "kind": kind,
            "metadata": {"name": name, "namespace": "default", **meta},
            "spec": {"engine": "postgres"},
        },
        record=False,
    )


def set_phase(server: EmbeddedServer, worker: Worker, name: str, phase: str) -> None:
    """Write a Database's status.phase and wait until the informer store holds it."""
    found = server.cluster.find(GROUP, "Database", name, "default")
    assert found is not None
    server.cluster.update({**found, "status": {"phase": phase}}, subresource="status")
    cached = worker.informers.synced_store(GROUP, "Database")
    assert cached is not None
    wait_for(
        lambda: (
            ((cached[1].get(("default", name)) or {}).get("status") or {}).get("phase") == phase
        ),
        f"the store to see {name} {phase}",
    )


# -- peers ----------------------------------------------------------------------------
@pytest.mark.integration
def test_a_peer_cr_is_read_from_the_store_and_its_change_shows_on_the_next_reconcile(
    server: EmbeddedServer, worker_of: MakeWorker
) -> None:
    worker = worker_of(PEERS)
    create(server, "Database", "shop-db", labels={"tier": "data"})
    set_phase(server, worker, "shop-db", "Provisioning")
    seen = worker.reconcile()
    assert seen["db"] == {
        "found": "true",
        "name": "shop-db",
        "namespace": "default",
        "spec": {"engine": "postgres"},
        "status": {"phase": "Provisioning"},
        "labels": {"tier": "data"},
    }
    assert seen["tiered"]["name"] == "shop-db"  # the target found by its labelSelector
    set_phase(server, worker, "shop-db", "Ready")
    assert worker.reconcile()["db"]["status"] == {"phase": "Ready"}


@pytest.mark.integration
@pytest.mark.parametrize("where", ["entry", "katalog"])
def test_cross_access_false_hides_the_peers(
    server: EmbeddedServer, worker_of: MakeWorker, where: str
) -> None:
    worker = worker_of(PEERS, **{f"{where}_access": "false"})
    create(server, "Database", "shop-db", labels={"tier": "data"})
    set_phase(server, worker, "shop-db", "Ready")
    hidden = {"found": "false", "spec": {}, "status": {}}
    assert worker.reconcile() == {"db": hidden, "tiered": hidden}


def test_peers_come_from_a_synced_store_never_from_the_api(tmp_path: Path) -> None:
    path = tmp_path / "katalog.yaml"
    path.write_text(KATALOG % {"cross": "[]", "entry_access": "true", "katalog_access": "true"})
    unit = Unit.load(path)
    memory = MemoryCluster(record=False)
    memory.create(_crd("Database"))
    for name, tier in (("b", "data"), ("a", "data"), ("c", "web")):
        memory.create(
            {
                "apiVersion": GROUP,
                "kind": "Database",
                "metadata": {"name": name, "namespace": "default", "labels": {"tier": tier}},
            }
        )
    fake = FakeClient(memory)
    cross = CrossSources(fake, [unit.composed])  # type: ignore[arg-type]
    by_name = PeerQuery(
        crd="database", crd_labels={}, name="a", namespace="default", match_labels={}
    )
    by_labels = PeerQuery(
        crd="",
        crd_labels={"tier": "data"},
        name="",
        namespace="default",
        match_labels={"tier": "data"},
    )
    synced = CachedCluster(
        fake,
        FakeInformers(fake, [(GROUP, "Database")]),  # type: ignore[arg-type]
        cross,
    )
    assert [p["metadata"]["name"] for p in synced.cross_peers(by_name) or []] == ["a"]
    assert sorted(p["metadata"]["name"] for p in synced.cross_peers(by_labels) or []) == ["a", "b"]
    assert fake.calls == []
    unsynced = CachedCluster(fake, FakeInformers(fake, []), cross)  # type: ignore[arg-type]
    assert unsynced.cross_peers(by_name) is None  # no informer here: the source is tried
    assert (
        synced.cross_peers(
            PeerQuery(crd="billing", crd_labels={}, name="a", namespace="default", match_labels={})
        )
        is None
    )
    assert fake.calls == []


# -- sources --------------------------------------------------------------------------
def sources(source: Source) -> str:
    return f"""
            - crd: billing
              as: billing
              selector: {{name: "{{{{ .metadata.name }}}}"}}
              source: {{endpoint: "{source.url}/cr/{{{{ .metadata.name }}}}", cacheFor: 30s}}
            - crd: ledger
              as: gone
              source: {{endpoint: "{source.url}/missing", cacheFor: 30s}}
            - crd: ledger
              as: flaky
              source: {{endpoint: "{source.url}/flaky", cacheFor: 30s}}"""


@pytest.mark.integration
def test_a_source_is_fetched_over_http_and_reused_for_cache_for(
    worker_of: MakeWorker, source: Source
) -> None:
    clock = Clock()
    worker = worker_of(sources(source), clock=clock)
    seen = worker.reconcile()
    assert seen["billing"] == {"name": "shop", "status": {"phase": "Ready"}, "found": "true"}
    assert seen["gone"] == {"found": "false"}
    worker.reconcile()
    clock.now += 29
    worker.reconcile()
    assert source.hits["cr"] == 1 and source.hits["missing"] == 1
    clock.now += 2
    assert worker.reconcile()["billing"]["found"] == "true"
    assert source.hits["cr"] == 2 and source.hits["missing"] == 2


@pytest.mark.integration
def test_a_failed_fetch_reads_as_not_found_and_is_not_cached(
    worker_of: MakeWorker, source: Source
) -> None:
    worker = worker_of(sources(source), clock=Clock())
    not_found = {"found": "false", "name": "", "namespace": "default", "spec": {}, "status": {}}
    assert worker.reconcile()["flaky"] == not_found
    assert worker.reconcile()["flaky"] == not_found
    assert source.hits["flaky"] == 2
    source.down = False
    assert worker.reconcile()["flaky"] == {"name": "flaky", "found": "true"}
    worker.reconcile()
    assert source.hits["flaky"] == 3


@pytest.mark.integration
def test_the_bearer_token_comes_from_the_environment_or_a_secret(
    server: EmbeddedServer, client: KubeClient, source: Source, monkeypatch: pytest.MonkeyPatch
) -> None:
    cross = CrossSources(client)
    url = f"{source.url}/auth"
    monkeypatch.setenv("PEER_TOKEN", "from-env")
    server.cluster.create(
        {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {"name": "peer", "namespace": "default"},
            "data": {"token": base64.b64encode(b"from-secret").decode()},
        },
        record=False,
    )
    for auth, expected in (
        ({"token": "$PEER_TOKEN"}, "Bearer from-env"),
        ({"token": "literal"}, "Bearer literal"),
        ({"secretRef": {"name": "peer", "key": "token"}}, "Bearer from-secret"),
        (None, ""),
    ):
        answer = cross.remote(RemoteQuery("auth", url, 30, auth))
        assert answer == {"authorization": expected}
    assert source.hits["auth"] == 4  # one entry per (url, auth)
    for auth in (
        {"token": "$NOT_SET_ANYWHERE"},
        {"secretRef": {"name": "peer", "namespace": "default", "key": "nope"}},
        {"secretRef": {"name": "absent", "key": "token"}},
    ):
        assert cross.remote(RemoteQuery("auth", url, 30, auth)) is None
    assert source.hits["auth"] == 4  # no credential, no call


@pytest.mark.integration
def test_only_one_json_object_of_at_most_64_kib_over_http_is_a_result(
    client: KubeClient, source: Source
) -> None:
    cross = CrossSources(client)
    for url in (
        f"{source.url}/big",
        f"{source.url}/list",
        "file:///etc/hostname",
        "http://127.0.0.1:1/closed",
    ):
        assert cross.remote(RemoteQuery("x", url, 30)) is None, url
    assert source.hits["big"] == source.hits["list"] == 1


# -- the whole operator ---------------------------------------------------------------
@pytest.mark.integration
def test_ork_run_reads_a_peer_through_cross(server: EmbeddedServer, tmp_path: Path) -> None:
    """The operator hands one CrossSources to every worker: an App's child shows its
    Database peer, as ``ork run`` runs it (Runtime is the operator on a thread)."""
    path = tmp_path / "katalog.yaml"
    path.write_text(KATALOG % {"cross": PEERS, "entry_access": "true", "katalog_access": "true"})
    for kind in ("App", "Database"):
        server.cluster.create(_crd(kind), record=False)
    create(server, "Database", "shop-db", labels={"tier": "data"})
    create(server, "App", "shop")

    def db_seen() -> Obj | None:
        child = server.cluster.find("v1", "ConfigMap", "shop-seen", "default")
        seen = json.loads(child["data"]["cross"]) if child else {}
        return seen["db"] if seen.get("db", {}).get("found") == "true" else None

    with Runtime(server, path, resync=5):  # a first reconcile may precede the peer's sync
        assert wait_for(db_seen, "the App's child to show its peer")["name"] == "shop-db"

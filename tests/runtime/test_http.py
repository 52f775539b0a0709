"""The runtime's HTTP endpoints, served by the shared HTTP layer on an ephemeral port and
asked over a real socket with httpx."""

from __future__ import annotations

import asyncio
import http.client
import socket
from collections.abc import Awaitable, Callable
from pathlib import Path

import httpx
import pytest

from orkestra.apiserver import EmbeddedServer
from orkestra.apiserver.server import free_port
from orkestra.httpserver import HttpServer
from orkestra.kubeobjects import KubeObject
from orkestra.model.shapes import Katalog
from orkestra.runtime.controller import Controller, Settings
from orkestra.runtime.events import EventRecorder
from orkestra.runtime.http import make_app, metrics_app
from orkestra.runtime.metrics import RuntimeMetrics
from orkestra.runtime.pattern import Unit
from tests.conftest import PACK
from tests.runtime.harness import Runtime, apply

CR: KubeObject = {
    "apiVersion": "rkguide.demo/v1",
    "kind": "WebApp",
    "metadata": {"name": "web", "namespace": "team", "resourceVersion": "3"},
    "spec": {"image": "nginx"},
}


class View:
    """What the endpoints read, without a cluster."""

    def __init__(self) -> None:
        self.unit = Unit.load(PACK / "02-katalog-api" / "katalog.yaml")
        self.metrics = RuntimeMetrics()
        controller = Controller(
            self.unit,
            "webapp",
            client=None,  # type: ignore[arg-type]
            informers=None,  # type: ignore[arg-type]
            metrics=self.metrics,
            recorder=EventRecorder(lambda *a: None),
            settings=Settings.of("webapp", self.unit),
        )
        controller.store.upsert(CR)
        self.controllers = {"webapp": controller}

    @property
    def ready(self) -> bool:
        return all(c.started.is_set() for c in self.controllers.values())

    def katalog(self) -> Katalog:
        return self.unit.composed.as_katalog()


Check = Callable[[httpx.AsyncClient, View], Awaitable[None]]


def serve(check: Check, metrics_only: bool = False) -> None:
    async def go() -> None:
        runtime = View()
        app = metrics_app(runtime) if metrics_only else make_app(runtime)
        server = HttpServer(app, asyncio.get_running_loop())
        await server.start("127.0.0.1", 0, None)
        [(host, port)] = server.addresses
        try:
            async with httpx.AsyncClient(base_url=f"http://{host}:{port}") as client:
                await check(client, runtime)
        finally:
            await server.close(timeout=1.0)

    asyncio.run(go())


def test_health_answers_at_once_and_ready_after_every_controller_started() -> None:
    async def check(client: httpx.AsyncClient, runtime: View) -> None:
        for path in ("/health", "/healthz"):
            response = await client.get(path)
            assert (response.status_code, response.json()) == (200, {"status": "ok"})
        for path in ("/ready", "/readyz"):
            response = await client.get(path)
            assert response.status_code == 503
            assert response.json() == {"status": "starting", "waiting": ["webapp"]}
        runtime.controllers["webapp"].started.set()
        response = await client.get("/readyz")
        assert (response.status_code, response.json()) == (200, {"status": "ready"})

    serve(check)


def test_metrics_are_prometheus_text_with_the_per_crd_series() -> None:
    async def check(client: httpx.AsyncClient, runtime: View) -> None:
        runtime.metrics.reconciles.labels("webapp", "success").inc()
        runtime.metrics.duration.distribution("webapp").observe(0.01)
        response = await client.get("/metrics")
        text = response.text
        assert response.headers["Content-Type"].startswith("text/plain; version=0.0.4")
        assert 'orkestra_reconcile_total{crd="webapp",result="success"} 1.0' in text
        assert 'orkestra_reconcile_duration_seconds_count{crd="webapp"} 1.0' in text
        assert 'orkestra_queue_depth{crd="webapp"} 0.0' in text

    serve(check)
    serve(check, metrics_only=True)


def test_the_katalog_endpoints_show_the_composition_and_the_cached_crs() -> None:
    async def check(client: httpx.AsyncClient, runtime: View) -> None:
        katalog = (await client.get("/katalog")).json()
        assert katalog["metadata"]["name"] == "webapp-operator"
        assert "webapp" in katalog["spec"]["crds"]
        crd = (await client.get("/katalog/webapp")).json()
        assert (crd["kind"], crd["workers"], crd["resyncSeconds"]) == ("WebApp", 2, 30.0)
        items = ((await client.get("/katalog/webapp/cr")).json())["items"]
        assert [i["metadata"]["name"] for i in items] == ["web"]
        one = await client.get("/katalog/webapp/cr/team/web")
        assert one.headers["Content-Type"] == "application/json; charset=utf-8"
        assert one.json()["spec"] == {"image": "nginx"}
        gone = await client.get("/katalog/webapp/cr/team/nope")
        assert (gone.status_code, gone.json()) == (
            404,
            {"error": "no WebApp team/nope in the cache"},
        )
        missing = await client.get("/katalog/nope")
        assert missing.status_code == 404
        assert "known: webapp" in missing.json()["error"]
        assert (await client.get("/katalog/nope/cr")).status_code == 404

    serve(check)


def test_crd_health_reports_workers_queue_and_failures() -> None:
    async def check(client: httpx.AsyncClient, runtime: View) -> None:
        runtime.controllers["webapp"].queue.add(("team", "web"))
        health = (await client.get("/katalog/webapp/health")).json()
        assert health["workers"] == 2 and health["queueDepth"] == 1
        assert health["consecutiveFailures"] == 0 and health["lastError"] is None
        assert health["degraded"] is False

    serve(check)


def test_a_cluster_scoped_cr_is_found_by_its_name_alone() -> None:
    async def check(client: httpx.AsyncClient, runtime: View) -> None:
        global_cr: KubeObject = {**CR, "metadata": {"name": "everywhere", "resourceVersion": "4"}}
        runtime.controllers["webapp"].store.upsert(global_cr)
        found = await client.get("/katalog/webapp/cr/everywhere")
        assert found.json()["metadata"]["name"] == "everywhere"
        missing = await client.get("/katalog/webapp/cr/nowhere")
        assert (missing.status_code, missing.json()) == (
            404,
            {"error": "no WebApp nowhere in the cache"},
        )

    serve(check)


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("GET", "/nope", 404),
        ("GET", "/health/", 404),
        ("GET", "/katalog/webapp/cr/team/web/more", 404),
        ("POST", "/health", 405),
        ("DELETE", "/katalog/webapp/cr/team/web", 405),
        ("PUT", "/nope", 404),
    ],
)
def test_unknown_paths_are_404_and_other_methods_405(method: str, path: str, status: int) -> None:
    async def check(client: httpx.AsyncClient, runtime: View) -> None:
        response = await client.request(method, path)
        assert response.status_code == status
        if status == 405:
            assert response.headers["Allow"] == "GET, HEAD"

    serve(check)


def test_head_answers_the_headers_of_get() -> None:
    async def check(client: httpx.AsyncClient, runtime: View) -> None:
        got, head = await client.get("/katalog"), await client.head("/katalog")
        assert head.status_code == 200 and head.content == b""
        assert head.headers["Content-Length"] == str(len(got.content))
        assert (await client.head("/ready")).status_code == 503

    serve(check)


def test_the_metrics_port_serves_metrics_alone() -> None:
    async def check(client: httpx.AsyncClient, runtime: View) -> None:
        assert (await client.get("/metrics")).status_code == 200
        assert (await client.get("/health")).status_code == 404
        assert (await client.get("/katalog")).status_code == 404

    serve(check, metrics_only=True)


def test_the_operator_serves_both_ports_and_closes_them_when_it_stops(
    server: EmbeddedServer, widgets: Path
) -> None:
    apply(server, widgets.parent / "crd.yaml")
    runtime = Runtime(server, widgets, metrics_port=free_port()).start()
    try:
        (host, port), (metrics_host, metrics_port) = runtime.operator.addresses
        assert port != 0 and metrics_port == runtime.operator.options.metrics_port
        kept = http.client.HTTPConnection(host, port, timeout=5)  # a keep-alive client
        kept.request("GET", "/ready")
        assert kept.getresponse().read() == b'{"status": "ready"}'
        with httpx.Client(base_url=f"http://{metrics_host}:{metrics_port}") as metrics:
            assert "orkestra_queue_depth" in metrics.get("/metrics").text
            assert metrics.get("/ready").status_code == 404
    finally:
        runtime.stop()
    assert kept.sock is not None and kept.sock.recv(1) == b""  # closed by the server
    kept.close()
    for address in runtime.operator.addresses:
        with pytest.raises(ConnectionRefusedError):
            socket.create_connection(address, timeout=5)

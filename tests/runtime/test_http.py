"""The runtime's HTTP endpoints, through aiohttp's test client."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp.test_utils import TestClient, TestServer

from orkestra.runtime.controller import Controller, Settings
from orkestra.runtime.events import EventRecorder
from orkestra.runtime.http import make_app, metrics_app
from orkestra.runtime.metrics import RuntimeMetrics
from orkestra.runtime.pattern import Unit
from tests.conftest import PACK

Obj = dict[str, Any]
CR = {
    "apiVersion": "rkguide.demo/v1",
    "kind": "WebApp",
    "metadata": {"name": "web", "namespace": "team", "resourceVersion": "3"},
    "spec": {"image": "nginx"},
}


class Runtime:
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

    def katalog(self) -> Obj:
        return self.unit.composed.as_katalog()


Check = Callable[[TestClient[Any, Any], Runtime], Awaitable[None]]


def serve(check: Check, metrics_only: bool = False) -> None:
    async def go() -> None:
        runtime = Runtime()
        app = metrics_app(runtime) if metrics_only else make_app(runtime)
        async with TestClient(TestServer(app)) as client:
            await check(client, runtime)

    asyncio.run(go())


def test_health_answers_at_once_and_ready_after_every_controller_started() -> None:
    async def check(client: TestClient[Any, Any], runtime: Runtime) -> None:
        assert (await client.get("/health")).status == 200
        response = await client.get("/ready")
        assert response.status == 503
        assert (await response.json())["waiting"] == ["webapp"]
        runtime.controllers["webapp"].started.set()
        assert (await client.get("/ready")).status == 200

    serve(check)


def test_metrics_are_prometheus_text_with_the_per_crd_series() -> None:
    async def check(client: TestClient[Any, Any], runtime: Runtime) -> None:
        runtime.metrics.reconciles.labels("webapp", "success").inc()
        runtime.metrics.duration.labels("webapp").observe(0.01)
        response = await client.get("/metrics")
        text = await response.text()
        assert response.headers["Content-Type"].startswith("text/plain; version=0.0.4")
        assert 'orkestra_reconcile_total{crd="webapp",result="success"} 1.0' in text
        assert 'orkestra_reconcile_duration_seconds_count{crd="webapp"} 1.0' in text
        assert 'orkestra_queue_depth{crd="webapp"} 0.0' in text

    serve(check)
    serve(check, metrics_only=True)


def test_the_katalog_endpoints_show_the_composition_and_the_cached_crs() -> None:
    async def check(client: TestClient[Any, Any], runtime: Runtime) -> None:
        katalog = await (await client.get("/katalog")).json()
        assert katalog["metadata"]["name"] == "webapp-operator"
        assert "webapp" in katalog["spec"]["crds"]
        crd = await (await client.get("/katalog/webapp")).json()
        assert (crd["kind"], crd["workers"], crd["resyncSeconds"]) == ("WebApp", 2, 30.0)
        items = (await (await client.get("/katalog/webapp/cr")).json())["items"]
        assert [i["metadata"]["name"] for i in items] == ["web"]
        one = await client.get("/katalog/webapp/cr/team/web")
        assert (await one.json())["spec"] == {"image": "nginx"}
        assert (await client.get("/katalog/webapp/cr/team/nope")).status == 404
        missing = await client.get("/katalog/nope")
        assert missing.status == 404
        assert "known: webapp" in (await missing.json())["error"]

    serve(check)


def test_crd_health_reports_workers_queue_and_failures() -> None:
    async def check(client: TestClient[Any, Any], runtime: Runtime) -> None:
        runtime.controllers["webapp"].queue.add(("team", "web"))
        health = await (await client.get("/katalog/webapp/health")).json()
        assert health["workers"] == 2 and health["queueDepth"] == 1
        assert health["consecutiveFailures"] == 0 and health["lastError"] is None
        assert health["degraded"] is False

    serve(check)

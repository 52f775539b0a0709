"""The runtime's HTTP endpoints (aiohttp, on the event loop).

``/health`` answers while the loop runs; ``/ready`` only once every controller has started
(its informers listed, its workers running); ``/metrics`` is the Prometheus text format;
``/katalog`` is the composed katalog as JSON (``KatalogList`` when several files run),
``/katalog/{crd}`` one CRD entry with its settings, ``/katalog/{crd}/cr`` the CRs in the
cache, ``/katalog/{crd}/cr/{namespace}/{name}`` (``/cr/{name}`` for cluster-scoped CRs)
one of them, and ``/katalog/{crd}/health`` the controller's workers, queue depth, last
error and consecutive failures.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Protocol, TypedDict

from aiohttp import web

from orkestra.model.shapes import Katalog
from orkestra.runtime.controller import Controller
from orkestra.runtime.metrics import RuntimeMetrics

PROMETHEUS_TEXT = "text/plain; version=0.0.4; charset=utf-8"
Handler = Callable[[web.Request], Awaitable[web.Response]]


class KatalogList(TypedDict):
    """``/katalog`` when several files run."""

    apiVersion: str
    kind: str
    items: list[Katalog]


class RuntimeView(Protocol):
    """What the endpoints read from the runtime."""

    metrics: RuntimeMetrics
    controllers: dict[str, Controller]

    @property
    def ready(self) -> bool: ...

    def katalog(self) -> Katalog | KatalogList: ...


def make_app(runtime: RuntimeView) -> web.Application:
    async def health(_: web.Request) -> web.Response:
        return web.json_response({"status": "ok"})

    async def ready(_: web.Request) -> web.Response:
        waiting = sorted(n for n, c in runtime.controllers.items() if not c.started.is_set())
        if runtime.ready:
            return web.json_response({"status": "ready"})
        return web.json_response({"status": "starting", "waiting": waiting}, status=503)

    async def katalog(_: web.Request) -> web.Response:
        return web.json_response(runtime.katalog())

    def controller(request: web.Request) -> Controller:
        name = request.match_info["crd"]
        found = runtime.controllers.get(name)
        if found is None:
            raise _not_found(f'no CRD "{name}"; known: ' + ", ".join(sorted(runtime.controllers)))
        return found

    async def crd(request: web.Request) -> web.Response:
        c = controller(request)
        return web.json_response(
            {
                "name": c.crd,
                "apiVersion": c.api_version,
                "kind": c.kind,
                "plural": c.plural,
                "workers": c.settings.workers,
                "resyncSeconds": c.settings.resync,
                "entry": c.entry,
            }
        )

    async def crs(request: web.Request) -> web.Response:
        return web.json_response({"items": controller(request).store.items()})

    async def cr(request: web.Request) -> web.Response:
        c = controller(request)
        key = (request.match_info.get("namespace", ""), request.match_info["name"])
        found = c.store.get(key)
        if found is None:
            raise _not_found(f"no {c.kind} {'/'.join(p for p in key if p)} in the cache")
        return web.json_response(found)

    async def crd_health(request: web.Request) -> web.Response:
        return web.json_response(controller(request).health())

    app = web.Application()
    app.add_routes(
        [
            web.get("/health", health),
            web.get("/healthz", health),
            web.get("/ready", ready),
            web.get("/readyz", ready),
            web.get("/metrics", _metrics(runtime)),
            web.get("/katalog", katalog),
            web.get("/katalog/{crd}", crd),
            web.get("/katalog/{crd}/cr", crs),
            web.get("/katalog/{crd}/cr/{namespace}/{name}", cr),
            web.get("/katalog/{crd}/cr/{name}", cr),
            web.get("/katalog/{crd}/health", crd_health),
        ]
    )
    return app


def metrics_app(runtime: RuntimeView) -> web.Application:
    """``/metrics`` alone, for a separate metrics port."""
    app = web.Application()
    app.add_routes([web.get("/metrics", _metrics(runtime))])
    return app


def _metrics(runtime: RuntimeView) -> Handler:
    async def metrics(_: web.Request) -> web.Response:
        return web.Response(
            body=runtime.metrics.render(), headers={"Content-Type": PROMETHEUS_TEXT}
        )

    return metrics


def _not_found(message: str) -> web.HTTPNotFound:
    return web.HTTPNotFound(text=json.dumps({"error": message}), content_type="application/json")

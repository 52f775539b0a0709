"""The gateway's two aiohttp applications.

HTTPS: ``POST /validate``, ``/mutate`` and ``/protect`` take an AdmissionReview v1 and
answer one. A body that is not one gets 400 with a JSON ``error`` (and the server goes on
serving); a decision that fails unexpectedly gets 500, which the API server treats as the
webhook's ``failurePolicy`` says. Bodies may be up to 16 MiB (an UPDATE carries the object
twice). HTTP: ``/health`` (``/healthz``) while the loop runs, ``/ready`` (``/readyz``) once
the gateway serves with its webhooks in place, ``/metrics`` in the Prometheus text format.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable

from aiohttp import web

from orkestra.gateway.metrics import GatewayMetrics
from orkestra.gateway.review import Decision, Request, ReviewError, parse, respond

Decide = Callable[[str, Request], Decision]
Handler = Callable[[web.Request], Awaitable[web.Response]]
WEBHOOKS = ("validate", "mutate", "protect")
MAX_BODY = 16 * 1024 * 1024
PROMETHEUS_TEXT = "text/plain; version=0.0.4; charset=utf-8"
log = logging.getLogger("orkestra.gateway")


def _error(status: int, message: str) -> web.Response:
    return web.json_response({"error": message}, status=status)


def _handler(webhook: str, decide: Decide, metrics: GatewayMetrics) -> Handler:
    async def handle(http: web.Request) -> web.Response:
        started = time.perf_counter()
        try:
            request = parse(await http.read())
            decision = decide(webhook, request)
        except ReviewError as exc:
            metrics.requests.labels(webhook, "", "bad_request").inc()
            return _error(400, str(exc))
        except RecursionError:
            metrics.requests.labels(webhook, "", "bad_request").inc()
            return _error(400, "the object is nested too deeply")
        except Exception:
            log.exception("the %s webhook failed", webhook)
            metrics.requests.labels(webhook, "", "error").inc()
            return _error(500, f"the {webhook} webhook failed; see the gateway's log")
        result = "allowed" if decision.allowed else "denied"
        metrics.requests.labels(webhook, request.operation, result).inc()
        metrics.duration.labels(webhook).observe(time.perf_counter() - started)
        if decision.warnings:
            metrics.warnings.labels(webhook).inc(len(decision.warnings))
        if not decision.allowed:
            log.info(
                "%s %s %s/%s: %s",
                webhook,
                request.operation,
                request.resource,
                "/".join(p for p in (request.namespace, request.name) if p),
                decision.message,
            )
        return web.json_response(respond(request, decision))

    return handle


def admission_app(decide: Decide, metrics: GatewayMetrics) -> web.Application:
    app = web.Application(client_max_size=MAX_BODY)
    app.add_routes([web.post(f"/{w}", _handler(w, decide, metrics)) for w in WEBHOOKS])
    return app


def http_app(ready: Callable[[], bool], metrics: GatewayMetrics) -> web.Application:
    async def health(_: web.Request) -> web.Response:
        return web.json_response({"status": "ok"})

    async def readiness(_: web.Request) -> web.Response:
        if ready():
            return web.json_response({"status": "ready"})
        return web.json_response({"status": "starting"}, status=503)

    async def prometheus(_: web.Request) -> web.Response:
        return web.Response(body=metrics.render(), headers={"Content-Type": PROMETHEUS_TEXT})

    app = web.Application()
    app.add_routes(
        [
            web.get("/health", health),
            web.get("/healthz", health),
            web.get("/ready", readiness),
            web.get("/readyz", readiness),
            web.get("/metrics", prometheus),
        ]
    )
    return app

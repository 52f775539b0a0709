"""The runtime's HTTP endpoints, on the event loop over :mod:`orkestra.httpserver`.

``/health`` answers while the loop runs; ``/ready`` only once every controller has started
(its informers listed, its workers running); ``/metrics`` is the Prometheus text format;
``/katalog`` is the composed katalog as JSON (``KatalogList`` when several files run),
``/katalog/{crd}`` one CRD entry with its settings, ``/katalog/{crd}/cr`` the CRs in the
cache, ``/katalog/{crd}/cr/{namespace}/{name}`` (``/cr/{name}`` for cluster-scoped CRs)
one of them, and ``/katalog/{crd}/health`` the controller's workers, queue depth, last
error and consecutive failures.

The endpoints used to be an aiohttp application; importing aiohttp was a large share of
``ork run``'s start-up (measured in :mod:`orkestra.runtime.asynchttp`), so they are served
by the HTTP layer the embedded API server uses, routed by :class:`Router`: a table of path
patterns, answering GET and HEAD, 405 for another method on a known path and 404 for an
unknown path, as aiohttp did.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from typing import Protocol, TypedDict

from orkestra.httpserver import Request, Response
from orkestra.model.shapes import Katalog
from orkestra.runtime.controller import Controller
from orkestra.runtime.metrics import RuntimeMetrics

PROMETHEUS_TEXT = "text/plain; version=0.0.4; charset=utf-8"
Endpoint = Callable[[Request], Response]
_METHODS = ("GET", "HEAD")
_PARAMETER = re.compile(r"\{(\w+)\}")


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


class NoSuchEntryError(Exception):
    """Answered 404 with ``{"error": message}``."""


class Router:
    """The server's handler: each request to the endpoint whose path pattern it matches
    (``{name}`` matches one path segment, given in ``request.match_info``)."""

    def __init__(self, routes: Mapping[str, Endpoint]) -> None:
        self._routes = [(_compile(path), endpoint) for path, endpoint in routes.items()]

    async def __call__(self, request: Request) -> Response:
        for pattern, endpoint in self._routes:
            match = pattern.fullmatch(request.path)
            if match is None:
                continue
            if request.method not in _METHODS:
                return Response(
                    text="405: Method Not Allowed",
                    status=405,
                    headers={"Allow": ", ".join(_METHODS)},
                )
            request.match_info.update(match.groupdict())
            try:
                return endpoint(request)
            except NoSuchEntryError as exc:
                return _json({"error": str(exc)}, status=404)
        return Response(text="404: Not Found", status=404)


def _compile(path: str) -> re.Pattern[str]:
    """``/a/{name}`` as a regular expression: literals, and a group per parameter."""
    parts = _PARAMETER.split(path)  # literal, name, literal, ..., literal
    return re.compile(
        "".join(
            f"(?P<{part}>[^/]+)" if index % 2 else re.escape(part)
            for index, part in enumerate(parts)
        )
    )


def _json(value: object, status: int = 200) -> Response:
    return Response(text=json.dumps(value), content_type="application/json", status=status)


def make_app(runtime: RuntimeView) -> Router:
    """Every endpoint."""

    def health(_: Request) -> Response:
        return _json({"status": "ok"})

    def ready(_: Request) -> Response:
        if runtime.ready:
            return _json({"status": "ready"})
        waiting = sorted(n for n, c in runtime.controllers.items() if not c.started.is_set())
        return _json({"status": "starting", "waiting": waiting}, status=503)

    def controller(request: Request) -> Controller:
        name = request.match_info["crd"]
        found = runtime.controllers.get(name)
        if found is None:
            raise NoSuchEntryError(
                f'no CRD "{name}"; known: ' + ", ".join(sorted(runtime.controllers))
            )
        return found

    def crd(request: Request) -> Response:
        c = controller(request)
        return _json(
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

    def crs(request: Request) -> Response:
        return _json({"items": controller(request).store.items()})

    def cr(request: Request) -> Response:
        c = controller(request)
        key = (request.match_info.get("namespace", ""), request.match_info["name"])
        found = c.store.get(key)
        if found is None:
            raise NoSuchEntryError(f"no {c.kind} {'/'.join(p for p in key if p)} in the cache")
        return _json(found)

    def crd_health(request: Request) -> Response:
        return _json(controller(request).health())

    return Router(
        {
            "/health": health,
            "/healthz": health,
            "/ready": ready,
            "/readyz": ready,
            "/metrics": _metrics(runtime),
            "/katalog": lambda _: _json(runtime.katalog()),
            "/katalog/{crd}": crd,
            "/katalog/{crd}/cr": crs,
            "/katalog/{crd}/cr/{namespace}/{name}": cr,
            "/katalog/{crd}/cr/{name}": cr,
            "/katalog/{crd}/health": crd_health,
        }
    )


def metrics_app(runtime: RuntimeView) -> Router:
    """``/metrics`` alone, for a separate metrics port."""
    return Router({"/metrics": _metrics(runtime)})


def _metrics(runtime: RuntimeView) -> Endpoint:
    return lambda _: Response(runtime.metrics.render(), content_type=PROMETHEUS_TEXT)

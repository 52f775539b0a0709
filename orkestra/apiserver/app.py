"""The aiohttp application: routes, authentication, errors as ``Status``, fault injection,
and an optional audit log of writes (who changed what: tests check that only a leader
writes)."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass

from aiohttp import web
from aiohttp.typedefs import Middleware

from orkestra.apiserver import codec, discovery, openapi
from orkestra.apiserver.admission import WebhookAdmission
from orkestra.apiserver.certs import token_matches
from orkestra.apiserver.faults import WRITES, Faults
from orkestra.apiserver.podlogs import LogSource
from orkestra.apiserver.rest import Resources
from orkestra.apiserver.watch import WatchHub
from orkestra.apiserver.webhooks import ServiceHosts, WebhookCaller
from orkestra.cluster import MemoryCluster
from orkestra.cluster.errors import (
    ApiError,
    NotAcceptableError,
    NotFoundError,
    UnauthorizedError,
)

log = logging.getLogger("orkestra.apiserver")
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
PUBLIC = ("/healthz", "/livez", "/readyz", "/version")


class Api:
    """The handlers that are not about one resource: discovery, OpenAPI, health."""

    def __init__(self, cluster: MemoryCluster, address: Callable[[], str]) -> None:
        self.cluster = cluster
        self.address = address

    async def version(self, request: web.Request) -> web.StreamResponse:
        return codec.respond(discovery.version_info())

    async def core_versions(self, request: web.Request) -> web.StreamResponse:
        return codec.respond(discovery.api_versions(self.address()))

    async def groups(self, request: web.Request) -> web.StreamResponse:
        return codec.respond(discovery.api_group_list(self.cluster.types()))

    async def group(self, request: web.Request) -> web.StreamResponse:
        found = discovery.api_group(self.cluster.types(), request.match_info["group"])
        return _found(found)

    async def resources(self, request: web.Request) -> web.StreamResponse:
        group = request.match_info.get("group", "")
        version = request.match_info.get("version", "v1")
        return _found(discovery.resource_list(self.cluster.types(), group, version))

    async def openapi_v2(self, request: web.Request) -> web.StreamResponse:
        accept = request.headers.get("Accept", "application/json")
        if "json" not in accept and "*/*" not in accept:
            return codec.status_response(
                NotAcceptableError("only application/json is served for /openapi/v2")
            )
        return web.Response(
            body=openapi.v2_document_json(self.cluster.types()), content_type=codec.JSON
        )

    async def openapi_v3(self, request: web.Request) -> web.StreamResponse:
        return codec.respond(openapi.v3_index(self.cluster.types()))

    async def openapi_v3_group(self, request: web.Request) -> web.StreamResponse:
        found = openapi.v3_document_json(request.match_info["gv"], self.cluster.types())
        if found is None:
            return _found(None)
        document, digest = found
        headers = {"ETag": f'"{digest}"'}
        if request.query.get("hash") == digest:
            headers["Cache-Control"] = "public, immutable"
        return web.Response(body=document, content_type=codec.JSON, headers=headers)

    async def health(self, request: web.Request) -> web.StreamResponse:
        return web.Response(text="ok")


def _found(document: Mapping[str, object] | None) -> web.Response:
    if document is None:
        return codec.status_response(
            NotFoundError("the server could not find the requested resource")
        )
    return codec.respond(document)


@dataclass(frozen=True)
class AuditRecord:
    method: str
    path: str
    status: int
    user_agent: str


def _middleware(
    token: str | None, faults: Faults | None, audit: list[AuditRecord] | None
) -> Middleware:
    """One middleware (every layer costs an await per request): authentication, injected
    faults, the audit record and errors as ``Status``."""

    def refusal(request: web.Request) -> ApiError | None:
        if (
            token
            and not request.path.startswith(PUBLIC)
            and not token_matches(request.headers.get("Authorization"), token)
        ):
            return UnauthorizedError("Unauthorized")
        if (
            faults is not None
            and request.path.startswith(("/api/v1/", "/apis/"))
            and request.query.get("watch") not in ("true", "1")
        ):
            return faults.pick(request.method, request.path_qs)
        return None

    @web.middleware
    async def serve(request: web.Request, handler: Handler) -> web.StreamResponse:
        refused = refusal(request)
        if refused is not None and refused.code == 401:
            return codec.status_response(refused)
        try:
            response = (
                codec.status_response(refused) if refused is not None else await handler(request)
            )
        except ApiError as exc:
            response = codec.status_response(exc)
        except web.HTTPException as exc:
            if exc.status != 404:
                raise
            response = codec.status_response(
                NotFoundError("the server could not find the requested resource")
            )
        except Exception:
            log.exception("%s %s failed", request.method, request.path)
            response = codec.status_response(
                ApiError("Internal error occurred: see the server log")
            )
        if audit is not None and request.method in WRITES:
            audit.append(
                AuditRecord(
                    request.method,
                    request.path_qs,
                    response.status,
                    request.headers.get("User-Agent", ""),
                )
            )
        return response

    return serve


def build_app(
    cluster: MemoryCluster,
    hub: WatchHub,
    *,
    token: str | None,
    address: Callable[[], str],
    faults: Faults | None = None,
    audit: list[AuditRecord] | None = None,
    service_hosts: ServiceHosts | None = None,
    logs: LogSource | None = None,
) -> web.Application:
    """The application; ``service_hosts`` is where admission webhooks' services are
    (:mod:`orkestra.apiserver.webhooks`), ``logs`` the output of locally run Pods
    (:mod:`orkestra.apiserver.podlogs`)."""
    app = web.Application(
        middlewares=[_middleware(token, faults, audit)], client_max_size=8 * 1024 * 1024
    )
    api = Api(cluster, address)
    webhooks = WebhookCaller(cluster, service_hosts)

    async def close_webhooks(app: web.Application) -> None:
        await webhooks.close()

    app.on_cleanup.append(close_webhooks)
    rest = Resources(cluster, hub, WebhookAdmission(cluster, webhooks), logs)
    get = web.get
    routes = [
        get("/version", api.version),
        get("/version/", api.version),
        get("/api", api.core_versions),
        get("/api/", api.core_versions),
        get("/apis", api.groups),
        get("/apis/", api.groups),
        get("/api/v1", api.resources),
        get("/api/v1/", api.resources),
        get("/apis/{group}", api.group),
        get("/apis/{group}/", api.group),
        get("/apis/{group}/{version}", api.resources),
        get("/apis/{group}/{version}/", api.resources),
        get("/openapi/v2", api.openapi_v2),
        get("/openapi/v3", api.openapi_v3),
        get("/openapi/v3/{gv:.+}", api.openapi_v3_group),
    ]
    routes += [get(path, api.health) for path in ("/healthz", "/livez", "/readyz")]
    # the resource routes first: nearly every request is one, and routes match in order
    app.add_routes(
        [
            web.route("*", "/api/v1/{rest:.+}", rest.core),
            web.route("*", "/apis/{group}/{version}/{rest:.+}", rest.grouped),
            *routes,
        ]
    )
    return app

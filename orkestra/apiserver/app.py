"""The application: routes, authentication, errors as ``Status``, fault injection, and an
optional audit log of writes (who changed what: tests check that only a leader writes), on
the server's HTTP layer (:mod:`orkestra.httpserver`)."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass

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
    MethodNotAllowedError,
    NotAcceptableError,
    NotFoundError,
    UnauthorizedError,
)
from orkestra.httpserver import AnyResponse, Handler, Request, Response

log = logging.getLogger("orkestra.apiserver")
PUBLIC = ("/healthz", "/livez", "/readyz", "/version")


class Api:
    """The handlers that are not about one resource: discovery, OpenAPI, health."""

    def __init__(self, cluster: MemoryCluster, address: Callable[[], str]) -> None:
        self.cluster = cluster
        self.address = address

    async def version(self, request: Request) -> AnyResponse:
        return codec.respond(discovery.version_info())

    async def core_versions(self, request: Request) -> AnyResponse:
        return codec.respond(discovery.api_versions(self.address()))

    async def groups(self, request: Request) -> AnyResponse:
        return codec.respond(discovery.api_group_list(self.cluster.types()))

    async def group(self, request: Request) -> AnyResponse:
        found = discovery.api_group(self.cluster.types(), request.match_info["group"])
        return _found(found)

    async def resources(self, request: Request) -> AnyResponse:
        group = request.match_info.get("group", "")
        version = request.match_info.get("version", "v1")
        return _found(discovery.resource_list(self.cluster.types(), group, version))

    async def openapi_v2(self, request: Request) -> AnyResponse:
        accept = request.headers.get("Accept", "application/json")
        if "json" not in accept and "*/*" not in accept:
            return codec.status_response(
                NotAcceptableError("only application/json is served for /openapi/v2")
            )
        return Response(openapi.v2_document_json(self.cluster.types()), content_type=codec.JSON)

    async def openapi_v3(self, request: Request) -> AnyResponse:
        return codec.respond(openapi.v3_index(self.cluster.types()))

    async def openapi_v3_group(self, request: Request) -> AnyResponse:
        found = openapi.v3_document_json(request.match_info["gv"], self.cluster.types())
        if found is None:
            return _found(None)
        document, digest = found
        headers = {"ETag": f'"{digest}"'}
        if request.query.get("hash") == digest:
            headers["Cache-Control"] = "public, immutable"
        return Response(document, content_type=codec.JSON, headers=headers)

    async def health(self, request: Request) -> AnyResponse:
        return Response(text="ok")


def _found(document: Mapping[str, object] | None) -> Response:
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


class Application:
    """Routes a request to its handler, past authentication and injected faults, with
    errors answered as ``Status`` (every request passes here: routing is a few string
    tests, the resource routes first)."""

    def __init__(
        self,
        api: Api,
        rest: Resources,
        webhooks: WebhookCaller,
        *,
        token: str | None,
        faults: Faults | None,
        audit: list[AuditRecord] | None,
    ) -> None:
        self.rest = rest
        self.webhooks = webhooks
        self.token = token
        self.faults = faults
        self.audit = audit
        self._exact: dict[str, Handler] = {
            "/version": api.version,
            "/version/": api.version,
            "/api": api.core_versions,
            "/api/": api.core_versions,
            "/apis": api.groups,
            "/apis/": api.groups,
            "/api/v1": api.resources,
            "/api/v1/": api.resources,
            "/openapi/v2": api.openapi_v2,
            "/openapi/v3": api.openapi_v3,
            **dict.fromkeys(("/healthz", "/livez", "/readyz"), api.health),
        }
        self._api = api

    async def cleanup(self) -> None:
        await self.webhooks.close()

    async def __call__(self, request: Request) -> AnyResponse:
        refused = self._refusal(request)
        if refused is not None and refused.code == 401:
            return codec.status_response(refused)
        try:
            response = (
                codec.status_response(refused)
                if refused is not None
                else await self._route(request)(request)
            )
        except ApiError as exc:
            response = codec.status_response(exc)
        except Exception:
            log.exception("%s %s failed", request.method, request.path)
            response = codec.status_response(
                ApiError("Internal error occurred: see the server log")
            )
        if self.audit is not None and request.method in WRITES:
            self.audit.append(
                AuditRecord(
                    request.method,
                    request.path_qs,
                    response.status,
                    request.headers.get("User-Agent", ""),
                )
            )
        return response

    def _refusal(self, request: Request) -> ApiError | None:
        if (
            self.token
            and not request.path.startswith(PUBLIC)
            and not token_matches(request.headers.get("Authorization"), self.token)
        ):
            return UnauthorizedError("Unauthorized")
        if (
            self.faults is not None
            and request.path.startswith(("/api/v1/", "/apis/"))
            and request.query.get("watch") not in ("true", "1")
        ):
            return self.faults.pick(request.method, request.path_qs)
        return None

    def _route(self, request: Request) -> Handler:
        """The handler of a path, its parameters put in ``match_info``: the resource
        routes (``/api/v1/{rest}``, ``/apis/{group}/{version}/{rest}``) for any method,
        the others for GET and HEAD."""
        path = request.path
        if path.startswith("/api/v1/") and len(path) > 8:
            request.match_info["rest"] = path[8:]
            return self.rest.core
        if path.startswith("/apis/"):
            parts = path[6:].split("/", 2)
            if len(parts) == 3 and all(parts):
                request.match_info.update(group=parts[0], version=parts[1], rest=parts[2])
                return self.rest.grouped
        handler = self._read_only(path, request.match_info)
        if handler is None:
            raise NotFoundError("the server could not find the requested resource")
        if request.method not in ("GET", "HEAD"):
            raise MethodNotAllowedError(
                f"the server does not allow this method on the requested resource "
                f"({request.method})"
            )
        return handler

    def _read_only(self, path: str, match_info: dict[str, str]) -> Handler | None:
        handler = self._exact.get(path)
        if handler is not None:
            return handler
        if path.startswith("/openapi/v3/") and len(path) > 12:
            match_info["gv"] = path[12:]
            return self._api.openapi_v3_group
        if path.startswith("/apis/"):
            parts = path[6:].split("/")
            if parts[-1] == "":  # one trailing slash is allowed
                parts.pop()
            if 1 <= len(parts) <= 2 and all(parts):
                match_info.update(zip(("group", "version"), parts, strict=False))
                return self._api.group if len(parts) == 1 else self._api.resources
        return None


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
) -> Application:
    """The application; ``service_hosts`` is where admission webhooks' services are
    (:mod:`orkestra.apiserver.webhooks`), ``logs`` the output of locally run Pods
    (:mod:`orkestra.apiserver.podlogs`)."""
    webhooks = WebhookCaller(cluster, service_hosts)
    rest = Resources(cluster, hub, WebhookAdmission(cluster, webhooks), logs)
    return Application(
        Api(cluster, address), rest, webhooks, token=token, faults=faults, audit=audit
    )

"""The Kubernetes client of the runtime: REST over plain dicts, watch streams.

Configuration (kubeconfig files and contexts, the in-cluster service account, TLS,
credentials) is :mod:`orkestra.runtime.kubeconfig`'s; ``load_config`` and its error are
re-exported here. The transport is :mod:`orkestra.runtime.asynchttp` on the event loop
(informers, leader election, events, and the workers' reconciles, whose synchronous calls
wait there through :mod:`orkestra.greenbridge`) and :mod:`orkestra.transport` for a caller
on a thread of its own (one keep-alive connection per thread; it replaced ``http.client``,
whose response parsing cost three times as much CPU): the runtime spends much of its time
in HTTP calls, and the httpx client costs three times the CPU per call of ``http.client``
(see the package docstring for the measurements).
Bodies are plain dicts encoded and decoded with msgspec, since the engine works on dicts;
watch events are handed over as the lines the server sent, so that the informer decodes
only those it needs.
Error statuses become :mod:`orkestra.cluster.errors` classes (NotFound, AlreadyExists,
Conflict, Invalid, Gone for an expired watch version ...), and 5xx, 429 or a network failure
:class:`ServiceUnavailableError` (worth retrying). Discovery maps
(apiVersion, kind) to a :class:`Resource` and is cached; a kind not found is looked up again
once, since a CRD may just have been established.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode, urlsplit

import msgspec

from orkestra import __version__
from orkestra.cluster.errors import (
    AlreadyExistsError,
    ApiError,
    BadRequestError,
    ConflictError,
    ForbiddenError,
    GoneError,
    InvalidError,
    MethodNotAllowedError,
    NotFoundError,
    ServiceUnavailableError,
    UnauthorizedError,
    UnexpectedStatusError,
    UnsupportedMediaTypeError,
)
from orkestra.greenbridge import in_worker, wait_for
from orkestra.kubeobjects import APIResource, APIResourceList, KubeList, KubeObject
from orkestra.runtime.asynchttp import AsyncPool
from orkestra.runtime.kubeconfig import ClusterConfig, Credentials
from orkestra.runtime.kubeconfig import ConnectionConfigError as ConnectionConfigError
from orkestra.runtime.kubeconfig import load_config as load_config
from orkestra.transport import Connection, Response, TransportError

JSON = "application/json"
MERGE_PATCH = "application/merge-patch+json"
USER_AGENT = f"orkestra/{__version__}"
# Writes name their field manager, and skip the unknown-field report nobody would read (the
# server drops unknown fields either way; only Strict would refuse them).
WRITE_PARAMS = {"fieldManager": "orkestra", "fieldValidation": "Ignore"}
_WRITE_QUERY = urlencode(WRITE_PARAMS)
WATCH_GRACE = 30.0  # seconds a watch may outlast its timeoutSeconds before we end it
_ENCODER = msgspec.json.Encoder()
_DECODER = msgspec.json.Decoder()
_BY_REASON: dict[str, type[ApiError]] = {
    "NotFound": NotFoundError,
    "AlreadyExists": AlreadyExistsError,
    "Conflict": ConflictError,
    "Invalid": InvalidError,
    "BadRequest": BadRequestError,
}
_BY_CODE: dict[int, type[ApiError]] = {
    400: BadRequestError,
    401: UnauthorizedError,
    403: ForbiddenError,
    404: NotFoundError,
    405: MethodNotAllowedError,
    415: UnsupportedMediaTypeError,
    422: InvalidError,
}


def api_error(code: int, body: bytes) -> ApiError:
    """The error an error response stands for."""
    try:
        status = _DECODER.decode(body)
    except msgspec.DecodeError:
        status = {}
    if not isinstance(status, dict):
        status = {}
    message = str(status.get("message") or body[:200].decode("utf-8", "replace") or code)
    reason = str(status.get("reason") or "")
    if code == 410 or reason in ("Gone", "Expired"):
        return GoneError(message)
    if code >= 500 or code == 429:
        return ServiceUnavailableError(message)
    if code == 409 and reason != "AlreadyExists":
        return ConflictError(message)
    known = _BY_REASON.get(reason) or _BY_CODE.get(code)
    if known is not None:
        return known(message)
    return UnexpectedStatusError(message, code, reason or "Failure")


def decode(data: bytes) -> Any:
    """The JSON value of ``data``, as the caller knows it to be (a response's shape)."""
    return _DECODER.decode(data)


def encode(obj: object) -> bytes:
    return _ENCODER.encode(obj)


@dataclass(frozen=True, kw_only=True)
class Resource:
    """A served resource type: where its objects live in the REST API."""

    group: str
    version: str
    plural: str
    kind: str
    namespaced: bool
    has_status: bool = False

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version

    @property
    def base(self) -> str:
        return f"/apis/{self.group}/{self.version}" if self.group else f"/api/{self.version}"

    def path(self, namespace: str | None = None, name: str = "", subresource: str = "") -> str:
        """``/apis/G/V[/namespaces/NS]/PLURAL[/NAME[/SUB]]``; a None namespace lists across
        all namespaces."""
        path = self.base
        if self.namespaced and namespace:
            path += f"/namespaces/{namespace}"
        path += f"/{self.plural}"
        if name:
            path += f"/{name}"
            if subresource:
                path += f"/{subresource}"
        return path

    def namespace_of(self, namespace: str | None) -> str:
        """The namespace an object of this type lives in ("" when cluster-scoped)."""
        return (namespace or "default") if self.namespaced else ""


class _Local(threading.local):
    connection: Connection | None = None


class KubeClient:
    """REST calls over dicts, synchronous (for the engine, in a worker greenlet or on a
    thread) and asynchronous (for the event loop), through the same configuration."""

    def __init__(self, config: ClusterConfig, *, timeout: float = 30.0) -> None:
        self.config = config
        self.timeout = timeout
        url = urlsplit(config.cluster.server)
        self._host = url.hostname or "localhost"
        self._port = url.port or (443 if url.scheme == "https" else 80)
        self._prefix = url.path.rstrip("/")
        self._ssl = config.ssl_context()
        self.credentials = Credentials(config.user)
        self.user_agent = USER_AGENT
        self._local = _Local()
        self._pool: AsyncPool | None = None
        self._discovery: dict[str, list[APIResource]] = {}
        self._resources: dict[tuple[str, str], Resource] = {}

    @property
    def server(self) -> str:
        return self.config.cluster.server

    @property
    def namespace(self) -> str:
        return self.config.namespace

    def _headers(self, body: bytes | None, content_type: str) -> dict[str, str]:
        headers = {"Accept": JSON, "User-Agent": self.user_agent}
        auth = self.credentials.header()
        if auth:
            headers["Authorization"] = auth
        if body is not None:
            headers["Content-Type"] = content_type
        return headers

    def _url(self, path: str, params: dict[str, str] | None) -> str:
        if not params:
            return self._prefix + path
        query = _WRITE_QUERY if params is WRITE_PARAMS else urlencode(params)
        return f"{self._prefix}{path}?{query}"

    # -- synchronous transport --------------------------------------------------------
    def request(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, str] | None = None,
        body: object = None,
        content_type: str = JSON,
    ) -> Any:
        """One call on this thread's keep-alive connection (from a worker greenlet, on the
        event loop's: :meth:`arequest`). A connection the server closed while idle is
        reopened and the call sent again; a 401 with a renewable credential is retried once
        with a fresh one."""
        if in_worker():  # a reconcile on the event loop: the call waits there
            return wait_for(
                self.arequest(method, path, params=params, body=body, content_type=content_type)
            )
        target = self._url(path, params)
        data = None if body is None else encode(body)
        for attempt in (1, 2):
            connection = self._connection()
            reused = connection.requests > 0
            try:
                response = connection.request(
                    method, target, self._headers(data, content_type), data
                )
            except TransportError as exc:
                if reused and exc.before_response and attempt == 1:
                    continue  # closed while idle: nothing of it reached the server's answer
                raise ServiceUnavailableError(f"{method} {path}: {exc}") from None
            if response.status == 401 and attempt == 1 and self.credentials.refresh():
                continue
            return _result(response.status, response.body)
        raise ServiceUnavailableError(f"{method} {path}: no answer")

    def _connection(self) -> Connection:
        connection = self._local.connection
        if connection is None:
            connection = Connection(self._host, self._port, context=self._ssl, timeout=self.timeout)
            self._local.connection = connection
        return connection

    # -- asynchronous transport -------------------------------------------------------
    @property
    def pool(self) -> AsyncPool:
        """The event loop's connections, made on first use (inside the running loop)."""
        if self._pool is None:
            self._pool = AsyncPool(self._host, self._port, context=self._ssl, timeout=self.timeout)
        return self._pool

    async def _aheaders(self, body: bytes | None, content_type: str) -> dict[str, str]:
        """The request headers, from the event loop (an exec plugin runs on a thread)."""
        if self.credentials.user.exec is not None:
            return await asyncio.to_thread(self._headers, body, content_type)
        return self._headers(body, content_type)

    async def arequest(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, str] | None = None,
        body: object = None,
        content_type: str = JSON,
    ) -> Any:
        """One call on the event loop's connections, with :meth:`request`'s retries."""
        target = self._url(path, params)
        data = None if body is None else encode(body)
        response = await self._asend(method, path, target, data, content_type)
        if response.status == 401 and self.credentials.refresh():
            response = await self._asend(method, path, target, data, content_type)
        return _result(response.status, response.body)

    async def _asend(
        self, method: str, path: str, target: str, data: bytes | None, content_type: str
    ) -> Response:
        headers = await self._aheaders(data, content_type)
        try:
            return await self.pool.request(method, target, headers, data)
        except OSError as exc:  # TimeoutError included
            raise ServiceUnavailableError(f"{method} {path}: {_reason(exc)}") from None

    # -- objects (synchronous) --------------------------------------------------------
    def get(self, res: Resource, name: str, namespace: str | None = None) -> KubeObject:
        result: KubeObject = self.request("GET", res.path(res.namespace_of(namespace), name))
        return result

    def list_items(
        self,
        res: Resource,
        namespace: str | None = None,
        *,
        label_selector: str | None = None,
        field_selector: str | None = None,
    ) -> list[KubeObject]:
        params = {
            k: v
            for k, v in (("labelSelector", label_selector), ("fieldSelector", field_selector))
            if v
        }
        result: KubeList = self.request("GET", res.path(namespace), params=params)
        return result.get("items") or []

    def create(self, res: Resource, obj: KubeObject) -> KubeObject:
        namespace = res.namespace_of(obj["metadata"].get("namespace"))
        result: KubeObject = self.request(
            "POST", res.path(namespace), params=WRITE_PARAMS, body=obj
        )
        return result

    def replace(self, res: Resource, obj: KubeObject, subresource: str = "") -> KubeObject:
        meta = obj["metadata"]
        path = res.path(res.namespace_of(meta.get("namespace")), meta["name"], subresource)
        result: KubeObject = self.request("PUT", path, params=WRITE_PARAMS, body=obj)
        return result

    def delete(self, res: Resource, name: str, namespace: str | None = None) -> KubeObject:
        """Delete with background propagation (children follow); the answer is the object
        (with a deletionTimestamp when finalizers hold it) or a Status."""
        result: KubeObject = self.request(
            "DELETE",
            res.path(res.namespace_of(namespace), name),
            body={"kind": "DeleteOptions", "apiVersion": "v1", "propagationPolicy": "Background"},
        )
        return result

    # -- discovery --------------------------------------------------------------------
    def resource(self, api_version: str, kind: str) -> Resource:
        """The served resource of a kind; NotFoundError when the server has none."""
        found = self._resources.get((api_version, kind))
        if found is not None:
            return found
        # No lock around the reads: two callers may both ask, and agree on the answer (a
        # lock held across a call could not be taken by another worker of the loop's thread).
        for refresh in (False, True):
            found = self._discover(api_version, kind, refresh)
            if found is not None:
                self._resources[(api_version, kind)] = found
                return found
        raise NotFoundError(f'no matches for kind "{kind}" in version "{api_version}"')

    def _discover(self, api_version: str, kind: str, refresh: bool) -> Resource | None:
        entries = self._discovery.get(api_version)
        if entries is None or refresh:
            base = f"/apis/{api_version}" if "/" in api_version else f"/api/{api_version}"
            try:
                listing: APIResourceList = self.request("GET", base)
                entries = list(listing.get("resources") or [])
            except NotFoundError:
                entries = []
            self._discovery[api_version] = entries
        names = {str(e.get("name")) for e in entries}
        group, _, version = api_version.rpartition("/")
        for entry in entries:
            name = str(entry.get("name", ""))
            if entry.get("kind") == kind and "/" not in name:
                return Resource(
                    group=group,
                    version=version,
                    plural=name,
                    kind=kind,
                    namespaced=bool(entry.get("namespaced")),
                    has_status=f"{name}/status" in names,
                )
        return None

    # -- asynchronous -----------------------------------------------------------------
    async def list_page(
        self, res: Resource, namespace: str | None, *, limit: int, token: str = ""
    ) -> tuple[list[KubeObject], str, str]:
        """One page of a list (all namespaces when ``namespace`` is None): (items,
        resourceVersion, continue token)."""
        params = {"limit": str(limit), **({"continue": token} if token else {})}
        result: KubeList = await self.arequest("GET", res.path(namespace), params=params)
        meta = result.get("metadata") or {}
        return (
            list(result.get("items") or []),
            str(meta.get("resourceVersion") or ""),
            str(meta.get("continue") or ""),
        )

    async def watch(
        self,
        res: Resource,
        namespace: str | None,
        resource_version: str,
        timeout_seconds: int,
        on_event: Callable[[bytes], None],
    ) -> int:
        """Follow a watch (all namespaces when ``namespace`` is None) from
        ``resource_version``, bookmarks on, until the server ends it (or, should it not,
        until ``timeout_seconds`` and :data:`WATCH_GRACE` more have passed), handing each
        event to ``on_event`` as it arrives: the line the server sent (JSON), left to it to
        decode, or not. What ``on_event`` raises ends the watch and is raised here. The
        number of events."""
        params = {
            "watch": "true",
            "allowWatchBookmarks": "true",
            "resourceVersion": resource_version,
            "timeoutSeconds": str(timeout_seconds),
        }
        path = res.path(namespace)
        deadline = asyncio.get_running_loop().time() + timeout_seconds + WATCH_GRACE
        headers = await self._aheaders(None, JSON)
        events = 0

        def event(line: bytes) -> None:
            nonlocal events
            events += 1
            on_event(line)

        try:
            answer = await self.pool.stream_lines(
                "GET", self._url(path, params), headers, deadline=deadline, on_line=event
            )
        except OSError as exc:
            raise ServiceUnavailableError(f"watch {path}: {_reason(exc)}") from None
        if answer.status >= 400:
            if answer.status == 401:
                self.credentials.refresh()
            raise api_error(answer.status, answer.body)
        for line in answer.body.split(b"\n"):  # the whole of a stream that was not chunked
            if line.strip():
                event(line)
        return events

    def close(self) -> None:
        connection = self._local.connection
        if connection is not None:
            connection.close()
            self._local.connection = None

    async def aclose(self) -> None:
        if self._pool is not None:
            await self._pool.aclose()
            self._pool = None
        self.close()


def _reason(exc: OSError) -> str:
    return str(exc) or type(exc).__name__  # a timeout has no message


def _result(status: int, content: bytes) -> Any:
    if status >= 400:
        raise api_error(status, content)
    return decode(content) if content else {}

"""Calling admission webhooks: HTTPS POSTs of AdmissionReviews from the server's event loop.

A webhook's ``clientConfig`` names a ``url`` or a ``service`` (namespace, name, path, port).
The embedded server runs no Pods, so a Service has no endpoints to connect to; a service
reference is resolved, in order, by:

1. the ``service_hosts`` the server was given: ``{(namespace, name): "host:port"}`` (or just
   ``"host"``, keeping the reference's port), for a webhook served somewhere else (a test's
   server, a local process on another port); the mapping is read at each call, so it may be
   filled in while the server runs;
2. the Service in the store: 127.0.0.1 and the ``targetPort`` of the Service port the
   reference names (its port when the targetPort is named or absent), which is where an
   operator run locally (``ork run --dev``) listens.

Either way the webhook's certificate is verified as kube-apiserver verifies it: against the
``caBundle`` (the system's roots without one) and, for a service, the name
``<name>.<namespace>.svc``. A call is bounded by ``timeoutSeconds``. Failures raise
:class:`~orkestra.cluster.webhooks.CallError` worded as the API server's Go client words them
(``Post "https://hook.ns.svc:443/validate?timeout=10s": dial tcp 127.0.0.1:9443: connect:
connection refused``, ``...: context deadline exceeded``); what the webhook answered is read
by :func:`orkestra.cluster.webhooks.verdict`.
"""

from __future__ import annotations

import json
import ssl
from collections.abc import Mapping

import aiohttp

from orkestra.apiserver.specs import service_spec
from orkestra.cluster import MemoryCluster, NotFoundError
from orkestra.cluster.webhooks import AdmissionReview, CallError, Webhook
from orkestra.kubeobjects import Json

ServiceHosts = Mapping[tuple[str, str], str]
LOCALHOST = "127.0.0.1"
_STATUS_TEXTS = {
    400: "the server rejected our request for an unknown reason",
    401: "the server has asked for the client to provide credentials",
    403: "forbidden",
    404: "the server could not find the requested resource",
    405: "the server does not allow this method on the requested resource",
    429: "the server has received too many requests and has asked us to try again later",
    503: "the server is currently unable to handle the request",
    504: "the server was unable to return a response in the time allotted, but may still be "
    "processing the request",
}


class WebhookCaller:
    """POSTs AdmissionReviews for one server (a client session opened on first use, in the
    server's loop, and closed with it)."""

    def __init__(self, cluster: MemoryCluster, service_hosts: ServiceHosts | None = None) -> None:
        self.cluster = cluster
        self.service_hosts: ServiceHosts = service_hosts if service_hosts is not None else {}
        self._session: aiohttp.ClientSession | None = None
        self._contexts: dict[bytes | None, ssl.SSLContext] = {}

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def post(self, webhook: Webhook, review: AdmissionReview) -> Json:
        """The decoded answer of a webhook to a review (CallError when there is none)."""
        shown = webhook.url
        try:
            url, server_name = self._target(webhook)
        except CallError as exc:
            raise CallError(f'failed to call webhook: Post "{shown}": {exc}') from None
        try:
            context = self._context(webhook.ca_bundle)
        except ssl.SSLError:
            raise CallError(
                f'failed to call webhook: Post "{shown}": unable to load root '
                "certificates: unable to parse bytes as PEM block"
            ) from None
        if self._session is None:
            self._session = aiohttp.ClientSession(json_serialize=json.dumps)
        try:
            async with self._session.post(
                url,
                json=review,
                ssl=context,
                server_hostname=server_name,
                timeout=aiohttp.ClientTimeout(total=webhook.timeout),
            ) as response:
                body = await response.read()
                status = response.status
        except TimeoutError:
            raise CallError(
                f'failed to call webhook: Post "{shown}": context deadline exceeded'
            ) from None
        except aiohttp.ClientError as exc:
            raise CallError(
                f'failed to call webhook: Post "{shown}": {_client_error(exc, url)}'
            ) from None
        if status != 200:
            raise CallError(f"failed to call webhook: {_status_error(status, body)}")
        try:
            answer: Json = json.loads(body)
        except ValueError as exc:
            raise CallError(
                f"failed to call webhook: couldn't get version/kind; json parse error: {exc}"
            ) from None
        return answer

    def _target(self, webhook: Webhook) -> tuple[str, str | None]:
        """The URL to connect to and the name to verify the certificate against (None:
        the URL's host)."""
        service = webhook.service
        if service is None:
            return webhook.url, None
        namespace, name = str(service.get("namespace", "")), str(service.get("name", ""))
        given = service.get("port")  # an int from 1 to 65535 (checked when it was written)
        port = given if isinstance(given, int) and given else 443
        address = (
            self.service_hosts.get((namespace, name))
            or f"{LOCALHOST}:{self._target_port(namespace, name, port)}"
        )
        if ":" not in address.rsplit("]", 1)[-1]:
            address = f"{address}:{port}"
        path = str(service.get("path") or "")
        return (f"https://{address}{path}?timeout={webhook.timeout}s", f"{name}.{namespace}.svc")

    def _target_port(self, namespace: str, name: str, port: int) -> int:
        try:
            found = self.cluster.read(self.cluster.type_for("v1", "Service"), namespace, name)
        except NotFoundError:
            raise CallError(f'service "{name}" not found') from None
        for entry in service_spec(found).get("ports") or []:
            if isinstance(entry, dict) and entry.get("port") == port:
                target = entry.get("targetPort")
                return target if isinstance(target, int) else port
        raise CallError(f'no service port {port} found for service "{name}"')

    def _context(self, bundle: bytes | None) -> ssl.SSLContext:
        context = self._contexts.get(bundle)
        if context is None:
            context = ssl.create_default_context(
                cadata=bundle.decode("ascii", "replace") if bundle else None
            )
            self._contexts[bundle] = context
        return context


def _client_error(exc: aiohttp.ClientError, url: str) -> str:
    """Go's wording of a failed connection."""
    if isinstance(exc, aiohttp.ClientConnectorCertificateError):
        return f"tls: failed to verify certificate: x509: {_certificate_problem(exc)}"
    if isinstance(exc, aiohttp.ClientSSLError):
        return f"remote error: tls: {exc}"
    if isinstance(exc, aiohttp.ClientConnectorError):
        os_error = exc.os_error
        why = (
            "connection refused"
            if isinstance(os_error, ConnectionRefusedError)
            else (os_error.strerror or str(os_error)).lower()
        )
        return f"dial tcp {exc.host}:{exc.port}: connect: {why}"
    if isinstance(exc, aiohttp.ServerDisconnectedError):
        return "EOF"
    return str(exc) or type(exc).__name__


def _certificate_problem(exc: aiohttp.ClientConnectorCertificateError) -> str:
    error = exc.certificate_error
    text = getattr(error, "verify_message", "") or str(error)
    if "hostname" in text.lower() or "ip address mismatch" in text.lower():
        return f"certificate is not valid for {exc.host}"
    return "certificate signed by unknown authority"


def _status_error(status: int, body: bytes) -> str:
    """client-go's error for a response that is not 200: the Status it carries, else a
    sentence about its code."""
    try:
        decoded = json.loads(body)
    except ValueError:
        decoded = None
    if isinstance(decoded, dict) and decoded.get("kind") == "Status" and decoded.get("message"):
        return str(decoded["message"])
    if status >= 500 and status not in _STATUS_TEXTS:
        text = body.decode("utf-8", "replace").strip()
        return f'an error on the server ("{text}") has prevented the request from succeeding'
    return _STATUS_TEXTS.get(
        status,
        f"the server responded with the status code {status} but did not return more information",
    )

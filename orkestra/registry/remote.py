"""Any OCI Distribution registry over HTTP(S), on httpx.

Why httpx rather than oras-py (reference dependency-trials §2): the API needed is small
(blob POST/PATCH/PUT/GET, manifest PUT/GET, tag listing, referrers) while oras-py's
quirks land exactly where this project must be strict: its token backend mistakes a Basic
realm for a token URL, a Basic registry without credentials fails with an AttributeError
instead of a 401, ``artifactType`` needs a hand-built manifest anyway, and its ``login``
writes to the docker config as a side effect. httpx gives connection reuse, timeouts, an
auth-flow hook for the challenge dance, and redirects that drop credentials across origins.

Behaviour: loopback registries (``localhost``, ``127.0.0.1``, ``[::1]``) are spoken to over
plain HTTP, others over HTTPS; ``insecure`` (``--insecure``) means HTTPS without certificate
checks, falling back to plain HTTP when the server does not speak TLS, for any host.
Idempotent calls are retried with exponential backoff on 429, 5xx and broken connections,
honouring ``Retry-After``; an upload is retried from the start (content addressing makes
that safe). Every byte downloaded is counted against a size limit and verified against its
digest before it is returned.

Uploads cost as few requests as the registry allows. The backend remembers which
repositories hold which blobs (those it uploaded, mounted, found or downloaded, and those a
manifest it pushed or fetched names: a registry keeps a manifest's blobs with it), and
sends nothing for a blob a repository is known to hold; one known in another repository of
the host is mounted from there (one request). A small blob goes up in a single ``POST
…/uploads/?digest=`` with its body (one request, whether or not the registry had it),
where the registry answers ``201``. One that answers ``202`` instead (Debian's
``docker-registry`` 2.8 ignores the body and opens an upload session) is remembered as not
supporting it: the blob goes into that session with one ``PUT``, and later blobs start with
a ``POST`` asking to mount the blob from its own repository, which the registry answers
with ``201`` when it already has it (one request) and with an upload session otherwise
(then one ``PUT``, or ``PATCH`` chunks for a large blob). On a registry that takes
single-request uploads, a larger blob is asked about with a ``HEAD`` first. So a new blob
costs at most two requests and a blob the registry has at most one.

Deadlines (:class:`~orkestra.registry.retry.Deadlines`): every socket operation's timeout is
cut to what is left of the request's deadline, through a wrapper around httpcore's network
backend, so a registry that trickles bytes (headers or body) or never answers fails within
the deadline with a :class:`~orkestra.registry.retry.DeadlineError` naming the host and
what was being fetched; a deadline is not retried (the command's own deadline would only
be spent waiting again).
"""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

import httpcore
import httpx

from orkestra import __version__
from orkestra.registry.auth import Credentials, RegistryAuth
from orkestra.registry.errors import (
    ArtifactNotFoundError,
    IntegrityError,
    RegistryAuthError,
    RegistryError,
    TransientError,
)
from orkestra.registry.oci import (
    DOCKER_MANIFEST_MEDIA_TYPE,
    INDEX_MEDIA_TYPE,
    MANIFEST_MEDIA_TYPE,
    MAX_BLOB_BYTES,
    MAX_MANIFEST_BYTES,
    Descriptor,
    Manifest,
    check_size,
    is_digest,
    parse_index,
    verify,
)
from orkestra.registry.retry import Deadlines, RetryPolicy

T = TypeVar("T")
_RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
_ACCEPT = ", ".join((MANIFEST_MEDIA_TYPE, INDEX_MEDIA_TYPE, DOCKER_MANIFEST_MEDIA_TYPE))


class RemoteBackend:
    """One OCI Distribution registry host."""

    def __init__(
        self,
        host: str,
        credentials: Callable[[], Credentials | None],
        *,
        plain_http: bool = False,
        insecure: bool = False,
        retry: RetryPolicy | None = None,
        chunk_size: int = 8 * 1024 * 1024,
        monolithic_limit: int = 4 * 1024 * 1024,
        deadlines: Deadlines | None = None,
    ) -> None:
        self.host = host
        self.retry = retry or RetryPolicy()
        self.deadlines = deadlines or Deadlines()
        self.chunk_size = chunk_size
        self.monolithic_limit = monolithic_limit
        self.resend_limit = 64 * 1024
        """A blob up to this size is sent without asking whether the registry has it:
        sending it again costs less than a round trip (and a registry that ignores the body
        of a ``POST`` still reads that much of it, keeping the connection usable)."""
        self.requests = 0
        self._holders: dict[str, set[str]] = {}
        self._single_post: bool | None = None
        """Whether ``POST …/uploads/?digest=`` stores the body (None: not tried yet)."""
        self.tag_page_size = 1000
        self._insecure = insecure
        self._client = httpx.Client(
            base_url=f"{'http' if plain_http else 'https'}://{host}",
            auth=RegistryAuth(host, credentials),
            verify=not (insecure or plain_http),
            timeout=httpx.Timeout(60.0, connect=10.0),
            follow_redirects=True,
            headers={"User-Agent": f"ork/{__version__}"},
            event_hooks={"request": [self._count]},
        )
        _bound_sockets(self._client, self.deadlines)

    def _count(self, request: httpx.Request) -> None:
        self.requests += 1

    def describe(self) -> str:
        return self.host

    def close(self) -> None:
        self._client.close()

    def _url(self, path: str) -> str:
        """Relative to the client's base URL, so a switch to plain HTTP applies to retries."""
        return path

    # -- requests with retries ---------------------------------------------------------
    def _request(self, method: str, url: str, what: str, **kwargs: Any) -> httpx.Response:
        """Send once per attempt; retry transport errors and 429/5xx; raise for the rest."""
        return self._retrying(lambda: self._attempt(method, url, what, **kwargs))

    def _retrying(self, call: Callable[[], T]) -> T:
        for attempt in range(self.retry.attempts):
            try:
                return call()
            except TransientError as exc:
                if attempt == self.retry.attempts - 1:
                    raise TransientError(
                        f"{exc.message} (gave up after {self.retry.attempts} attempts)", exc.hint
                    ) from None
                self.deadlines.sleep(self.retry.delay(attempt, exc.retry_after))
        raise AssertionError("unreachable")

    def _attempt(self, method: str, url: str, what: str, **kwargs: Any) -> httpx.Response:
        with self.deadlines.window(what, self.host):
            try:
                response = self._client.request(method, url, **kwargs)
            except httpx.TransportError as exc:
                raise self._transport_error(exc, what) from None
            self._check(response, what)
            return response

    def _transport_error(self, exc: httpx.TransportError, what: str) -> RegistryError:
        if self.deadlines.expired():
            return self.deadlines.error(what, self.host)
        if isinstance(exc, httpx.ConnectError):
            tls = "SSL" in str(exc)
            if tls and self._insecure and self._client.base_url.scheme == "https":
                self._client.base_url = httpx.URL(f"http://{self.host}")
                return TransientError(f"{what}: {self.host} does not speak TLS")
            return TransientError(
                f"{what}: cannot connect to {self.host} ({exc})",
                hint="--insecure skips certificate checks and allows plain HTTP, for a "
                "registry you trust"
                if tls
                else "check the registry address and that it is running",
            )
        return TransientError(f"{what}: connection to {self.host} broke off ({type(exc).__name__})")

    def _check(self, response: httpx.Response, what: str) -> None:
        status = response.status_code
        if status < 400:
            return
        if status in _RETRY_STATUSES:
            raise TransientError(
                f"{what}: {self.host} answered {status}" + _registry_message(response),
                retry_after=response.headers.get("Retry-After"),
            )
        if status in (401, 403):
            raise RegistryAuthError(
                f"{what}: {self.host} refused access ({status}{_registry_message(response)})",
                hint=f"ork login {self.host}, or set ORK_REGISTRY_USERNAME and "
                "ORK_REGISTRY_PASSWORD",
            )
        if status == 404:
            raise ArtifactNotFoundError(
                f"{what}: not found on {self.host}" + _registry_message(response)
            )
        said = _registry_message(response)
        message = f"{what}: {self.host} answered {status}{said}"
        if "MANIFEST_BLOB_UNKNOWN" in said:
            # A manifest PUT naming a blob uploaded just before: the registry has not caught
            # up yet (storage that is eventually consistent, or docker-registry's filesystem
            # driver while another client uploads the same blob into the repository).
            raise TransientError(message)
        raise RegistryError(message)

    # -- blobs -------------------------------------------------------------------------
    def push_blob(self, repository: str, descriptor: Descriptor, data: bytes) -> None:
        if repository in self._holders.get(descriptor.digest, ()):
            return
        self._retrying(lambda: self._upload(repository, descriptor, data))
        self._hold(repository, descriptor.digest)

    def _hold(self, repository: str, digest: str) -> None:
        self._holders.setdefault(digest, set()).add(repository)

    def _hold_named(self, repository: str, manifest: bytes) -> None:
        """The blobs ``manifest`` names, as held by ``repository`` (the registry accepted
        or served it there). An index, or anything else, teaches nothing."""
        try:
            parsed = Manifest.parse(manifest, repository)
        except IntegrityError:
            return
        for descriptor in (parsed.config, *parsed.layers):
            self._hold(repository, descriptor.digest)

    def _upload(self, repository: str, descriptor: Descriptor, data: bytes) -> None:
        """Store one blob the repository is not known to hold (see the module docstring):
        mounted from another repository known to hold it, else in one ``POST`` with the
        body where the registry may take it, else into the session a ``POST`` opens."""
        what = f"upload {descriptor.digest[:19]} to {repository}"
        uploads = self._url(f"/v2/{repository}/blobs/uploads/")
        source = min(self._holders.get(descriptor.digest, ()), default=None)
        if source is None and self._single_post_fits(len(data)):
            if len(data) > self.resend_limit and self._has_blob(repository, descriptor, what):
                return
            response = self._attempt(
                "POST",
                uploads,
                what,
                content=data,
                headers=_OCTET,
                params={"digest": descriptor.digest},
            )
            self._single_post = response.status_code == 201
        else:
            response = self._attempt(
                "POST",
                uploads,
                what,
                headers={"Content-Length": "0"},
                params={"mount": descriptor.digest, "from": source or repository},
            )
        if response.status_code != 201:
            self._send(_location(response, what), descriptor, data, what)

    def _single_post_fits(self, size: int) -> bool:
        """Whether to upload in one ``POST``: on a registry that takes it, any blob that
        needs no chunks; before that is known, a blob small enough to find out with."""
        if self._single_post is None:
            return size <= self.resend_limit
        return self._single_post and size <= self.monolithic_limit

    def _has_blob(self, repository: str, descriptor: Descriptor, what: str) -> bool:
        url = self._url(f"/v2/{repository}/blobs/{descriptor.digest}")
        try:
            self._attempt("HEAD", url, what)
        except ArtifactNotFoundError:
            return False
        return True

    def _send(self, location: str, descriptor: Descriptor, data: bytes, what: str) -> None:
        """Upload ``data`` into the session at ``location``: one ``PUT``, or ``PATCH``
        chunks then an empty ``PUT`` for a large blob."""
        if len(data) > self.monolithic_limit:
            for start in range(0, len(data), self.chunk_size):
                chunk = data[start : start + self.chunk_size]
                headers = {**_OCTET, "Content-Range": f"{start}-{start + len(chunk) - 1}"}
                response = self._attempt("PATCH", location, what, content=chunk, headers=headers)
                location = _location(response, what)
            data = b""
        self._attempt(
            "PUT", _with_digest(location, descriptor.digest), what, content=data, headers=_OCTET
        )

    def fetch_blob(self, repository: str, descriptor: Descriptor) -> bytes:
        what = f"blob {descriptor.digest} of {repository}"
        check_size(descriptor.size, MAX_BLOB_BYTES, what)
        url = self._url(f"/v2/{repository}/blobs/{descriptor.digest}")
        data, _ = self._retrying(lambda: self._download(url, what, descriptor.size, {}))
        verify(data, descriptor.digest, descriptor.size, what)
        self._hold(repository, descriptor.digest)
        return data

    def _download(
        self, url: str, what: str, limit: int, headers: dict[str, str]
    ) -> tuple[bytes, httpx.Headers]:
        """GET a body, refusing more than ``limit`` bytes, retrying broken transfers; the
        body is only returned once complete, within the request's deadline."""
        with self.deadlines.window(what, self.host):
            try:
                with self._client.stream("GET", url, headers=headers) as response:
                    self._check(response, what)
                    declared = response.headers.get("Content-Length")
                    if declared and declared.isdigit():
                        check_size(int(declared), limit, what)
                    received = bytearray()
                    for chunk in response.iter_bytes():
                        received += chunk
                        check_size(len(received), limit, what)
                        self.deadlines.check(what, self.host)
                    return bytes(received), response.headers
            except httpx.TransportError as exc:
                raise self._transport_error(exc, what) from None

    # -- manifests ---------------------------------------------------------------------
    def push_manifest(
        self, repository: str, data: bytes, media_type: str, tag: str | None
    ) -> Descriptor:
        descriptor = Descriptor.of(data, media_type)
        reference = tag or descriptor.digest
        self._request(
            "PUT",
            self._url(f"/v2/{repository}/manifests/{reference}"),
            f"push manifest {repository}:{reference}",
            content=data,
            headers={"Content-Type": media_type},
        )
        self._hold_named(repository, data)
        return descriptor

    def fetch_manifest(self, repository: str, target: str) -> tuple[bytes, Descriptor]:
        what = (
            f"manifest {repository}:{target}"
            if not target.startswith("sha256:")
            else f"manifest {repository}@{target}"
        )
        url = self._url(f"/v2/{repository}/manifests/{target}")
        data, headers = self._retrying(
            lambda: self._download(url, what, MAX_MANIFEST_BYTES, {"Accept": _ACCEPT})
        )
        media_type = headers.get("Content-Type", MANIFEST_MEDIA_TYPE).split(";")[0].strip()
        digest = "sha256:" + hashlib.sha256(data).hexdigest()
        expected = (
            target if target.startswith("sha256:") else headers.get("Docker-Content-Digest", digest)
        )
        if expected.startswith("sha256:"):
            verify(data, expected, None, what)
        self._hold_named(repository, data)
        return data, Descriptor(media_type=media_type, digest=digest, size=len(data))

    def manifest_digest(self, repository: str, target: str) -> str:
        """A HEAD, answered with ``Docker-Content-Digest``; a GET when the registry leaves
        that header out."""
        what = (
            f"manifest {repository}:{target}"
            if not target.startswith("sha256:")
            else f"manifest {repository}@{target}"
        )
        response = self._request(
            "HEAD",
            self._url(f"/v2/{repository}/manifests/{target}"),
            what,
            headers={"Accept": _ACCEPT},
        )
        digest = str(response.headers.get("Docker-Content-Digest", ""))
        if is_digest(digest):
            return digest
        return self.fetch_manifest(repository, target)[1].digest

    def tags(self, repository: str) -> list[str]:
        url: str | None = self._url(f"/v2/{repository}/tags/list?n={self.tag_page_size}")
        found: list[str] = []
        while url:
            try:
                response = self._request("GET", url, f"list tags of {repository}")
            except ArtifactNotFoundError:
                return found
            try:
                found.extend(response.json().get("tags") or [])
            except (ValueError, AttributeError):
                raise IntegrityError(f"{self.host}: unreadable tag list for {repository}") from None
            url = _next_link(response)
        return found

    def referrers_api(self, repository: str, digest: str) -> list[Descriptor] | None:
        url = self._url(f"/v2/{repository}/referrers/{digest}")
        try:
            response = self._request("GET", url, f"referrers of {digest[:19]}")
        except ArtifactNotFoundError:
            return None
        if not response.headers.get("Content-Type", "").startswith(INDEX_MEDIA_TYPE):
            return None
        return parse_index(response.content, f"referrers of {digest[:19]}")

    @contextlib.contextmanager
    def locked(self, repository: str) -> Iterator[None]:
        yield


_OCTET = {"Content-Type": "application/octet-stream"}


def _bound_sockets(client: httpx.Client, deadlines: Deadlines) -> None:
    """Make every connection pool of ``client`` (its transport and the proxy transports
    taken from the environment) use sockets bounded by ``deadlines``. httpx has no public
    hook for this: the pools' network backend is replaced (tests/registry/test_deadlines.py
    fails if a new httpx stops honouring it)."""
    transports = [getattr(client, "_transport", None), *getattr(client, "_mounts", {}).values()]
    for transport in transports:
        pool = getattr(transport, "_pool", None)
        inner = getattr(pool, "_network_backend", None)
        if pool is not None and isinstance(inner, httpcore.NetworkBackend):
            pool._network_backend = _BoundedBackend(inner, deadlines)


def _clamp(
    deadlines: Deadlines, timeout: float | None, expired: type[httpcore.TimeoutException]
) -> float | None:
    """``timeout`` cut to what is left of the current request's deadline."""
    left = deadlines.remaining()
    if left is None:
        return timeout
    if left <= 0:
        raise expired("the request's deadline has passed")
    return left if timeout is None else min(timeout, left)


class _BoundedBackend(httpcore.NetworkBackend):
    """httpcore's network backend with every timeout cut to the request's deadline."""

    def __init__(self, inner: httpcore.NetworkBackend, deadlines: Deadlines) -> None:
        self._inner = inner
        self._deadlines = deadlines

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Any = None,
    ) -> httpcore.NetworkStream:
        timeout = _clamp(self._deadlines, timeout, httpcore.ConnectTimeout)
        stream = self._inner.connect_tcp(host, port, timeout, local_address, socket_options)
        return _BoundedStream(stream, self._deadlines)

    def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Any = None
    ) -> httpcore.NetworkStream:
        timeout = _clamp(self._deadlines, timeout, httpcore.ConnectTimeout)
        stream = self._inner.connect_unix_socket(path, timeout, socket_options)
        return _BoundedStream(stream, self._deadlines)

    def sleep(self, seconds: float) -> None:
        self._inner.sleep(seconds)


class _BoundedStream(httpcore.NetworkStream):
    def __init__(self, inner: httpcore.NetworkStream, deadlines: Deadlines) -> None:
        self._inner = inner
        self._deadlines = deadlines

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._inner.read(max_bytes, _clamp(self._deadlines, timeout, httpcore.ReadTimeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._inner.write(buffer, _clamp(self._deadlines, timeout, httpcore.WriteTimeout))

    def close(self) -> None:
        self._inner.close()

    def start_tls(
        self, ssl_context: Any, server_hostname: str | None = None, timeout: float | None = None
    ) -> httpcore.NetworkStream:
        timeout = _clamp(self._deadlines, timeout, httpcore.ConnectTimeout)
        return _BoundedStream(
            self._inner.start_tls(ssl_context, server_hostname, timeout), self._deadlines
        )

    def get_extra_info(self, info: str) -> Any:
        return self._inner.get_extra_info(info)


def _location(response: httpx.Response, what: str) -> str:
    location = response.headers.get("Location")
    if not location:
        raise RegistryError(
            f"{what}: the registry answered {response.status_code} without an upload location"
        )
    return str(response.url.join(location))


def _with_digest(location: str, digest: str) -> str:
    return str(httpx.URL(location).copy_merge_params({"digest": digest}))


def _next_link(response: httpx.Response) -> str | None:
    link = response.links.get("next", {}).get("url")
    return str(response.url.join(link)) if link else None


def _registry_message(response: httpx.Response) -> str:
    """The registry's own error text (``{"errors": [{"code", "message"}]}``), if any."""
    try:
        response.read()
        errors = response.json().get("errors") or []
        text = "; ".join(
            f"{e.get('code', '')}: {e.get('message', '')}".strip(": ")
            for e in errors
            if isinstance(e, dict)
        )
    except (ValueError, AttributeError, httpx.HTTPError):
        return ""
    return f" — {text}" if text else ""

"""Any OCI Distribution registry over HTTP(S), on Orkestra's own HTTP/1.1 client.

Why not oras-py (reference dependency-trials §2): the API needed is small (blob
POST/PATCH/PUT/GET, manifest PUT/GET, tag listing, referrers) while oras-py's quirks land
exactly where this project must be strict: its token backend mistakes a Basic realm for a
token URL, a Basic registry without credentials fails with an AttributeError instead of a
401, ``artifactType`` needs a hand-built manifest anyway, and its ``login`` writes to the
docker config as a side effect. Why not httpx, which this module used before: importing
it (httpcore, h11, ``ssl``, ``email``, ``urllib.request`` ...) cost every ``ork pull``
~40 ms, more than the pull's requests. :mod:`orkestra.transport` carries the requests; this
module adds what a registry needs on top of it.

HTTP: one keep-alive connection per origin (the registry, its token service, the storage a
blob is fetched from), in a small pool of idle connections (``ork patterns`` verifies from
threads). Every request carries ``User-Agent: ork/<version>``, is counted
(:attr:`RemoteBackend.requests`) and is logged at DEBUG on the ``orkestra.registry`` logger
(method, URL without its query, status) once the ``logging`` module is in use (``--debug``
sets it up; importing it only to log nothing would cost every command 3 ms). Redirects are
followed (up to 10; relative ``Location`` headers resolve against the URL that sent them)
and ``Authorization`` is dropped when one leaves the origin: registries send blob GETs to
storage, such as S3 presigned URLs that refuse a second credential. A ``401`` challenge is
answered through :class:`~orkestra.registry.auth.RegistryAuth` (Basic, or a bearer token
from the challenge's realm) and the request sent again once. ``http_proxy``,
``https_proxy``, ``all_proxy`` and ``no_proxy`` (either case) are honoured
(:func:`orkestra.transport.proxy_for`). Certificates are checked against the system's CA
store (OpenSSL's defaults, so ``SSL_CERT_FILE`` and ``SSL_CERT_DIR`` apply).

Behaviour: loopback registries (``localhost``, ``127.0.0.1``, ``[::1]``) are spoken to over
plain HTTP, others over HTTPS; ``insecure`` (``--insecure``) means HTTPS without certificate
checks, falling back to plain HTTP when the server does not speak TLS, for any host.
Idempotent calls are retried with exponential backoff on 429, 5xx and broken connections,
honouring ``Retry-After``; an upload is retried from the start (content addressing makes
that safe). Every body is refused once it is over its size limit, while it is read (a blob's
size in its descriptor, a manifest's or any other answer's 4 MiB), and a download is
verified against its digest before it is returned.

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
cut to what is left of the request's deadline (the transport's ``deadline``), so a registry
that trickles bytes (headers or body) or never answers fails within the deadline with a
:class:`~orkestra.registry.retry.DeadlineError` naming the host and what was being fetched;
a deadline is not retried (the command's own deadline would only be spent waiting again).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import sys
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, TypedDict, TypeVar, Unpack
from urllib.parse import urlencode, urljoin, urlsplit

from orkestra import __version__
from orkestra.registry.auth import Credentials, RegistryAuth, TokenRequest
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
from orkestra.transport import (
    BodyTooLargeError,
    ConnectError,
    Connection,
    Response,
    TransportError,
    proxy_for,
)

if TYPE_CHECKING:
    import ssl

T = TypeVar("T")
_RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
_REDIRECTS = frozenset({301, 302, 303, 307, 308})
MAX_REDIRECTS = 10
_ACCEPT = ", ".join((MANIFEST_MEDIA_TYPE, INDEX_MEDIA_TYPE, DOCKER_MANIFEST_MEDIA_TYPE))
_CONNECT_SECONDS, _IO_SECONDS = 10.0, 60.0
_SMALL_BODY = 64 * 1024
_LINK = re.compile(r"<([^>]*)>([^<]*)")
_NEXT = re.compile(r'\brel="?next"?(?:[\s;,]|$)')
LOGGER = "orkestra.registry"

Origin = tuple[str, str, int]
"""scheme, host, port"""


@dataclass(frozen=True)
class Answer(Response):
    """A response and the URL that sent it (after redirects), which its links resolve
    against."""

    url: str = ""


class _Options(TypedDict, total=False):
    headers: Mapping[str, str]
    body: bytes
    params: Mapping[str, str]
    limit: int  # bytes of the answer's body at most (default: a manifest's)


@dataclass(frozen=True, kw_only=True)
class _Call:
    """One request as it goes on the wire; a challenge or a redirect makes a new one."""

    method: str
    url: str
    headers: dict[str, str]
    body: bytes | None = None
    limit: int = MAX_MANIFEST_BYTES

    def authorized(self, authorization: str) -> _Call:
        return replace(self, headers=_with_auth(self.headers, authorization))

    def redirected(self, status: int, target: str) -> _Call:
        """The request to send to ``target``: without ``Authorization`` when it leaves the
        origin, as a bodiless GET where the status says so (303, or 301/302 after POST)."""
        headers = self.headers
        if _origin(target) != _origin(self.url):
            headers = {k: v for k, v in headers.items() if k != "Authorization"}
        if (status == 303 and self.method != "HEAD") or (
            status in (301, 302) and self.method == "POST"
        ):
            headers = {k: v for k, v in headers.items() if k != "Content-Type"}
            return replace(self, method="GET", url=target, headers=headers, body=None)
        return replace(self, url=target, headers=headers)


class RemoteBackend:
    """One OCI Distribution registry host."""

    transfers = 4

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
        env: Mapping[str, str] | None = None,
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
        self._scheme = "http" if plain_http else "https"
        self._auth = RegistryAuth(host, credentials)
        self._env = os.environ if env is None else env
        self._agent = {"User-Agent": f"ork/{__version__}"}
        self._idle: dict[Origin, list[Connection]] = {}
        self._lock = threading.Lock()
        self._tls: ssl.SSLContext | None = None

    def describe(self) -> str:
        return self.host

    def close(self) -> None:
        with self._lock:
            idle, self._idle = self._idle, {}
        for connections in idle.values():
            for connection in connections:
                connection.close()

    # -- requests with retries ---------------------------------------------------------
    def _request(self, method: str, url: str, what: str, **options: Unpack[_Options]) -> Answer:
        """Send once per attempt; retry transport errors and 429/5xx; raise for the rest."""
        return self._retrying(lambda: self._attempt(method, url, what, **options))

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

    def _attempt(self, method: str, url: str, what: str, **options: Unpack[_Options]) -> Answer:
        """One request (its challenge and redirects included) within its deadline; an
        answer of 400 or more raises. A path (``/v2/…``) is on the registry, with the
        scheme of this attempt (a switch to plain HTTP applies to retries)."""
        params = options.get("params")
        if params:
            url = f"{url}{'&' if '?' in url else '?'}{urlencode(params)}"
        if url.startswith("/"):
            url = f"{self._scheme}://{self.host}{url}"
        limit = options.get("limit", MAX_MANIFEST_BYTES)
        # Error and redirect answers have bodies of their own, maybe longer than a tiny
        # blob: the transport refuses none under _SMALL_BODY, the answer is checked after.
        call = _Call(
            method=method,
            url=url,
            headers={**self._agent, **options.get("headers", {})},
            body=options.get("body"),
            limit=max(limit, _SMALL_BODY),
        )
        with self.deadlines.window(what, self.host):
            try:
                answer = self._authorized(call, what)
            except BodyTooLargeError as exc:
                check_size(exc.size, limit, what)  # raises: the body is over the limit
                raise
            except TransportError as exc:
                raise self._transport_error(exc, what) from None
            self._check(answer, what)
            check_size(len(answer.body), limit, what)
            return answer

    def _authorized(self, call: _Call, what: str) -> Answer:
        """Send with the credentials the registry wants; a challenge is answered once."""
        answer = self._follow(call.authorized(self._auth.preset()), what)
        if answer.status != 401:
            return answer
        challenge = answer.headers.get("www-authenticate", "")
        renewed = self._auth.answer(challenge, lambda token: self._token(token, what))
        if not renewed:
            return answer
        return self._follow(call.authorized(renewed), what)

    def _token(self, request: TokenRequest, what: str) -> Response:
        headers = {**self._agent, **request.headers}
        call = _Call(method=request.method, url=request.url, headers=headers, body=request.body)
        return self._follow(call, what)

    def _follow(self, call: _Call, what: str) -> Answer:
        """Send, following redirects; ``Authorization`` does not leave the origin."""
        for _ in range(MAX_REDIRECTS + 1):
            response = self._exchange(call, what)
            location = response.headers.get("location")
            if response.status not in _REDIRECTS or not location:
                return Answer(response.status, response.headers, response.body, call.url)
            call = call.redirected(response.status, urljoin(call.url, location))
        raise RegistryError(f"{what}: {self.host} redirected it more than {MAX_REDIRECTS} times")

    def _exchange(self, call: _Call, what: str) -> Response:
        """One HTTP request on a pooled connection to the URL's origin."""
        origin = _origin(call.url)
        parts = urlsplit(call.url)
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        connection = self._take(origin, what)
        try:
            response = self._send_on(connection, call, target)
        except ConnectError as exc:
            if exc.tls and self._insecure and origin == _origin(f"https://{self.host}/"):
                self._scheme = "http"
                raise TransientError(f"{what}: {self.host} does not speak TLS") from None
            raise
        finally:
            self._give(origin, connection)
        _debug(call.method, f"{origin[0]}://{parts.netloc}{parts.path}", response.status)
        return response

    def _send_on(self, connection: Connection, call: _Call, target: str) -> Response:
        """Send on ``connection``, and once more on a new one when a connection reused
        from an earlier request turns out closed by the server while it was idle."""
        reused = connection.requests > 0
        left = self.deadlines.remaining()
        deadline = None if left is None else time.monotonic() + left

        def send() -> Response:
            return connection.request(
                call.method, target, call.headers, call.body, limit=call.limit, deadline=deadline
            )

        try:
            return send()
        except TransportError as exc:
            if not (reused and exc.before_response):
                raise
        return send()

    # -- connections -------------------------------------------------------------------
    def _take(self, origin: Origin, what: str) -> Connection:
        """A connection for one request (counted here, under the lock: blobs of one
        pattern are fetched from several threads)."""
        with self._lock:
            self.requests += 1
            idle = self._idle.get(origin)
            if idle:
                return idle.pop()
        scheme, host, port = origin
        try:
            proxy = proxy_for(scheme, host, port, self._env)
        except ValueError as exc:
            raise RegistryError(
                f"{what}: {exc}", hint="set it to http://host:port, or list the host in no_proxy"
            ) from None
        return Connection(
            host,
            port,
            context=self._context() if scheme == "https" else None,
            timeout=_IO_SECONDS,
            connect_timeout=_CONNECT_SECONDS,
            proxy=proxy,
        )

    def _give(self, origin: Origin, connection: Connection) -> None:
        with self._lock:
            self._idle.setdefault(origin, []).append(connection)

    def _context(self) -> ssl.SSLContext:
        """The TLS context, made on first use (loopback registries never need one)."""
        if self._tls is None:
            import ssl

            context = ssl.create_default_context()
            if self._insecure:
                context.check_hostname = False
                context.verify_mode = ssl.CERT_NONE
            self._tls = context
        return self._tls

    # -- errors ------------------------------------------------------------------------
    def _transport_error(self, exc: TransportError, what: str) -> RegistryError:
        if self.deadlines.expired():
            return self.deadlines.error(what, self.host)
        if isinstance(exc, ConnectError):
            return TransientError(
                f"{what}: {exc}",
                hint="--insecure skips certificate checks and allows plain HTTP, for a "
                "registry you trust"
                if exc.tls
                else "check the registry address and that it is running",
            )
        return TransientError(f"{what}: the connection to {self.host} failed ({exc})")

    def _check(self, response: Response, what: str) -> None:
        status = response.status
        if status < 400:
            return
        if status in _RETRY_STATUSES:
            raise TransientError(
                f"{what}: {self.host} answered {status}" + _registry_message(response),
                retry_after=response.headers.get("retry-after"),
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
        uploads = f"/v2/{repository}/blobs/uploads/"
        source = min(self._holders.get(descriptor.digest, ()), default=None)
        if source is None and self._single_post_fits(len(data)):
            if len(data) > self.resend_limit and self._has_blob(repository, descriptor, what):
                return
            response = self._attempt(
                "POST",
                uploads,
                what,
                body=data,
                headers=_OCTET,
                params={"digest": descriptor.digest},
            )
            self._single_post = response.status == 201
        else:
            response = self._attempt(
                "POST",
                uploads,
                what,
                params={"mount": descriptor.digest, "from": source or repository},
            )
        if response.status != 201:
            self._send(_location(response, what), descriptor, data, what)

    def _single_post_fits(self, size: int) -> bool:
        """Whether to upload in one ``POST``: on a registry that takes it, any blob that
        needs no chunks; before that is known, a blob small enough to find out with."""
        if self._single_post is None:
            return size <= self.resend_limit
        return self._single_post and size <= self.monolithic_limit

    def _has_blob(self, repository: str, descriptor: Descriptor, what: str) -> bool:
        url = f"/v2/{repository}/blobs/{descriptor.digest}"
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
                response = self._attempt("PATCH", location, what, body=chunk, headers=headers)
                location = _location(response, what)
            data = b""
        self._attempt(
            "PUT", _with_digest(location, descriptor.digest), what, body=data, headers=_OCTET
        )

    def fetch_blob(self, repository: str, descriptor: Descriptor) -> bytes:
        what = f"blob {descriptor.digest} of {repository}"
        check_size(descriptor.size, MAX_BLOB_BYTES, what)
        url = f"/v2/{repository}/blobs/{descriptor.digest}"
        data = self._request("GET", url, what, limit=descriptor.size).body
        verify(data, descriptor.digest, descriptor.size, what)
        self._hold(repository, descriptor.digest)
        return data

    # -- manifests ---------------------------------------------------------------------
    def push_manifest(
        self, repository: str, data: bytes, media_type: str, tag: str | None
    ) -> Descriptor:
        descriptor = Descriptor.of(data, media_type)
        reference = tag or descriptor.digest
        self._request(
            "PUT",
            f"/v2/{repository}/manifests/{reference}",
            f"push manifest {repository}:{reference}",
            body=data,
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
        url = f"/v2/{repository}/manifests/{target}"
        answer = self._request("GET", url, what, headers={"Accept": _ACCEPT})
        data, headers = answer.body, answer.headers
        media_type = headers.get("content-type", MANIFEST_MEDIA_TYPE).split(";")[0].strip()
        digest = "sha256:" + hashlib.sha256(data).hexdigest()
        expected = (
            target if target.startswith("sha256:") else headers.get("docker-content-digest", digest)
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
            f"/v2/{repository}/manifests/{target}",
            what,
            headers={"Accept": _ACCEPT},
        )
        digest = response.headers.get("docker-content-digest", "")
        if is_digest(digest):
            return digest
        return self.fetch_manifest(repository, target)[1].digest

    def tags(self, repository: str) -> list[str]:
        url: str | None = f"/v2/{repository}/tags/list?n={self.tag_page_size}"
        found: list[str] = []
        while url:
            try:
                response = self._request("GET", url, f"list tags of {repository}")
            except ArtifactNotFoundError:
                return found
            try:
                found.extend(json.loads(response.body).get("tags") or [])
            except (ValueError, AttributeError):
                raise IntegrityError(f"{self.host}: unreadable tag list for {repository}") from None
            url = _next_link(response)
        return found

    def referrers_api(self, repository: str, digest: str) -> list[Descriptor] | None:
        url = f"/v2/{repository}/referrers/{digest}"
        try:
            response = self._request("GET", url, f"referrers of {digest[:19]}")
        except ArtifactNotFoundError:
            return None
        if not response.headers.get("content-type", "").startswith(INDEX_MEDIA_TYPE):
            return None
        return parse_index(response.body, f"referrers of {digest[:19]}")

    @contextlib.contextmanager
    def locked(self, repository: str) -> Iterator[None]:
        yield


_OCTET = {"Content-Type": "application/octet-stream"}


def _origin(url: str) -> Origin:
    parts = urlsplit(url)
    default = 443 if parts.scheme == "https" else 80
    return parts.scheme, (parts.hostname or "").lower(), parts.port or default


def _with_auth(headers: dict[str, str], authorization: str) -> dict[str, str]:
    return {**headers, "Authorization": authorization} if authorization else headers


def _debug(method: str, url: str, status: int) -> None:
    """Log a request, when logging is in use (see the module docstring)."""
    logging = sys.modules.get("logging")
    if logging is not None:
        logging.getLogger(LOGGER).debug("%s %s %d", method, url, status)


def _location(answer: Answer, what: str) -> str:
    location = answer.headers.get("location")
    if not location:
        raise RegistryError(
            f"{what}: the registry answered {answer.status} without an upload location"
        )
    return urljoin(answer.url, location)


def _with_digest(location: str, digest: str) -> str:
    return f"{location}{'&' if '?' in location else '?'}{urlencode({'digest': digest})}"


def _next_link(answer: Answer) -> str | None:
    """The ``rel="next"`` target of a ``Link`` header, resolved against the answer's URL."""
    links: list[tuple[str, str]] = _LINK.findall(answer.headers.get("link", ""))
    for target, params in links:
        if _NEXT.search(params):
            return urljoin(answer.url, target)
    return None


def _registry_message(response: Response) -> str:
    """The registry's own error text (``{"errors": [{"code", "message"}]}``), if any."""
    try:
        errors = json.loads(response.body).get("errors") or []
        text = "; ".join(
            f"{e.get('code', '')}: {e.get('message', '')}".strip(": ")
            for e in errors
            if isinstance(e, dict)
        )
    except (ValueError, AttributeError, TypeError):
        return ""
    return f" — {text}" if text else ""

"""A small synchronous HTTP/1.1 client: one keep-alive connection, plain or TLS.

Two users: the runtime's client off the event loop (one of these per thread: discovery on
an executor thread, ``ork run --apply-cr``, e2e; the workers themselves call through
:mod:`orkestra.runtime.asynchttp`), and the registry client
(:mod:`orkestra.registry.remote`), which keeps one per origin it talks to. It replaces
``http.client``, which the runtime used before, because that was the largest cost of a
request on the client side: ``http.client`` parses every response's headers with the
``email`` package (a ``FeedParser``, a ``Message`` and a policy object per response) and
reads through a buffered ``makefile`` wrapper. Measured against the embedded API server in
another process (TLS, bearer token, a 1.9 KB ConfigMap, 2,000 GETs on one keep-alive
connection): 146 µs of client CPU per GET with ``http.client`` against 52 µs with this
module, of which the msgspec decoding of the body is 7 µs and the rest is the syscalls and
TLS. For 02-katalog-api that is four requests per CR, so ~0.4 ms of the runtime's ~2.2 ms
per CR. The registry used httpx, whose import alone (httpcore, h11, ``ssl``, ``email``,
``urllib.request`` ...) cost ~40 ms of every ``ork pull``. The module imports neither
``ssl`` (callers bring their context) nor ``urllib.request``.

**Sockets block; a watchdog keeps the time.** A socket with a timeout polls before it
reads, and an ``ssl.SSLSocket`` with one tries the read, polls, and reads again: three
system calls where a blocking socket makes one, and each releases the GIL and takes it
back. When ``ork run``'s workers were threads on these connections, two of them and the
event loop wanted the GIL at every moment, so each release was a hand-over between threads;
with blocking sockets ``ork run`` brought the 1,000 WebApps of the operator benchmark to
Ready 5-8% sooner (median of eight interleaved runs each, three times). The kernel's own
timeouts (``SO_RCVTIMEO``) cannot stand in: an ``SSLSocket`` in blocking mode retries a
read the kernel timed out, forever. So once a connection is up (connecting and the TLS
handshake keep a timeout), each read and write is armed with :class:`_Watchdog`, a daemon
thread that wakes every :data:`WATCH_TICK` while operations are armed and shuts down the
socket of one past its time, which ends the blocked call; the request then fails with
``TimeoutError`` as a socket timeout would. A timeout is thereby kept to within
:data:`WATCH_TICK`. A forked child, which has none of its parent's threads, forgets the
parent's watchdog and starts its own when it first needs it.

What it does, and no more: a request is written with one ``sendall`` (head and body, with
``Content-Length`` when there is a body, and ``Accept-Encoding: identity``: bodies are read
as they are sent, never decompressed); the response is read with ``recv`` into a buffer; the
status line and the headers are split by hand, and only ``Content-Length``,
``Transfer-Encoding`` and ``Connection`` are interpreted. Bodies are framed by
``Content-Length``, by chunked transfer coding (trailers are read and dropped) or, failing
both, by the end of the connection. ``1xx`` interim responses are skipped; ``HEAD``, ``204``
and ``304`` have no body. The connection is kept open unless the server says ``Connection:
close``, answers in HTTP/1.0 without ``keep-alive``, or frames the body by closing. ``Host``
leaves out the scheme's default port (storage that signs URLs signs the host without it).
Redirects, authentication and retries are the caller's.

Per request, a caller may give ``limit``: a body over that many bytes is refused while it
is read (a larger ``Content-Length`` before reading any of it), with
:class:`BodyTooLargeError`; and ``deadline`` (a :func:`time.monotonic` value): every socket
operation's timeout (connecting, TLS, each read and write) is cut to what is left before it,
and an operation due after it fails, so a server trickling bytes cannot stretch a request
past it.

Proxies (:class:`Proxy`, :func:`proxy_for`): HTTP proxies only. Through a proxy, a TLS
origin is reached with a ``CONNECT`` tunnel and TLS to the origin inside it, a plain one
with absolute-form requests (``GET http://host/path``) sent to the proxy. :func:`proxy_for`
reads ``http_proxy``, ``https_proxy``, ``all_proxy`` and ``no_proxy`` (lower case first, then
upper case), the variables httpx honoured, by hand: ``urllib.request.getproxies`` reads
them too, but importing ``urllib.request`` (``email``, ``http.client``) costs more than a
request.

Failures raise :class:`TransportError` (an ``OSError``: socket errors and timeouts are
``OSError`` too); :attr:`TransportError.before_response` tells that not a single byte of
the response had arrived, which is how a keep-alive connection the server closed while it
was idle shows itself: the caller may then send the request again on a new connection
(:class:`~orkestra.runtime.kube.KubeClient` does so once for a reused connection). Failing
to connect (TCP, the proxy's tunnel, or TLS) raises :class:`ConnectError`.
"""

from __future__ import annotations

import base64
import contextlib
import os
import socket
import threading
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING
from urllib.parse import unquote, urlsplit

if TYPE_CHECKING:
    import ssl

RECV_SIZE = 65536
MAX_HEAD = 256 * 1024  # status line and headers together
WATCH_TICK = 0.05  # seconds between the watchdog's looks at the armed operations
WATCH_IDLE = 2.0  # seconds with nothing armed after which the watchdog's thread ends
NO_BODY_STATUS = (204, 304)
HEX_DIGITS = b"0123456789abcdefABCDEF"


class TransportError(OSError):
    """The request failed on the wire or the answer was not HTTP/1.x."""

    def __init__(self, message: str, *, before_response: bool = False) -> None:
        super().__init__(message)
        self.before_response = before_response


class ConnectError(TransportError):
    """No connection: the server (or the proxy) did not take it, or TLS failed (``tls``)."""

    def __init__(self, message: str, *, tls: bool = False) -> None:
        super().__init__(message)
        self.tls = tls


class BodyTooLargeError(TransportError):
    """The body is larger than the request's ``limit``: ``size`` bytes at least."""

    def __init__(self, size: int, limit: int) -> None:
        super().__init__(f"the body is over the {limit}-byte limit ({size} bytes or more)")
        self.size = size


@dataclass(frozen=True)
class Response:
    status: int
    headers: dict[str, str]  # lower-case names; repeated headers joined with ", "
    body: bytes


@dataclass(frozen=True)
class Proxy:
    """An HTTP proxy: where it listens and the ``Proxy-Authorization`` it wants, if any."""

    host: str
    port: int
    authorization: str = field(default="", repr=False)

    @classmethod
    def parse(cls, url: str) -> Proxy:
        """``http://[user:password@]host[:port]`` (the scheme may be left out); ValueError
        for any other scheme."""
        parts = urlsplit(url if "://" in url else f"http://{url}")
        if parts.scheme != "http" or not parts.hostname:
            raise ValueError(f"{url!r} is not an http:// proxy (the only kind supported)")
        authorization = ""
        if parts.username is not None:
            pair = f"{unquote(parts.username)}:{unquote(parts.password or '')}"
            authorization = "Basic " + base64.b64encode(pair.encode()).decode()
        return cls(parts.hostname, parts.port or 80, authorization)


def proxy_for(scheme: str, host: str, port: int, env: Mapping[str, str]) -> Proxy | None:
    """The proxy the environment names for ``scheme://host:port`` (``scheme`` http or https),
    None for a direct connection. ``no_proxy`` lists host names, each matching itself and
    its subdomains (a leading ``.`` or ``*.`` changes nothing), optionally with a port;
    ``*`` matches every host. ValueError for a proxy that is not an http:// URL."""
    if _no_proxy(host, port, _variable(env, "no_proxy")):
        return None
    for name in (f"{scheme}_proxy", "all_proxy"):
        url = _variable(env, name)
        if url:
            try:
                return Proxy.parse(url)
            except ValueError as exc:
                raise ValueError(f"{name}: {exc}") from None
    return None


def _variable(env: Mapping[str, str], name: str) -> str:
    return (env.get(name) or env.get(name.upper()) or "").strip()


def _no_proxy(host: str, port: int, listed: str) -> bool:
    host = host.lower().strip("[]")
    for entry in listed.lower().replace(" ", "").split(","):
        if entry == "*":
            return True
        if entry.startswith("["):  # [v6]:port
            name, _, rest = entry[1:].partition("]")
            wanted = rest.removeprefix(":")
        elif entry.count(":") == 1:  # name:port (a bare IPv6 address has more colons)
            name, wanted = entry.split(":")
        else:
            name, wanted = entry, ""
        name = name.removeprefix("*").removeprefix(".")
        port_matches = not wanted or wanted == str(port)
        if name and port_matches and (host == name or host.endswith("." + name)):
            return True
    return False


@dataclass(kw_only=True)
class Framing:
    status: int
    headers: dict[str, str]
    length: int | None  # Content-Length, when the body is framed by it
    chunked: bool
    keep_alive: bool


def parse_head(head: bytes) -> Framing | None:
    """The status line and headers of a response (without the blank line that ends them)
    and how its body is framed; None for an interim (1xx) response, which the real one
    follows."""
    lines = head.decode("latin-1").split("\r\n")
    version, _, rest = lines[0].partition(" ")
    code = rest[:3]
    if not version.startswith("HTTP/1.") or not (code.isascii() and code.isdigit()):
        raise TransportError(f"not an HTTP/1.x response: {lines[0][:80]!r}")
    status = int(code)
    if 100 <= status < 200 and status != 101:
        return None
    headers: dict[str, str] = {}
    for line in lines[1:]:
        name, sep, value = line.partition(":")
        if not sep:
            raise TransportError(f"malformed header line: {line[:80]!r}")
        name = name.strip().lower()
        value = value.strip()
        headers[name] = f"{headers[name]}, {value}" if name in headers else value
    connection = headers.get("connection", "").lower()
    keep_alive = "keep-alive" in connection if version == "HTTP/1.0" else "close" not in connection
    encoding = headers.get("transfer-encoding", "").lower()
    chunked = encoding.rsplit(",", 1)[-1].strip() == "chunked"
    length = None
    if not chunked and "content-length" in headers:
        text = headers["content-length"].split(",")[0].strip()
        if not (text.isascii() and text.isdigit()):
            raise TransportError(f"bad Content-Length: {text[:40]!r}")
        length = int(text)
    return Framing(
        status=status, headers=headers, length=length, chunked=chunked, keep_alive=keep_alive
    )


def chunk_size(line: bytes) -> int:
    """The size in a chunk's size line (its extensions ignored)."""
    text = line.split(b";", 1)[0].strip()
    if not text or text.strip(HEX_DIGITS):
        raise TransportError(f"bad chunk size: {text[:20]!r}")
    return int(text, 16)


def request_bytes(
    method: str, target: str, authority: str, headers: Mapping[str, str] | None, body: bytes | None
) -> bytes:
    """A request as sent: its head, then its body (with a Content-Length)."""
    head = [f"{method} {target} HTTP/1.1\r\nHost: {authority}\r\n"]
    for name, value in (headers or {}).items():
        head.append(f"{name}: {value}\r\n")
    if not any(name.lower() == "accept-encoding" for name in headers or {}):
        head.append("Accept-Encoding: identity\r\n")  # bodies are read as sent
    if body is not None or method in ("POST", "PUT", "PATCH"):
        head.append(f"Content-Length: {len(body or b'')}\r\n")
    head.append("\r\n")
    data = "".join(head).encode("latin-1")
    return data + body if body else data


def address_and_authority(host: str, port: int, *, tls: bool) -> tuple[str, str]:
    """``host:port`` (an IPv6 host in brackets), and the ``Host`` header, which leaves out
    the scheme's default port."""
    named = f"[{host}]" if ":" in host else host
    address = f"{named}:{port}"
    return address, named if port == (443 if tls else 80) else address


class _Watchdog:
    """Ends the socket operations that outlive their time (see the module docstring)."""

    def __init__(self) -> None:
        self._forget()

    def _forget(self) -> None:
        """Start from nothing: no thread, nothing armed, a lock nobody holds. Also in a
        forked child, which has none of the parent's threads: neither the watchdog's (the
        state would say it runs, and no timeout would ever fire), nor those whose operations
        were armed, nor any that held the lock at the fork."""
        self._lock = threading.Lock()
        self._armed: dict[Connection, float] = {}  # the monotonic time each one is due
        self._running = False

    def arm(self, connection: Connection, seconds: float) -> None:
        until = time.monotonic() + seconds
        with self._lock:
            self._armed[connection] = until
            if not self._running:
                self._running = True
                threading.Thread(target=self._watch, name="transport-watchdog", daemon=True).start()

    def disarm(self, connection: Connection) -> None:
        with self._lock:
            self._armed.pop(connection, None)

    def _watch(self) -> None:
        idle_since: float | None = None
        while True:
            time.sleep(WATCH_TICK)
            now = time.monotonic()
            with self._lock:
                for connection, until in list(self._armed.items()):
                    if until <= now:
                        del self._armed[connection]
                        connection.expire()
                if self._armed:
                    idle_since = None
                    continue
                idle_since = now if idle_since is None else idle_since
                if now - idle_since >= WATCH_IDLE:
                    self._running = False
                    return


_WATCHDOG = _Watchdog()


def _forget_watchdog() -> None:
    _WATCHDOG._forget()


os.register_at_fork(after_in_child=_forget_watchdog)


class Connection:
    """One HTTP/1.1 connection to ``host:port`` (TLS when ``context`` is given; through
    ``proxy`` when one is given), opened on the first request and reopened after the
    server closed it. Not thread-safe: one per thread."""

    def __init__(
        self,
        host: str,
        port: int,
        *,
        context: ssl.SSLContext | None = None,
        timeout: float | None = 30.0,
        connect_timeout: float | None = None,
        proxy: Proxy | None = None,
    ) -> None:
        self.host = host
        self.port = port
        self.context = context
        self.timeout = timeout  # for each read or write, and for connecting unless given
        self.connect_timeout = timeout if connect_timeout is None else connect_timeout
        self.proxy = proxy
        self.address, self.authority = address_and_authority(host, port, tls=context is not None)
        self.requests = 0  # answered on the current socket
        self._sock: socket.socket | None = None
        self._buffer = bytearray()
        self._before = True  # no byte of the current response has arrived yet
        self._deadline: float | None = None
        self._expired = False  # the watchdog ended the operation in progress

    @property
    def is_open(self) -> bool:
        return self._sock is not None

    # -- requests ---------------------------------------------------------------------
    def request(
        self,
        method: str,
        target: str,
        headers: Mapping[str, str] | None = None,
        body: bytes | None = None,
        *,
        limit: int | None = None,
        deadline: float | None = None,
    ) -> Response:
        """Send one request and read the whole response (see the module docstring for
        ``limit`` and ``deadline``)."""
        self._deadline = deadline
        framing = self._exchange(method, target, headers, body)
        return self._whole(framing, method, limit)

    def close(self) -> None:
        sock, self._sock = self._sock, None
        self._buffer.clear()
        self.requests = 0
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.close()

    # -- the exchange -----------------------------------------------------------------
    def _exchange(
        self,
        method: str,
        target: str,
        headers: Mapping[str, str] | None,
        body: bytes | None,
    ) -> Framing:
        if self.proxy is not None and self.context is None:
            target = f"http://{self.authority}{target}"  # absolute-form, for the proxy
            if self.proxy.authorization:
                headers = {**(headers or {}), "Proxy-Authorization": self.proxy.authorization}
        data = request_bytes(method, target, self.authority, headers, body)
        sock = self._connect()
        try:
            self._arm()
            try:
                sock.sendall(data)
            finally:
                self._disarm()
            return self._read_head()
        except TransportError:
            self.close()
            raise
        except OSError as exc:
            # Nothing came back (a timeout aside: the server may be working on it).
            nothing = self._before and not self._buffer and not isinstance(exc, TimeoutError)
            self.close()
            raise TransportError(f"{type(exc).__name__}: {exc}", before_response=nothing) from exc

    def _arm(self) -> None:
        """Start the clock of one read or write: its timeout, cut to what is left before
        the request's deadline."""
        seconds = self._timeout(self.timeout)
        self._expired = False
        if seconds is not None:
            _WATCHDOG.arm(self, seconds)

    def _disarm(self) -> None:
        """Stop the clock; TimeoutError if the watchdog ended the operation."""
        _WATCHDOG.disarm(self)
        if self._expired:
            raise TimeoutError("timed out")

    def expire(self) -> None:
        """End the read or write in progress, past its time (called by the watchdog)."""
        self._expired = True
        sock = self._sock
        if sock is not None:
            with contextlib.suppress(OSError):
                # the plain socket's shutdown: SSLSocket's would drop its TLS state under
                # the thread that is reading
                socket.socket.shutdown(sock, socket.SHUT_RDWR)

    def _timeout(self, timeout: float | None) -> float | None:
        if self._deadline is None:
            return timeout
        left = self._deadline - time.monotonic()
        if left <= 0:
            raise TransportError("the request's deadline has passed")
        return left if timeout is None else min(timeout, left)

    def _connect(self) -> socket.socket:
        if self._sock is not None:
            self._before = True
            return self._sock
        via = self.proxy
        where = self.address if via is None else f"the proxy {via.host}:{via.port}"
        try:
            sock = socket.create_connection(
                (self.host, self.port) if via is None else (via.host, via.port),
                timeout=self._timeout(self.connect_timeout),
            )
        except TransportError:
            raise
        except OSError as exc:
            raise ConnectError(f"cannot connect to {where}: {exc}") from exc
        self._sock = sock
        self._buffer.clear()
        self.requests = 0
        self._before = True
        try:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            if via is not None and self.context is not None:
                self._tunnel(sock, via)
        except ConnectError:
            self.close()
            raise
        except OSError as exc:
            self.close()
            raise ConnectError(f"cannot connect to {self.address} through {where}: {exc}") from exc
        if self.context is not None:
            try:
                sock.settimeout(self._timeout(self.timeout))
                self._sock = self.context.wrap_socket(sock, server_hostname=self.host)
            except TransportError:
                self.close()
                raise
            except OSError as exc:
                self.close()
                raise ConnectError(f"TLS with {self.address} failed: {exc}", tls=True) from exc
        self._sock.settimeout(None)  # blocking from here on: the watchdog keeps the time
        return self._sock

    def _tunnel(self, sock: socket.socket, proxy: Proxy) -> None:
        """Ask the proxy for a tunnel to the origin (``CONNECT``), for TLS inside it."""
        headers = {"Proxy-Authorization": proxy.authorization} if proxy.authorization else {}
        head = request_bytes("CONNECT", self.address, self.address, headers, None)
        sock.settimeout(self._timeout(self.timeout))
        sock.sendall(head)
        framing = self._read_head()
        if not 200 <= framing.status < 300 or self._buffer:
            raise ConnectError(
                f"the proxy {proxy.host}:{proxy.port} refused a tunnel to {self.address} "
                f"(it answered {framing.status})"
            )

    def _whole(self, framing: Framing, method: str, limit: int | None) -> Response:
        """Read the body of a response, then keep the connection or close it."""
        try:
            if method == "HEAD" or framing.status in NO_BODY_STATUS:
                content, delimited = b"", True
            elif framing.chunked:
                content, delimited = b"".join(self._chunks(limit)), True
            elif framing.length is not None:
                if limit is not None and framing.length > limit:
                    raise BodyTooLargeError(framing.length, limit)
                content, delimited = self._read_exactly(framing.length), True
            else:
                content, delimited = self._read_to_end(limit), False
        except TransportError:
            self.close()
            raise
        except OSError as exc:
            self.close()
            raise TransportError(f"{type(exc).__name__}: {exc}") from exc
        self.requests += 1
        if not (framing.keep_alive and delimited) or self._buffer:
            self.close()  # the server ends it, or bytes beyond the response: start afresh
        return Response(framing.status, framing.headers, content)

    # -- reading ----------------------------------------------------------------------
    def _recv(self) -> bytes:
        sock = self._sock
        assert sock is not None
        self._arm()
        try:
            return sock.recv(RECV_SIZE)
        finally:
            self._disarm()

    def _fill(self) -> None:
        """Read more bytes into the buffer; EOF is an error here."""
        data = self._recv()
        if not data:
            raise TransportError(
                "the server closed the connection",
                before_response=self._before and not self._buffer,
            )
        self._before = False
        self._buffer += data

    def _read_head(self) -> Framing:
        while True:
            framing = parse_head(self._read_until(b"\r\n\r\n", "response headers"))
            if framing is not None:
                return framing

    def _read_exactly(self, size: int) -> bytes:
        buffer = self._buffer
        while len(buffer) < size:
            self._fill()
        data = bytes(buffer[:size])
        del buffer[:size]
        return data

    def _read_line(self) -> bytes:
        return self._read_until(b"\r\n", "chunk header")

    def _read_until(self, delimiter: bytes, what: str) -> bytes:
        """The bytes before ``delimiter``, which is consumed too; ``what`` names them when
        they run past :data:`MAX_HEAD`."""
        buffer = self._buffer
        end = buffer.find(delimiter)
        while end < 0:
            if len(buffer) > MAX_HEAD:
                raise TransportError(f"{what} too long")
            self._fill()
            end = buffer.find(delimiter)
        data = bytes(buffer[:end])
        del buffer[: end + len(delimiter)]
        return data

    def _chunks(self, limit: int | None) -> Iterator[bytes]:
        """The data of each chunk of a chunked body, then the trailers are skipped."""
        total = 0
        while True:
            size = chunk_size(self._read_line())
            if size == 0:
                while self._read_line():
                    pass
                return
            total += size
            if limit is not None and total > limit:
                raise BodyTooLargeError(total, limit)
            data = self._read_exactly(size)
            if self._read_exactly(2) != b"\r\n":
                raise TransportError("chunk not followed by CRLF")
            yield data

    def _read_to_end(self, limit: int | None) -> bytes:
        parts = [bytes(self._buffer)]
        total = len(parts[0])
        self._buffer.clear()
        while True:
            if limit is not None and total > limit:
                raise BodyTooLargeError(total, limit)
            data = self._recv()
            if not data:
                return b"".join(parts)
            parts.append(data)
            total += len(data)

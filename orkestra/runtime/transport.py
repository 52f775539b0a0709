"""A small synchronous HTTP/1.1 client: one keep-alive connection, plain or TLS.

The worker threads make every write of the runtime (and the live reads of kinds no
informer caches) through one of these per thread. It replaces ``http.client``, which the
runtime used before, because that was the largest cost of a request on the client side:
``http.client`` parses every response's headers with the ``email`` package (a
``FeedParser``, a ``Message`` and a policy object per response) and reads through a
buffered ``makefile`` wrapper. Measured against the embedded API server in another process
(TLS, bearer token, a 1.9 KB ConfigMap, 2,000 GETs on one keep-alive connection): 146 µs of
client CPU per GET with ``http.client`` against 52 µs with this module, of which the
msgspec decoding of the body is 7 µs and the rest is the syscalls and TLS. For
02-katalog-api that is four requests per CR, so ~0.4 ms of the runtime's ~2.2 ms per CR.
(A timeout makes Python poll before each read; with a blocking socket and the timeout left
to the kernel, TLS reads would never time out, and in the same benchmark it made no
difference, so the sockets keep their timeout.)

What it does, and no more: a request is written with one ``sendall`` (head and body, with
``Content-Length`` when there is a body, and ``Accept-Encoding: identity``: bodies are read
as they are sent, never decompressed); the response is read with ``recv`` into a buffer; the
status line and the headers are split by hand, and only ``Content-Length``,
``Transfer-Encoding`` and ``Connection`` are interpreted. Bodies are framed by
``Content-Length``, by chunked transfer coding (trailers are read and dropped) or, failing
both, by the end of the connection. ``1xx`` interim responses are skipped; ``HEAD``, ``204``
and ``304`` have no body. The connection is kept open unless the server says ``Connection:
close``, answers in HTTP/1.0 without ``keep-alive``, or frames the body by closing.

Failures raise :class:`TransportError` (an ``OSError``: socket errors and timeouts are
``OSError`` too); :attr:`TransportError.before_response` tells that not a single byte of
the response had arrived, which is how a keep-alive connection the server closed while it
was idle shows itself: the caller may then send the request again on a new connection
(:class:`~orkestra.runtime.kube.KubeClient` does so once for a reused connection).
"""

from __future__ import annotations

import contextlib
import socket
import ssl
from collections.abc import Iterator
from dataclasses import dataclass

RECV_SIZE = 65536
MAX_HEAD = 256 * 1024  # status line and headers together
NO_BODY_STATUS = (204, 304)
HEX_DIGITS = b"0123456789abcdefABCDEF"


class TransportError(OSError):
    """The request failed on the wire or the answer was not HTTP/1.x."""

    def __init__(self, message: str, *, before_response: bool = False) -> None:
        super().__init__(message)
        self.before_response = before_response


@dataclass(frozen=True)
class Response:
    status: int
    headers: dict[str, str]  # lower-case names; repeated headers joined with ", "
    body: bytes


@dataclass(kw_only=True)
class _Framing:
    status: int
    headers: dict[str, str]
    length: int | None  # Content-Length, when the body is framed by it
    chunked: bool
    keep_alive: bool


def parse_head(head: bytes) -> _Framing | None:
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
    return _Framing(
        status=status, headers=headers, length=length, chunked=chunked, keep_alive=keep_alive
    )


def chunk_size(line: bytes) -> int:
    """The size in a chunk's size line (its extensions ignored)."""
    text = line.split(b";", 1)[0].strip()
    if not text or text.strip(HEX_DIGITS):
        raise TransportError(f"bad chunk size: {text[:20]!r}")
    return int(text, 16)


def request_bytes(
    method: str, target: str, authority: str, headers: dict[str, str] | None, body: bytes | None
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


class Connection:
    """One HTTP/1.1 connection to ``host:port`` (TLS when ``context`` is given), opened on
    the first request and reopened after the server closed it. Not thread-safe: one per
    thread."""

    def __init__(
        self,
        host: str,
        port: int,
        *,
        context: ssl.SSLContext | None = None,
        timeout: float | None = 30.0,
    ) -> None:
        self.host = host
        self.port = port
        self.context = context
        self.timeout = timeout  # for connecting, and for each read or write
        self.authority = (f"[{host}]" if ":" in host else host) + f":{port}"
        self.requests = 0  # answered on the current socket
        self._sock: socket.socket | None = None
        self._buffer = bytearray()
        self._before = True  # no byte of the current response has arrived yet

    @property
    def is_open(self) -> bool:
        return self._sock is not None

    # -- requests ---------------------------------------------------------------------
    def request(
        self,
        method: str,
        target: str,
        headers: dict[str, str] | None = None,
        body: bytes | None = None,
    ) -> Response:
        """Send one request and read the whole response."""
        framing = self._exchange(method, target, headers, body)
        return self._whole(framing, method)

    def close(self) -> None:
        sock, self._sock = self._sock, None
        self._buffer.clear()
        self.requests = 0
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.close()

    # -- the exchange -----------------------------------------------------------------
    def _exchange(
        self, method: str, target: str, headers: dict[str, str] | None, body: bytes | None
    ) -> _Framing:
        data = request_bytes(method, target, self.authority, headers, body)
        sock = self._connect()
        try:
            sock.sendall(data)
            return self._read_head()
        except TransportError:
            self.close()
            raise
        except OSError as exc:
            # Nothing came back (a timeout aside: the server may be working on it).
            nothing = self._before and not self._buffer and not isinstance(exc, TimeoutError)
            self.close()
            raise TransportError(f"{type(exc).__name__}: {exc}", before_response=nothing) from exc

    def _connect(self) -> socket.socket:
        if self._sock is not None:
            self._before = True
            return self._sock
        try:
            sock = socket.create_connection((self.host, self.port), timeout=self.timeout)
        except OSError as exc:
            raise TransportError(f"cannot connect to {self.authority}: {exc}") from exc
        try:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            if self.context is not None:
                sock = self.context.wrap_socket(sock, server_hostname=self.host)
        except OSError as exc:
            sock.close()
            raise TransportError(f"TLS with {self.authority} failed: {exc}") from exc
        self._sock = sock
        self._buffer.clear()
        self.requests = 0
        self._before = True
        return sock

    def _whole(self, framing: _Framing, method: str) -> Response:
        """Read the body of a response, then keep the connection or close it."""
        try:
            if method == "HEAD" or framing.status in NO_BODY_STATUS:
                content, delimited = b"", True
            elif framing.chunked:
                content, delimited = b"".join(self._chunks()), True
            elif framing.length is not None:
                content, delimited = self._read_exactly(framing.length), True
            else:
                content, delimited = self._read_to_end(), False
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
    def _fill(self) -> None:
        """Read more bytes into the buffer; EOF is an error here."""
        assert self._sock is not None
        data = self._sock.recv(RECV_SIZE)
        if not data:
            raise TransportError(
                "the server closed the connection",
                before_response=self._before and not self._buffer,
            )
        self._before = False
        self._buffer += data

    def _read_head(self) -> _Framing:
        while True:
            buffer = self._buffer
            end = buffer.find(b"\r\n\r\n")
            while end < 0:
                if len(buffer) > MAX_HEAD:
                    raise TransportError("response headers too long")
                self._fill()
                end = buffer.find(b"\r\n\r\n")
            framing = parse_head(bytes(buffer[:end]))
            del buffer[: end + 4]
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
        buffer = self._buffer
        end = buffer.find(b"\r\n")
        while end < 0:
            if len(buffer) > MAX_HEAD:
                raise TransportError("chunk header too long")
            self._fill()
            end = buffer.find(b"\r\n")
        line = bytes(buffer[:end])
        del buffer[: end + 2]
        return line

    def _chunks(self) -> Iterator[bytes]:
        """The data of each chunk of a chunked body, then the trailers are skipped."""
        while True:
            size = chunk_size(self._read_line())
            if size == 0:
                while self._read_line():
                    pass
                return
            data = self._read_exactly(size)
            if self._read_exactly(2) != b"\r\n":
                raise TransportError("chunk not followed by CRLF")
            yield data

    def _read_to_end(self) -> bytes:
        assert self._sock is not None
        parts = [bytes(self._buffer)]
        self._buffer.clear()
        while True:
            data = self._sock.recv(RECV_SIZE)
            if not data:
                return b"".join(parts)
            parts.append(data)

"""The HTTP/1.1 server layer shared by the embedded API server and the runtime's endpoints:
requests in, responses and streams out.

Both used to run on aiohttp's web server. For the API server, its per-request machinery (a
request object with lazily parsed URL, headers and payload stream, a task and futures per
request, routing, middleware, response preparation) cost about as much CPU as the API
semantics behind it: ~60 µs a request over TLS against ~12 µs for a bare protocol; for
``ork run``, importing aiohttp was a large share of its start-up (see
:mod:`orkestra.runtime.asynchttp`) for a few JSON endpoints. Clients of either need little
of HTTP, so this module is that little, on an ``asyncio.Protocol``:

* requests with ``Content-Length`` or chunked bodies (at most :data:`MAX_BODY`, else 413),
  ``Expect: 100-continue``, keep-alive (HTTP/1.1 by default, HTTP/1.0 when asked),
  pipelined requests answered in order, idle connections closed after :data:`KEEPALIVE`;
* a request is handled in a task of its own (so it has its own context, and its handler
  may await) by the one handler the server is given, which answers a :class:`Response`
  (sent with one write, headers and body together) or a prepared :class:`StreamResponse`
  (chunked: watches, ``kubectl logs -f``; a stream whose client leaves is cancelled);
* malformed requests are answered 400 (431 for an oversized head, 505 for a version other
  than HTTP/1.x, 501 for a transfer coding other than chunked) and the connection closed;
  ``HEAD`` answers without a body.

Routing, authentication and errors are the application's (:mod:`orkestra.apiserver.app`,
:mod:`orkestra.runtime.http`). A leaf module: it imports no other Orkestra module.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import ssl
import time
from collections.abc import Awaitable, Callable, Mapping
from http import HTTPStatus
from typing import cast
from urllib.parse import unquote, urlsplit

from multidict import CIMultiDict, CIMultiDictProxy, MultiDict, MultiDictProxy

log = logging.getLogger(__name__)

MAX_BODY = 8 * 1024 * 1024
MAX_HEAD = 64 * 1024
MAX_BUFFERED = MAX_BODY + MAX_HEAD  # read no further ahead of the request being handled
KEEPALIVE = 75.0  # seconds an idle connection stays open (aiohttp's and nginx's default)
_SWEEP_EVERY = 15.0
_JOIN_BELOW = 64 * 1024  # a response body up to this size is sent joined to its head
_METHOD_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZ-_")


class HttpError(Exception):
    """A request that cannot be read: answered with ``status`` and the connection closed."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


class Request:
    """One request, its body read in full."""

    __slots__ = (
        "_query",
        "body",
        "connection",
        "headers",
        "keep_alive",
        "match_info",
        "method",
        "path",
        "path_qs",
        "query_string",
        "version",
    )

    def __init__(
        self,
        method: str,
        target: str,
        version: str,
        headers: CIMultiDict[str],
        body: bytes = b"",
        connection: Connection | None = None,
    ) -> None:
        self.method = method
        self.version = version
        self.headers = CIMultiDictProxy(headers)
        self.body = body
        self.connection = connection
        self.path_qs = target
        if not target.startswith("/"):  # absolute-form (a proxy's), or "*"
            parts = urlsplit(target)
            target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        path, _, self.query_string = target.partition("?")
        self.path = unquote(path) if "%" in path else path
        self._query: MultiDictProxy[str] | None = None
        self.match_info: dict[str, str] = {}
        tokens = headers.get("Connection", "").lower()
        if version == "HTTP/1.1":
            self.keep_alive = "close" not in tokens
        else:
            self.keep_alive = "keep-alive" in tokens

    @property
    def query(self) -> MultiDictProxy[str]:
        """The query parameters, decoded (``+`` is a space)."""
        if self._query is None:
            self._query = MultiDictProxy(parse_query(self.query_string))
        return self._query


class Response:
    """A whole response: status, headers (``Content-Type`` from ``content_type``), body."""

    __slots__ = ("body", "headers", "status")

    def __init__(
        self,
        body: bytes = b"",
        *,
        status: int = 200,
        content_type: str | None = None,
        headers: Mapping[str, str] | None = None,
        text: str | None = None,
    ) -> None:
        if text is not None:
            body = text.encode()
            content_type = f"{content_type or 'text/plain'}; charset=utf-8"
        self.status = status
        self.body = body
        self.headers: dict[str, str] = {}
        if content_type is not None:
            self.headers["Content-Type"] = content_type
        if headers:
            self.headers.update(headers)


class StreamResponse:
    """A response written as it goes (chunked on HTTP/1.1; on HTTP/1.0 the connection's
    end ends it)."""

    def __init__(self, *, status: int = 200, headers: Mapping[str, str] | None = None) -> None:
        self.status = status
        self.headers: dict[str, str] = dict(headers or {})
        self._connection: Connection | None = None
        self._chunked = True
        self._ended = False

    @property
    def prepared(self) -> bool:
        return self._connection is not None

    @property
    def writable(self) -> bool:
        """Prepared, its client there and reading as fast as we write."""
        connection = self._connection
        return connection is not None and not connection.closed and connection.writable

    async def prepare(self, request: Request) -> None:
        connection = request.connection
        if connection is None:
            raise RuntimeError("the request has no connection to stream to")
        self._chunked = request.version == "HTTP/1.1"
        if not self._chunked:
            request.keep_alive = False
        connection.start_stream(self, request)
        self._connection = connection

    def write_nowait(self, data: bytes) -> None:
        """Send ``data`` now (ConnectionResetError when the client is gone)."""
        if self._connection is None:
            raise RuntimeError("the response is not prepared")
        if data:
            self._connection.send_body(data, self._chunked)

    async def write(self, data: bytes) -> None:
        """Send ``data``, then wait while the client reads slower than we write."""
        self.write_nowait(data)
        if self._connection is not None:
            await self._connection.drain()

    def end(self) -> None:
        """Finish the response (the last, empty chunk); a closed connection is left be."""
        if self._ended or self._connection is None:
            return
        self._ended = True
        if self._chunked and not self._connection.closed:
            self._connection.send(b"0\r\n\r\n")


AnyResponse = Response | StreamResponse
Handler = Callable[[Request], Awaitable[AnyResponse]]


_REASONS = {status.value: status.phrase for status in HTTPStatus}


def _clean(value: str) -> str:
    """A header value that cannot end the header early."""
    return value.replace("\r", " ").replace("\n", " ") if "\r" in value or "\n" in value else value


_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def http_date(seconds: float) -> str:
    """The ``Date`` header's form of a time (RFC 9110 IMF-fixdate), without the locale's
    names that ``strftime`` would use and without ``email.utils`` (~4 ms to import)."""
    t = time.gmtime(seconds)
    return (
        f"{_DAYS[t.tm_wday]}, {t.tm_mday:02d} {_MONTHS[t.tm_mon - 1]} {t.tm_year} "
        f"{t.tm_hour:02d}:{t.tm_min:02d}:{t.tm_sec:02d} GMT"
    )


class _Clock:
    """The ``Date`` header's value, formatted once a second."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self._second = -1
        self._value = ""

    def date(self) -> str:
        now = int(self._loop.time())
        if now != self._second:
            self._second, self._value = now, http_date(time.time())
        return self._value


def _head(
    status: int,
    headers: Mapping[str, str],
    *,
    date: str,
    length: int | None,
    keep_alive: bool,
    version: str,
) -> bytes:
    """Status line and headers; ``length`` None: chunked (HTTP/1.1) or until close."""
    lines = [f"HTTP/1.1 {status} {_REASONS.get(status, 'Unknown')}", f"Date: {date}"]
    lines += [f"{name}: {_clean(value)}" for name, value in headers.items()]
    if length is not None:
        lines.append(f"Content-Length: {length}")
    elif version == "HTTP/1.1":
        lines.append("Transfer-Encoding: chunked")
    if not keep_alive:
        lines.append("Connection: close")
    elif version != "HTTP/1.1":
        lines.append("Connection: keep-alive")
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def parse_head(head: bytes) -> tuple[str, str, str, CIMultiDict[str]]:
    """Method, target, version and headers of a request head (without its blank line);
    header values decoded as UTF-8 (undecodable bytes kept as surrogates)."""
    lines = head.decode("utf-8", "surrogateescape").split("\r\n")
    parts = lines[0].split(" ")
    if len(parts) != 3 or not parts[0] or not parts[1]:
        raise HttpError(400, "malformed request line")
    method, target, version = parts
    if not set(method) <= _METHOD_CHARS:
        raise HttpError(400, "malformed method")
    if version not in ("HTTP/1.1", "HTTP/1.0"):
        raise HttpError(505, f"unsupported version {version}")
    fields = []
    for line in lines[1:]:
        name, colon, value = line.partition(":")
        if not colon or not name or name != name.strip():  # also a folded line
            raise HttpError(400, "malformed header")
        fields.append((name, value.strip(" \t")))
    return method, target, version, CIMultiDict(fields)


def _unquote(text: str) -> str:
    """A query string's name or value, decoded (``+`` is a space)."""
    if "+" in text:
        text = text.replace("+", " ")
    return unquote(text) if "%" in text else text


def parse_query(query: str) -> MultiDict[str]:
    """``a=1&b=&c``: what ``urllib.parse.parse_qsl(query, keep_blank_values=True)``
    answers, without its generality."""
    pairs = []
    for part in query.split("&"):
        if part:
            name, _, value = part.partition("=")
            pairs.append((_unquote(name), _unquote(value)))
    return MultiDict(pairs)


def chunked_body(buffer: bytearray) -> tuple[bytes, int] | None:
    """A whole chunked body at the start of ``buffer`` and the bytes it took (None: not
    all there yet; nothing is copied until it is)."""
    spans: list[tuple[int, int]] = []
    size = 0
    at = 0
    while True:
        end = buffer.find(b"\r\n", at)
        if end < 0:
            if len(buffer) - at > 1024:
                raise HttpError(400, "malformed chunk size")
            return None
        text = bytes(buffer[at:end]).split(b";", 1)[0].strip()
        try:
            length = int(text, 16)
        except ValueError:
            raise HttpError(400, "malformed chunk size") from None
        if length < 0:
            raise HttpError(400, "malformed chunk size")
        at = end + 2
        if length == 0:
            trailers = buffer.find(b"\r\n\r\n", at - 2)
            if trailers < 0:
                return None
            return b"".join(buffer[start:stop] for start, stop in spans), trailers + 4
        size += length
        if size > MAX_BODY:
            raise HttpError(413, f"the request body is larger than {MAX_BODY} bytes")
        if len(buffer) < at + length + 2:
            return None
        if buffer[at + length : at + length + 2] != b"\r\n":
            raise HttpError(400, "malformed chunk")
        spans.append((at, at + length))
        at += length + 2


class Connection(asyncio.Protocol):
    """One client connection: requests read one at a time, each handled to its end
    before the next is read."""

    def __init__(self, server: HttpServer) -> None:
        self.server = server
        self.transport: asyncio.Transport | None = None
        self.closed = False
        self.last_active = server.loop.time()
        self._buffer = bytearray()
        self._head: tuple[str, str, str, CIMultiDict[str]] | None = None
        self._continued = False
        self._task: asyncio.Task[None] | None = None
        self._stream: StreamResponse | None = None
        self._reading = True
        self.writable = True
        self._drained: asyncio.Future[None] | None = None

    # -- asyncio.Protocol ------------------------------------------------------------
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's TLS one is no subclass
        sock = transport.get_extra_info("socket")
        if sock is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.server.connections.add(self)

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        self.server.connections.discard(self)
        self._wake_writer(ConnectionResetError("the client closed the connection"))
        if self._task is not None and self._stream is not None:
            self._task.cancel()  # a stream ends with its client

    def data_received(self, data: bytes) -> None:
        self._buffer += data
        self.last_active = self.server.loop.time()
        if self._task is None:
            self._next()
        elif len(self._buffer) > MAX_BUFFERED and self._reading and self.transport is not None:
            self._reading = False
            self.transport.pause_reading()

    def eof_received(self) -> bool | None:
        return None  # the transport closes; a request in hand still finishes

    def pause_writing(self) -> None:
        self.writable = False

    def resume_writing(self) -> None:
        self.writable = True
        self._wake_writer(None)

    # -- reading requests ------------------------------------------------------------
    def _next(self) -> None:
        """Start handling the next whole request in the buffer, if there is one."""
        if self.closed:
            return
        if self.server.stopping:
            self.close()
            return
        try:
            request = self._parse()
        except HttpError as exc:
            self._refuse(exc)
            return
        if request is None:
            if not self._reading and self.transport is not None:
                self._reading = True
                self.transport.resume_reading()
            return
        self.last_active = self.server.loop.time()
        self._task = self.server.loop.create_task(self._serve(request))

    def _parse(self) -> Request | None:
        buffer = self._buffer
        if self._head is None:
            while buffer.startswith(b"\r\n"):  # stray line ends between requests
                del buffer[:2]
            end = buffer.find(b"\r\n\r\n")
            if end < 0:
                if len(buffer) > MAX_HEAD:
                    raise HttpError(431, "the request head is too large")
                return None
            if end > MAX_HEAD:
                raise HttpError(431, "the request head is too large")
            self._head = parse_head(bytes(buffer[:end]))
            del buffer[: end + 4]
            self._continued = False
        method, target, version, headers = self._head
        body = self._body(headers)
        if body is None:
            return None
        self._head = None
        return Request(method, target, version, headers, body, self)

    def _body(self, headers: CIMultiDict[str]) -> bytes | None:
        """The request's body once all of it is buffered (and taken from the buffer)."""
        buffer = self._buffer
        coding = headers.get("Transfer-Encoding")
        length_header = headers.get("Content-Length")
        if coding is not None:
            if length_header is not None:
                raise HttpError(400, "both Content-Length and Transfer-Encoding")
            if coding.strip().lower() != "chunked":
                raise HttpError(501, f"unsupported transfer coding {coding}")
            found = chunked_body(buffer)
            if found is None:
                self._continue(headers)
                return None
            body, used = found
            del buffer[:used]
            return body
        if length_header is None:
            return b""
        if not length_header.isdigit():
            raise HttpError(400, "malformed Content-Length")
        length = int(length_header)
        if length > MAX_BODY:
            raise HttpError(413, f"the request body is larger than {MAX_BODY} bytes")
        if len(buffer) < length:
            self._continue(headers)
            return None
        body = bytes(buffer[:length])
        del buffer[:length]
        return body

    def _continue(self, headers: CIMultiDict[str]) -> None:
        """Tell a client that waits for it to send its body."""
        if not self._continued and headers.get("Expect", "").lower() == "100-continue":
            self._continued = True
            self.send(b"HTTP/1.1 100 Continue\r\n\r\n")

    def _refuse(self, error: HttpError) -> None:
        body = f"{error.status}: {error}".encode()
        head = _head(
            error.status,
            {"Content-Type": "text/plain; charset=utf-8"},
            date=self.server.clock.date(),
            length=len(body),
            keep_alive=False,
            version="HTTP/1.1",
        )
        self.send(head + body)
        self.close()

    # -- answering -------------------------------------------------------------------
    async def _serve(self, request: Request) -> None:
        try:
            response = await self.server.handler(request)
        except asyncio.CancelledError:
            response = self._stream or Response(status=500)
            request.keep_alive = False
        except Exception:
            log.exception("%s %s failed", request.method, request.path)
            response = self._stream or Response(b"500: Internal Server Error", status=500)
            request.keep_alive = False
        if self.server.stopping:
            request.keep_alive = False
        if isinstance(response, StreamResponse) and response.prepared:
            response.end()
        else:
            self._respond(request, response)
        self._stream = None
        self._task = None
        if not request.keep_alive:
            self.close()
            return
        self.last_active = self.server.loop.time()
        self._next()

    def _respond(self, request: Request, response: AnyResponse) -> None:
        body = response.body if isinstance(response, Response) else b""
        head = _head(
            response.status,
            response.headers,
            date=self.server.clock.date(),
            length=len(body),
            keep_alive=request.keep_alive,
            version=request.version,
        )
        if request.method == "HEAD" or not body:
            self.send(head)
        elif len(body) < _JOIN_BELOW:
            self.send(head + body)
        elif not self.closed and self.transport is not None and not self.transport.is_closing():
            self.transport.writelines((head, body))  # a large body is not copied to join it

    def start_stream(self, response: StreamResponse, request: Request) -> None:
        self._stream = response
        head = _head(
            response.status,
            response.headers,
            date=self.server.clock.date(),
            length=None,
            keep_alive=request.keep_alive,
            version=request.version,
        )
        self.send_checked(head)

    def send_body(self, data: bytes, chunked: bool) -> None:
        if chunked:
            self.send_checked(b"%x\r\n%b\r\n" % (len(data), data))
        else:
            self.send_checked(data)

    def send_checked(self, data: bytes) -> None:
        if self.closed or self.transport is None or self.transport.is_closing():
            raise ConnectionResetError("cannot write to a closing connection")
        self.transport.write(data)

    def send(self, data: bytes) -> None:
        """Write unless the connection is gone (a response nobody waits for any more)."""
        if not self.closed and self.transport is not None and not self.transport.is_closing():
            self.transport.write(data)

    async def drain(self) -> None:
        if self.closed:
            raise ConnectionResetError("the client closed the connection")
        if self.writable:
            return
        if self._drained is None:
            self._drained = self.server.loop.create_future()
        await self._drained

    def _wake_writer(self, exc: Exception | None) -> None:
        waiter, self._drained = self._drained, None
        if waiter is not None and not waiter.done():
            if exc is None:
                waiter.set_result(None)
            else:
                waiter.set_exception(exc)
                waiter.exception()  # retrieved here: nobody may be waiting any more

    # -- closing ---------------------------------------------------------------------
    @property
    def idle(self) -> bool:
        return self._task is None

    def close(self) -> None:
        if self.transport is not None and not self.closed:
            self.transport.close()

    def stop(self) -> None:
        """The server stops: an idle connection closes now, a stream ends now, a request
        being answered closes the connection once answered."""
        if self._task is None:
            self.close()
        elif self._stream is not None:
            self._task.cancel()


class HttpServer:
    """Serves ``handler`` on a listening socket (TLS with ``ssl_context``)."""

    def __init__(self, handler: Handler, loop: asyncio.AbstractEventLoop) -> None:
        self.handler = handler
        self.loop = loop
        self.clock = _Clock(loop)
        self.connections: set[Connection] = set()
        self.stopping = False
        self._server: asyncio.Server | None = None
        self._sweeper: asyncio.TimerHandle | None = None

    async def start(self, host: str, port: int, ssl_context: ssl.SSLContext | None) -> None:
        self._server = await self.loop.create_server(
            lambda: Connection(self),
            host,
            port,
            ssl=ssl_context,
            reuse_address=True,
            backlog=128,
        )
        self._sweeper = self.loop.call_later(_SWEEP_EVERY, self.sweep)

    @property
    def addresses(self) -> list[tuple[str, int]]:
        """The host and port of each listening socket (the port chosen for port 0)."""
        if self._server is None:
            return []
        return [sock.getsockname()[:2] for sock in self._server.sockets]

    def sweep(self) -> None:
        """Close the connections idle for longer than :data:`KEEPALIVE`."""
        cutoff = self.loop.time() - KEEPALIVE
        for connection in list(self.connections):
            if connection.idle and connection.last_active < cutoff:
                connection.close()
        self._sweeper = self.loop.call_later(_SWEEP_EVERY, self.sweep)

    async def close(self, timeout: float) -> None:
        """Stop listening, end every connection (waiting up to ``timeout`` seconds for the
        requests being answered), then close what is left."""
        self.stopping = True
        if self._sweeper is not None:
            self._sweeper.cancel()
            self._sweeper = None
        if self._server is not None:
            self._server.close()
        for connection in list(self.connections):
            connection.stop()
        deadline = self.loop.time() + timeout
        while self.connections and self.loop.time() < deadline:
            for connection in list(self.connections):
                if connection.idle:
                    connection.close()
            await asyncio.sleep(0.01)
        for connection in list(self.connections):
            if connection.transport is not None:
                connection.transport.abort()
        if self._server is not None:
            await self._server.wait_closed()
            self._server = None

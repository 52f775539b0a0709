"""The event loop's HTTP/1.1 client: the workers' calls, lists, leases, events and watches.

:mod:`orkestra.transport` is the synchronous client, one blocking connection per thread;
the event loop needs the same few things without blocking: a request answered in full (the
workers' reads and writes, waited for through :mod:`orkestra.greenbridge`, and the loop's
own), and a watch, a chunked body read as it arrives. aiohttp did this before, and
importing it (with attrs, yarl, multidict, aiosignal, frozenlist, aiohappyeyeballs and its
default TLS contexts)
was 120-140 ms of ``ork run``'s ~400 ms start-up (``-X importtime``), ~5% of a whole run of
1,000 CRs; the runtime's endpoints (:mod:`orkestra.runtime.http`) left aiohttp's web server
for :mod:`orkestra.httpserver` for the same reason. This module rides on asyncio's streams
and protocols and reuses the transport's parsing (:func:`~orkestra.transport.parse_head`,
:func:`~orkestra.transport.chunk_size`, :func:`~orkestra.transport.request_bytes`,
:func:`~orkestra.transport.address_and_authority`).

:class:`AsyncPool` keeps idle keep-alive connections to one server and lends one to each
request; a reused connection that the server closed while idle shows as a failure before
any byte of the answer, and the request is sent once more on a new one (as the synchronous
client does). A request has one deadline for connecting, sending and reading (``timeout``);
one timer of the pool, set for the earliest, keeps them all.
Every answer is parsed in the connection's read callback by one protocol,
:class:`_Exchange`: the task that sent the request wakes once, when the answer is all in.
Measured against asyncio's stream reader (a ``readuntil`` for the head, a ``readexactly``
for the body, a drain): 3,000 PUTs of a Deployment through the runtime's client, client CPU
per PUT ~220 µs with the streams, ~190 µs with this protocol, ~155 µs with a blocking socket
on a thread of its own.
A stream of lines (:meth:`AsyncPool.stream_lines`, a watch) gets a connection of its own,
for as long as it lasts, and one deadline for all of it: a single timer that closes the
connection when it passes, instead of a timer per read; reaching the deadline ends a
chunked stream as the server ending it would. Its body is parsed in the connection's read
callback (:class:`_Exchange`, an ``asyncio.Protocol``), which hands each line to the
caller's function there and then: no task is woken, and no async generator resumed, per
event. For events arriving one at a time, as the runtime's do (a 2 KB event every 0.3 ms,
plain HTTP, uvloop), that took the client's CPU from 19-21 µs an event with asyncio's
stream reader and three generators to 13-15 µs; ``ork run`` gets about six per CR.

Failures raise :class:`~orkestra.transport.TransportError` (an ``OSError``;
:class:`~orkestra.transport.ConnectError` when no connection was made), or ``TimeoutError``
(an ``OSError`` too) when a request's deadline passes, or a stream's while it connects. A
stream's deadline passing later is no ``TimeoutError``: before the head it is a
``TransportError``, as is a ``Content-Length`` body it cuts short; in a chunked body it ends
the stream. What ``on_line`` raises is raised as it is.
"""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import Awaitable, Callable, Mapping
from typing import TypedDict, TypeVar, cast

from orkestra.transport import (
    MAX_HEAD,
    NO_BODY_STATUS,
    ConnectError,
    Framing,
    Response,
    TransportError,
    address_and_authority,
    chunk_size,
    parse_head,
    request_bytes,
)

# Idle connections kept: never more than the calls that were in flight at once (every
# worker's, the informers' lists, leases, events), so the cap only bounds a burst.
MAX_IDLE = 64
T = TypeVar("T")


class AsyncPool:
    """Keep-alive connections to ``host:port`` (TLS when ``context`` is given), for the
    event loop it is used on."""

    def __init__(
        self,
        host: str,
        port: int,
        *,
        context: ssl.SSLContext | None = None,
        timeout: float = 30.0,
    ) -> None:
        self.host = host
        self.port = port
        self.context = context
        self.timeout = timeout
        self.address, self.authority = address_and_authority(host, port, tls=context is not None)
        self._idle: list[_Exchange] = []
        self._busy: dict[_Exchange, float] = {}  # requests being answered: their deadlines
        self._sweep: asyncio.TimerHandle | None = None

    async def request(
        self,
        method: str,
        target: str,
        headers: Mapping[str, str] | None = None,
        body: bytes | None = None,
    ) -> Response:
        """Send one request and read the whole response, within :attr:`timeout`."""
        data = request_bytes(method, target, self.authority, headers, body)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.timeout
        while True:
            connection = self._take_idle()
            if connection is None:
                async with asyncio.timeout_at(deadline):
                    connection = await self._open()
            self._busy[connection] = deadline
            if self._sweep is None:
                self._sweep = loop.call_at(deadline, self._expire, loop)
            try:
                response = await connection.send(data, method)
            except TransportError as exc:
                connection.close()
                if not (connection.reused and exc.before_response):
                    raise
                continue  # closed while idle: nothing of it was answered; send it again
            except BaseException:
                connection.close()
                raise
            finally:
                self._busy.pop(connection, None)
            self._give_back(connection)
            return response

    async def stream_lines(
        self,
        method: str,
        target: str,
        headers: Mapping[str, str] | None,
        *,
        deadline: float,
        on_line: Callable[[bytes], None],
    ) -> Response:
        """A streamed response whose chunked body is lines (a watch): each non-empty line is
        handed to ``on_line`` as it arrives (in the read callback; what it raises ends the
        stream and is raised here), until the server ends the body or the loop's clock
        reaches ``deadline``. The answer: status and headers, with the whole body when the
        status is an error or the body is not chunked (then no line is handed over; a
        ``Content-Length`` body not all in by the deadline is a :class:`TransportError`)."""
        loop = asyncio.get_running_loop()
        data = request_bytes(method, target, self.authority, headers, None)
        async with asyncio.timeout_at(min(deadline, loop.time() + self.timeout)):
            stream = await self._open()
        timer = loop.call_at(deadline, stream.expire)
        try:
            return await stream.send(data, method, on_line)
        finally:
            timer.cancel()
            stream.close()

    async def aclose(self) -> None:
        idle, self._idle = self._idle, []
        for connection in idle:
            connection.close()
        if self._sweep is not None:
            self._sweep.cancel()
            self._sweep = None

    def _expire(self, loop: asyncio.AbstractEventLoop) -> None:
        """Fail the requests past their deadline; come back at the next one's. (One timer
        for all of them: an ``asyncio.timeout`` around each request cost ~7 µs of its
        ~190.)"""
        now = loop.time()
        for connection, deadline in list(self._busy.items()):
            if deadline <= now:
                del self._busy[connection]
                connection.time_out(self.timeout)
        self._sweep = (
            loop.call_at(min(self._busy.values()), self._expire, loop) if self._busy else None
        )

    def _take_idle(self) -> _Exchange | None:
        while self._idle:
            connection = self._idle.pop()
            if not connection.closed:
                return connection
        return None

    def _give_back(self, connection: _Exchange) -> None:
        if connection.reusable and len(self._idle) < MAX_IDLE:
            connection.reused = True
            self._idle.append(connection)
        else:
            connection.close()

    async def _open(self) -> _Exchange:
        loop = asyncio.get_running_loop()
        _, connection = await self._connected(loop.create_connection(_Exchange, **self._where()))
        return connection

    def _where(self) -> _Where:
        return {
            "host": self.host,
            "port": self.port,
            "ssl": self.context,
            "server_hostname": self.host if self.context is not None else None,
        }

    async def _connected(self, opening: Awaitable[T]) -> T:
        """``opening``'s connection, its failures as :class:`ConnectError`."""
        try:
            return await opening
        except ssl.SSLError as exc:
            raise ConnectError(f"TLS with {self.address} failed: {exc}", tls=True) from None
        except OSError as exc:
            raise ConnectError(f"cannot connect to {self.address}: {exc}") from None


class _Where(TypedDict):
    host: str
    port: int
    ssl: ssl.SSLContext | None
    server_hostname: str | None


class _Exchange(asyncio.Protocol):
    """One connection, one request at a time (:meth:`send`), its answer parsed in the read
    callback as it arrives: the head (interim answers skipped), then the body, kept whole,
    or for a stream (``on_line``) with a chunked body and a status under 400, cut into the
    lines handed to ``on_line``. A connection stays open for the next request when the
    answer was delimited and keep-alive (:attr:`reusable`)."""

    def __init__(self) -> None:
        self._transport: asyncio.Transport | None = None
        self.closed = False
        self.reused = False  # it answered a request before the one in progress
        self.reusable = False
        self._start(None, "", None)

    def _start(
        self,
        done: asyncio.Future[Response] | None,
        method: str,
        on_line: Callable[[bytes], None] | None,
    ) -> None:
        self._done = done
        self._method = method
        self._on_line = on_line
        self._buffer = bytearray()
        self._framing: Framing | None = None
        self._lines = False  # the body is lines for on_line (else it is kept whole)
        self._chunk: int | None = None  # the size of the chunk being read; None: a size next
        self._body = bytearray()  # a whole body, or the start of a line not ended yet
        self._expired = False

    def send(
        self, request: bytes, method: str, on_line: Callable[[bytes], None] | None = None
    ) -> asyncio.Future[Response]:
        """Send ``request``; its answer, once it is all in."""
        self._start(asyncio.get_running_loop().create_future(), method, on_line)
        self.reusable = False
        if self.closed or self._transport is None or self._transport.is_closing():
            self._fail(TransportError("the server closed the connection", before_response=True))
        else:
            self._transport.write(request)
        assert self._done is not None
        return self._done

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = cast(asyncio.Transport, transport)

    def data_received(self, data: bytes) -> None:
        if self._done is None or self._done.done():
            self.close()  # bytes nobody asked for: the connection is out of step
            return
        self._buffer += data
        try:
            if self._framing is None and not self._head():
                return
            if self._framing is not None and self._framing.chunked and self._has_body():
                self._chunks()
            else:
                self._whole()
        except Exception as exc:  # a broken answer, or what on_line raised
            self._fail(exc)

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        if self._done is None or self._done.done():
            return
        framing = self._framing
        if framing is None:
            self._fail(
                TransportError(
                    "no answer before the deadline"
                    if self._expired
                    else "the server closed the connection",
                    before_response=not self._expired and not self._buffer,
                )
            )
        elif (framing.chunked and (self._expired or self._chunk == 0)) or (
            not framing.chunked and framing.length is None
        ):  # a stream ended by its deadline or after its last chunk, or a body framed by the
            # end of the connection
            if not framing.chunked:
                self._body += self._buffer
            self._finish(keep=False)
        else:  # the end of a chunked or Content-Length body never came
            self._fail(
                TransportError(
                    "the deadline cut the body short"
                    if self._expired
                    else "the server closed the connection"
                )
            )

    def time_out(self, seconds: float) -> None:
        """A request's deadline: its answer fails with ``TimeoutError``, the connection
        closes."""
        self._fail(TimeoutError(f"no answer within {seconds:g} s"))

    def expire(self) -> None:
        """A stream's deadline: a chunked stream ends as if the server had ended it; a
        ``Content-Length`` body not all in fails (:meth:`connection_lost`)."""
        self._expired = True
        self.close()

    def close(self) -> None:
        self.closed = True
        if self._transport is not None:
            self._transport.abort()

    def _head(self) -> bool:
        """Parse the head (skipping interim answers); False until it has all come."""
        while self._framing is None:
            end = self._buffer.find(b"\r\n\r\n")
            if end < 0:
                if len(self._buffer) > MAX_HEAD:
                    raise TransportError("response headers too long")
                return False
            self._framing = parse_head(bytes(self._buffer[:end]))
            del self._buffer[: end + 4]
        self._lines = (
            self._on_line is not None and self._framing.chunked and self._framing.status < 400
        )
        return True

    def _whole(self) -> None:
        framing = self._framing
        assert framing is not None
        if not self._has_body():
            self._finish(keep=not self._buffer)
        elif framing.length is not None and len(self._buffer) >= framing.length:
            self._body += self._buffer[: framing.length]
            self._finish(keep=len(self._buffer) == framing.length)

    def _has_body(self) -> bool:
        """Whether the answer has a body at all (not after HEAD, nor a 1xx, 204 or 304),
        whatever its headers say."""
        assert self._framing is not None
        return self._method != "HEAD" and self._framing.status not in NO_BODY_STATUS

    def _chunks(self) -> None:
        buffer = self._buffer
        while True:
            if self._chunk is None:
                end = buffer.find(b"\r\n", 0, MAX_HEAD + 2)
                if end < 0:
                    if len(buffer) > MAX_HEAD:
                        raise TransportError("chunk header too long")
                    return
                self._chunk = chunk_size(bytes(buffer[:end]))
                del buffer[: end + 2]
            if self._chunk == 0:
                self._end_chunks()
                return
            size = self._chunk
            if len(buffer) < size + 2:
                return
            if buffer[size : size + 2] != b"\r\n":
                raise TransportError("chunk not followed by CRLF")
            self._body += buffer[:size]
            del buffer[: size + 2]
            self._chunk = None
            if self._lines:
                self._hand_lines()

    def _end_chunks(self) -> None:
        """After the last chunk: its trailers (dropped) and the empty line ending them."""
        buffer = self._buffer
        if buffer.startswith(b"\r\n"):
            used = 2
        else:
            found = buffer.find(b"\r\n\r\n")
            if found < 0:
                if len(buffer) > MAX_HEAD:
                    raise TransportError("trailers too long")
                return
            used = found + 4
        self._finish(keep=len(buffer) == used)

    def _hand_lines(self) -> None:
        """Give on_line the lines that have ended; keep the start of the next."""
        body = self._body
        end = body.rfind(b"\n")
        if end < 0:
            return
        ended = bytes(body[:end])
        del body[: end + 1]
        assert self._on_line is not None
        for line in ended.split(b"\n"):
            if line.strip():
                self._on_line(line)

    def _finish(self, *, keep: bool) -> None:
        """The answer is in; the connection goes on only if ``keep`` (nothing left over)
        and the server keeps it alive."""
        framing = self._framing
        assert framing is not None and self._done is not None
        body = b"" if self._lines else bytes(self._body)  # a line never ended is dropped
        self.reusable = keep and framing.keep_alive and self._on_line is None
        if not self.reusable:
            self.close()
        if not self._done.done():
            self._done.set_result(Response(framing.status, framing.headers, body))

    def _fail(self, exc: BaseException) -> None:
        if self._done is not None and not self._done.done():
            self._done.set_exception(exc)
        self.close()

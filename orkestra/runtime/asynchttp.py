"""The event loop's HTTP/1.1 client: the workers' calls, lists, leases, events and watches.

:mod:`orkestra.transport` is the synchronous client, one blocking connection per thread;
the event loop needs the same few things without blocking: a request answered in full (the
workers' reads and writes, waited for through :mod:`orkestra.greenbridge`, and the loop's
own), and a watch, a chunked body read as it arrives. aiohttp did this before, and importing it (with
attrs, yarl, multidict, aiosignal, frozenlist, aiohappyeyeballs and its default TLS contexts)
was 120-140 ms of ``ork run``'s ~400 ms start-up (``-X importtime``), ~5% of a whole run of
1,000 CRs; the runtime's endpoints (:mod:`orkestra.runtime.http`) left aiohttp's web server
for :mod:`orkestra.httpserver` for the same reason. This module rides on asyncio's streams
and protocols and reuses the transport's parsing (:func:`~orkestra.transport.parse_head`,
:func:`~orkestra.transport.chunk_size`, :func:`~orkestra.transport.request_bytes`,
:func:`~orkestra.transport.address_and_authority`).

:class:`AsyncPool` keeps idle keep-alive connections to one server and lends one to each
request; a reused connection that the server closed while idle shows as a failure before
any byte of the answer, and the request is sent once more on a new one (as the threads'
client does). A request has one deadline for connecting, sending and reading (``timeout``).
A stream of lines (:meth:`AsyncPool.stream_lines`, a watch) gets a connection of its own,
for as long as it lasts, and one deadline for all of it: a single timer that closes the
connection when it passes, instead of a timer per read; reaching the deadline ends a
chunked stream as the server ending it would. Its body is parsed in the connection's read
callback (:class:`_LineStream`, an ``asyncio.Protocol``), which hands each line to the
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
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
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

MAX_IDLE = 4  # idle connections kept; the loop's calls rarely overlap more than this
T = TypeVar("T")


class _Connection:
    """One open connection and its streams; ``reused`` once it has answered a request."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer
        self.reused = False

    def close(self) -> None:
        self.writer.transport.abort()

    async def exchange(self, data: bytes) -> Framing:
        """Send a request; the status, headers and framing of its answer."""
        try:
            self.writer.write(data)
            await self.writer.drain()
            while True:
                framing = parse_head((await self.reader.readuntil(b"\r\n\r\n"))[:-4])
                if framing is not None:
                    return framing
        except asyncio.IncompleteReadError as exc:
            raise TransportError(
                "the server closed the connection", before_response=not exc.partial
            ) from None
        except asyncio.LimitOverrunError:
            raise TransportError("response headers too long") from None
        except ConnectionError as exc:  # reset: nothing of an answer was taken from it
            raise TransportError(f"{type(exc).__name__}: {exc}", before_response=True) from None

    async def chunks(self) -> AsyncIterator[bytes]:
        """The data of each chunk of a chunked body; the trailers are read and dropped."""
        reader = self.reader
        while True:
            size = chunk_size(await reader.readuntil(b"\r\n"))
            if size == 0:
                while await reader.readuntil(b"\r\n") != b"\r\n":
                    pass
                return
            data = await reader.readexactly(size + 2)
            if data[-2:] != b"\r\n":
                raise TransportError("chunk not followed by CRLF")
            yield data[:-2]


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
        self._idle: list[_Connection] = []

    async def request(
        self,
        method: str,
        target: str,
        headers: Mapping[str, str] | None = None,
        body: bytes | None = None,
    ) -> Response:
        """Send one request and read the whole response, within :attr:`timeout`."""
        data = request_bytes(method, target, self.authority, headers, body)
        async with asyncio.timeout(self.timeout):
            while True:
                connection = self._idle.pop() if self._idle else await self._open()
                try:
                    return await self._answer(connection, method, data)
                except TransportError as exc:
                    connection.close()
                    if not (connection.reused and exc.before_response):
                        raise
                    # closed while idle: nothing of the request was answered; send it again
                except BaseException as exc:
                    connection.close()
                    # a reset, the server closing early, a chunk line over the reader's limit
                    if isinstance(
                        exc, OSError | asyncio.IncompleteReadError | asyncio.LimitOverrunError
                    ):
                        raise _failure(exc) from None
                    raise

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
        stream = _LineStream(loop, data, on_line)
        async with asyncio.timeout_at(min(deadline, loop.time() + self.timeout)):
            await self._connected(loop.create_connection(lambda: stream, **self._where()))
        timer = loop.call_at(deadline, stream.expire)
        try:
            return await stream.done
        finally:
            timer.cancel()
            stream.close()

    async def aclose(self) -> None:
        idle, self._idle = self._idle, []
        for connection in idle:
            connection.close()

    async def _answer(self, connection: _Connection, method: str, data: bytes) -> Response:
        framing = await connection.exchange(data)
        body = await _body(connection, method, framing)
        delimited = (
            framing.chunked
            or framing.length is not None
            or method == "HEAD"
            or framing.status in NO_BODY_STATUS
        )
        if framing.keep_alive and delimited and len(self._idle) < MAX_IDLE:
            connection.reused = True
            self._idle.append(connection)
        else:
            connection.close()
        return Response(framing.status, framing.headers, body)

    async def _open(self) -> _Connection:
        opening = asyncio.open_connection(**self._where(), limit=MAX_HEAD)
        reader, writer = await self._connected(opening)
        return _Connection(reader, writer)

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


class _LineStream(asyncio.Protocol):
    """One streamed request on a connection of its own, its answer parsed as it arrives:
    the head (interim answers skipped), then the body: the lines of a chunked one handed to
    ``on_line``, or, for an error or a body that is not chunked, the whole of it kept for
    the answer."""

    def __init__(
        self, loop: asyncio.AbstractEventLoop, request: bytes, on_line: Callable[[bytes], None]
    ) -> None:
        self.done: asyncio.Future[Response] = loop.create_future()
        self._request = request
        self._on_line = on_line
        self._transport: asyncio.Transport | None = None
        self._buffer = bytearray()
        self._framing: Framing | None = None
        self._lines = False  # the body is lines for on_line (else it is kept whole)
        self._chunk: int | None = None  # the size of the chunk being read; None: a size next
        self._body = bytearray()  # a whole body, or the start of a line not ended yet
        self._expired = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = cast(asyncio.Transport, transport)
        self._transport.write(self._request)

    def data_received(self, data: bytes) -> None:
        if self.done.done():
            return
        self._buffer += data
        try:
            if self._framing is None and not self._head():
                return
            if self._framing is not None and self._framing.chunked:
                self._chunks()
            else:
                self._whole()
        except Exception as exc:  # a broken answer, or what on_line raised
            self._fail(exc)

    def connection_lost(self, exc: Exception | None) -> None:
        if self.done.done():
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
        elif (framing.chunked and self._expired) or (
            not framing.chunked and framing.length is None
        ):  # a stream ended by its deadline, or a body framed by the end of the connection
            if not framing.chunked:
                self._body += self._buffer
            self._finish()
        else:  # the end of a chunked or Content-Length body never came
            self._fail(
                TransportError(
                    "the deadline cut the body short"
                    if self._expired
                    else "the server closed the connection"
                )
            )

    def expire(self) -> None:
        """The deadline: a chunked stream ends as if the server had ended it; a
        ``Content-Length`` body not all in fails (:meth:`connection_lost`)."""
        self._expired = True
        self.close()

    def close(self) -> None:
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
        self._lines = self._framing.chunked and self._framing.status < 400
        return True

    def _whole(self) -> None:
        framing = self._framing
        assert framing is not None
        if framing.status in NO_BODY_STATUS:
            self._finish()
        elif framing.length is not None and len(self._buffer) >= framing.length:
            self._body += self._buffer[: framing.length]
            self._finish()

    def _chunks(self) -> None:
        buffer = self._buffer
        while True:
            if self._chunk is None:
                end = buffer.find(b"\r\n")
                if end < 0:
                    if len(buffer) > MAX_HEAD:
                        raise TransportError("chunk header too long")
                    return
                self._chunk = chunk_size(bytes(buffer[:end]))
                del buffer[: end + 2]
                if self._chunk == 0:  # the last chunk (trailers are not read)
                    self._finish()
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

    def _hand_lines(self) -> None:
        """Give on_line the lines that have ended; keep the start of the next."""
        body = self._body
        end = body.rfind(b"\n")
        if end < 0:
            return
        ended = bytes(body[:end])
        del body[: end + 1]
        for line in ended.split(b"\n"):
            if line.strip():
                self._on_line(line)

    def _finish(self) -> None:
        framing = self._framing
        assert framing is not None
        body = b"" if self._lines else bytes(self._body)  # a line never ended is dropped
        if not self.done.done():
            self.done.set_result(Response(framing.status, framing.headers, body))
        self.close()

    def _fail(self, exc: BaseException) -> None:
        if not self.done.done():
            self.done.set_exception(exc)
        self.close()


async def _body(connection: _Connection, method: str, framing: Framing) -> bytes:
    if method == "HEAD" or framing.status in NO_BODY_STATUS:
        return b""
    if framing.chunked:
        return b"".join([chunk async for chunk in connection.chunks()])
    if framing.length is not None:
        return await connection.reader.readexactly(framing.length)
    return await connection.reader.read()


def _failure(
    exc: OSError | asyncio.IncompleteReadError | asyncio.LimitOverrunError,
) -> TransportError:
    """What failed an exchange, as a :class:`TransportError` (one raised as a
    ``TransportError`` never gets here: :meth:`AsyncPool.request` handles those first)."""
    if isinstance(exc, asyncio.IncompleteReadError):
        return TransportError("the server closed the connection")
    if isinstance(exc, asyncio.LimitOverrunError):
        return TransportError("chunk header too long")
    return TransportError(f"{type(exc).__name__}: {exc}")

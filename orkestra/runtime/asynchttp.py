"""The event loop's HTTP/1.1 client: lists, leases, events and watch streams.

The worker threads write through :mod:`orkestra.transport`, one blocking connection each;
the event loop needs the same few things without blocking: a request answered in full, and a
watch, a chunked body read as it arrives. aiohttp did this before, and importing it (with
attrs, yarl, multidict, aiosignal, frozenlist, aiohappyeyeballs and its default TLS contexts)
was ~110 ms of ``ork run``'s ~400 ms start-up (``-X importtime``), ~5% of a whole run of
1,000 CRs. This module rides on asyncio's streams and reuses the transport's parsing
(:func:`~orkestra.transport.parse_head`, :func:`~orkestra.transport.chunk_size`,
:func:`~orkestra.transport.request_bytes`, :func:`~orkestra.transport.address_and_authority`).

:class:`AsyncPool` keeps idle keep-alive connections to one server and lends one to each
request; a reused connection that the server closed while idle shows as a failure before
any byte of the answer, and the request is sent once more on a new one (as the threads'
client does). A request has one deadline for connecting, sending and reading (``timeout``).
A stream (:meth:`AsyncPool.stream`) gets a connection of its own, for as long as it lasts,
and one deadline for all of it: a single timer that closes the connection when it passes,
instead of a timer per read; reaching the deadline ends the stream as the server ending it
would. Failures raise :class:`~orkestra.transport.TransportError` (an ``OSError``).
"""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import AsyncGenerator, AsyncIterator, Mapping

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
                    if isinstance(exc, OSError | asyncio.IncompleteReadError):
                        raise _failure(exc) from None
                    raise

    async def stream(
        self,
        method: str,
        target: str,
        headers: Mapping[str, str] | None,
        *,
        deadline: float,
    ) -> AsyncGenerator[Response | bytes, None]:
        """A streamed response: first a :class:`Response` with the status and headers (and
        the whole body when the status is an error), then each chunk of the body as it
        arrives, until the server ends it or the loop's clock reaches ``deadline``."""
        loop = asyncio.get_running_loop()
        async with asyncio.timeout_at(min(deadline, loop.time() + self.timeout)):
            connection = await self._open()
        timer = loop.call_at(deadline, connection.close)
        try:
            data = request_bytes(method, target, self.authority, headers, None)
            framing = await connection.exchange(data)
            if framing.status >= 400 or not framing.chunked:
                yield Response(
                    framing.status, framing.headers, await _body(connection, method, framing)
                )
                return
            yield Response(framing.status, framing.headers, b"")
            async for chunk in connection.chunks():
                yield chunk
        except (OSError, asyncio.IncompleteReadError) as exc:
            if loop.time() < deadline:
                raise _failure(exc) from None
        finally:
            timer.cancel()
            connection.close()

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
        try:
            reader, writer = await asyncio.open_connection(
                self.host,
                self.port,
                ssl=self.context,
                server_hostname=self.host if self.context is not None else None,
                limit=MAX_HEAD,
            )
        except ssl.SSLError as exc:
            raise ConnectError(f"TLS with {self.address} failed: {exc}", tls=True) from None
        except OSError as exc:
            raise ConnectError(f"cannot connect to {self.address}: {exc}") from None
        return _Connection(reader, writer)


async def _body(connection: _Connection, method: str, framing: Framing) -> bytes:
    if method == "HEAD" or framing.status in NO_BODY_STATUS:
        return b""
    if framing.chunked:
        return b"".join([chunk async for chunk in connection.chunks()])
    if framing.length is not None:
        return await connection.reader.readexactly(framing.length)
    return await connection.reader.read()


def _failure(exc: OSError | asyncio.IncompleteReadError) -> TransportError:
    if isinstance(exc, TransportError):
        return exc
    if isinstance(exc, asyncio.IncompleteReadError):
        return TransportError("the server closed the connection")
    return TransportError(f"{type(exc).__name__}: {exc}")

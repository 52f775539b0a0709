"""The event loop's HTTP/1.1 client against real sockets: framing, keep-alive and sending
again on a connection the server closed while idle, deadlines for requests and streams,
streamed chunks as they arrive, and the errors it raises. The servers are the scripted
raw-bytes servers of tests/test_transport.py, so the tests control every byte of the
answers; TLS is exercised through ``KubeClient`` against the embedded API server (the
informer, leader and kube tests)."""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import AsyncGenerator, Awaitable, Callable
from typing import TypeVar

import pytest

from orkestra.runtime.asynchttp import AsyncPool
from orkestra.transport import ConnectError, Response, TransportError
from tests.test_transport import Request, ScriptedServer, ok, scripted

T = TypeVar("T")


def run(
    server: ScriptedServer, use: Callable[[AsyncPool], Awaitable[T]], timeout: float = 30.0
) -> T:
    async def main() -> T:
        pool = AsyncPool("127.0.0.1", server.port, timeout=timeout)
        try:
            return await use(pool)
        finally:
            await pool.aclose()

    return asyncio.run(main())


def test_requests_share_a_kept_alive_connection_and_send_their_bodies() -> None:
    def reply(request: Request, sock: socket.socket) -> bool:
        sock.sendall(ok(b'{"got": "%s"}' % request.body))
        return True

    async def use(pool: AsyncPool) -> list[Response]:
        return [
            await pool.request("POST", "/a", {"Content-Type": "x"}, b"one"),
            await pool.request("PUT", "/b", None, b"two"),
            await pool.request("GET", "/c"),
        ]

    with scripted(reply) as server:
        answers = run(server, use)
    assert [a.body for a in answers] == [b'{"got": "one"}', b'{"got": "two"}', b'{"got": ""}']
    assert answers[0].status == 200 and answers[0].headers["content-type"] == "application/json"
    assert server.connections == 1
    assert [(r.method, r.target) for r in server.requests] == [
        ("POST", "/a"),
        ("PUT", "/b"),
        ("GET", "/c"),
    ]
    assert server.requests[0].headers["content-type"] == "x"
    assert server.requests[0].headers["host"] == f"127.0.0.1:{server.port}"


@pytest.mark.parametrize(
    "answer,body",
    [
        (
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
            b"3;x=y\r\nabc\r\n0\r\nT: 1\r\n\r\n",
            b"abc",
        ),
        (
            b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\nok",
            b"ok",
        ),
        (b"HTTP/1.1 204 No Content\r\n\r\n", b""),
        (b"HTTP/1.0 200 OK\r\n\r\nuntil the end", b"until the end"),
    ],
)
def test_bodies_framed_every_way(answer: bytes, body: bytes) -> None:
    def reply(request: Request, sock: socket.socket) -> bool:
        sock.sendall(answer)
        return b"HTTP/1.0" not in answer

    with scripted(reply) as server:
        got = run(server, lambda pool: pool.request("GET", "/"))
    assert got.body == body


def test_a_reused_connection_the_server_closed_is_replaced_and_the_request_sent_once() -> None:
    def reply(request: Request, sock: socket.socket) -> bool:
        sock.sendall(ok(b"%d" % len(server.requests)))
        return False  # answers, then closes without saying so

    async def use(pool: AsyncPool) -> list[bytes]:
        first = await pool.request("GET", "/")
        await asyncio.sleep(0.05)
        second = await pool.request("POST", "/", None, b"{}")
        return [first.body, second.body]

    with scripted(reply) as server:
        assert run(server, use) == [b"1", b"2"]
    assert server.connections == 2
    assert [r.method for r in server.requests] == ["GET", "POST"]


@pytest.mark.parametrize(
    "answer,message",
    [
        (b"SPDY/3 200 OK\r\n\r\n", "not an HTTP/1.x response"),
        (b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort", "closed the connection"),
        (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabXY", "not followed by CRLF"),
        (b"", "closed the connection"),
    ],
)
def test_broken_answers_on_a_new_connection_are_not_sent_again(answer: bytes, message: str) -> None:
    def reply(request: Request, sock: socket.socket) -> bool:
        sock.sendall(answer)
        return False

    with scripted(reply) as server, pytest.raises(TransportError, match=message):
        run(server, lambda pool: pool.request("POST", "/", None, b"{}"))
    assert len(server.requests) == 1


def test_a_request_has_one_deadline_and_its_connection_is_not_kept() -> None:
    def reply(request: Request, sock: socket.socket) -> bool:
        if request.target == "/slow":
            time.sleep(1.0)
        sock.sendall(ok(b"{}"))
        return True

    async def use(pool: AsyncPool) -> float:
        started = time.monotonic()
        with pytest.raises(TimeoutError):
            await pool.request("GET", "/slow")
        waited = time.monotonic() - started
        assert (await pool.request("GET", "/fast")).body == b"{}"
        return waited

    with scripted(reply) as server:
        assert run(server, use, timeout=0.2) < 0.8
    assert server.connections == 2  # the late answer never reaches the next request


def test_no_server_is_a_connect_error() -> None:
    free = socket.create_server(("127.0.0.1", 0))
    port = free.getsockname()[1]
    free.close()

    async def use() -> None:
        await AsyncPool("127.0.0.1", port, timeout=1.0).request("GET", "/")

    with pytest.raises(ConnectError, match="cannot connect to 127"):
        asyncio.run(use())


def stream_of(pool: AsyncPool, deadline_in: float) -> AsyncGenerator[Response | bytes, None]:
    loop = asyncio.get_running_loop()
    return pool.stream("GET", "/watch", {"Accept": "x"}, deadline=loop.time() + deadline_in)


def test_a_stream_yields_its_head_then_each_chunk_and_ends_at_its_deadline() -> None:
    def reply(request: Request, sock: socket.socket) -> bool:
        sock.sendall(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\none\r\n")
        time.sleep(0.05)
        sock.sendall(b"3\r\ntwo\r\n")
        time.sleep(3)  # then silence: the server never ends this one
        return False

    async def use(pool: AsyncPool) -> tuple[list[Response | bytes], float]:
        started = time.monotonic()
        got = [part async for part in stream_of(pool, 0.4)]
        return got, time.monotonic() - started

    with scripted(reply) as server:
        got, took = run(server, use)
    assert isinstance(got[0], Response) and got[0].status == 200
    assert got[1:] == [b"one", b"two"]
    assert 0.35 < took < 2.0
    assert server.requests[0].headers["accept"] == "x"


def test_a_stream_the_server_ends_or_refuses() -> None:
    def reply(request: Request, sock: socket.socket) -> bool:
        if request.target == "/watch":
            sock.sendall(
                b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1\r\na\r\n0\r\n\r\n"
            )
        else:
            sock.sendall(b"HTTP/1.1 410 Gone\r\nContent-Length: 7\r\n\r\nexpired")
        return True

    async def use(pool: AsyncPool) -> tuple[list[Response | bytes], list[Response | bytes]]:
        ended = [part async for part in stream_of(pool, 5)]
        loop = asyncio.get_running_loop()
        gone = [part async for part in pool.stream("GET", "/old", None, deadline=loop.time() + 5)]
        return ended, gone

    with scripted(reply) as server:
        ended, gone = run(server, use)
    assert ended[1:] == [b"a"]
    assert len(gone) == 1 and isinstance(gone[0], Response)
    assert (gone[0].status, gone[0].body) == (410, b"expired")


def test_a_stream_cut_before_its_deadline_is_an_error() -> None:
    def reply(request: Request, sock: socket.socket) -> bool:
        sock.sendall(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1\r\na\r\n")
        return False  # cut mid-stream

    async def use(pool: AsyncPool) -> list[Response | bytes]:
        got: list[Response | bytes] = []
        with pytest.raises(TransportError, match="closed the connection"):
            async for part in stream_of(pool, 5):
                got.append(part)
        return got

    with scripted(reply) as server:
        assert run(server, use)[1:] == [b"a"]

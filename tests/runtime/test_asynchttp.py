"""The event loop's HTTP/1.1 client against real sockets: framing, keep-alive and sending
again on a connection the server closed while idle, deadlines for requests and streams,
streamed chunks as they arrive, and the errors it raises. The servers are the scripted
raw-bytes servers of tests/test_transport.py, so the tests control every byte of the
answers; TLS is exercised through ``KubeClient`` against the embedded API server (the
informer, leader and kube tests)."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

import pytest

from orkestra.cluster.errors import GoneError
from orkestra.runtime.asynchttp import AsyncPool
from orkestra.transport import MAX_HEAD, ConnectError, Response, TransportError
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


@pytest.mark.parametrize(
    "answer,connections",
    [
        # delimited answers keep the connection for the next request
        (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nab\r\n0\r\n\r\n", 1),
        (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nT: 1\r\n\r\n", 1),
        (b"HTTP/1.1 204 No Content\r\n\r\n", 1),
        # the server asks to close, or sends more than the answer: a new connection each time
        (b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nab", 3),
        (b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nabEXTRA", 3),
    ],
)
def test_a_connection_is_kept_only_after_a_whole_kept_alive_answer(
    answer: bytes, connections: int
) -> None:
    def reply(request: Request, sock: socket.socket) -> bool:
        sock.sendall(answer)
        return b"close" not in answer

    async def use(pool: AsyncPool) -> list[int]:
        return [(await pool.request("GET", f"/{n}")).status for n in range(3)]

    with scripted(reply) as server:
        statuses = run(server, use)
    assert len(set(statuses)) == 1 and server.connections == connections


@pytest.mark.parametrize(
    "method,answer",
    [
        ("HEAD", b"HTTP/1.1 200 OK\r\nContent-Length: 99\r\n\r\n"),
        ("HEAD", b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"),
        ("GET", b"HTTP/1.1 204 No Content\r\nTransfer-Encoding: chunked\r\n\r\n"),
        ("GET", b"HTTP/1.1 304 Not Modified\r\nContent-Length: 5\r\n\r\n"),
    ],
)
def test_an_answer_without_a_body_ends_at_its_head_whatever_its_framing(
    method: str, answer: bytes
) -> None:
    def reply(request: Request, sock: socket.socket) -> bool:
        sock.sendall(answer)
        return True

    async def use(pool: AsyncPool) -> list[bytes]:
        return [(await pool.request(method, "/")).body for _ in range(2)]

    with scripted(reply) as server:
        assert run(server, use, timeout=2.0) == [b"", b""]
    assert server.connections == 1


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


def test_a_chunk_header_over_the_limit_is_a_transport_error() -> None:
    def reply(request: Request, sock: socket.socket) -> bool:
        head = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
        with contextlib.suppress(OSError):  # the client hangs up before taking it all
            sock.sendall(head + b"1" * (MAX_HEAD + 1) + b"\r\n")
        return False

    with scripted(reply) as server, pytest.raises(TransportError, match="chunk header too long"):
        run(server, lambda pool: pool.request("GET", "/"))
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


def test_each_request_in_flight_keeps_its_own_deadline() -> None:
    def reply(request: Request, sock: socket.socket) -> bool:
        time.sleep({"/slow": 1.5, "/late": 0.2}.get(request.target, 0.0))
        sock.sendall(ok(request.target.encode()))
        return True

    async def outcome(pool: AsyncPool, target: str, after: float = 0.0) -> tuple[str, float]:
        await asyncio.sleep(after)
        started = time.monotonic()
        try:
            body = (await pool.request("GET", target)).body.decode()
        except TimeoutError as exc:
            body = str(exc)
        return body, time.monotonic() - started

    async def use(pool: AsyncPool) -> list[tuple[str, float]]:
        together = await asyncio.gather(
            outcome(pool, "/slow"), outcome(pool, "/fast"), outcome(pool, "/late", 0.3)
        )
        return [*together, await outcome(pool, "/slow")]  # after a quiet spell, too

    with scripted(reply) as server:
        slow, fast, late, slow_again = run(server, use, timeout=0.5)
    for timed_out in (slow, slow_again):  # at their deadline, well before the answer
        assert timed_out[0] == "no answer within 0.5 s" and 0.5 <= timed_out[1] < 1.4
    assert fast[0] == "/fast"
    assert late[0] == "/late"  # sent 0.3 s in, answered 0.2 s later: within its own deadline


def test_no_server_is_a_connect_error() -> None:
    free = socket.create_server(("127.0.0.1", 0))
    port = free.getsockname()[1]
    free.close()

    async def use() -> None:
        await AsyncPool("127.0.0.1", port, timeout=1.0).request("GET", "/")

    with pytest.raises(ConnectError, match="cannot connect to 127"):
        asyncio.run(use())


def lines_of(
    pool: AsyncPool, deadline_in: float, path: str = "/watch"
) -> Awaitable[tuple[Response, list[bytes]]]:
    """The answer to a streamed GET and the lines handed over meanwhile."""

    async def follow() -> tuple[Response, list[bytes]]:
        loop = asyncio.get_running_loop()
        lines: list[bytes] = []
        answer = await pool.stream_lines(
            "GET", path, {"Accept": "x"}, deadline=loop.time() + deadline_in, on_line=lines.append
        )
        return answer, lines

    return follow()


def test_a_stream_hands_over_each_line_as_it_arrives_and_ends_at_its_deadline() -> None:
    arrived: list[float] = []

    def reply(request: Request, sock: socket.socket) -> bool:
        sock.sendall(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n6\r\none\ntw\r\n")
        time.sleep(0.05)
        sock.sendall(b"2\r\no\n\r\n4\r\n\nthr\r\n")  # an empty line, then part of one
        arrived.append(time.monotonic())
        time.sleep(3)  # then silence: the server never ends this one
        return False

    async def use(pool: AsyncPool) -> tuple[Response, list[bytes], list[float], float]:
        loop = asyncio.get_running_loop()
        started = time.monotonic()
        lines: list[bytes] = []
        seen: list[float] = []

        def line(data: bytes) -> None:
            lines.append(data)
            seen.append(time.monotonic())

        answer = await pool.stream_lines(
            "GET", "/watch", {"Accept": "x"}, deadline=loop.time() + 0.4, on_line=line
        )
        return answer, lines, seen, time.monotonic() - started

    with scripted(reply) as server:
        answer, lines, seen, took = run(server, use)
    assert (answer.status, answer.body) == (200, b"")
    assert lines == [b"one", b"two"]  # not the empty one, nor "thr", never ended
    assert seen[1] - arrived[0] < 0.2  # "two" was handed over when it came, not at the end
    assert 0.35 < took < 2.0
    assert server.requests[0].headers["accept"] == "x"


def test_a_stream_the_server_ends_refuses_or_does_not_chunk() -> None:
    def reply(request: Request, sock: socket.socket) -> bool:
        if request.target == "/watch":
            sock.sendall(
                b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\na\n\r\n0\r\n\r\n"
            )
        elif request.target == "/plain":
            sock.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nb\nc\n")
        elif request.target == "/chunked-error":
            sock.sendall(
                b"HTTP/1.1 500 Oops\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nno\r\n0\r\n\r\n"
            )
        else:
            sock.sendall(b"HTTP/1.1 410 Gone\r\nContent-Length: 7\r\n\r\nexpired")
        return True

    async def use(pool: AsyncPool) -> list[tuple[Response, list[bytes]]]:
        paths = ("/watch", "/old", "/plain", "/chunked-error")
        return [await lines_of(pool, 5, path) for path in paths]

    with scripted(reply) as server:
        ended, gone, plain, error = run(server, use)
    assert ended == (Response(200, {"transfer-encoding": "chunked"}, b""), [b"a"])
    assert (gone[0].status, gone[0].body, gone[1]) == (410, b"expired", [])
    assert (plain[0].body, plain[1]) == (b"b\nc\n", [])  # kept whole for the caller
    assert (error[0].status, error[0].body) == (500, b"no")


def test_what_the_line_handler_raises_ends_the_stream() -> None:
    def reply(request: Request, sock: socket.socket) -> bool:
        sock.sendall(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4\r\na\nb\n\r\n")
        time.sleep(3)
        return False

    async def use(pool: AsyncPool) -> float:
        loop = asyncio.get_running_loop()
        started = time.monotonic()

        def refuse(line: bytes) -> None:
            raise GoneError(f"refused {line!r}")

        with pytest.raises(GoneError, match="refused b'a'"):
            await pool.stream_lines("GET", "/", None, deadline=loop.time() + 5, on_line=refuse)
        return time.monotonic() - started

    with scripted(reply) as server:
        assert run(server, use) < 1.0


def test_a_stream_cut_before_its_deadline_is_an_error() -> None:
    def reply(request: Request, sock: socket.socket) -> bool:
        sock.sendall(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\na\n\r\n")
        return False  # cut mid-stream

    async def use(pool: AsyncPool) -> list[bytes]:
        loop = asyncio.get_running_loop()
        lines: list[bytes] = []
        with pytest.raises(TransportError, match="closed the connection"):
            await pool.stream_lines(
                "GET", "/", None, deadline=loop.time() + 5, on_line=lines.append
            )
        return lines

    with scripted(reply) as server:
        assert run(server, use) == [b"a"]


def test_no_head_before_the_deadline_is_an_error() -> None:
    def reply(request: Request, sock: socket.socket) -> bool:
        time.sleep(2)
        return False

    async def use(pool: AsyncPool) -> None:
        loop = asyncio.get_running_loop()
        await pool.stream_lines("GET", "/", None, deadline=loop.time() + 0.2, on_line=print)

    with scripted(reply) as server, pytest.raises(TransportError, match="no answer before"):
        run(server, use)


@pytest.mark.parametrize(
    "answer,closes,message",
    [
        # Content-Length framing: the body must all come, before the deadline or the close
        (b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort", False, "deadline cut"),
        (b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort", True, "server closed"),
        (b"HTTP/1.1 410 Gone\r\nContent-Length: 10\r\n\r\nexp", False, "deadline cut"),
        # a chunked error body whose last chunk never comes, the server closing
        (
            b"HTTP/1.1 500 Oops\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nno\r\n",
            True,
            "server closed",
        ),
    ],
)
def test_a_stream_body_cut_short_is_an_error(answer: bytes, closes: bool, message: str) -> None:
    def reply(request: Request, sock: socket.socket) -> bool:
        sock.sendall(answer)
        if not closes:
            time.sleep(2)  # silence until the client's deadline has passed
        return False

    async def use(pool: AsyncPool) -> float:
        started = time.monotonic()
        with pytest.raises(TransportError, match=message):
            await lines_of(pool, 0.3)
        return time.monotonic() - started

    with scripted(reply) as server:
        assert run(server, use) < 1.5


def test_a_stream_body_framed_by_the_close_is_whole() -> None:
    def reply(request: Request, sock: socket.socket) -> bool:
        sock.sendall(b"HTTP/1.0 200 OK\r\n\r\nb\nc\n")
        return False

    with scripted(reply) as server:
        answer, lines = run(server, lambda pool: lines_of(pool, 5))
    assert (answer.status, answer.body, lines) == (200, b"b\nc\n", [])

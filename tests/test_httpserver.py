"""The shared HTTP/1.1 server layer, byte for byte: requests fed to a connection whose
transport records what it is sent, and exchanges with a real server over TLS and over
plain TCP (the reported address of an ephemeral port)."""

from __future__ import annotations

import asyncio
import json
import socket
import ssl
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import pytest
from multidict import CIMultiDict

from orkestra import httpserver
from orkestra.apiserver import certs
from orkestra.httpserver import (
    AnyResponse,
    Connection,
    HttpError,
    HttpServer,
    Request,
    Response,
    StreamResponse,
    http_date,
)

Handler = Callable[[Request], Awaitable[AnyResponse]]


class Transport:
    """What a connection writes, and whether it was closed or paused."""

    def __init__(self) -> None:
        self.sent = bytearray()
        self.closed = False
        self.paused = False

    def write(self, data: bytes) -> None:
        self.sent += data

    def writelines(self, parts: Any) -> None:
        for part in parts:
            self.sent += part

    def is_closing(self) -> bool:
        return self.closed

    def close(self) -> None:
        self.closed = True

    def abort(self) -> None:
        self.closed = True

    def get_extra_info(self, name: str, default: object = None) -> object:
        return default

    def pause_reading(self) -> None:
        self.paused = True

    def resume_reading(self) -> None:
        self.paused = False


async def echo(request: Request) -> AnyResponse:
    """The request as JSON: method, path, query and body."""
    return Response(
        json.dumps(
            {
                "method": request.method,
                "path": request.path,
                "query": list(request.query.items()),
                "body": request.body.decode(),
            }
        ).encode(),
        content_type="application/json",
    )


def connect(handler: Handler = echo) -> tuple[Connection, Transport]:
    server = HttpServer(handler, asyncio.get_running_loop())
    connection = Connection(server)
    transport = Transport()
    connection.connection_made(transport)  # type: ignore[arg-type]
    return connection, transport


async def settle(connection: Connection) -> None:
    """Until the connection has answered what it can."""
    for _ in range(100):
        await asyncio.sleep(0)
        if connection.idle:
            return


def responses(raw: bytes) -> list[tuple[int, dict[str, str], bytes]]:
    """Status, headers and body of each response in ``raw`` (Content-Length bodies)."""
    out = []
    while raw:
        head, _, raw = raw.partition(b"\r\n\r\n")
        lines = head.decode().split("\r\n")
        headers = dict(line.split(": ", 1) for line in lines[1:])
        length = int(headers.get("Content-Length", "0"))
        out.append((int(lines[0].split(" ")[1]), headers, raw[:length]))
        raw = raw[length:]
    return out


def get(path: str, extra: str = "", version: str = "HTTP/1.1") -> bytes:
    return f"GET {path} {version}\r\nHost: x\r\n{extra}\r\n".encode()


def post(path: str, body: bytes, extra: str = "") -> bytes:
    head = f"POST {path} HTTP/1.1\r\nHost: x\r\nContent-Length: {len(body)}\r\n{extra}\r\n"
    return head.encode() + body


# -- parsing ------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "query", ["a=1&b=&c", "x=a+b%20c&&y=%2B&=v&k=", "labelSelector=app%3Dweb%2Cteam+in+(a,b)", ""]
)
def test_query_strings_decode_as_parse_qsl_does(query: str) -> None:
    assert list(httpserver.parse_query(query).items()) == parse_qsl(query, keep_blank_values=True)


def test_a_request_head_gives_method_target_version_and_headers() -> None:
    method, target, version, headers = httpserver.parse_head(
        b"PUT /a?b=1 HTTP/1.1\r\nHost: x\r\n"
        b"content-type:  application/json \r\nX-Two: 1\r\nX-Two: 2"
    )
    assert (method, target, version) == ("PUT", "/a?b=1", "HTTP/1.1")
    assert headers["Content-Type"] == "application/json"
    assert headers.getall("x-two") == ["1", "2"]


def answer_to(request_bytes: bytes, handler: Handler = echo) -> tuple[bytes, bool]:
    """What a connection to ``handler`` sent back for ``request_bytes``, and whether it
    closed."""

    async def scenario() -> tuple[bytes, bool]:
        connection, transport = connect(handler)
        connection.data_received(request_bytes)
        await settle(connection)
        return bytes(transport.sent), transport.closed

    return asyncio.run(scenario())


@pytest.mark.parametrize(
    ("head", "status"),
    [
        (b"GET /\r\nHost: x", 400),
        (b"get / HTTP/1.1", 400),
        (b"GET / HTTP/2.0", 505),
        (b"GET / HTTP/1.1\r\nNo colon here", 400),
        (b"GET / HTTP/1.1\r\nHost : x", 400),
        (b"GET / HTTP/1.1\r\nHost: x\r\n folded", 400),
    ],
)
def test_malformed_heads_are_refused(head: bytes, status: int) -> None:
    with pytest.raises(HttpError) as caught:
        httpserver.parse_head(head)
    assert caught.value.status == status


def test_chunked_bodies_are_whole_or_not_yet() -> None:
    whole = bytearray(b"3;ext=1\r\nabc\r\n2\r\nde\r\n0\r\nTrailer: x\r\n\r\nNEXT")
    assert httpserver.chunked_body(whole) == (b"abcde", len(whole) - 4)
    assert httpserver.chunked_body(bytearray(b"3\r\nab")) is None
    assert httpserver.chunked_body(bytearray(b"3\r\nabc\r\n0\r\n")) is None
    with pytest.raises(HttpError):
        httpserver.chunked_body(bytearray(b"zz\r\nabc\r\n"))
    with pytest.raises(HttpError):
        httpserver.chunked_body(bytearray(b"3\r\nabcXY"))


def test_a_request_keeps_its_raw_target_and_decodes_its_path() -> None:
    request = Request("GET", "/api/v1/a%3Ab?x=1", "HTTP/1.1", CIMultiDict())
    assert (request.path, request.path_qs, request.query_string) == (
        "/api/v1/a:b",
        "/api/v1/a%3Ab?x=1",
        "x=1",
    )
    absolute = Request("GET", "http://h:1/apis?y=2", "HTTP/1.1", CIMultiDict())
    assert (absolute.path, absolute.query["y"]) == ("/apis", "2")


# -- answering ------------------------------------------------------------------------------
def test_a_body_split_over_reads_is_read_whole() -> None:
    async def scenario() -> list[tuple[int, dict[str, str], bytes]]:
        connection, transport = connect()
        raw = post("/p", b'{"a": 1}')
        connection.data_received(raw[:20])
        connection.data_received(raw[20:-3])
        await settle(connection)
        assert not transport.sent
        connection.data_received(raw[-3:])
        await settle(connection)
        return responses(bytes(transport.sent))

    [(status, headers, body)] = asyncio.run(scenario())
    assert status == 200
    assert headers["Content-Type"] == "application/json"
    assert json.loads(body)["body"] == '{"a": 1}'


def test_pipelined_requests_are_answered_in_order() -> None:
    async def scenario() -> list[tuple[int, dict[str, str], bytes]]:
        connection, transport = connect()
        connection.data_received(get("/one?a=1") + post("/two", b"x") + get("/three"))
        for _ in range(3):
            await settle(connection)
        return responses(bytes(transport.sent))

    answered = asyncio.run(scenario())
    assert [json.loads(body)["path"] for _, _, body in answered] == ["/one", "/two", "/three"]
    assert json.loads(answered[0][2])["query"] == [["a", "1"]]


def test_a_chunked_request_body_is_decoded() -> None:
    async def scenario() -> bytes:
        connection, transport = connect()
        head = b"POST /c HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
        connection.data_received(head + b"2\r\nhe\r\n3\r\nllo\r\n0\r\n\r\n")
        await settle(connection)
        return bytes(transport.sent)

    [(_, _, body)] = responses(asyncio.run(scenario()))
    assert json.loads(body)["body"] == "hello"


def test_expect_continue_is_answered_before_the_body() -> None:
    async def scenario() -> bytes:
        connection, transport = connect()
        connection.data_received(
            b"POST /e HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nExpect: 100-continue\r\n\r\n"
        )
        await settle(connection)
        assert bytes(transport.sent) == b"HTTP/1.1 100 Continue\r\n\r\n"
        connection.data_received(b"ok")
        await settle(connection)
        return bytes(transport.sent)

    raw = asyncio.run(scenario())
    assert raw.startswith(b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\n")
    assert raw.count(b"100 Continue") == 1


def test_head_answers_headers_only() -> None:
    async def scenario() -> bytes:
        connection, transport = connect()
        connection.data_received(b"HEAD /h HTTP/1.1\r\nHost: x\r\n\r\n" + get("/after"))
        for _ in range(2):
            await settle(connection)
        return bytes(transport.sent)

    raw = asyncio.run(scenario())
    first, _, rest = raw.partition(b"\r\n\r\n")
    assert b"Content-Length: " in first
    assert rest.startswith(b"HTTP/1.1 200 OK")  # no body between the two heads


@pytest.mark.parametrize(
    ("request_bytes", "keep_alive", "connection_header"),
    [
        (get("/k"), True, None),
        (get("/k", "Connection: close\r\n"), False, "close"),
        (get("/k", version="HTTP/1.0"), False, "close"),
        (get("/k", "Connection: keep-alive\r\n", version="HTTP/1.0"), True, "keep-alive"),
    ],
)
def test_keep_alive_follows_the_version_and_connection_header(
    request_bytes: bytes, keep_alive: bool, connection_header: str | None
) -> None:
    raw, closed = answer_to(request_bytes)
    [(status, headers, _)] = responses(raw)
    assert status == 200
    assert headers.get("Connection") == connection_header
    assert closed is not keep_alive


@pytest.mark.parametrize(
    ("request_bytes", "status"),
    [
        (b"POST /big HTTP/1.1\r\nContent-Length: 99999999999\r\n\r\n", 413),
        (b"POST /x HTTP/1.1\r\nContent-Length: -1\r\n\r\n", 400),
        (b"POST /x HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n", 501),
        (b"POST /x HTTP/1.1\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n", 400),
        (b"GET /" + b"a" * (httpserver.MAX_HEAD + 10), 431),
    ],
)
def test_unreadable_requests_are_refused_and_the_connection_closed(
    request_bytes: bytes, status: int
) -> None:
    raw, closed = answer_to(request_bytes)
    assert responses(raw)[0][0] == status
    assert closed


def test_a_failing_handler_answers_500_and_closes() -> None:
    async def broken(request: Request) -> AnyResponse:
        raise RuntimeError("boom")

    raw, closed = answer_to(get("/"), broken)
    assert responses(raw)[0][0] == 500
    assert closed


def test_a_large_body_is_sent_after_its_head() -> None:
    payload = b"x" * (200 * 1024)

    async def big(request: Request) -> AnyResponse:
        return Response(payload, content_type="text/plain")

    [(status, _, body)] = responses(answer_to(get("/"), big)[0])
    assert (status, body) == (200, payload)


# -- streams ------------------------------------------------------------------------------
def test_a_stream_is_chunked_and_ended() -> None:
    async def streaming(request: Request) -> AnyResponse:
        response = StreamResponse(headers={"Content-Type": "text/plain"})
        await response.prepare(request)
        await response.write(b"one")
        response.write_nowait(b"")  # nothing: an empty chunk would end the stream
        await response.write(b"two")
        return response

    raw, closed = answer_to(get("/s"), streaming)
    head, _, body = raw.partition(b"\r\n\r\n")
    assert b"Transfer-Encoding: chunked" in head
    assert body == b"3\r\none\r\n3\r\ntwo\r\n0\r\n\r\n"
    assert not closed


def test_a_stream_to_an_http10_client_is_raw_and_ends_with_the_connection() -> None:
    async def streaming(request: Request) -> AnyResponse:
        response = StreamResponse()
        await response.prepare(request)
        await response.write(b"data")
        return response

    async def scenario() -> tuple[bytes, bool]:
        connection, transport = connect(streaming)
        connection.data_received(get("/s", "Connection: keep-alive\r\n", version="HTTP/1.0"))
        await settle(connection)
        return bytes(transport.sent), transport.closed

    raw, closed = asyncio.run(scenario())
    head, _, body = raw.partition(b"\r\n\r\n")
    assert b"Transfer-Encoding" not in head
    assert b"Connection: close" in head
    assert body == b"data"
    assert closed


def test_a_stream_whose_client_leaves_is_cancelled() -> None:
    cancelled = []

    async def forever(request: Request) -> AnyResponse:
        response = StreamResponse()
        await response.prepare(request)
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            cancelled.append(True)
            raise
        return response

    async def scenario() -> bool:
        connection, _ = connect(forever)
        connection.data_received(get("/s"))
        await asyncio.sleep(0.01)
        connection.connection_lost(None)
        await settle(connection)
        return connection.idle

    assert asyncio.run(scenario())
    assert cancelled == [True]


def test_writes_wait_while_the_client_reads_slower() -> None:
    async def scenario() -> list[str]:
        seen: list[str] = []
        connection, _ = connect()
        request = Request("GET", "/", "HTTP/1.1", CIMultiDict(), connection=connection)
        response = StreamResponse()
        await response.prepare(request)
        connection.pause_writing()
        assert not response.writable

        async def writer() -> None:
            await response.write(b"x")
            seen.append("written")

        task = asyncio.create_task(writer())
        await asyncio.sleep(0.01)
        seen.append("paused")
        connection.resume_writing()
        await task
        assert response.writable
        return seen

    assert asyncio.run(scenario()) == ["paused", "written"]


def test_writing_to_a_gone_client_raises_connection_reset() -> None:
    async def scenario() -> None:
        connection, _ = connect()
        request = Request("GET", "/", "HTTP/1.1", CIMultiDict(), connection=connection)
        response = StreamResponse()
        await response.prepare(request)
        connection.connection_lost(None)
        with pytest.raises(ConnectionResetError):
            response.write_nowait(b"x")

    asyncio.run(scenario())


# -- the server's life ----------------------------------------------------------------------
def test_idle_connections_are_swept_and_busy_ones_kept() -> None:
    async def scenario() -> tuple[bool, bool]:
        server = HttpServer(echo, asyncio.get_running_loop())
        idle, busy = Connection(server), Connection(server)
        idle_transport, busy_transport = Transport(), Transport()
        idle.connection_made(idle_transport)  # type: ignore[arg-type]
        busy.connection_made(busy_transport)  # type: ignore[arg-type]
        busy.data_received(b"GET / HTTP/1.1\r\n")  # a head still coming in: not idle long
        idle.last_active -= httpserver.KEEPALIVE + 1
        server.sweep()
        return idle_transport.closed, busy_transport.closed

    assert asyncio.run(scenario()) == (True, False)


def test_closing_the_server_ends_streams_and_idle_connections() -> None:
    async def forever(request: Request) -> AnyResponse:
        response = StreamResponse()
        await response.prepare(request)
        await asyncio.Event().wait()
        return response

    async def scenario() -> tuple[bool, bool, bytes]:
        server = HttpServer(forever, asyncio.get_running_loop())
        streaming, idle = Connection(server), Connection(server)
        streaming_transport, idle_transport = Transport(), Transport()
        streaming.connection_made(streaming_transport)  # type: ignore[arg-type]
        idle.connection_made(idle_transport)  # type: ignore[arg-type]
        streaming.data_received(get("/watch"))
        await asyncio.sleep(0.01)
        closing = asyncio.create_task(server.close(timeout=1.0))
        await asyncio.sleep(0.05)
        for connection, transport in ((streaming, streaming_transport), (idle, idle_transport)):
            if transport.closed and connection in server.connections:
                connection.connection_lost(None)
        await closing
        return streaming_transport.closed, idle_transport.closed, bytes(streaming_transport.sent)

    streaming_closed, idle_closed, sent = asyncio.run(scenario())
    assert streaming_closed and idle_closed
    assert sent.endswith(b"0\r\n\r\n")  # the stream was ended, not cut mid-chunk


# -- over a real socket -------------------------------------------------------------------------
def exchange(sent: bytes, tmp_path: Path, *, tls: bool) -> bytes:
    """What a server answering ``echo`` on an ephemeral port sends back for ``sent``, read
    until it closes the connection."""
    credentials = certs.load_or_create(tmp_path) if tls else None

    async def scenario() -> bytes:
        server = HttpServer(echo, asyncio.get_running_loop())
        server_context = None if credentials is None else certs.server_ssl_context(credentials)
        await server.start("127.0.0.1", 0, server_context)
        [(host, port)] = server.addresses
        assert port != 0
        try:
            return await asyncio.to_thread(client, host, port)
        finally:
            await server.close(timeout=1.0)

    def client(host: str, port: int) -> bytes:
        with socket.create_connection((host, port), timeout=10) as raw:
            channel = raw
            if credentials is not None:
                context = ssl.create_default_context(cafile=str(credentials.ca_file))
                channel = context.wrap_socket(raw, server_hostname="localhost")
            channel.sendall(sent)
            received = b""
            while chunk := channel.recv(65536):
                received += chunk
            return received

    return asyncio.run(scenario())


@pytest.mark.parametrize("tls", [True, False])
def test_pipelined_and_chunked_requests_over_a_socket(tmp_path: Path, tls: bool) -> None:
    chunked = b"POST /c HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
    chunked += b"2\r\nhe\r\n3\r\nllo\r\n0\r\n\r\n"
    sent = get("/one") + chunked + get("/last", "Connection: close\r\n")
    answered = responses(exchange(sent, tmp_path, tls=tls))
    assert [status for status, _, _ in answered] == [200, 200, 200]
    assert [json.loads(body)["path"] for _, _, body in answered] == ["/one", "/c", "/last"]
    assert json.loads(answered[1][2])["body"] == "hello"
    assert answered[2][1]["Connection"] == "close"


@pytest.mark.parametrize("seconds", [0.0, 951782400.5, 1_700_000_000.0, 4_102_444_799.0])
def test_http_date_is_the_imf_fixdate_email_utils_writes(seconds: float) -> None:
    from email.utils import formatdate

    assert http_date(seconds) == formatdate(seconds, usegmt=True)

"""The shared HTTP/1.1 client: framing (Content-Length, chunked, end of connection),
keep-alive and reconnection, interim responses, body limits, deadlines and the watchdog
that keeps the time of blocking sockets, TLS, proxies from the environment, and the errors
it raises (the registry's use of it, redirects and proxy tunnels included, is tested in
tests/registry/test_remote_http.py)."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import os
import socket
import ssl
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from orkestra import transport
from orkestra.cluster.errors import ServiceUnavailableError
from orkestra.runtime import kube
from orkestra.runtime.kube import KubeClient, Resource, load_config
from orkestra.transport import (
    BodyTooLargeError,
    ConnectError,
    Connection,
    Proxy,
    TransportError,
    proxy_for,
)
from tests.registry.server import self_signed


@dataclass
class Request:
    method: str
    target: str
    headers: dict[str, str]
    body: bytes


# A connection's script: called with each request read from it, it writes the answer on the
# socket (raw bytes, so that the tests control the framing) and returns whether to keep
# the connection open.
Reply = Callable[[Request, socket.socket], bool]


@dataclass
class ScriptedServer:
    """A plain HTTP server on a thread that answers with scripted raw bytes."""

    reply: Reply
    port: int = 0
    connections: int = 0
    requests: list[Request] = field(default_factory=list)

    def serve(self, listener: socket.socket) -> None:
        while True:
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            self.connections += 1
            threading.Thread(target=self._handle, args=(conn,), daemon=True).start()

    def _handle(self, conn: socket.socket) -> None:
        buffer = b""
        with conn:
            while True:
                while b"\r\n\r\n" not in buffer:
                    data = conn.recv(65536)
                    if not data:
                        return
                    buffer += data
                head, _, buffer = buffer.partition(b"\r\n\r\n")
                lines = head.decode("latin-1").split("\r\n")
                method, target, _ = lines[0].split(" ", 2)
                headers = {
                    k.strip().lower(): v.strip()
                    for k, _, v in (line.partition(":") for line in lines[1:])
                }
                length = int(headers.get("content-length", "0"))
                while len(buffer) < length:
                    buffer += conn.recv(65536)
                body, buffer = buffer[:length], buffer[length:]
                request = Request(method, target, headers, body)
                self.requests.append(request)
                if not self.reply(request, conn):
                    return


class TLSServer(ScriptedServer):
    """A :class:`ScriptedServer` behind TLS (``context``)."""

    context: ssl.SSLContext | None = None

    def _handle(self, conn: socket.socket) -> None:
        assert self.context is not None
        with contextlib.suppress(OSError):
            super()._handle(self.context.wrap_socket(conn, server_side=True))


@contextmanager
def scripted(reply: Reply, tls: ssl.SSLContext | None = None) -> Iterator[ScriptedServer]:
    listener = socket.create_server(("127.0.0.1", 0))
    server = (TLSServer if tls else ScriptedServer)(reply, listener.getsockname()[1])
    if isinstance(server, TLSServer):
        server.context = tls
    threading.Thread(target=server.serve, args=(listener,), daemon=True).start()
    try:
        yield server
    finally:
        listener.close()


def ok(body: bytes, *, extra: str = "") -> bytes:
    return (
        f"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n{extra}"
        f"Content-Length: {len(body)}\r\n\r\n"
    ).encode() + body


def connection(server: ScriptedServer, timeout: float = 5.0) -> Connection:
    return Connection("127.0.0.1", server.port, timeout=timeout)


def kubeconfig_for(tmp_path: Path, port: int, user: str = "{token: abc}") -> Path:
    path = tmp_path / "kubeconfig"
    path.write_text(f"""
apiVersion: v1
kind: Config
clusters: [{{name: c, cluster: {{server: "http://127.0.0.1:{port}"}}}}]
users: [{{name: u, user: {user}}}]
contexts: [{{name: x, context: {{cluster: c, user: u}}}}]
current-context: x
""")
    return path


def test_content_length_bodies_on_one_kept_alive_connection() -> None:
    def reply(request: Request, sock: socket.socket) -> bool:
        sock.sendall(ok(b'{"echo": "' + request.body + b'"}', extra="X-Twice: a\r\nX-Twice: b\r\n"))
        return True

    with scripted(reply) as server:
        conn = connection(server)
        first = conn.request("POST", "/a?x=1", {"Accept": "application/json"}, b"hello")
        second = conn.request("GET", "/b")
        assert first.status == 200 and first.body == b'{"echo": "hello"}'
        assert first.headers["content-type"] == "application/json"
        assert first.headers["x-twice"] == "a, b"
        assert second.body == b'{"echo": ""}'
        assert server.connections == 1 and conn.requests == 2
        posted = server.requests[0]
        assert (posted.method, posted.target, posted.body) == ("POST", "/a?x=1", b"hello")
        assert posted.headers["host"] == f"127.0.0.1:{server.port}"
        assert posted.headers["content-length"] == "5"
        assert "content-length" not in server.requests[1].headers  # a GET sends no body
        conn.close()


def test_chunked_bodies_with_extensions_and_trailers() -> None:
    def reply(request: Request, sock: socket.socket) -> bool:
        sock.sendall(
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
            b"5;name=value\r\nhello\r\n7\r\n, world\r\n"
            b"0\r\nX-Trailer: yes\r\n\r\n"
        )
        return True

    with scripted(reply) as server:
        conn = connection(server)
        assert conn.request("GET", "/").body == b"hello, world"
        assert conn.request("GET", "/").body == b"hello, world"  # the trailers were consumed
        assert server.connections == 1


def test_a_response_arriving_in_small_pieces() -> None:
    response = (
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
        b"a\r\n0123456789\r\n3\r\nabc\r\n0\r\n\r\n"
    )

    def reply(request: Request, sock: socket.socket) -> bool:
        for index in range(len(response)):
            sock.sendall(response[index : index + 1])
            time.sleep(0.0005)
        return True

    with scripted(reply) as server:
        assert connection(server).request("GET", "/").body == b"0123456789abc"


def test_connection_close_and_http_1_0_end_the_connection() -> None:
    answers = iter(
        [
            ok(b"one", extra="Connection: close\r\n"),
            b"HTTP/1.0 200 OK\r\nContent-Length: 3\r\n\r\ntwo",
            b"HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 5\r\n\r\nthree",
            ok(b"four"),
        ]
    )

    def reply(request: Request, sock: socket.socket) -> bool:
        answer = next(answers)
        sock.sendall(answer)
        return b"keep-alive" in answer or (b"HTTP/1.1" in answer and b"close" not in answer)

    with scripted(reply) as server:
        conn = connection(server)
        assert conn.request("GET", "/").body == b"one"
        assert not conn.is_open
        assert conn.request("GET", "/").body == b"two"
        assert not conn.is_open
        assert conn.request("GET", "/").body == b"three"
        assert conn.is_open  # HTTP/1.0 with keep-alive
        assert conn.request("GET", "/").body == b"four"
        assert server.connections == 3


def test_a_body_framed_by_the_end_of_the_connection() -> None:
    def reply(request: Request, sock: socket.socket) -> bool:
        sock.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nall of ")
        time.sleep(0.01)
        sock.sendall(b"it")
        return False  # closes

    with scripted(reply) as server:
        conn = connection(server)
        assert conn.request("GET", "/").body == b"all of it"
        assert not conn.is_open


def test_interim_responses_are_skipped_and_some_answers_have_no_body() -> None:
    answers = iter(
        [
            b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 102 Processing\r\n\r\n" + ok(b"done"),
            b"HTTP/1.1 204 No Content\r\n\r\n",
            b"HTTP/1.1 200 OK\r\nContent-Length: 42\r\n\r\n",  # an answer to HEAD
            ok(b"after"),
        ]
    )

    def reply(request: Request, sock: socket.socket) -> bool:
        sock.sendall(next(answers))
        return True

    with scripted(reply) as server:
        conn = connection(server)
        assert conn.request("PUT", "/", None, b"x").body == b"done"
        no_content = conn.request("DELETE", "/")
        assert no_content.status == 204 and no_content.body == b""
        assert conn.request("HEAD", "/").body == b""
        assert conn.request("GET", "/").body == b"after"
        assert server.connections == 1


def test_a_server_closing_an_idle_connection_shows_before_any_answer() -> None:
    def reply(request: Request, sock: socket.socket) -> bool:
        sock.sendall(ok(b"{}"))
        return False  # answers, then closes without saying so

    with scripted(reply) as server:
        conn = connection(server)
        assert conn.request("GET", "/").body == b"{}"
        time.sleep(0.05)
        with pytest.raises(TransportError) as caught:
            conn.request("GET", "/")
        assert caught.value.before_response
        assert conn.request("GET", "/").body == b"{}"  # a new connection
        assert server.connections == 2


def test_the_client_sends_again_on_a_new_connection_when_a_reused_one_was_closed(
    tmp_path: Path,
) -> None:
    def reply(request: Request, sock: socket.socket) -> bool:
        sock.sendall(ok(b'{"n": %d}' % len(server.requests)))
        return False

    with scripted(reply) as server:
        client = KubeClient(load_config(str(kubeconfig_for(tmp_path, server.port))))
        assert client.request("GET", "/version") == {"n": 1}
        time.sleep(0.05)
        assert client.request("POST", "/things", body={"a": 1}) == {"n": 2}
        assert server.connections == 2
        assert [r.method for r in server.requests] == ["GET", "POST"]  # sent once each
        assert server.requests[1].headers["authorization"] == "Bearer abc"
        assert server.requests[1].body == b'{"a":1}'
        client.close()


@pytest.mark.parametrize(
    "answer,message",
    [
        (b"SPDY/3 200 OK\r\n\r\n", "not an HTTP/1.x response"),
        (b"HTTP/1.1 200 OK\r\nno colon here\r\n\r\n", "malformed header line"),
        (b"HTTP/1.1 200 OK\r\nContent-Length: 1e3\r\n\r\n", "bad Content-Length"),
        (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", "bad chunk size"),
        (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n-1\r\n", "bad chunk size"),
        (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabXY", "not followed by CRLF"),
        (b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort", "closed the connection"),
    ],
)
def test_broken_answers_are_transport_errors(answer: bytes, message: str) -> None:
    def reply(request: Request, sock: socket.socket) -> bool:
        sock.sendall(answer)
        return False

    with scripted(reply) as server:
        conn = connection(server)
        with pytest.raises(TransportError, match=message) as caught:
            conn.request("GET", "/")
        assert not caught.value.before_response  # something came back
        assert not conn.is_open


def test_a_server_that_does_not_answer_times_out() -> None:
    def reply(request: Request, sock: socket.socket) -> bool:
        time.sleep(1.0)
        return False

    with scripted(reply) as server:
        conn = connection(server, timeout=0.2)
        with pytest.raises(TransportError, match="timed out") as caught:
            conn.request("POST", "/", None, b"{}")
        assert not caught.value.before_response  # it may have been done: not sent again


def test_no_server_is_a_transport_error_and_an_unavailable_server_for_the_client(
    tmp_path: Path,
) -> None:
    free = socket.create_server(("127.0.0.1", 0))
    port = free.getsockname()[1]
    free.close()
    with pytest.raises(TransportError, match="cannot connect"):
        Connection("127.0.0.1", port, timeout=1.0).request("GET", "/")
    kubeconfig = kubeconfig_for(tmp_path, port, user="{}")
    with pytest.raises(ServiceUnavailableError, match="GET /version"):
        KubeClient(load_config(str(kubeconfig)), timeout=1.0).request("GET", "/version")


def test_a_watch_hands_over_the_lines_as_sent_and_ends_at_its_deadline(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    events = [
        b'{"type":"ADDED","object":{"metadata":{"name":"a"}}}',
        b'{"type":"BOOKMARK","object":{"metadata":{"resourceVersion":"9"}}}',
    ]

    def reply(request: Request, sock: socket.socket) -> bool:
        sock.sendall(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")
        body = events[0] + b"\n" + events[1][:10]
        sock.sendall(b"%x\r\n%s\r\n" % (len(body), body))
        rest = events[1][10:] + b"\n"
        sock.sendall(b"%x\r\n%s\r\n" % (len(rest), rest))
        time.sleep(2)  # then silence: the server never ends this one
        return False

    monkeypatch.setattr(kube, "WATCH_GRACE", 0.3)
    with scripted(reply) as server:
        client = KubeClient(load_config(str(kubeconfig_for(tmp_path, server.port))))
        configmaps = Resource(
            group="", version="v1", plural="configmaps", kind="ConfigMap", namespaced=True
        )

        async def follow() -> tuple[list[bytes], int]:
            seen: list[bytes] = []
            try:
                return seen, await client.watch(configmaps, None, "5", 0, seen.append)
            finally:
                await client.aclose()

        started = time.monotonic()
        assert asyncio.run(follow()) == (events, 2)
        assert time.monotonic() - started < 1.5
        target = server.requests[0].target
        assert target.startswith("/api/v1/configmaps?") and "resourceVersion=5" in target
        assert "allowWatchBookmarks=true" in target and "watch=true" in target


def endless(head: bytes, piece: bytes) -> Reply:
    """A reply that sends ``head`` then ``piece`` until the client hangs up."""

    def reply(request: Request, sock: socket.socket) -> bool:
        try:
            sock.sendall(head)
            while True:
                sock.sendall(piece)
        except OSError:
            return False

    return reply


@pytest.mark.parametrize(
    ("head", "piece"),
    [
        (b"HTTP/1.1 200 OK\r\n\r\n", b"x" * 4096),  # framed by the end of the connection
        (
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n",
            b"1000\r\n" + b"x" * 4096 + b"\r\n",
        ),
    ],
)
def test_a_body_over_the_limit_is_refused_while_it_is_read(head: bytes, piece: bytes) -> None:
    with scripted(endless(head, piece)) as server:
        conn = connection(server)
        with pytest.raises(BodyTooLargeError, match="over the 100000-byte limit") as caught:
            conn.request("GET", "/", limit=100_000)
        assert 100_000 < caught.value.size <= 100_000 + 65536 + 4096
        assert not conn.is_open


def test_a_declared_length_over_the_limit_is_refused_before_the_body() -> None:
    def reply(request: Request, sock: socket.socket) -> bool:
        sock.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 5000000000\r\n\r\nxx")
        time.sleep(1.0)
        return False

    with scripted(reply) as server:
        with pytest.raises(BodyTooLargeError) as caught:
            connection(server).request("GET", "/", limit=1000)
        assert caught.value.size == 5_000_000_000
        # A HEAD's Content-Length describes a body it does not have: no limit applies.
        answer = connection(server).request("HEAD", "/", limit=1000)
        assert answer.headers["content-length"] == "5000000000"


def test_the_deadline_bounds_a_trickling_answer_and_a_later_call_without_one() -> None:
    answer = ok(b"{}")

    def reply(request: Request, sock: socket.socket) -> bool:
        if request.target in ("/fast", "/unhurried"):
            time.sleep(0.8 if request.target == "/unhurried" else 0)
            sock.sendall(answer)
            return True
        try:
            for index in range(len(answer)):
                sock.sendall(answer[index : index + 1])
                time.sleep(0.1)
        except OSError:  # the client gave up
            return False
        return True

    with scripted(reply) as server:
        conn = connection(server, timeout=5.0)
        started = time.monotonic()
        with pytest.raises(TransportError):
            conn.request("GET", "/slow", deadline=time.monotonic() + 0.5)
        assert 0.45 <= time.monotonic() - started < 2.0
        with pytest.raises(TransportError, match="deadline has passed"):
            conn.request("GET", "/fast", deadline=time.monotonic() - 1)
        assert conn.request("GET", "/fast", deadline=time.monotonic() + 5).body == b"{}"
        # no deadline: each read has the whole timeout again, not what an earlier deadline left
        assert conn.request("GET", "/unhurried").body == b"{}"
        assert_blocking(conn)


def assert_blocking(conn: Connection) -> None:
    """The connection's socket blocks: a read is one system call, with no poll first."""
    assert conn._sock is not None and conn._sock.gettimeout() is None


def test_the_watchdog_thread_ends_when_idle_and_comes_back(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(transport, "WATCH_IDLE", 0.1)
    monkeypatch.setattr(transport, "_WATCHDOG", transport._Watchdog())

    def reply(request: Request, sock: socket.socket) -> bool:
        time.sleep(0.5 if request.target == "/silent" else 0)
        sock.sendall(ok(b"{}"))
        return True

    def watchdogs() -> int:
        return sum(t.name == "transport-watchdog" for t in threading.enumerate())

    with scripted(reply) as server:
        conn = connection(server, timeout=0.2)
        assert conn.request("GET", "/").body == b"{}"
        time.sleep(0.5)
        assert watchdogs() == 0  # nothing armed for a while: its thread has ended
        with pytest.raises(TransportError, match="timed out"):
            conn.request("GET", "/silent")  # so the next timeout starts it again
        assert conn.request("GET", "/").body == b"{}"


def test_a_forked_child_starts_its_own_watchdog(monkeypatch: pytest.MonkeyPatch) -> None:
    """The parent's watchdog thread is not in a forked child: the child's timeouts still
    fire, by a watchdog of its own (not waiting on the one its inherited state says runs)."""
    monkeypatch.setattr(transport, "_WATCHDOG", transport._Watchdog())

    def reply(request: Request, sock: socket.socket) -> bool:
        if request.target == "/silent":
            time.sleep(3.0)  # then closed without an answer: not a timeout
            return False
        sock.sendall(ok(b"{}"))
        return True

    with scripted(reply) as server:
        assert connection(server, timeout=5.0).request("GET", "/").body == b"{}"
        assert transport._WATCHDOG._running  # its thread runs in the parent
        read, write = os.pipe()
        child = os.fork()
        if child == 0:  # pragma: no cover - the child only reports
            code, outcome = 2, "no outcome"
            try:
                started = time.monotonic()
                try:
                    connection(server, timeout=0.2).request("GET", "/silent")
                    outcome = "answered"
                except TransportError as exc:
                    elapsed = time.monotonic() - started
                    outcome = f"{exc} after {elapsed:.2f} s"
                    code = 0 if "timed out" in str(exc) and elapsed < 2.0 else 1
            except BaseException as exc:
                outcome = repr(exc)
            finally:
                os.write(write, outcome.encode()[:500])
                os._exit(code)
        os.close(write)
        deadline = time.monotonic() + 15
        while (done := os.waitpid(child, os.WNOHANG))[0] == 0:
            if time.monotonic() > deadline:
                os.kill(child, 9)
                os.waitpid(child, 0)
                pytest.fail("the forked child hung")
            time.sleep(0.02)
        with os.fdopen(read, "rb") as pipe:
            outcome = pipe.read().decode()
        assert os.waitstatus_to_exitcode(done[1]) == 0, outcome


@pytest.fixture
def tls_pair(tmp_path: Path) -> tuple[ssl.SSLContext, ssl.SSLContext]:
    """A server context with a certificate for 127.0.0.1, and a client context trusting it."""
    cert, key = self_signed(tmp_path)
    server = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server.load_cert_chain(cert, key)
    return server, ssl.create_default_context(cafile=str(cert))


def test_tls_requests_on_one_connection_and_a_tls_server_that_does_not_answer(
    tls_pair: tuple[ssl.SSLContext, ssl.SSLContext],
) -> None:
    def reply(request: Request, sock: socket.socket) -> bool:
        if request.target == "/silent":
            time.sleep(2.0)
            return False
        sock.sendall(ok(b'{"n": %d}' % len(request.body), extra="X-Big: " + "b" * 70000 + "\r\n"))
        return True

    server_context, client_context = tls_pair
    with scripted(reply, tls=server_context) as server:
        conn = Connection("127.0.0.1", server.port, context=client_context, timeout=0.3)
        big = b"x" * 200_000  # more than one TLS record each way
        assert conn.request("POST", "/a", None, big).body == b'{"n": 200000}'
        assert conn.request("GET", "/b").body == b'{"n": 0}'
        assert server.connections == 1
        assert_blocking(conn)
        started = time.monotonic()
        with pytest.raises(TransportError, match="timed out") as caught:
            conn.request("GET", "/silent")
        assert 0.25 < time.monotonic() - started < 1.5
        assert not caught.value.before_response and not conn.is_open


def test_a_tls_connection_the_server_closed_while_idle_shows_before_any_answer(
    tls_pair: tuple[ssl.SSLContext, ssl.SSLContext],
) -> None:
    def reply(request: Request, sock: socket.socket) -> bool:
        sock.sendall(ok(b"{}"))
        return False  # the socket closes without TLS's close_notify

    server_context, client_context = tls_pair
    with scripted(reply, tls=server_context) as server:
        conn = Connection("127.0.0.1", server.port, context=client_context, timeout=2.0)
        assert conn.request("GET", "/").body == b"{}"
        time.sleep(0.1)
        with pytest.raises(TransportError, match="closed the connection") as caught:
            conn.request("GET", "/")
        assert caught.value.before_response  # safe to send again on a new connection


def test_a_certificate_the_client_does_not_trust_is_a_tls_connect_error(
    tls_pair: tuple[ssl.SSLContext, ssl.SSLContext],
) -> None:
    server_context, _ = tls_pair
    with scripted(lambda request, sock: False, tls=server_context) as server:
        conn = Connection("127.0.0.1", server.port, context=ssl.create_default_context())
        with pytest.raises(ConnectError, match=r"TLS with 127\.0\.0\.1:\d+ failed") as caught:
            conn.request("GET", "/")
    assert caught.value.tls and not conn.is_open


def test_proxies_from_the_environment() -> None:
    env = {
        "https_proxy": "http://user:p%40ss@proxy.example:3128",
        "HTTPS_PROXY": "http://ignored:1",
        "HTTP_PROXY": "proxy.example",
        "NO_PROXY": "internal.example, .corp.example, 10.0.0.1, [::1]:5000, other:8080",
    }
    secure = proxy_for("https", "ghcr.io", 443, env)
    assert secure == Proxy(
        "proxy.example", 3128, "Basic " + base64.b64encode(b"user:p@ss").decode()
    )
    assert "p@ss" not in repr(secure)
    assert proxy_for("http", "ghcr.io", 80, env) == Proxy("proxy.example", 80)
    for host, port in [
        ("internal.example", 443),
        ("registry.internal.example", 443),
        ("a.corp.example", 443),
        ("corp.example", 443),
        ("10.0.0.1", 443),
        ("::1", 5000),
        ("other", 8080),
    ]:
        assert proxy_for("https", host, port, env) is None, host
    for host, port in [("notinternal.example", 443), ("::1", 5001), ("other", 8081)]:
        assert proxy_for("https", host, port, env) is not None, host
    assert proxy_for("https", "ghcr.io", 443, {**env, "no_proxy": "*"}) is None
    assert proxy_for("https", "ghcr.io", 443, {"ALL_PROXY": "http://all:8000"}) == Proxy(
        "all", 8000
    )
    assert proxy_for("https", "ghcr.io", 443, {}) is None
    with pytest.raises(ValueError, match=r"https_proxy: 'socks5://s:1080' is not an http:// proxy"):
        proxy_for("https", "ghcr.io", 443, {"https_proxy": "socks5://s:1080"})


def test_the_host_header_leaves_out_the_default_port() -> None:
    assert Connection("ghcr.io", 80).authority == "ghcr.io"
    assert Connection("ghcr.io", 443).authority == "ghcr.io:443"  # plain HTTP on 443
    assert Connection("::1", 5000).authority == "[::1]:5000"

"""The remote backend's HTTP layer against scripted servers (threads, real sockets):
redirects and the credentials they carry, proxies (``CONNECT`` tunnels for HTTPS,
absolute-form requests for HTTP), bodies over their limit, broken answers, connections the
server closed while idle, and the debug log of requests."""

from __future__ import annotations

import base64
import contextlib
import json
import logging
import socket
import ssl
import threading
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from orkestra.registry.auth import Credentials
from orkestra.registry.errors import RegistryError, TooLargeError, TransientError
from orkestra.registry.oci import Descriptor
from orkestra.registry.remote import RemoteBackend
from orkestra.registry.retry import RetryPolicy
from tests.registry.server import self_signed
from tests.test_transport import Request, TLSServer, ok, scripted

FAST = RetryPolicy(attempts=3, base_delay=0.01, max_delay=0.02)
BLOB = b"the blob's bytes"
DESCRIPTOR = Descriptor.of(BLOB, "application/octet-stream")
BASIC = "Basic " + base64.b64encode(b"u:p").decode()


def backend(
    host: str,
    *,
    env: dict[str, str] | None = None,
    plain_http: bool = True,
    insecure: bool = False,
    retry: RetryPolicy = FAST,
) -> RemoteBackend:
    return RemoteBackend(
        host,
        lambda: Credentials("u", "p"),
        plain_http=plain_http,
        insecure=insecure,
        retry=retry,
        env=env or {},
    )


def tags(names: list[str], extra: str = "") -> bytes:
    return ok(json.dumps({"name": "k/web", "tags": names}).encode(), extra=extra)


def test_a_redirect_to_another_origin_drops_the_credentials() -> None:
    """A Basic registry sends the blob GET on, first within its origin (a relative
    ``Location``: the credentials go along), then to storage elsewhere (they do not)."""

    def storage(request: Request, sock: socket.socket) -> bool:
        sock.sendall(ok(BLOB))
        return True

    with scripted(storage) as elsewhere:

        def registry(request: Request, sock: socket.socket) -> bool:
            body = b""
            if "authorization" not in request.headers:
                answer = b"HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Basic realm=r\r\n"
                body = json.dumps({"errors": [{"code": "UNAUTHORIZED"}]}).encode()  # > BLOB
            elif request.target.startswith("/v2/k/web/blobs/sha256:"):
                answer = b"HTTP/1.1 307 Temporary Redirect\r\nLocation: ../moved\r\n"
            else:
                location = f"http://localhost:{elsewhere.port}/bucket/blob?X-Signature=s3cret"
                answer = f"HTTP/1.1 302 Found\r\nLocation: {location}\r\n".encode()
            sock.sendall(answer + b"Content-Length: %d\r\n\r\n%s" % (len(body), body))
            return True

        with scripted(registry) as origin:
            remote = backend(f"127.0.0.1:{origin.port}")
            assert remote.fetch_blob("k/web", DESCRIPTOR) == BLOB
            remote.close()
    assert [(r.target, r.headers.get("authorization")) for r in origin.requests] == [
        (f"/v2/k/web/blobs/{DESCRIPTOR.digest}", None),
        (f"/v2/k/web/blobs/{DESCRIPTOR.digest}", BASIC),
        ("/v2/k/web/moved", BASIC),
    ]
    (fetched,) = elsewhere.requests
    assert fetched.target == "/bucket/blob?X-Signature=s3cret"
    assert "authorization" not in fetched.headers
    assert fetched.headers["host"] == f"localhost:{elsewhere.port}"
    assert fetched.headers["user-agent"].startswith("ork/")
    assert remote.requests == 4


def test_endless_redirects_are_an_error() -> None:
    def registry(request: Request, sock: socket.socket) -> bool:
        sock.sendall(
            b"HTTP/1.1 308 Permanent Redirect\r\nLocation: /v2/again\r\nContent-Length: 0\r\n\r\n"
        )
        return True

    with scripted(registry) as origin:
        with pytest.raises(RegistryError, match="redirected it more than 10 times"):
            backend(f"127.0.0.1:{origin.port}").tags("k/web")
        assert len(origin.requests) == 11


def test_tags_follow_the_next_links_and_requests_are_logged_without_their_query(
    caplog: pytest.LogCaptureFixture,
) -> None:
    pages = {
        "/v2/k/web/tags/list?n=1000": tags(
            ["a"], 'Link: </v2/k/web/tags/list?last=a&n=1>; rel="next"\r\n'
        ),
        "/v2/k/web/tags/list?last=a&n=1": tags(["b"], "Link: <?last=b&n=1>; rel=next\r\n"),
        "/v2/k/web/tags/list?last=b&n=1": tags(["c"]),
    }

    def registry(request: Request, sock: socket.socket) -> bool:
        sock.sendall(pages[request.target])
        return True

    with scripted(registry) as origin:
        host = f"127.0.0.1:{origin.port}"
        with caplog.at_level(logging.DEBUG, logger="orkestra.registry"):
            assert backend(host).tags("k/web") == ["a", "b", "c"]
    assert origin.connections == 1  # kept alive
    assert caplog.messages == [f"GET http://{host}/v2/k/web/tags/list 200"] * 3


class TinyProxy:
    """An HTTP proxy on threads that knows the names ``registry.invalid:<port>`` (the client
    cannot resolve them): ``CONNECT`` opens a tunnel, an absolute-form request is passed on
    in origin form (one per connection: the scripted origins close after answering)."""

    def __init__(self, routes: dict[str, int]) -> None:
        self.routes = routes
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.lines: list[str] = []
        self.authorizations: list[str] = []

    def serve(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            threading.Thread(target=self._handle, args=(client,), daemon=True).start()

    def _handle(self, client: socket.socket) -> None:
        head = b""
        while b"\r\n\r\n" not in head:
            head += client.recv(65536)
        head, _, rest = head.partition(b"\r\n\r\n")
        line, *fields = head.decode("latin-1").split("\r\n")
        self.lines.append(line)
        kept = [f for f in fields if not f.lower().startswith("proxy-authorization:")]
        self.authorizations += [f.split(":", 1)[1].strip() for f in fields if f not in kept]
        method, target, version = line.split(" ")
        if method == "CONNECT":
            upstream = socket.create_connection(("127.0.0.1", self.routes[target]))
            client.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
        else:
            url = urlsplit(target)
            upstream = socket.create_connection(("127.0.0.1", self.routes[url.netloc]))
            origin_form = f"{url.path}?{url.query}" if url.query else url.path
            forwarded = "\r\n".join([f"{method} {origin_form} {version}", *kept])
            upstream.sendall(forwarded.encode("latin-1") + b"\r\n\r\n" + rest)
        threading.Thread(target=_pipe, args=(client, upstream), daemon=True).start()
        _pipe(upstream, client)


def _pipe(source: socket.socket, sink: socket.socket) -> None:
    with contextlib.suppress(OSError):
        while data := source.recv(65536):
            sink.sendall(data)
    for sock in (source, sink):
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)


@contextlib.contextmanager
def proxy(routes: dict[str, int]) -> Iterator[TinyProxy]:
    server = TinyProxy(routes)
    threading.Thread(target=server.serve, daemon=True).start()
    try:
        yield server
    finally:
        server.listener.close()


def closing_tags(request: Request, sock: socket.socket) -> bool:
    sock.sendall(tags(["v1"], "Connection: close\r\n"))
    return False


def test_plain_http_through_a_proxy_in_absolute_form() -> None:
    with scripted(closing_tags) as origin:
        name = f"registry.invalid:{origin.port}"
        with proxy({name: origin.port}) as via:
            env = {"HTTP_PROXY": f"127.0.0.1:{via.port}", "NO_PROXY": "example.com"}
            assert backend(name, env=env).tags("k/web") == ["v1"]
    assert via.lines == [f"GET http://{name}/v2/k/web/tags/list?n=1000 HTTP/1.1"]
    assert via.authorizations == []
    (seen,) = origin.requests
    assert seen.target == "/v2/k/web/tags/list?n=1000" and seen.headers["host"] == name


def test_https_through_a_proxy_tunnel(tmp_path: Path) -> None:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(*self_signed(tmp_path))
    listener = socket.create_server(("127.0.0.1", 0))
    origin = TLSServer(closing_tags, listener.getsockname()[1])
    origin.context = context
    threading.Thread(target=origin.serve, args=(listener,), daemon=True).start()
    try:
        with proxy({"registry.invalid:443": origin.port}) as via:
            env = {"https_proxy": f"http://who:pw@127.0.0.1:{via.port}"}
            remote = backend("registry.invalid", plain_http=False, insecure=True, env=env)
            assert remote.tags("k/web") == ["v1"]
    finally:
        listener.close()
    assert via.lines == ["CONNECT registry.invalid:443 HTTP/1.1"]
    assert via.authorizations == ["Basic " + base64.b64encode(b"who:pw").decode()]
    (seen,) = origin.requests
    assert seen.target == "/v2/k/web/tags/list?n=1000"
    assert seen.headers["host"] == "registry.invalid"
    assert "proxy-authorization" not in seen.headers


def test_a_proxy_that_is_not_http_is_a_clear_error() -> None:
    remote = backend("registry.invalid", env={"http_proxy": "socks5://127.0.0.1:1080"})
    with pytest.raises(RegistryError, match=r"http_proxy: 'socks5://127\.0\.0\.1:1080' is not an"):
        remote.tags("k/web")


def test_a_manifest_streamed_past_its_limit_is_refused_while_it_arrives() -> None:
    sent: list[int] = []

    def registry(request: Request, sock: socket.socket) -> bool:
        sock.sendall(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")
        piece = b"10000\r\n" + b" " * 0x10000 + b"\r\n"
        with contextlib.suppress(OSError):
            while True:  # endless: only the client's limit ends it
                sock.sendall(piece)
                sent.append(len(piece))
        return False

    with scripted(registry) as origin:
        with pytest.raises(TooLargeError, match="over the 4194304-byte limit"):
            backend(f"127.0.0.1:{origin.port}").fetch_manifest("k/web", "v1")
        assert len(origin.requests) == 1  # not retried
    assert sum(sent) < 64 * 1024 * 1024


def test_a_broken_status_line_is_a_clear_transient_error() -> None:
    def registry(request: Request, sock: socket.socket) -> bool:
        sock.sendall(b"SSH-2.0-OpenSSH_9.6\r\n\r\n")
        return False

    with scripted(registry) as origin, pytest.raises(TransientError) as caught:
        backend(f"127.0.0.1:{origin.port}").fetch_manifest("k/web", "v1")
    assert caught.value.message == (
        f"manifest k/web:v1: the connection to 127.0.0.1:{origin.port} failed "
        "(not an HTTP/1.x response: 'SSH-2.0-OpenSSH_9.6') (gave up after 3 attempts)"
    )
    assert len(origin.requests) == 3


def test_a_connection_closed_while_idle_is_replaced_without_a_retry() -> None:
    def registry(request: Request, sock: socket.socket) -> bool:
        sock.sendall(tags(["v1"]))
        return False  # closes without saying so

    with scripted(registry) as origin:
        remote = backend(f"127.0.0.1:{origin.port}", retry=RetryPolicy(attempts=1))
        assert remote.tags("k/web") == ["v1"]
        assert remote.tags("k/web") == ["v1"]
    assert origin.connections == 2 and len(origin.requests) == 2
    assert remote.requests == 2

"""Real registries for the tests: Debian's ``docker-registry`` (CNCF distribution) started on
127.0.0.1 with a random port and temporary storage, optionally behind htpasswd Basic auth or
bearer-token auth (with a small token service signing real JWTs), and a fault-injecting
proxy in front of it.

The proxy is the one stand-in: a real registry cannot be asked to fail on cue, so faults
(5xx, 429, connections reset mid-body, corrupted or oversized bodies) are injected between
the client and the real registry; every other byte is the registry's own. It can also take
single-request blob uploads, which docker-registry 2.8 lacks, by turning each into the
registry's own two-request upload. The registry's access log records every request it
answered (:meth:`DistributionRegistry.requests`), so tests count requests where they land.
"""

from __future__ import annotations

import base64
import contextlib
import datetime
import http.client
import http.server
import ipaddress
import json
import re
import shutil
import socket
import ssl
import struct
import subprocess
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Self

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from cryptography.x509.oid import NameOID

BINARY = "/usr/bin/docker-registry"
_ACCESS = re.compile(r'^\S+ - \S+ \[[^]]*\] "([A-Z]+ \S+) HTTP/[0-9.]+"', re.MULTILINE)
"""A line of the registry's access log (Apache's combined format): method and path."""
USER, PASSWORD = "ork", "ork-secret"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class DistributionRegistry:
    """One ``docker-registry serve`` process."""

    def __init__(self, root: Path, *, auth: str = "none", tls: bool = False) -> None:
        if not Path(BINARY).exists():
            raise RuntimeError(
                f"{BINARY} is missing: `make test` installs the Debian package docker-registry"
            )
        self.root = root
        self.auth = auth
        self.tls = tls
        self.port = free_port()
        self.token_server: TokenServer | None = None
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self.port}"

    def start(self) -> DistributionRegistry:
        self.root.mkdir(parents=True, exist_ok=True)
        config = self.root / "config.yml"
        config.write_text(json.dumps(self._config()))  # JSON is YAML
        log = self.log_path.open("wb")
        self.process = subprocess.Popen(
            [BINARY, "serve", str(config)], stdout=log, stderr=subprocess.STDOUT
        )
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            try:
                if self.tls:
                    socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                else:
                    urllib.request.urlopen(f"http://{self.host}/v2/", timeout=1)
                return self
            except urllib.error.HTTPError:
                return self  # 401: up, and asking for credentials
            except OSError:
                if self.process.poll() is not None:
                    break
                time.sleep(0.05)
        raise RuntimeError(f"docker-registry did not start: {self.log_path}")

    def _config(self) -> dict[str, Any]:
        config: dict[str, Any] = {
            "version": 0.1,
            "log": {"level": "error", "accesslog": {"disabled": False}},
            "storage": {
                "filesystem": {"rootdirectory": str(self.root / "data")},
                "delete": {"enabled": True},
            },
            "http": {"addr": self.host, "secret": "ork-tests"},
        }
        if self.tls:
            cert, key = self_signed(self.root)
            config["http"]["tls"] = {"certificate": str(cert), "key": str(key)}
        if self.auth == "basic":
            htpasswd = self.root / "htpasswd"
            line = subprocess.run(
                ["htpasswd", "-Bbn", USER, PASSWORD], check=True, capture_output=True, text=True
            ).stdout
            htpasswd.write_text(line)
            config["auth"] = {"htpasswd": {"realm": "orkestra-test", "path": str(htpasswd)}}
        elif self.auth == "token":
            self.token_server = TokenServer(self.root / "token").start()
            config["auth"] = {
                "token": {
                    "realm": f"{self.token_server.url}/token",
                    "service": TokenServer.SERVICE,
                    "issuer": TokenServer.ISSUER,
                    "rootcertbundle": str(self.token_server.cert_path),
                }
            }
        return config

    @property
    def log_path(self) -> Path:
        return self.root / "registry.log"

    def requests(self, namespace: str) -> list[str]:
        """Every request the registry's access log names (``METHOD /path?query``) whose
        repository starts with ``namespace``, in the order they were logged. A request
        made last (a tag listing of ``<namespace>/end-of-log``) is waited for first, so
        every request answered before this call is in the log."""
        marker = f"/v2/{namespace}/end-of-log/tags/list"
        unchecked = ssl.create_default_context()
        unchecked.check_hostname, unchecked.verify_mode = False, ssl.CERT_NONE
        with contextlib.suppress(urllib.error.HTTPError):
            urllib.request.urlopen(f"{self.url}{marker}", timeout=10, context=unchecked)
        deadline = time.monotonic() + 10
        logged = self._access_log()
        while not any(line.endswith(marker) for line in logged) and time.monotonic() < deadline:
            time.sleep(0.02)
            logged = self._access_log()
        return [
            line
            for line in logged
            if line.split(" ", 1)[1].startswith(f"/v2/{namespace}/") and not line.endswith(marker)
        ]

    def blobs(self, namespace: str) -> set[tuple[str, str]]:
        """The blobs the repositories under ``namespace`` hold, as (repository, digest)."""
        repositories = self.root / "data" / "docker" / "registry" / "v2" / "repositories"
        return {
            (str(link.parents[3].relative_to(repositories)), f"sha256:{link.parent.name}")
            for link in (repositories / namespace).glob("**/_layers/sha256/*/link")
        }

    def _access_log(self) -> list[str]:
        text = self.log_path.read_text(errors="replace")
        return [match.group(1) for match in _ACCESS.finditer(text)]

    @property
    def url(self) -> str:
        return f"{'https' if self.tls else 'http'}://{self.host}"

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=10)
        if self.token_server is not None:
            self.token_server.stop()
        shutil.rmtree(self.root / "data", ignore_errors=True)


class _Background:
    """An HTTP server of the tests, served from a daemon thread."""

    httpd: http.server.ThreadingHTTPServer
    address = "127.0.0.1"
    port = 0

    @property
    def host(self) -> str:
        return f"{self.address}:{self.port}"

    def start(self) -> Self:
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def self_signed(directory: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 that nothing trusts."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False
        )
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "tls.crt", directory / "tls.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


class TokenServer(_Background):
    """A minimal Docker token service: Basic-authenticated users get signed JWTs (ES256,
    ``x5c`` header) granting what they ask for; anonymous users get pull-only tokens."""

    SERVICE = "ork-test-registry"
    ISSUER = "ork-test-issuer"

    def __init__(self, root: Path) -> None:
        root.mkdir(parents=True, exist_ok=True)
        self.key = ec.generate_private_key(ec.SECP256R1())
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "ork-test-token")])
        now = datetime.datetime.now(datetime.UTC)
        self.cert = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(self.key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), True)
            .sign(self.key, hashes.SHA256())
        )
        self.cert_path = root / "cert.pem"
        self.cert_path.write_bytes(self.cert.public_bytes(serialization.Encoding.PEM))
        self.port = free_port()
        self.requests: list[str] = []
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                server.requests.append(self.path)
                query = urllib.parse.parse_qs(urllib.parse.urlsplit(self.path).query)
                scope = " ".join(query.get("scope", []))  # "a b" or scope=a&scope=b
                user = self._user()
                if user is False:
                    self.send_response(401)
                    self.end_headers()
                    return
                body = json.dumps(
                    {"token": server.token(scope, bool(user)), "expires_in": 300}
                ).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def _user(self) -> bool | None:
                header = self.headers.get("Authorization", "")
                if not header:
                    return None
                given = base64.b64decode(header.removeprefix("Basic ")).decode()
                return given == f"{USER}:{PASSWORD}"

            def log_message(self, *args: Any) -> None:
                pass

        self.httpd = _QuietServer(("127.0.0.1", self.port), Handler)

    @property
    def url(self) -> str:
        return f"http://{self.host}"

    def token(self, scope: str, authenticated: bool) -> str:
        access = []
        for item in scope.split(" "):
            if item.count(":") >= 2:
                kind, _, rest = item.partition(":")
                name, _, actions = rest.rpartition(":")
                granted = actions.split(",") if authenticated else ["pull"]
                access.append({"type": kind, "name": name, "actions": granted})
        now = int(time.time())
        claims = {
            "iss": self.ISSUER,
            "sub": USER if authenticated else "",
            "aud": self.SERVICE,
            "exp": now + 300,
            "nbf": now - 10,
            "iat": now,
            "jti": str(now),
            "access": access,
        }
        der = self.cert.public_bytes(serialization.Encoding.DER)
        header = {"typ": "JWT", "alg": "ES256", "x5c": [base64.b64encode(der).decode()]}
        signing_input = f"{_b64(json.dumps(header))}.{_b64(json.dumps(claims))}"
        r, s = decode_dss_signature(
            self.key.sign(signing_input.encode(), ec.ECDSA(hashes.SHA256()))
        )
        return f"{signing_input}.{_b64(r.to_bytes(32, 'big') + s.to_bytes(32, 'big'))}"


class _QuietServer(http.server.ThreadingHTTPServer):
    """Connections the faults cut are expected; do not print their tracebacks."""

    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass


def _b64(data: str | bytes) -> str:
    raw = data.encode() if isinstance(data, str) else data
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


@dataclass
class Fault:
    """Misbehave ``times`` times on requests matching ``method`` and ``path`` (a regex)."""

    method: str
    path: str
    action: str  # "status:503", "reset", "corrupt", "oversize", "trickle:<seconds per byte>"
    times: int = 1
    hits: int = field(default=0)


class FaultProxy(_Background):
    """A pass-through HTTP proxy to a registry that injects the faults it is given.

    ``single_post``: the proxy also takes single-request uploads (``POST …/uploads/?digest=``
    with the blob as the body, answered ``201``), which docker-registry 2.8 does not, by
    opening an upload session upstream and putting the body into it."""

    def __init__(
        self, upstream: str, address: str = "127.0.0.1", *, single_post: bool = False
    ) -> None:
        self.upstream = upstream
        self.address = address
        self.single_post = single_post
        self.port = free_port()
        self.faults: list[Fault] = []
        self.log: list[str] = []
        proxy = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _handle(self) -> None:
                proxy.log.append(f"{self.command} {self.path}")
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                fault = proxy.take(self.command, self.path)
                if fault is not None and fault.action.startswith("status:"):
                    self._send(int(fault.action.split(":")[1]), {"Content-Length": "0"}, b"")
                    return
                status, headers, payload = proxy.answer(
                    self.command, self.path, dict(self.headers), body
                )
                if fault is not None and fault.action == "corrupt" and payload:
                    payload = bytes([payload[0] ^ 0xFF]) + payload[1:]
                if fault is not None and fault.action == "oversize":
                    payload = b" " * (5 * 1024 * 1024)
                    headers["Content-Length"] = str(len(payload))
                if fault is not None and fault.action == "reset":
                    self._reset(status, headers, payload)
                    return
                interval = (
                    float(fault.action.split(":")[1])
                    if fault is not None and fault.action.startswith("trickle:")
                    else 0.0
                )
                self._send(status, headers, payload, interval)

            def _send(
                self, status: int, headers: dict[str, str], payload: bytes, interval: float = 0.0
            ) -> None:
                """Pass the response on; with ``interval``, one byte at a time."""
                self.send_response(status)
                for key, value in headers.items():
                    if key.lower() not in ("transfer-encoding", "connection", "date", "server"):
                        self.send_header(key, value)
                self.end_headers()
                if self.command == "HEAD":
                    return
                if not interval:
                    self.wfile.write(payload)
                    return
                for index in range(len(payload)):
                    self.wfile.write(payload[index : index + 1])
                    self.wfile.flush()
                    time.sleep(interval)

            def _reset(self, status: int, headers: dict[str, str], payload: bytes) -> None:
                self.send_response(status)
                for key, value in headers.items():
                    self.send_header(key, value)
                self.end_headers()
                self.wfile.write(payload[: len(payload) // 2])
                self.wfile.flush()
                self.connection.setsockopt(
                    socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0)
                )
                self.connection.close()
                self.close_connection = True

            do_GET = do_HEAD = do_POST = do_PUT = do_PATCH = do_DELETE = _handle  # noqa: N815

            def log_message(self, *args: Any) -> None:
                pass

        self.httpd = _QuietServer((address, self.port), Handler)

    def inject(self, *faults: Fault) -> None:
        self.faults = list(faults)

    def take(self, method: str, path: str) -> Fault | None:
        for fault in self.faults:
            if fault.method == method and re.search(fault.path, path) and fault.hits < fault.times:
                fault.hits += 1
                return fault
        return None

    def answer(
        self, method: str, path: str, headers: dict[str, str], body: bytes
    ) -> tuple[int, dict[str, str], bytes]:
        if not (self.single_post and method == "POST" and "digest=" in path):
            return self.forward(method, path, headers, body)
        base, _, query = path.partition("?")
        bare = {k: v for k, v in headers.items() if k.lower() != "content-length"}
        status, opened, payload = self.forward("POST", base, bare, b"")
        if status != 202:
            return status, opened, payload
        session = urllib.parse.urlsplit(opened["Location"])
        return self.forward("PUT", f"{session.path}?{session.query}&{query}", headers, body)

    def forward(
        self, method: str, path: str, headers: dict[str, str], body: bytes
    ) -> tuple[int, dict[str, str], bytes]:
        connection = http.client.HTTPConnection(self.upstream, timeout=30)
        try:
            connection.request(method, path, body=body or None, headers=headers)
            response = connection.getresponse()
            payload = response.read()
            return response.status, dict(response.getheaders()), payload
        finally:
            connection.close()


def serve(root: Path, auth: str = "none", tls: bool = False) -> Iterator[DistributionRegistry]:
    registry = DistributionRegistry(root, auth=auth, tls=tls).start()
    try:
        yield registry
    finally:
        registry.stop()

"""Network deadlines: a registry that trickles bytes, or never answers, ends in a clean
error within the deadline (per request and per command, ``--timeout``/``ORK_TIMEOUT``), and
a download cut short never enters the cache."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from orkestra.registry.client import RegistryClient
from orkestra.registry.oci import Descriptor
from orkestra.registry.remote import RemoteBackend
from orkestra.registry.retry import DeadlineError, Deadlines, RetryPolicy
from tests.registry.server import (
    DistributionRegistry,
    Fault,
    FaultProxy,
)
from tests.registry.test_layout import artifact

ORK = shutil.which("ork", path=str(Path(sys.executable).parent)) or "ork"
FAST = RetryPolicy(attempts=3, base_delay=0.01, max_delay=0.05)
SLACK = 3.0
"""How much later than its deadline a call may end (thread scheduling, slow CI)."""


class SlowLoris:
    """A registry that accepts connections, reads the request, then answers one byte at a
    time (``headers``: an endless header; ``body``: a 1 MB body) or never (``silent``)."""

    def __init__(self, mode: str, interval: float = 0.05) -> None:
        self.mode = mode
        self.interval = interval
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.connections = 0
        self._stop = threading.Event()

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self.port}"

    def start(self) -> SlowLoris:
        threading.Thread(target=self._accept, daemon=True).start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self.listener.close()

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                connection, _ = self.listener.accept()
            except OSError:
                return
            self.connections += 1
            threading.Thread(target=self._serve, args=(connection,), daemon=True).start()

    def _serve(self, connection: socket.socket) -> None:
        with connection:
            received = b""
            while b"\r\n\r\n" not in received:
                chunk = connection.recv(4096)
                if not chunk:
                    return
                received += chunk
            if self.mode == "silent":
                self._stop.wait()
                return
            self._trickle(connection, self._payload())

    def _payload(self) -> bytes:
        if self.mode == "headers":
            return b"HTTP/1.1 200 OK\r\nX-Slow: " + b"a" * 100_000
        return b"HTTP/1.1 200 OK\r\nContent-Length: 1000000\r\n\r\n" + b" " * 1_000_000

    def _trickle(self, connection: socket.socket, payload: bytes) -> None:
        for index in range(len(payload)):
            if self._stop.is_set():
                return
            try:
                connection.sendall(payload[index : index + 1])
            except OSError:
                return
            time.sleep(self.interval)


@pytest.fixture
def slow_headers() -> Iterator[SlowLoris]:
    server = SlowLoris("headers").start()
    yield server
    server.stop()


def backend(host: str, deadlines: Deadlines) -> RemoteBackend:
    return RemoteBackend(host, lambda: None, plain_http=True, retry=FAST, deadlines=deadlines)


@pytest.mark.parametrize("mode", ["headers", "body", "silent"])
def test_a_slow_registry_fails_within_the_request_deadline(mode: str) -> None:
    server = SlowLoris(mode).start()
    try:
        remote = backend(server.host, Deadlines(request=1.0))
        started = time.monotonic()
        with pytest.raises(DeadlineError) as caught:
            remote.fetch_manifest("k/web", "v1.0.0")
        elapsed = time.monotonic() - started
    finally:
        server.stop()
    assert 0.9 <= elapsed < 1.0 + SLACK
    assert caught.value.message == (
        f"manifest k/web:v1.0.0: {server.host} did not complete the request within 1s"
    )
    assert "stalled or very slow" in caught.value.hint
    assert server.connections == 1  # a deadline is not retried


def test_an_upload_to_a_silent_registry_fails_within_the_deadline() -> None:
    server = SlowLoris("silent").start()
    try:
        remote = backend(server.host, Deadlines(request=1.0))
        data = b"x" * (8 * 1024 * 1024)
        descriptor = Descriptor.of(data, "application/octet-stream")
        started = time.monotonic()
        with pytest.raises(
            DeadlineError,
            match=rf"upload sha256:\w+ to k/web: {server.host} "
            "did not complete the request within 1s",
        ):
            remote.push_blob("k/web", descriptor, data)
        assert time.monotonic() - started < 1.0 + SLACK
    finally:
        server.stop()


def test_the_command_deadline_bounds_every_request(slow_headers: SlowLoris) -> None:
    remote = backend(slow_headers.host, Deadlines(command=1.5, request=60))
    started = time.monotonic()
    with pytest.raises(DeadlineError) as caught:
        remote.tags("k/web")
    assert time.monotonic() - started < 1.5 + SLACK
    assert caught.value.message.startswith(
        f"list tags of k/web: {slow_headers.host} did not answer in time"
    )
    assert "1.5s in all" in caught.value.message
    assert "--timeout (or ORK_TIMEOUT)" in caught.value.hint
    with pytest.raises(DeadlineError):  # nothing left: the next call fails at once
        remote.tags("k/other")


@pytest.mark.integration
def test_retries_count_against_the_command_deadline(
    distribution: DistributionRegistry, tmp_path: Path
) -> None:
    proxy = FaultProxy(distribution.host).start()
    try:
        proxy.inject(Fault("GET", "/manifests/", "status:503", times=999))
        client = RegistryClient(
            {"ORK_HOME": str(tmp_path), "ORK_REGISTRY": f"{proxy.host}/k"},
            retry=RetryPolicy(attempts=1000, base_delay=0.2, max_delay=0.2),
            timeout=1.0,
        )
        started = time.monotonic()
        with pytest.raises(DeadlineError, match="did not answer in time"):
            client.info(client.resolve("web:v1.0.0"))
        assert time.monotonic() - started < 1.0 + SLACK
    finally:
        proxy.stop()


@pytest.mark.integration
def test_a_trickled_blob_never_enters_the_cache(
    distribution: DistributionRegistry, tmp_path: Path
) -> None:
    upstream = RegistryClient(
        {"ORK_HOME": str(tmp_path / "a"), "ORK_REGISTRY": f"{distribution.host}/slow"}
    )
    upstream.push(artifact(), upstream.resolve("web:v1.0.0"))
    proxy = FaultProxy(distribution.host).start()
    proxy.inject(Fault("GET", r"/blobs/sha256:", "trickle:0.2", times=100))
    try:
        client = RegistryClient(
            {"ORK_HOME": str(tmp_path / "b"), "ORK_REGISTRY": f"{proxy.host}/slow"},
            retry=FAST,
            deadlines=Deadlines(request=1.0),
        )
        ref = client.resolve("web:v1.0.0")
        with pytest.raises(
            DeadlineError,
            match=rf"blob sha256:\w+ of slow/web: {proxy.host} "
            "did not complete the request within 1s",
        ):
            client.pull(ref)
    finally:
        proxy.stop()
    assert client.cache.lookup(ref) is None
    assert not [p for p in client.cache.root.rglob("*") if p.is_file()]


def ork(*args: str, env: dict[str, str]) -> tuple[subprocess.CompletedProcess[str], float]:
    started = time.monotonic()
    result = subprocess.run(
        [ORK, *args],
        capture_output=True,
        text=True,
        timeout=30,
        env={**os.environ, "NO_COLOR": "1", **env},
    )
    return result, time.monotonic() - started


@pytest.mark.parametrize(
    ("args", "env"),
    [
        (["pull", "web:v1.0.0", "--timeout", "2s"], {}),
        (["inspect", "web:v1.0.0"], {"ORK_TIMEOUT": "2s"}),
        (["patterns", "-k", "--timeout", "2s"], {}),
    ],
)
def test_commands_end_cleanly_within_their_timeout(
    slow_headers: SlowLoris, args: list[str], env: dict[str, str]
) -> None:
    result, elapsed = ork(*args, env={"ORK_REGISTRY": f"{slow_headers.host}/k", **env})
    assert result.returncode == 1, result.stderr
    assert elapsed < 2 + SLACK + 2  # the deadline, plus starting Python
    assert "Traceback" not in result.stderr
    assert (
        f"{slow_headers.host} did not answer in time (this command may wait on "
        "registries for 2s in all)" in result.stderr
    )
    assert "hint: allow more with --timeout (or ORK_TIMEOUT)" in result.stderr


@pytest.mark.parametrize(
    ("args", "env", "message"),
    [
        (["pull", "web:v1", "--timeout", "soon"], {}, "Invalid value for '--timeout'"),
        (["pull", "web:v1", "--timeout", "0s"], {}, "must be longer than 0s"),
        (["pull", "web:v1"], {"ORK_TIMEOUT": "soon"}, "ORK_TIMEOUT: invalid duration"),
    ],
)
def test_bad_timeouts_are_usage_errors(args: list[str], env: dict[str, str], message: str) -> None:
    result, _ = ork(*args, env={"ORK_REGISTRY": "127.0.0.1:9/k", **env})
    assert result.returncode == 2, result.stderr
    assert message in result.stderr and "Traceback" not in result.stderr

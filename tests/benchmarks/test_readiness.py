"""The operator benchmark's readiness watch against the embedded API server: it counts the
WebApps that turn Ready, resumes a watch the server ends, and lists again after 410 Gone."""

from __future__ import annotations

import socket
import ssl
import subprocess
import threading
import time
from collections.abc import Iterator
from typing import cast

import pytest
import yaml

from benchmarks.operators import CRDS, WEBAPPS, webapp
from benchmarks.readiness import ReadinessWatch, _Stream, first_version
from orkestra.apiserver import EmbeddedServer
from orkestra.runtime.kube import KubeClient, load_config
from orkestra.transport import TransportError
from tests.conftest import PACK

pytestmark = pytest.mark.integration  # a server in the test, a process standing by

READY = {"observedGeneration": 1, "conditions": [{"type": "Ready", "status": "True"}]}


@pytest.fixture
def server() -> Iterator[EmbeddedServer]:
    with EmbeddedServer(port=0) as running:
        yield running


@pytest.fixture
def bystander() -> Iterator[subprocess.Popen[bytes]]:
    """A process standing in for the operator: alive for the whole watch."""
    process = subprocess.Popen(["sleep", "60"])
    yield process
    process.kill()
    process.wait()


def make_ready(client: KubeClient, name: str, status: dict[str, object] = READY) -> None:
    obj = client.request("GET", f"{WEBAPPS}/{name}")
    client.request("PUT", f"{WEBAPPS}/{name}/status", body={**obj, "status": status})


def test_ready_webapps_are_counted_across_a_410_and_a_relist(
    server: EmbeddedServer, bystander: subprocess.Popen[bytes]
) -> None:
    client = KubeClient(load_config(str(server.kubeconfig)))
    crd = yaml.safe_load((PACK / "02-katalog-api" / "crd.yaml").read_text())
    client.request("POST", CRDS, body=crd)
    deadline = time.monotonic() + 10
    while not client.request("GET", f"{CRDS}/{crd['metadata']['name']}").get("status"):
        assert time.monotonic() < deadline, "the CRD was not established"
        time.sleep(0.02)
    spec = {"image": "nginx:1.25"}
    for name in ("a", "b", "c"):
        client.request("POST", WEBAPPS, body=webapp(name, spec))
    context = ssl.create_default_context(cadata=server.credentials.ca.certificate.decode())
    version = first_version(server.url, server.token or "", context, WEBAPPS)
    make_ready(client, "a")
    make_ready(client, "b", {**READY, "observedGeneration": 0})  # an older generation's
    server.expire_history()  # resuming from `version` is now 410 Gone: the watch lists again

    def later() -> None:
        time.sleep(0.3)
        make_ready(client, "b")
        make_ready(client, "c")

    threading.Thread(target=later, daemon=True).start()
    started = time.perf_counter()
    watch = ReadinessWatch(server.url, server.token or "", context, WEBAPPS, 3, started)
    relists: list[str] = []
    listing = watch._relist

    def relist() -> str:
        relists.append(listing())
        return relists[-1]

    watch._relist = relist  # type: ignore[method-assign]
    progress = watch.follow(version, started + 20, bystander)
    assert len(relists) == 1
    assert progress.ready == {"a", "b", "c"}
    assert progress.first is not None and progress.last is not None
    assert progress.first < 0.3 <= progress.last < 10  # "a" from the list, "c" as it came


class _Plain:
    """A stand-in for an SSLContext: the connection stays plain."""

    def wrap_socket(self, sock: socket.socket, server_hostname: str) -> socket.socket:
        return sock


def answering(answer: bytes) -> str:
    """The URL of a one-shot server that reads a request's head and sends ``answer``."""
    listener = socket.create_server(("127.0.0.1", 0))

    def serve() -> None:
        with listener, listener.accept()[0] as conn:
            data = b""
            while b"\r\n\r\n" not in data and (piece := conn.recv(4096)):
                data += piece
            conn.sendall(answer)

    threading.Thread(target=serve, daemon=True).start()
    return f"http://127.0.0.1:{listener.getsockname()[1]}"


def stream(answer: bytes) -> _Stream:
    return _Stream(answering(answer), "t", cast(ssl.SSLContext, _Plain()), "/x")


def test_the_stream_skips_interim_responses_and_reads_chunks_with_extensions() -> None:
    chunked = stream(
        b"HTTP/1.1 100 Continue\r\n\r\n"
        b"HTTP/1.1 200 OK\r\nTRANSFER-ENCODING: chunked\r\n\r\n"
        b"4;name=value\r\nab\nc\r\n3\r\nd\ne\r\n0\r\n\r\n"
    )
    assert (chunked.next_lines(), chunked.next_lines(), chunked.next_lines()) == (
        [b"ab"],
        [b"cd"],
        None,
    )
    chunked.close()
    sized = stream(b"HTTP/1.1 200 OK\r\ncontent-length:  5 \r\n\r\n{}{}xtrailing")
    assert sized.body() == b"{}{}x"
    sized.close()
    with pytest.raises(RuntimeError, match="404"):
        stream(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n")
    bad = stream(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n")
    with pytest.raises(TransportError, match="bad chunk size"):
        bad.chunk()
    bad.close()

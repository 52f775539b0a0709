"""Fixtures of the gateway tests: the registry-guide platform pattern under a komposer that
turns on admission and deletion protection (as 05-komposer does), AdmissionReview
builders, an in-memory Kubernetes double, a gateway running on a thread of its own, and an
HTTPS client that trusts the gateway's CA."""

from __future__ import annotations

import asyncio
import http.client
import json
import socket
import ssl
import textwrap
import threading
import time
import uuid
from collections.abc import Callable, Coroutine, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import pytest
import yaml

from orkestra.cluster.errors import AlreadyExistsError, ConflictError
from orkestra.gateway import Gateway, Targets
from orkestra.loops import new_event_loop

Obj = dict[str, Any]
T = TypeVar("T")
PACK = Path(__file__).resolve().parents[2] / "orkestra" / "packs" / "registry-guide"
PLATFORM = PACK / "04-katalog-platform"
CACHE = PACK / "03-katalog-cache"
NAMES = ["orkestra-gateway.orkestra-system.svc", "localhost", "127.0.0.1"]


def komposer(directory: Path, security: str, crds: str = "") -> Path:
    """A komposer importing the platform and cache katalogs with this ``security``."""
    text = (
        textwrap.dedent(f"""\
        apiVersion: orkestra.orkspace.io/v1
        kind: Komposer
        metadata: {{name: app-platform, version: v1.0.0, author: myorg}}
        imports:
          files:
            - {PLATFORM / "katalog.yaml"}
            - {CACHE / "katalog.yaml"}
        gateway:
          endpoint: http://orkestra-gateway.orkestra-system.svc:8080
        security:
        """)
        + textwrap.indent(textwrap.dedent(security).strip(), "  ")
        + "\n"
    )
    if crds:
        text += "spec:\n  crds:\n" + textwrap.indent(textwrap.dedent(crds).strip(), "    ") + "\n"
    path = directory / f"komposer-{uuid.uuid4().hex[:6]}.yaml"
    path.write_text(text)
    return path


FULL = """
    webhooks: {admission: {enabled: true}}
    deletionProtection: {enabled: true}
"""


@pytest.fixture
def targets(tmp_path: Path) -> Targets:
    """05-komposer's security: admission and deletion protection on."""
    return Targets.load([komposer(tmp_path, FULL)])


def load_yaml(path: Path) -> Obj:
    data: Obj = yaml.safe_load(path.read_text())
    return data


def denied_cr() -> Obj:
    return load_yaml(PLATFORM / "cr-denied.yaml")


def good_cr() -> Obj:
    return load_yaml(PLATFORM / "cr.yaml")


def _name_of(obj: Obj) -> str:
    meta = obj.get("metadata")
    return str(meta.get("name", "")) if isinstance(meta, dict) else ""


def review(
    obj: Obj | None = None,
    *,
    operation: str = "CREATE",
    old: Obj | None = None,
    group: str = "rkguide.demo",
    version: str = "v1",
    resource: str = "platformapps",
    name: str = "",
    namespace: str = "default",
    subresource: str = "",
) -> Obj:
    """An AdmissionReview v1 request as the API server sends it."""
    subject = obj if obj is not None else old or {}
    request: Obj = {
        "uid": str(uuid.uuid4()),
        "operation": operation,
        "kind": {"group": group, "version": version, "kind": str(subject.get("kind", ""))},
        "resource": {"group": group, "version": version, "resource": resource},
        "name": name or _name_of(subject),
        "namespace": namespace,
        "userInfo": {"username": "tester"},
        "object": obj,
        "oldObject": old,
        "dryRun": False,
    }
    if subresource:
        request["subResource"] = subresource
    return {"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "request": request}


class FakeKube:
    """An in-memory :class:`~orkestra.gateway.kube.KubeAPI` with resourceVersions and
    conflicts, for tests that do not need an API server."""

    def __init__(self) -> None:
        self.objects: dict[tuple[str, str, str], Obj] = {}
        self.version = 0
        self.calls: list[str] = []

    def _key(self, kind: str, name: str, namespace: str | None) -> tuple[str, str, str]:
        return kind, namespace or "", name

    def _stamp(self, obj: Obj) -> Obj:
        self.version += 1
        stored: Obj = json.loads(json.dumps(obj))
        stored["metadata"]["resourceVersion"] = str(self.version)
        self.objects[
            self._key(obj["kind"], obj["metadata"]["name"], obj["metadata"].get("namespace"))
        ] = stored
        copy: Obj = json.loads(json.dumps(stored))
        return copy

    async def get(self, kind: str, name: str, namespace: str | None = None) -> Obj | None:
        self.calls.append(f"get {kind} {name}")
        found = self.objects.get(self._key(kind, name, namespace))
        return json.loads(json.dumps(found)) if found else None

    async def create(self, obj: Obj) -> Obj:
        self.calls.append(f"create {obj['kind']} {obj['metadata']['name']}")
        if (
            self._key(obj["kind"], obj["metadata"]["name"], obj["metadata"].get("namespace"))
            in self.objects
        ):
            raise AlreadyExistsError("exists")
        return self._stamp(obj)

    async def replace(self, obj: Obj) -> Obj:
        self.calls.append(f"replace {obj['kind']} {obj['metadata']['name']}")
        meta = obj["metadata"]
        found = self.objects.get(self._key(obj["kind"], meta["name"], meta.get("namespace")))
        if found is None or found["metadata"]["resourceVersion"] != meta.get("resourceVersion"):
            raise ConflictError("the object has been modified")
        return self._stamp(obj)

    async def delete(self, kind: str, name: str, namespace: str | None = None) -> bool:
        self.calls.append(f"delete {kind} {name}")
        return self.objects.pop(self._key(kind, name, namespace), None) is not None

    async def close(self) -> None:
        self.calls.append("close")


class LoopThread:
    """An event loop on a thread of its own; ``call`` runs a coroutine there."""

    def __init__(self) -> None:
        self.loop = new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()

    def call(self, coroutine: Coroutine[Any, Any, T], timeout: float = 30.0) -> T:
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout)

    def close(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)
        self.loop.close()


@pytest.fixture
def loop_thread() -> Iterator[LoopThread]:
    running = LoopThread()
    yield running
    running.close()


@contextmanager
def serving(gateway: Gateway, loop: LoopThread) -> Iterator[Gateway]:
    loop.call(gateway.start())
    try:
        yield gateway
    finally:
        loop.call(gateway.stop())


def wait_until(check: Callable[[], Any], timeout: float = 10.0, what: str = "condition") -> Any:
    """Poll ``check`` until it returns something truthy."""
    deadline = time.monotonic() + timeout
    while not (result := check()):
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(0.02)
    return result


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Client:
    """HTTPS to the gateway, trusting ``ca_bundle``; a new connection per call unless
    ``keep`` is used."""

    def __init__(self, port: int, ca_bundle: bytes, host: str = "127.0.0.1") -> None:
        self.port = port
        self.host = host
        self.context = ssl.create_default_context(cadata=ca_bundle.decode())

    def connect(self) -> http.client.HTTPSConnection:
        return http.client.HTTPSConnection(self.host, self.port, context=self.context, timeout=10)

    def post(
        self, path: str, body: bytes | Obj, connection: http.client.HTTPSConnection | None = None
    ) -> tuple[int, Obj, bytes]:
        """(status, JSON body, the DER serving certificate)."""
        own = connection is None
        conn = connection or self.connect()
        try:
            data = body if isinstance(body, bytes) else json.dumps(body).encode()
            conn.request("POST", path, data, {"Content-Type": "application/json"})
            response = conn.getresponse()
            payload = response.read()
            assert conn.sock is not None
            der = conn.sock.getpeercert(binary_form=True) or b""
            try:
                answer = json.loads(payload) if payload else {}
            except ValueError:
                answer = {"text": payload.decode("utf-8", "replace")}
            return response.status, answer, der
        finally:
            if own:
                conn.close()

    def review(self, path: str, body: Obj) -> Obj:
        status, answer, _ = self.post(path, body)
        assert status == 200, answer
        response: Obj = answer["response"]
        return response

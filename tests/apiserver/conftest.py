"""Fixtures for the conformance tests of the embedded API server.

One server per test module (starting one takes a few milliseconds, but sharing it keeps
kubectl's discovery cache warm); tests stay apart by working in a namespace of their own.
``kubectl`` is the real binary, run with ``--kubeconfig`` and a private cache directory.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml

from orkestra.apiserver import EmbeddedServer
from orkestra.cluster.resources import ResourceType

Obj = dict[str, Any]
PACK_API = (
    Path(__file__).resolve().parents[2] / "orkestra" / "packs" / "registry-guide" / "02-katalog-api"
)
KUBECTL = shutil.which("kubectl") or "/usr/bin/kubectl"
TIMEOUT = 30.0


class KubectlError(AssertionError):
    pass


@dataclass
class Kubectl:
    """The real ``kubectl`` against one server."""

    kubeconfig: Path
    cache_dir: Path
    env: dict[str, str] = field(
        default_factory=lambda: {k: v for k, v in os.environ.items() if k != "KUBECONFIG"}
    )

    def run(
        self,
        *args: str,
        stdin: str | None = None,
        check: bool = True,
        kubeconfig: Path | None = None,
        timeout: float = TIMEOUT,
    ) -> subprocess.CompletedProcess[str]:
        command = [
            KUBECTL,
            "--kubeconfig",
            str(kubeconfig or self.kubeconfig),
            "--cache-dir",
            str(self.cache_dir),
            *args,
        ]
        done = subprocess.run(
            command,
            input=stdin,
            capture_output=True,
            text=True,
            timeout=timeout,
            env=self.env,
            check=False,
        )
        if check and done.returncode != 0:
            raise KubectlError(
                f"kubectl {' '.join(args)} exited {done.returncode}\n"
                f"stdout: {done.stdout}\nstderr: {done.stderr}"
            )
        return done

    def __call__(self, *args: str, stdin: str | None = None) -> str:
        """stdout of a command that must succeed."""
        return self.run(*args, stdin=stdin).stdout

    def fails(self, *args: str, stdin: str | None = None) -> str:
        """stderr of a command that must fail."""
        done = self.run(*args, stdin=stdin, check=False)
        if done.returncode == 0:
            raise KubectlError(f"kubectl {' '.join(args)} succeeded: {done.stdout}")
        return done.stderr

    def json(self, *args: str) -> Obj:
        data: Obj = json.loads(self(*args, "-o", "json"))
        return data

    def apply(self, manifest: Obj | list[Obj] | str, *extra: str) -> str:
        return self("apply", "-f", "-", *extra, stdin=to_yaml(manifest))

    def popen(self, *args: str) -> subprocess.Popen[str]:
        command = [
            KUBECTL,
            "--kubeconfig",
            str(self.kubeconfig),
            "--cache-dir",
            str(self.cache_dir),
            *args,
        ]
        return subprocess.Popen(
            command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=self.env
        )

    def watching(self, *args: str) -> Watching:
        """Start a kubectl command that watches (``wait``, ``get -w``) and return once its
        watch request has been answered, so what the test does next is seen live."""
        process = self.popen("-v=6", *args)
        log: list[str] = []
        ready = threading.Event()

        def pump() -> None:
            assert process.stderr is not None
            for line in process.stderr:
                log.append(line)
                if "watch=true" in line and " 200 OK " in line:
                    ready.set()
            ready.set()

        threading.Thread(target=pump, daemon=True).start()
        if not ready.wait(TIMEOUT) or process.poll() is not None:
            process.kill()
            raise KubectlError(f"kubectl {' '.join(args)} did not start watching:\n" + "".join(log))
        return Watching(process, log)


@dataclass
class Watching:
    process: subprocess.Popen[str]
    log: list[str]

    def finish(self, timeout: float = TIMEOUT) -> str:
        """stdout of the command, which must end by itself and succeed."""
        try:
            out, _ = self.process.communicate(timeout=timeout)
        finally:
            if self.process.poll() is None:
                self.process.kill()
        if self.process.returncode != 0:
            raise KubectlError(f"exited {self.process.returncode}\n" + "".join(self.log))
        return out


def to_yaml(manifest: Obj | list[Obj] | str) -> str:
    if isinstance(manifest, str):
        return manifest
    if isinstance(manifest, list):
        return yaml.safe_dump_all(manifest, sort_keys=False)
    return yaml.safe_dump(manifest, sort_keys=False)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedServer]:
    """An embedded API server (TLS, bearer token) on a free port, for one test module."""
    with EmbeddedServer(port=0) as running:
        yield running


@pytest.fixture(scope="module")
def kubectl(server: EmbeddedServer, tmp_path_factory: pytest.TempPathFactory) -> Kubectl:
    return Kubectl(server.kubeconfig, tmp_path_factory.mktemp("kube-cache"))


@pytest.fixture
def ns(server: EmbeddedServer) -> str:
    """A fresh namespace for one test."""
    name = f"t-{uuid.uuid4().hex[:8]}"
    server.cluster.create(
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}}, record=False
    )
    return name


def load_yaml(path: Path) -> Obj:
    data: Obj = yaml.safe_load(path.read_text())
    return data


@pytest.fixture(scope="module")
def webapp_crd(server: EmbeddedServer) -> Obj:
    """The pack's WebApp CRD, installed once per module (straight into the store)."""
    crd = load_yaml(PACK_API / "crd.yaml")
    if (
        server.cluster.find(
            "apiextensions.k8s.io/v1", "CustomResourceDefinition", crd["metadata"]["name"]
        )
        is None
    ):
        server.cluster.create(crd, record=False)
    return crd


def webapp(name: str, namespace: str, **spec: Any) -> Obj:
    cr = load_yaml(PACK_API / "cr.yaml")
    cr["metadata"] = {"name": name, "namespace": namespace, "labels": {"team": "api"}}
    cr["spec"].update(spec)
    return cr


def wait_until(
    check: Callable[[], Any], timeout: float = 10.0, interval: float = 0.02, what: str = "condition"
) -> Any:
    """Poll ``check`` until it returns something truthy."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(interval)


def resource_type(server: EmbeddedServer, group: str, plural: str) -> ResourceType:
    return next(t for t in server.cluster.types() if t.key == (group, plural))

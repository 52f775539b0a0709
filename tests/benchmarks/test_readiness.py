"""The operator benchmark's readiness watch against the embedded API server: it counts the
WebApps that turn Ready, resumes a watch the server ends, and lists again after 410 Gone."""

from __future__ import annotations

import ssl
import subprocess
import threading
import time
from collections.abc import Iterator

import pytest
import yaml

from benchmarks.operators import CRDS, WEBAPPS, webapp
from benchmarks.readiness import ReadinessWatch, first_version
from orkestra.apiserver import EmbeddedServer
from orkestra.runtime.kube import KubeClient, load_config
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

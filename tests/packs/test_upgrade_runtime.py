"""07-upgrade's runtime step, as its README tells it: both teams run v1.0.0; the runtime is
restarted on the upgraded komposer and the API team's Deployment changes exactly as
``ork plan`` predicted while the pinned platform Deployment is not touched; a version bump
back and a restart roll it back. Real ``ork run`` processes against the embedded server."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from orkestra.apiserver import EmbeddedServer
from orkestra.cli import main
from tests.apiserver.conftest import wait_until
from tests.packs.test_stories import pack  # noqa: F401  (the published pack fixture)

pytestmark = pytest.mark.integration
Obj = dict[str, Any]
ORK = [sys.executable, "-m", "orkestra"]


@pytest.fixture
def server() -> Iterator[EmbeddedServer]:
    with EmbeddedServer(port=0) as embedded:
        yield embedded


class OrkRun:
    """``ork run -f KOMPOSER`` as its own process."""

    def __init__(self, directory: Path, komposer: str, server: EmbeddedServer) -> None:
        self.process = subprocess.Popen(
            [
                *ORK,
                "run",
                "-f",
                komposer,
                "--kubeconfig",
                str(server.kubeconfig),
                "--http-port",
                "0",
            ],
            cwd=directory,
            env=os.environ.copy(),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )

    def stop(self) -> str:
        self.process.send_signal(signal.SIGTERM)
        output, _ = self.process.communicate(timeout=30)
        assert self.process.returncode == 0, output
        return output


def deployment(server: EmbeddedServer, name: str) -> Obj | None:
    return server.cluster.find("apps/v1", "Deployment", name, "default")


def probe(server: EmbeddedServer, name: str) -> Obj:
    found = deployment(server, name)
    assert found is not None
    return dict(found["spec"]["template"]["spec"]["containers"][0]["readinessProbe"])


def ready(server: EmbeddedServer, kind: str, name: str) -> bool:
    cr = server.cluster.find("rkguide.demo/v1", kind, name, "default")
    conditions = ((cr or {}).get("status") or {}).get("conditions") or []
    return any(c["type"] == "Ready" and c["status"] == "True" for c in conditions)


def kubectl_apply(server: EmbeddedServer, *files: Path) -> None:
    for file in files:
        subprocess.run(
            ["kubectl", "--kubeconfig", str(server.kubeconfig), "apply", "-f", str(file)],
            check=True,
            capture_output=True,
            text=True,
        )


def test_restart_picks_up_the_upgrade_and_a_bump_back_rolls_it_back(
    pack: Path,  # noqa: F811
    server: EmbeddedServer,
    capsys: pytest.CaptureFixture[str],
) -> None:
    here = pack / "07-upgrade"
    assert main(["pull", "-f", str(here / "before" / "komposer.yaml")]) == 0
    assert main(["pull", "-f", str(here / "komposer.yaml")]) == 0
    capsys.readouterr()
    kubectl_apply(
        server, pack / "02-katalog-api" / "crd.yaml", pack / "04-katalog-platform" / "crd.yaml"
    )

    today = OrkRun(here, "before/komposer.yaml", server)
    kubectl_apply(
        server, pack / "02-katalog-api" / "cr.yaml", pack / "04-katalog-platform" / "cr.yaml"
    )
    wait_until(
        lambda: (
            ready(server, "WebApp", "my-webapp") and ready(server, "PlatformApp", "my-platform-app")
        ),
        30,
        what="both CRs Ready",
    )
    assert probe(server, "my-webapp")["httpGet"]["path"] == "/healthz"
    platform = deployment(server, "my-platform-app")
    assert (
        platform is not None and probe(server, "my-platform-app")["httpGet"]["path"] == "/healthz"
    )
    today.stop()

    upgraded = OrkRun(here, "komposer.yaml", server)
    wait_until(
        lambda: probe(server, "my-webapp")["httpGet"]["path"] == "/ready",
        30,
        what="the upgraded probe",
    )
    # what `ork plan webapp-operator:v1.1.0 --against webapp-operator:v1.0.0` showed
    assert probe(server, "my-webapp") == {
        "httpGet": {"path": "/ready", "port": 8080},
        "initialDelaySeconds": 5,
        "periodSeconds": 10,
    }
    wait_until(lambda: ready(server, "WebApp", "my-webapp"), 30, what="my-webapp Ready again")
    pinned = deployment(server, "my-platform-app")
    assert pinned is not None
    assert pinned["metadata"]["resourceVersion"] == platform["metadata"]["resourceVersion"]
    upgraded.stop()

    komposer = here / "komposer.yaml"
    komposer.write_text(
        komposer.read_text().replace("webapp-operator:v1.1.0", "webapp-operator:v1.0.0")
    )
    assert main(["pull", "-f", str(komposer), "--update"]) == 0
    rolled_back = OrkRun(here, "komposer.yaml", server)
    wait_until(
        lambda: probe(server, "my-webapp")["httpGet"]["path"] == "/healthz",
        30,
        what="the probe rolled back",
    )
    rolled_back.stop()

"""``ork e2e --use-current`` against an embedded API server started separately, standing in
for a real cluster someone else owns: afterwards no CR, CRD, child or runtime is left, and
the user's kubectl context is back where it was, also after Ctrl-C."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from orkestra.apiserver import EmbeddedServer

pytestmark = pytest.mark.integration
STAND_IN, OTHER = "ork-embedded", "somewhere-else"


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[tuple[EmbeddedServer, Path]]:
    """The stand-in cluster, and a user kubeconfig whose current context points at it
    (plus a second context a careless command could switch to)."""
    with EmbeddedServer(kubeconfig=tmp_path / "server-kubeconfig") as server:
        config = yaml.safe_load(server.kubeconfig.read_text())
        config["contexts"].append(
            {
                "name": OTHER,
                "context": {
                    "cluster": config["contexts"][0]["context"]["cluster"],
                    "user": "nobody",
                },
            }
        )
        user = tmp_path / "user-kubeconfig"
        user.write_text(yaml.safe_dump(config))
        yield server, user


def kubectl(kubeconfig: Path, *args: str) -> str:
    return subprocess.run(
        ["kubectl", "--kubeconfig", str(kubeconfig), *args],
        check=True,
        capture_output=True,
        text=True,
        timeout=30,
    ).stdout


def ork_e2e(suite: Path, kubeconfig: Path) -> subprocess.Popen[str]:
    env = {
        **os.environ,
        "KUBECONFIG": str(kubeconfig),
        "USER_KUBECONFIG": str(kubeconfig),
        "NO_COLOR": "1",
    }
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "orkestra",
            "e2e",
            "-f",
            str(suite),
            "--use-current",
            "--poll",
            "200ms",
        ],
        env=env,
        text=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )


def assert_nothing_left(server: EmbeddedServer, user: Path) -> None:
    assert not server.cluster.list("apiextensions.k8s.io/v1", "CustomResourceDefinition", None)
    for kind in ("Deployment", "Service"):
        assert not server.cluster.list("apps/v1" if kind == "Deployment" else "v1", kind, "default")
    assert kubectl(user, "config", "current-context").strip() == STAND_IN


def test_a_run_on_the_current_context_cleans_up(
    pack_copy: Path, cluster: tuple[EmbeddedServer, Path]
) -> None:
    server, user = cluster
    process = ork_e2e(pack_copy / "02-katalog-api" / "e2e.yaml", user)
    output, _ = process.communicate(timeout=120)
    assert process.returncode == 0, output
    assert "(existing cluster)" in output and "PASS  webapp-e2e" in output
    assert "nothing left behind" in output
    assert_nothing_left(server, user)


def test_ctrl_c_tears_down_and_restores_the_context(
    pack_copy: Path, cluster: tuple[EmbeddedServer, Path], tmp_path: Path
) -> None:
    server, user = cluster
    pidfile = tmp_path / "sleep.pid"
    suite = pack_copy / "02-katalog-api" / "interrupted-e2e.yaml"
    suite.write_text(
        textwrap.dedent(f"""\
        apiVersion: orkestra.orkspace.io/v1
        kind: E2E
        metadata: {{name: interrupted}}
        spec:
          katalog: ./katalog.yaml
          crd: ./crd.yaml
          cr: ./cr.yaml
          expect:
            - name: A careless command switches the user's context
              commands:
                - run: kubectl --kubeconfig "$USER_KUBECONFIG" config use-context {OTHER}
            - name: Hangs until interrupted
              timeout: 120s
              commands:
                - run: sleep 90 & echo $! > {pidfile}; wait
        """)
    )
    process = ork_e2e(suite, user)
    deadline = time.monotonic() + 60
    while not pidfile.exists() or not pidfile.read_text().strip():
        assert process.poll() is None, process.communicate()[0]
        assert time.monotonic() < deadline, "the hanging expectation never started"
        time.sleep(0.1)
    assert kubectl(user, "config", "current-context").strip() == OTHER
    assert server.cluster.list("apps/v1", "Deployment", "default"), "the runtime ran"
    process.send_signal(signal.SIGINT)
    output, _ = process.communicate(timeout=120)
    assert process.returncode == 130, output
    assert "nothing left behind" in output
    assert_nothing_left(server, user)
    # The expectation's command died with its process group (a zombie at most, where
    # nothing reaps orphans, as in some containers).
    status = Path(f"/proc/{int(pidfile.read_text())}/status")
    assert not status.exists() or "State:\tZ" in status.read_text()

"""``ork run`` as users run it: usage errors, end-of-life refusal, the process end to end
(--apply-cr, endpoints, JSON logs, SIGTERM) and --dev."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import textwrap
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from orkestra.apiserver import EmbeddedServer
from orkestra.cli.app import main
from orkestra.errors import OrkError
from orkestra.runtime.kube import KubeClient, load_config
from tests.conftest import PACK
from tests.runtime.harness import wait_for

API = PACK / "02-katalog-api"
ORK = [sys.executable, "-m", "orkestra"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def get(port: int, path: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=5) as answer:
            return answer.status, answer.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()
    except OSError:
        return 0, b""


@pytest.mark.parametrize(
    "args,message",
    [
        (["webapp-operator:v1.0.0", "-f", str(API / "katalog.yaml")], "not both"),
        (["-f", str(API / "katalog.yaml"), "-n", "x", "-A"], "not both"),
        (["--use-komposer", "-f", str(API / "katalog.yaml")], "NAME:VERSION"),
        (["--resync", "soon", "-f", str(API / "katalog.yaml")], "invalid duration"),
    ],
)
def test_usage_errors_exit_2(
    args: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["run", *args]) == 2
    assert message in capsys.readouterr().err


def test_nothing_to_run_here_is_a_usage_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(["run"]) == 2


def test_an_unreachable_cluster_is_reported_with_a_hint(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert (
        main(["run", "-f", str(API / "katalog.yaml"), "--kubeconfig", str(tmp_path / "missing")])
        == 1
    )
    err = capsys.readouterr().err
    assert "no usable Kubernetes configuration" in err and "--dev" in err


def test_a_pattern_past_end_of_life_is_refused_unless_accepted(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    katalog = tmp_path / "katalog.yaml"
    text = textwrap.dedent("""
        apiVersion: orkestra.orkspace.io/v1
        kind: Katalog
        metadata:
          name: old-operator
          version: v1.0.0
          deprecation:
            message: Replaced by new-operator.
            migratedTo: new-operator:v2.0.0
            timeline: {from: "2020-01-01", to: "2020-06-30"}
            ACCEPT
        spec:
          crds:
            thing:
              apiTypes: {group: test.orkestra.dev, version: v1, kind: Thing, plural: things}
        """)
    katalog.write_text(text.replace("ACCEPT", ""))
    missing = str(tmp_path / "no-kubeconfig")
    assert main(["run", "-f", str(katalog), "--kubeconfig", missing]) == 1
    err = capsys.readouterr().err
    assert "END OF LIFE" in err
    assert "This pattern reached end of life on 2020-06-30." in err
    assert "Migrate to:  new-operator:v2.0.0" in err
    assert "refusing to run old-operator v1.0.0: past end of life" in err
    katalog.write_text(text.replace("ACCEPT", "accept: {eol: true}"))
    assert main(["run", "-f", str(katalog), "--kubeconfig", missing]) == 1
    assert "no usable Kubernetes configuration" in capsys.readouterr().err


@pytest.mark.integration
def test_a_port_in_use_is_reported(capsys: pytest.CaptureFixture[str]) -> None:
    with EmbeddedServer(port=0) as server, socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = str(taken.getsockname()[1])
        assert (
            main(
                [
                    "run",
                    "-f",
                    str(API / "katalog.yaml"),
                    "--kubeconfig",
                    str(server.kubeconfig),
                    "--http-port",
                    port,
                ]
            )
            == 1
        )
    assert f"cannot serve http on 0.0.0.0:{port}" in capsys.readouterr().err


@pytest.mark.integration
def test_ork_run_applies_reconciles_serves_and_drains_on_sigterm(tmp_path: Path) -> None:
    port = free_port()
    with EmbeddedServer(port=0) as server:
        process = subprocess.Popen(
            [
                *ORK,
                "run",
                "-f",
                str(API / "katalog.yaml"),
                "--apply-cr",
                "--kubeconfig",
                str(server.kubeconfig),
                "--http-port",
                str(port),
                "--log-format",
                "json",
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            wait_for(lambda: get(port, "/ready")[0] == 200, "/ready", 30)
            wait_for(
                lambda: (
                    (
                        server.cluster.find("rkguide.demo/v1", "WebApp", "my-webapp", "default")
                        or {}
                    ).get("status")
                    or {}
                ).get("ready"),
                "my-webapp ready",
            )
            status, body = get(port, "/metrics")
            assert status == 200
            assert b'orkestra_reconcile_total{crd="webapp",result="success"}' in body
            status, body = get(port, "/katalog/webapp/cr/default/my-webapp")
            assert status == 200 and json.loads(body)["metadata"]["name"] == "my-webapp"
            assert get(port, "/health")[0] == 200
        finally:
            process.send_signal(signal.SIGTERM)
            _, err = process.communicate(timeout=30)
    assert process.returncode == 0, err
    lines = [json.loads(line) for line in err.splitlines()]
    messages = [line["message"] for line in lines]
    assert "customresourcedefinition webapps.rkguide.demo created" in messages
    assert "shutting down" in messages
    reconciled = next(line for line in lines if line["message"] == "reconciled")
    assert reconciled["crd"] == "webapp" and reconciled["name"] == "my-webapp"
    assert reconciled["namespace"] == "default" and reconciled["writes"] == 3


@pytest.mark.integration
def test_a_published_pattern_is_pulled_and_run_by_name(
    widgets: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["push", str(widgets.parent)]) == 0
    capsys.readouterr()
    with EmbeddedServer(port=0) as server:
        process = subprocess.Popen(
            [
                *ORK,
                "run",
                "widget-operator:v1.0.0",
                "--apply-cr",
                "--http-port",
                "0",
                "--kubeconfig",
                str(server.kubeconfig),
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            wait_for(
                lambda: (
                    (
                        server.cluster.find("test.orkestra.dev/v1", "Widget", "w1", "default") or {}
                    ).get("status")
                    or {}
                ).get("observedGeneration"),
                "w1 reconciled",
                30,
            )
        finally:
            process.send_signal(signal.SIGTERM)
            _, err = process.communicate(timeout=30)
    assert process.returncode == 0, err
    assert "Pulling oci://local/" in err


@pytest.mark.integration
def test_dev_starts_the_embedded_server_when_no_cluster_is_reachable(tmp_path: Path) -> None:
    home = tmp_path / "home"
    env = {**os.environ, "KUBECONFIG": str(tmp_path / "none"), "ORK_HOME": str(home)}
    process = subprocess.Popen(
        [*ORK, "run", "--dev", "--apply-cr", "--http-port", "0"],
        cwd=API,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        lines = [process.stdout.readline() for _ in range(2)]
        assert "started the embedded API server" in lines[0]
        kubeconfig = lines[1].split("export KUBECONFIG=")[1].strip()
        assert kubeconfig == str(home / "dev" / "kubeconfig")
        client = KubeClient(load_config(kubeconfig))
        path = "/apis/rkguide.demo/v1/namespaces/default/webapps/my-webapp"
        wait_for(
            lambda: (_get(client, path).get("status") or {}).get("ready"),
            "my-webapp ready on the dev server",
            30,
        )
    finally:
        process.send_signal(signal.SIGTERM)
        process.communicate(timeout=30)
    assert process.returncode == 0


def _get(client: KubeClient, path: str) -> dict[str, Any]:
    try:
        found: dict[str, Any] = client.request("GET", path)
    except OrkError:  # not there yet
        return {}
    return found

"""``ork gateway``: flags, a real process against the embedded API server, ``--uninstall``.

The command is not registered in ``orkestra/cli/app.py`` by this package; the process
tests register it the way the app's table does and go through ``main``."""

from __future__ import annotations

import http.client
import json
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from orkestra.apiserver import EmbeddedServer
from orkestra.cli.gateway import command
from orkestra.gateway.webhooks import PROTECTION_CONFIG, VALIDATION_CONFIG
from tests.gateway.conftest import FULL, free_port, komposer

WEBHOOKS = "admissionregistration.k8s.io/v1"
MAIN = (
    "import sys; from orkestra.cli import app; "
    "app.COMMANDS['gateway'] = ('orkestra.cli.gateway', 'Serve admission webhooks.'); "
    "sys.exit(app.main(sys.argv[1:]))"
)


@pytest.fixture(scope="module")
def server() -> Iterator[EmbeddedServer]:
    with EmbeddedServer(port=0) as running:
        running.cluster.create(
            {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "orkestra-system"}},
            record=False,
        )
        yield running


def ork(*args: str, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", MAIN, *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )


def names(server: EmbeddedServer) -> set[str]:
    return {
        o["metadata"]["name"]
        for kind in ("ValidatingWebhookConfiguration", "MutatingWebhookConfiguration")
        for o in server.cluster.list(WEBHOOKS, kind, None, record=False)
    }


def ready(port: int) -> bool:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
    try:
        conn.request("GET", "/ready")
        return conn.getresponse().status == 200
    except OSError:
        return False
    finally:
        conn.close()


def test_help() -> None:
    result = CliRunner().invoke(command, ["--help"])
    assert result.exit_code == 0
    for flag in (
        "--namespace",
        "--service-name",
        "--port",
        "--http-port",
        "--kubeconfig",
        "--context",
        "--failure-policy",
        "--no-manage-webhooks",
        "--url",
        "--tls-cert",
        "--tls-key",
        "--tls-secret",
        "--uninstall",
    ):
        assert flag in result.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--tls-cert", __file__], "give --tls-cert and --tls-key together"),
        (["--tls-cert", __file__, "--tls-key", __file__, "--tls-secret", "s"], "not both"),
        (["--url", "http://127.0.0.1:9443"], "must be an https:// URL"),
        (["--cert-validity", "soon"], "Invalid value for '--cert-validity'"),
        (["--failure-policy", "Maybe"], "Invalid value for '--failure-policy'"),
    ],
)
def test_usage_errors(args: list[str], message: str) -> None:
    done = subprocess.run(
        [sys.executable, "-c", MAIN, "gateway", *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2
    assert message in done.stderr


def test_no_pattern_here(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-c", MAIN, "gateway", "--no-manage-webhooks"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        cwd=tmp_path,
    )
    assert done.returncode == 2
    assert "no katalog.yaml or komposer.yaml" in done.stderr


def test_the_process_serves_manages_and_uninstalls(server: EmbeddedServer, tmp_path: Path) -> None:
    port, http_port = free_port(), free_port()
    process = ork(
        "gateway",
        "-f",
        str(komposer(tmp_path, FULL)),
        "--kubeconfig",
        str(server.kubeconfig),
        "--url",
        f"https://127.0.0.1:{port}",
        "--port",
        str(port),
        "--http-port",
        str(http_port),
        "--host",
        "127.0.0.1",
        "--log-format",
        "json",
    )
    try:
        deadline = time.monotonic() + 30
        while not ready(http_port):
            assert process.poll() is None, process.communicate()
            assert time.monotonic() < deadline, "the gateway did not become ready"
            time.sleep(0.1)
        assert {VALIDATION_CONFIG, PROTECTION_CONFIG} <= names(server)
        assert (
            server.cluster.find("v1", "Secret", "orkestra-gateway-certs", "orkestra-system")
            is not None
        )
    finally:
        process.send_signal(signal.SIGTERM)
        out, err = process.communicate(timeout=30)
    assert process.returncode == 0, err
    assert (
        "PlatformApp (platformapps.rkguide.demo): validation, mutation, deletion protection" in out
    )
    logs = [json.loads(line) for line in err.splitlines() if line.startswith("{")]
    assert any(f"created {VALIDATION_CONFIG}" in line["message"] for line in logs)
    # the configurations outlive the process (no cleanupOnShutdown) ...
    assert {VALIDATION_CONFIG, PROTECTION_CONFIG} <= names(server)
    # ... until the uninstall
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            MAIN,
            "gateway",
            "--uninstall",
            "--kubeconfig",
            str(server.kubeconfig),
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert f"Deleted {PROTECTION_CONFIG}" in done.stdout
    assert "Deleted secret orkestra-system/orkestra-gateway-certs" in done.stdout
    assert names(server) == set()
    again = subprocess.run(
        [
            sys.executable,
            "-c",
            MAIN,
            "gateway",
            "--uninstall",
            "--kubeconfig",
            str(server.kubeconfig),
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert "No webhook configurations of the gateway left" in again.stdout


def test_a_missing_namespace_is_explained(server: EmbeddedServer, tmp_path: Path) -> None:
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            MAIN,
            "gateway",
            "-f",
            str(komposer(tmp_path, FULL)),
            "--kubeconfig",
            str(server.kubeconfig),
            "--namespace",
            "nowhere",
            "--port",
            "0",
            "--http-port",
            "0",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 1
    assert "cannot keep the certificates in secret nowhere/orkestra-gateway-certs" in done.stderr
    assert "hint:" in done.stderr and "Traceback" not in done.stderr


def test_an_unreachable_cluster_is_a_clean_error(tmp_path: Path) -> None:
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            MAIN,
            "gateway",
            "--uninstall",
            "--kubeconfig",
            str(tmp_path / "missing"),
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 1
    assert "no usable Kubernetes configuration" in done.stderr
    assert "Traceback" not in done.stderr

"""A server with ``data_dir`` restarted on the same port keeps its objects, their
resourceVersions and uids, its CRDs, its credentials and so its kubeconfig."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from orkestra.apiserver import EmbeddedServer
from orkestra.apiserver.server import free_port
from tests.apiserver.conftest import PACK_API, Kubectl
from tests.apiserver.test_watch import Raw, cm, summary

pytestmark = pytest.mark.integration
Obj = dict[str, Any]


def in_namespace(obj: Obj, namespace: str) -> Obj:
    return {**obj, "metadata": {**obj["metadata"], "namespace": namespace}}


def test_a_restart_keeps_objects_versions_and_credentials(tmp_path: Path) -> None:
    data = tmp_path / "data"
    port = free_port()
    kubectl = Kubectl(data / "kubeconfig", tmp_path / "cache")
    with EmbeddedServer(port=port, data_dir=data) as server:
        kubectl("apply", "-f", str(PACK_API / "crd.yaml"))
        kubectl("apply", "-f", str(PACK_API / "cr.yaml"))
        kubectl(
            "patch",
            "webapp",
            "my-webapp",
            "--subresource=status",
            "--type=merge",
            "-p",
            '{"status":{"phase":"Running"}}',
        )
        kubectl.apply({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "kept"}})
        kubectl.apply(in_namespace(cm("settings", a="1"), "kept"))
        kubectl("delete", "cm", "settings", "-n", "kept")
        kubectl.apply(in_namespace(cm("settings", b="2"), "kept"))
        before = {kind: kubectl.json("get", kind, "-A") for kind in ("cm", "webapps", "ns", "crd")}
        list_rv = int(Raw(server).rv("/api/v1/configmaps"))
        kubeconfig = server.kubeconfig.read_text()
        token = server.token
    assert kubectl.run("get", "ns", check=False).returncode != 0  # it is down

    with EmbeddedServer(port=port, data_dir=data) as server:
        assert server.token == token
        assert server.kubeconfig.read_text() == kubeconfig
        after = {kind: kubectl.json("get", kind, "-A") for kind in before}
        for kind in before:
            assert after[kind]["items"] == before[kind]["items"], kind
        webapp = kubectl.json("get", "webapp", "my-webapp")
        assert webapp["status"] == {"phase": "Running"}
        assert "webapps" in kubectl("api-resources", "--api-group=rkguide.demo", "-o", "name")
        raw = Raw(server)
        assert int(raw.rv("/api/v1/configmaps")) >= list_rv
        made = raw.create("/api/v1/namespaces/kept/configmaps", cm("new"))
        assert int(made["metadata"]["resourceVersion"]) > list_rv
        # a watch resumes from the current version; older ones are gone with the old process
        resumed = raw.rv("/api/v1/namespaces/kept/configmaps")
        raw.create("/api/v1/namespaces/kept/configmaps", cm("newer"))
        raw.create("/api/v1/namespaces/kept/configmaps", cm("zz-end"))
        assert summary(
            raw.watch("/api/v1/namespaces/kept/configmaps", until="zz-end", resourceVersion=resumed)
        ) == [("ADDED", "newer")]
        events = raw.watch("/api/v1/namespaces/kept/configmaps", resourceVersion="1")
        assert [(e["type"], e["object"]["code"]) for e in events] == [("ERROR", 410)]
        raw.http.close()


def test_ork_cluster_up_in_the_foreground(tmp_path: Path) -> None:
    data = tmp_path / "data"
    port = free_port()
    kubectl = Kubectl(data / "kubeconfig", tmp_path / "cache")
    ork = Path(sys.executable).parent / "ork"

    def up() -> subprocess.Popen[str]:
        process = subprocess.Popen(
            [str(ork), "cluster", "up", "--port", str(port), "--data", str(data)],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env={**os.environ, "NO_COLOR": "1"},
        )
        assert process.stdout is not None
        for line in process.stdout:
            found = re.search(r"export KUBECONFIG=(\S+)", line)
            if found:
                assert Path(found.group(1)) == data / "kubeconfig"
                return process
        process.kill()
        raise AssertionError("ork cluster up printed no export KUBECONFIG line")

    def down(process: subprocess.Popen[str], sig: signal.Signals) -> None:
        process.send_signal(sig)
        assert process.wait(timeout=15) == 0

    process = up()
    try:
        kubectl.apply(in_namespace(cm("survivor", a="1"), "default"))
        uid = kubectl("get", "cm", "survivor", "-o", "jsonpath={.metadata.uid}")
    finally:
        down(process, signal.SIGINT)
    process = up()
    try:
        obj = kubectl.json("get", "cm", "survivor")
        assert obj["metadata"]["uid"] == uid and obj["data"] == {"a": "1"}
        assert kubectl("get", "--raw", "/readyz").strip() == "ok"
    finally:
        down(process, signal.SIGTERM)

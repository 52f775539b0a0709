"""Record the protobuf request bodies real helm and kubectl send to the embedded server.

    .venv/bin/python -m tests.apiserver.data.capture OUT_DIR

Starts an :class:`EmbeddedServer`, records every request body (``NNN-METHOD-what.pb`` for
protobuf ones, with ``log.json`` listing method, path, Content-Type, Accept and answer), and
runs a tiny chart through ``helm install/upgrade/uninstall --wait`` and ``kubectl create
namespace|configmap|secret|serviceaccount|deployment``, then writes what kubectl prints for
the same commands with ``--dry-run=client -o json``. Protobuf bodies are decoded by the same
patch as the tests' ``wired`` fixture (redundant once the server decodes them itself).
Golden files are picked from OUT_DIR by hand (data/README.md). Without the watch's
initial-events-end bookmark, ``--wait`` times out after 30 s and helm records the release
as failed.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from orkestra.apiserver import EmbeddedServer, codec, rest
from orkestra.apiserver.protobuf import MEDIA_TYPE
from tests.apiserver.test_protobuf import (
    CHART,
    HELM,
    KUBECTL,
    body_decoding_protobuf,
    delete_options_decoding_protobuf,
)

Dispatch = Callable[..., Awaitable[web.StreamResponse]]
KUBECTL_CREATE = {
    "namespace": ["namespace", "pb-ns"],
    "configmap": [
        "configmap",
        "pb-cm",
        "-n",
        "pb-ns",
        "--from-literal=a=b",
        "--from-file=blob={blob}",
    ],
    "secret": [
        "secret",
        "generic",
        "pb-secret",
        "-n",
        "pb-ns",
        "--from-literal=user=admin",
        "--from-literal=pass=s3cr=t",
    ],
    "serviceaccount": ["serviceaccount", "pb-sa", "-n", "pb-ns"],
    "deployment": ["deployment", "pb-dep", "-n", "pb-ns", "--image=nginx"],
}


def recording(original: Dispatch, out: Path, log: list[dict[str, Any]]) -> Dispatch:
    async def dispatch(
        self: rest.Resources, request: web.Request, *args: Any
    ) -> web.StreamResponse:
        raw = await request.read() if request.can_read_body else b""
        number = len(log) + 1
        entry: dict[str, Any] = {
            "n": number,
            "method": request.method,
            "path": request.path_qs,
            "content_type": request.headers.get("Content-Type"),
            "accept": request.headers.get("Accept"),
            "size": len(raw),
        }
        log.append(entry)
        if raw and codec.media_type(request) == MEDIA_TYPE:
            what = request.path.rstrip("/").rsplit("/", 1)[-1]
            (out / f"{number:03d}-{request.method}-{what}.pb").write_bytes(raw)
        response = await original(self, request, *args)
        entry["status"] = response.status
        entry["response_type"] = response.headers.get("Content-Type")
        return response

    return dispatch


def main(out: Path) -> None:
    assert HELM is not None and KUBECTL is not None, "helm and kubectl are needed"
    out.mkdir(parents=True, exist_ok=True)
    chart = out / "chart"
    for name, text in CHART.items():
        (chart / name).parent.mkdir(parents=True, exist_ok=True)
        (chart / name).write_text(text)
    blob = out / "blob.bin"
    blob.write_bytes(bytes(range(256)))
    env = {k: v for k, v in os.environ.items() if k != "KUBECONFIG" and not k.startswith("HELM_")}
    env.update(
        HELM_CACHE_HOME=str(out / "helm"),
        HELM_CONFIG_HOME=str(out / "helm"),
        HELM_DATA_HOME=str(out / "helm"),
    )
    log: list[dict[str, Any]] = []
    patch = pytest.MonkeyPatch()
    patch.setattr(rest.Resources, "dispatch", recording(rest.Resources.dispatch, out, log))
    patch.setattr(codec, "body", body_decoding_protobuf(codec.body))
    patch.setattr(rest, "_delete_options", delete_options_decoding_protobuf(rest._delete_options))

    def run(*command: str) -> None:
        done = subprocess.run(
            command, capture_output=True, text=True, env=env, timeout=180, check=False
        )
        log.append(
            {"command": " ".join(command[3:]), "rc": done.returncode, "stderr": done.stderr[-2000:]}
        )

    with EmbeddedServer(port=0) as server:
        helm = [HELM, "--kubeconfig", str(server.kubeconfig)]
        run(
            *helm,
            "install",
            "tiny",
            str(chart),
            "-n",
            "demo",
            "--create-namespace",
            "--set",
            "replicas=1",
            "--wait",
            "--timeout",
            "30s",
        )
        run(
            *helm,
            "upgrade",
            "tiny",
            str(chart),
            "-n",
            "demo",
            "--set",
            "greeting=hi",
            "--set",
            "replicas=1",
            "--wait",
            "--timeout",
            "30s",
        )
        run(*helm, "uninstall", "tiny", "-n", "demo", "--wait", "--timeout", "30s")
        kubectl = [
            KUBECTL,
            "--kubeconfig",
            str(server.kubeconfig),
            "--cache-dir",
            str(out / "kube-cache"),
        ]
        for what, args in KUBECTL_CREATE.items():
            create = [a.format(blob=blob) for a in args]
            run(*kubectl, "create", *create)
            printed = subprocess.run(
                [*kubectl, "create", *create, "--dry-run=client", "-o", "json"],
                capture_output=True,
                text=True,
                timeout=60,
                check=True,
            ).stdout
            (out / f"kubectl-create-{what}.json").write_text(
                json.dumps(json.loads(printed), indent=1) + "\n"
            )
    patch.undo()
    (out / "log.json").write_text(json.dumps(log, indent=1) + "\n")


if __name__ == "__main__":
    main(Path(sys.argv[1]))

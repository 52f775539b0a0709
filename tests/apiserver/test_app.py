"""The application's routing, authentication and errors, called with requests directly."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from multidict import CIMultiDict

from orkestra.apiserver.app import Application, AuditRecord, build_app
from orkestra.apiserver.faults import Faults
from orkestra.apiserver.watch import WatchHub
from orkestra.cluster import MemoryCluster
from orkestra.httpserver import Request, Response

TOKEN = "s3cret"


def call(
    method: str,
    target: str,
    *,
    token: str | None = TOKEN,
    body: bytes = b"",
    audit: list[AuditRecord] | None = None,
    faults: Faults | None = None,
) -> tuple[int, dict[str, Any]]:
    """Status and JSON body of one request to a fresh application."""

    async def scenario() -> Response:
        cluster = MemoryCluster(record=False, track_fields=True)
        hub = WatchHub(cluster, asyncio.get_running_loop())
        app: Application = build_app(
            cluster, hub, token=TOKEN, address=lambda: "127.0.0.1:1", audit=audit, faults=faults
        )
        headers: CIMultiDict[str] = CIMultiDict({"User-Agent": "test/1.0"})
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        if body:
            headers["Content-Type"] = "application/json"
        try:
            response = await app(Request(method, target, "HTTP/1.1", headers, body))
        finally:
            await app.cleanup()
        assert isinstance(response, Response)
        return response

    response = asyncio.run(scenario())
    text = response.body.decode()
    return response.status, json.loads(text) if text.startswith("{") else {"text": text}


@pytest.mark.parametrize(
    ("path", "kind"),
    [
        ("/version", None),
        ("/version/", None),
        ("/api", "APIVersions"),
        ("/apis/", "APIGroupList"),
        ("/api/v1", "APIResourceList"),
        ("/apis/apps", "APIGroup"),
        ("/apis/apps/", "APIGroup"),
        ("/apis/apps/v1", "APIResourceList"),
        ("/apis/apps/v1/", "APIResourceList"),
        ("/api/v1/namespaces", "NamespaceList"),
        ("/apis/apps/v1/namespaces/default/deployments", "DeploymentList"),
        ("/openapi/v3", None),
    ],
)
def test_paths_reach_their_handlers(path: str, kind: str | None) -> None:
    status, body = call("GET", path)
    assert status == 200
    assert body.get("kind") == kind


@pytest.mark.parametrize(
    "path", ["/nothing", "/apis/nogroup", "/apis/apps/v9", "/apis//", "/apis/apps//", "/api/v2"]
)
def test_unknown_paths_are_404_status(path: str) -> None:
    status, body = call("GET", path)
    assert status == 404
    assert (body["kind"], body["reason"]) == ("Status", "NotFound")


def test_a_discovery_path_takes_only_reads() -> None:
    status, body = call("POST", "/version", body=b"{}")
    assert status == 405
    assert body["reason"] == "MethodNotAllowed"
    assert call("HEAD", "/apis")[0] == 200


def test_health_is_public_and_the_rest_needs_the_token() -> None:
    assert call("GET", "/healthz", token=None) == (200, {"text": "ok"})
    assert call("GET", "/version", token=None)[0] == 200
    status, body = call("GET", "/api/v1/namespaces", token="wrong")
    assert (status, body["reason"]) == (401, "Unauthorized")


def test_writes_are_audited_with_their_answer() -> None:
    audit: list[AuditRecord] = []
    path = "/api/v1/namespaces/default/configmaps?x=1"
    configmap = json.dumps({"metadata": {"name": "a"}, "data": {}}).encode()
    status, _ = call("POST", path, body=configmap, audit=audit)
    assert status == 201
    assert audit == [AuditRecord("POST", path, 201, "test/1.0")]


def test_injected_faults_answer_resource_requests_but_not_watches_or_discovery() -> None:
    always = Faults(error_ratio=1.0, seed=1)
    assert call("GET", "/api/v1/namespaces", faults=always)[0] == 500
    assert call("GET", "/version", faults=always)[0] == 200
    assert always.injected["error"] == 1

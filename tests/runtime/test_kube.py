"""The client: error statuses, credentials, configuration, paths, against a real server."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from orkestra.apiserver import EmbeddedServer
from orkestra.cluster.errors import (
    AlreadyExistsError,
    ConflictError,
    ForbiddenError,
    GoneError,
    NotFoundError,
    ServiceUnavailableError,
    UnauthorizedError,
    UnexpectedStatusError,
)
from orkestra.runtime.kube import (
    ConnectionConfigError,
    KubeClient,
    Resource,
    api_error,
    load_config,
)


def status(code: int, reason: str) -> bytes:
    return json.dumps(
        {"kind": "Status", "code": code, "reason": reason, "message": f"{reason} happened"}
    ).encode()


@pytest.mark.parametrize(
    "code,reason,expected",
    [
        (404, "NotFound", NotFoundError),
        (409, "AlreadyExists", AlreadyExistsError),
        (409, "Conflict", ConflictError),
        (410, "Expired", GoneError),
        (410, "Gone", GoneError),
        (403, "Forbidden", ForbiddenError),
        (401, "", UnauthorizedError),
        (500, "InternalError", ServiceUnavailableError),
        (503, "", ServiceUnavailableError),
        (429, "TooManyRequests", ServiceUnavailableError),
    ],
)
def test_error_statuses_become_their_classes(
    code: int, reason: str, expected: type[Exception]
) -> None:
    error = api_error(code, status(code, reason))
    assert type(error) is expected
    assert error.message == f"{reason} happened"


def test_other_statuses_keep_their_code_and_bodies_need_not_be_json() -> None:
    error = api_error(418, b"<html>teapot</html>")
    assert isinstance(error, UnexpectedStatusError) and error.code == 418
    assert "teapot" in error.message


def test_paths_of_namespaced_cluster_scoped_and_core_resources() -> None:
    deployments = Resource(
        group="apps",
        version="v1",
        plural="deployments",
        kind="Deployment",
        namespaced=True,
        has_status=True,
    )
    namespaces = Resource(
        group="", version="v1", plural="namespaces", kind="Namespace", namespaced=False
    )
    assert deployments.path() == "/apis/apps/v1/deployments"
    assert (
        deployments.path("team", "web", "status")
        == "/apis/apps/v1/namespaces/team/deployments/web/status"
    )
    assert namespaces.path("ignored", "team") == "/api/v1/namespaces/team"
    assert deployments.namespace_of(None) == "default" and namespaces.namespace_of("x") == ""


def test_missing_configuration_names_the_ways_out(tmp_path: Path) -> None:
    with pytest.raises(ConnectionConfigError) as caught:
        load_config(str(tmp_path / "nope"))
    assert "--dev" in caught.value.hint and "--kubeconfig" in caught.value.hint


@pytest.mark.integration
def test_calls_against_the_embedded_server(tmp_path: Path) -> None:
    with EmbeddedServer(port=0) as server:
        client = KubeClient(load_config(str(server.kubeconfig)))
        config_maps = client.resource("v1", "ConfigMap")
        assert config_maps == Resource(
            group="", version="v1", plural="configmaps", kind="ConfigMap", namespaced=True
        )
        made = client.create(
            config_maps,
            {
                "apiVersion": "v1",
                "kind": "ConfigMap",
                "metadata": {"name": "a"},
                "data": {"k": "v"},
            },
        )
        assert made["metadata"]["namespace"] == "default"
        assert client.get(config_maps, "a")["data"] == {"k": "v"}
        with pytest.raises(ConflictError):
            client.replace(
                config_maps, {**made, "metadata": {**made["metadata"], "resourceVersion": "1"}}
            )
        assert [o["metadata"]["name"] for o in client.list_items(config_maps, "default")] == ["a"]
        client.delete(config_maps, "a")
        with pytest.raises(NotFoundError):
            client.get(config_maps, "a")
        with pytest.raises(NotFoundError, match='no matches for kind "Nothing"'):
            client.resource("example.com/v1", "Nothing")
        wrong = server.kubeconfig.read_text().replace(server.token or "", "wrong-token")
        (tmp_path / "wrong").write_text(wrong)
        with pytest.raises(UnauthorizedError):
            KubeClient(load_config(str(tmp_path / "wrong"))).get(config_maps, "a")
        client.close()


@pytest.mark.integration
def test_a_thread_keeps_one_tls_connection_for_its_calls() -> None:
    with EmbeddedServer(port=0) as server:
        client = KubeClient(load_config(str(server.kubeconfig)))
        config_maps = client.resource("v1", "ConfigMap")
        for name in "abc":
            client.create(
                config_maps, {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name}}
            )
        with pytest.raises(NotFoundError):
            client.get(config_maps, "nothing")  # an error answer keeps the connection too
        assert [o["metadata"]["name"] for o in client.list_items(config_maps, "default")] == [
            "a",
            "b",
            "c",
        ]
        connection = client._connection()
        assert connection.is_open and connection.requests >= 5
        client.close()
        assert not connection.is_open

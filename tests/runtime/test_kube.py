"""The client: error statuses, credentials, configuration, paths, against a real server."""

from __future__ import annotations

import json
import sys
import textwrap
from pathlib import Path

import pytest
from lightkube.config.models import User, UserExec

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
    Credentials,
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


def test_tokens_token_files_and_basic_auth(tmp_path: Path) -> None:
    assert Credentials(User(token="abc")).header() == "Bearer abc"
    assert Credentials(None).header() is None
    assert Credentials(User(username="u", password="p")).header() == "Basic dTpw"
    token_file = tmp_path / "token"
    token_file.write_text("one\n")
    rotating = Credentials(User(token="stale", token_file=str(token_file)))
    assert rotating.header() == "Bearer one"
    token_file.write_text("two")
    assert rotating.header() == "Bearer one"  # kept until the server refuses it
    assert rotating.refresh()
    assert rotating.header() == "Bearer two"
    assert not Credentials(User(token="fixed")).refresh()


def test_exec_plugins_run_again_once_their_token_expired(tmp_path: Path) -> None:
    counter = tmp_path / "runs"
    plugin = tmp_path / "plugin.py"
    plugin.write_text(
        textwrap.dedent(f"""
        import json, pathlib
        runs = pathlib.Path({str(counter)!r})
        count = int(runs.read_text()) + 1 if runs.exists() else 1
        runs.write_text(str(count))
        print(json.dumps({{"status": {{"token": f"t{{count}}",
                                       "expirationTimestamp": "2000-01-01T00:00:00Z"}}}}))
        """)
    )
    credentials = Credentials(
        User(
            exec=UserExec(
                apiVersion="client.authentication.k8s.io/v1beta1",
                command=sys.executable,
                args=[str(plugin)],
            )
        )
    )
    assert credentials.header() == "Bearer t1"
    assert credentials.header() == "Bearer t2"


def test_a_failing_exec_plugin_is_a_retryable_error() -> None:
    credentials = Credentials(
        User(exec=UserExec(apiVersion="client.authentication.k8s.io/v1beta1", command="false"))
    )
    with pytest.raises(ServiceUnavailableError, match="exec credential plugin false"):
        credentials.header()


def test_auth_provider_entries_are_refused() -> None:
    with pytest.raises(ConnectionConfigError, match="auth-provider"):
        Credentials(User(auth_provider={"name": "gcp"}))


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

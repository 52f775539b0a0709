"""Kubeconfig loading, TLS contexts and credentials, on real files and real TLS servers."""

from __future__ import annotations

import base64
import os
import socket
import ssl
import sys
import tempfile
import textwrap
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml

from orkestra import pki
from orkestra.apiserver import EmbeddedServer
from orkestra.cluster.errors import ServiceUnavailableError
from orkestra.runtime.kube import KubeClient
from orkestra.runtime.kubeconfig import (
    ConnectionConfigError,
    Credentials,
    ExecPlugin,
    User,
    load_config,
)

EXEC_V1 = "client.authentication.k8s.io/v1"


@pytest.fixture(autouse=True)
def no_ambient_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Neither the machine's kubeconfig nor a pod's environment leaks into a test."""
    for name in ("KUBECONFIG", "KUBERNETES_SERVICE_HOST", "KUBERNETES_SERVICE_PORT"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))


def document(
    name: str = "c",
    *,
    server: str = "https://kube.example:6443",
    cluster: dict[str, Any] | None = None,
    user: dict[str, Any] | None = None,
    namespace: str | None = None,
    current: bool = True,
) -> dict[str, Any]:
    """A kubeconfig with one cluster, user and context, all called ``name``."""
    context: dict[str, Any] = {"cluster": name, "user": name}
    if namespace:
        context["namespace"] = namespace
    return {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": name, "cluster": {"server": server, **(cluster or {})}}],
        "users": [{"name": name, "user": user or {}}],
        "contexts": [{"name": name, "context": context}],
        **({"current-context": name} if current else {}),
    }


def write(path: Path, content: dict[str, Any] | str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(content if isinstance(content, str) else yaml.safe_dump(content))
    return path


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def service_account(directory: Path, monkeypatch: pytest.MonkeyPatch, host: str) -> Path:
    write(directory / "token", "sa-token\n")
    write(directory / "namespace", "team\n")
    monkeypatch.setenv("KUBERNETES_SERVICE_HOST", host)
    monkeypatch.setenv("KUBERNETES_SERVICE_PORT", "443")
    return directory


def config_error(kubeconfig: Path | None = None, context: str | None = None) -> str:
    with pytest.raises(ConnectionConfigError) as caught:
        load_config(kubeconfig, context)
    assert "--kubeconfig" in caught.value.hint and "--dev" in caught.value.hint
    return caught.value.message


# -- where the configuration comes from ---------------------------------------------------


def test_an_explicit_file_wins_over_the_service_account_and_kubeconfig(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    account = service_account(tmp_path / "sa", monkeypatch, "10.0.0.1")
    monkeypatch.setenv("KUBECONFIG", str(write(tmp_path / "env", document("env"))))
    explicit = write(tmp_path / "explicit", document("explicit"))
    assert load_config(explicit, service_account=account).context == "explicit"
    assert load_config(str(explicit)).context == "explicit"


def test_the_in_cluster_account_comes_before_kubeconfig(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    account = service_account(tmp_path / "sa", monkeypatch, "fd00::1")
    monkeypatch.setenv("KUBECONFIG", str(write(tmp_path / "env", document("env"))))
    config = load_config(service_account=account)
    assert config.cluster.server == "https://[fd00::1]:443"
    assert config.cluster.certificate_authority == account / "ca.crt"
    assert config.namespace == "team"
    assert Credentials(config.user).header() == "Bearer sa-token"
    # it has no named contexts: naming one looks in the kubeconfig files
    assert load_config(None, "env", service_account=account).context == "env"
    (account / "token").unlink()  # no token mounted: not in a cluster
    assert load_config(service_account=account).context == "env"


def test_kubeconfig_files_merge_as_kubectl_merges_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = document("shared", server="https://first:1", current=False)
    first["contexts"].append({"name": "mine", "context": {"cluster": "shared"}})
    second = document("shared", server="https://second:2")  # current-context: shared
    second["clusters"].append({"name": "other", "cluster": {"server": "https://other:3"}})
    second["contexts"].append({"name": "theirs", "context": {"cluster": "other"}})
    third = document("ignored", server="https://third:4")  # sets current-context too late
    files = [
        write(tmp_path / "a" / "config", first),
        tmp_path / "missing",  # skipped, as kubectl skips it
        write(tmp_path / "b" / "config", second),
        write(tmp_path / "c" / "config", third),
    ]
    monkeypatch.setenv("KUBECONFIG", os.pathsep.join(["", *map(str, files)]))
    current = load_config()
    assert (current.context, current.cluster.server) == ("shared", "https://first:1")
    assert load_config(None, "theirs").cluster.server == "https://other:3"
    assert load_config(None, "mine").cluster.server == "https://first:1"
    assert load_config(None, "ignored").cluster.server == "https://third:4"


def test_kubeconfig_naming_only_missing_files_is_an_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KUBECONFIG", str(tmp_path / "nope"))
    assert "none of the KUBECONFIG files exists" in config_error()


def test_the_home_kubeconfig_is_the_last_resort(tmp_path: Path) -> None:
    assert "KUBECONFIG is not set" in config_error()
    write(tmp_path / "home" / ".kube" / "config", document("home", namespace="ns"))
    config = load_config()
    assert (config.context, config.namespace) == ("home", "ns")


# -- contexts -----------------------------------------------------------------------------


def test_a_context_picks_cluster_user_and_namespace(tmp_path: Path) -> None:
    config = document("one", user={"token": "t1"})
    two = document("two", server="http://two:80", user={"token": "t2"}, namespace="ns2")
    for section in ("clusters", "users", "contexts"):
        config[section] += two[section]
    config["contexts"].append({"name": "anonymous", "context": {"cluster": "two"}})
    path = write(tmp_path / "config", config)
    assert load_config(path).context == "one"
    picked = load_config(path, "two")
    assert (picked.cluster.server, picked.user.token, picked.namespace) == (
        "http://two:80",
        "t2",
        "ns2",
    )
    assert load_config(path).namespace == "default"
    assert load_config(path, "anonymous").user == User()
    assert Credentials(load_config(path, "anonymous").user).header() is None


def test_unknown_names_are_clear_errors(tmp_path: Path) -> None:
    path = write(tmp_path / "config", document("c"))
    assert f"context 'nope' not found in {path}" in config_error(path, "nope")
    dangling = document("c")
    dangling["contexts"][0]["context"] = {"cluster": "gone", "user": "c"}
    path = write(tmp_path / "dangling", dangling)
    assert "cluster 'gone' (of context 'c') not found" in config_error(path)
    dangling["contexts"][0]["context"] = {"cluster": "c", "user": "nobody"}
    path = write(tmp_path / "dangling", dangling)
    assert "user 'nobody' (of context 'c') not found" in config_error(path)
    path = write(tmp_path / "none", document("c", current=False))
    assert "no current-context" in config_error(path)


# -- fields -------------------------------------------------------------------------------


def test_relative_paths_are_relative_to_their_file(tmp_path: Path) -> None:
    user = {
        "tokenFile": "secrets/token",
        "client-certificate": "tls/client.crt",
        "client-key": "/abs/client.key",
        "exec": {"apiVersion": EXEC_V1, "command": "./bin/plugin"},
    }
    path = write(
        tmp_path / "dir" / "config",
        document(cluster={"certificate-authority": "ca.crt"}, user=user),
    )
    config = load_config(path)
    base = tmp_path / "dir"
    assert config.cluster.certificate_authority == base / "ca.crt"
    assert config.user.token_file == base / "secrets" / "token"
    assert config.user.client_certificate == base / "tls" / "client.crt"
    assert config.user.client_key == Path("/abs/client.key")
    assert config.user.exec is not None and config.user.exec.command == str(base / "bin/plugin")


def test_data_fields_are_base64_and_win_over_their_files(tmp_path: Path) -> None:
    cluster = {"certificate-authority": "ca.crt", "certificate-authority-data": b64(b"CA")}
    user = {"client-certificate-data": b64(b"CERT"), "client-key-data": b64(b"KEY")}
    config = load_config(write(tmp_path / "config", document(cluster=cluster, user=user)))
    assert config.cluster.certificate_authority == b"CA"
    assert (config.user.client_certificate, config.user.client_key) == (b"CERT", b"KEY")


def test_tls_contexts_verify_unless_told_not_to(tmp_path: Path) -> None:
    secure = load_config(write(tmp_path / "secure", document()))
    context = secure.ssl_context()
    assert context is not None and context.verify_mode == ssl.CERT_REQUIRED
    assert context.check_hostname
    insecure = load_config(
        write(tmp_path / "insecure", document(cluster={"insecure-skip-tls-verify": True}))
    )
    context = insecure.ssl_context()
    assert context is not None and context.verify_mode == ssl.CERT_NONE
    assert not context.check_hostname
    plain = load_config(write(tmp_path / "plain", document(server="http://127.0.0.1:8080")))
    assert plain.ssl_context() is None


# -- credentials --------------------------------------------------------------------------


def test_tokens_token_files_and_basic_auth(tmp_path: Path) -> None:
    assert Credentials(User(token="abc")).header() == "Bearer abc"
    assert Credentials(User(username="u", password="p")).header() == "Basic dTpw"
    token_file = write(tmp_path / "token", "one\n")
    rotating = Credentials(User(token="stale", token_file=token_file))
    assert rotating.header() == "Bearer one"
    token_file.write_text("two")
    assert rotating.header() == "Bearer one"  # kept until the server refuses it
    assert rotating.refresh()
    assert rotating.header() == "Bearer two"
    assert not Credentials(User(token="fixed")).refresh()


def plugin_script(tmp_path: Path, expires: str | None) -> Path:
    """A credential plugin counting its runs: token ``t<run>-<argv[1]>-<$SUFFIX>``."""
    status = {"expirationTimestamp": expires} if expires else {}
    return write(
        tmp_path / "plugin.py",
        textwrap.dedent(f"""
        import json, os, pathlib, sys
        runs = pathlib.Path(__file__).with_name("runs")
        count = int(runs.read_text()) + 1 if runs.exists() else 1
        runs.write_text(str(count))
        info = json.loads(os.environ["KUBERNETES_EXEC_INFO"])
        token = f"t{{count}}-{{sys.argv[1]}}-{{os.environ['SUFFIX']}}-{{info['apiVersion']}}"
        status = {{"token": token, **{status!r}}}
        print(json.dumps({{"kind": "ExecCredential", "status": status}}))
        """),
    )


def exec_user(tmp_path: Path, script: Path) -> User:
    plugin = {
        "apiVersion": EXEC_V1,
        "command": sys.executable,
        "args": [str(script), "arg"],
        "env": [{"name": "SUFFIX", "value": "env"}],
    }
    return load_config(write(tmp_path / "config", document(user={"exec": plugin}))).user


def test_an_exec_plugin_is_run_once_while_its_token_is_valid(tmp_path: Path) -> None:
    later = (datetime.now(UTC) + timedelta(hours=1)).isoformat().replace("+00:00", "Z")
    credentials = Credentials(exec_user(tmp_path, plugin_script(tmp_path, later)))
    assert credentials.header() == f"Bearer t1-arg-env-{EXEC_V1}"
    assert credentials.header() == f"Bearer t1-arg-env-{EXEC_V1}"
    assert credentials.refresh()  # refused: run again
    assert credentials.header() == f"Bearer t2-arg-env-{EXEC_V1}"


def test_a_refusal_never_waits_for_a_plugin_running_for_another_caller(
    tmp_path: Path,
) -> None:
    later = (datetime.now(UTC) + timedelta(hours=1)).isoformat().replace("+00:00", "Z")
    credentials = Credentials(exec_user(tmp_path, plugin_script(tmp_path, later)))
    assert credentials.header() == f"Bearer t1-arg-env-{EXEC_V1}"
    with credentials._lock:  # as while the plugin runs on another thread
        refusal = threading.Thread(target=credentials.refresh, daemon=True)
        refusal.start()
        refusal.join(2)
        assert not refusal.is_alive()  # it did not wait for the lock
    assert credentials.header() == f"Bearer t2-arg-env-{EXEC_V1}"
    assert credentials.header() == f"Bearer t2-arg-env-{EXEC_V1}"  # the new one is kept


def test_an_expired_exec_token_runs_the_plugin_again(tmp_path: Path) -> None:
    credentials = Credentials(exec_user(tmp_path, plugin_script(tmp_path, "2000-01-01T00:00:00Z")))
    assert credentials.header() == f"Bearer t1-arg-env-{EXEC_V1}"
    assert credentials.header() == f"Bearer t2-arg-env-{EXEC_V1}"


def test_failing_exec_plugins_are_retryable_errors(tmp_path: Path) -> None:
    failing = ExecPlugin(command="false", api_version=EXEC_V1)
    with pytest.raises(ServiceUnavailableError, match="plugin false: exited with 1"):
        Credentials(User(exec=failing)).header()
    absent = ExecPlugin(command=str(tmp_path / "absent"), api_version=EXEC_V1)
    with pytest.raises(ServiceUnavailableError, match="No such file"):
        Credentials(User(exec=absent)).header()
    silent = ExecPlugin(command="true", api_version=EXEC_V1)
    with pytest.raises(ServiceUnavailableError, match=r"no ExecCredential with a status\.token"):
        Credentials(User(exec=silent)).header()


# -- errors -------------------------------------------------------------------------------


def test_missing_and_malformed_files_name_the_file(tmp_path: Path) -> None:
    assert f"cannot read kubeconfig {tmp_path / 'nope'}" in config_error(tmp_path / "nope")
    path = write(tmp_path / "broken", "clusters: [unclosed")
    assert f"{path} is not YAML" in config_error(path)
    path = write(tmp_path / "list", "- a\n- b\n")
    assert f"{path} is not a kubeconfig" in config_error(path)
    path = write(tmp_path / "empty", "")
    assert "no current-context" in config_error(path)


def with_cluster(**fields: Any) -> dict[str, Any]:
    return {"clusters": [{"name": "c", "cluster": {"server": "https://x", **fields}}]}


def with_user(**fields: Any) -> dict[str, Any]:
    return {"users": [{"name": "c", "user": fields}]}


def with_exec(**fields: Any) -> dict[str, Any]:
    return with_user(exec={"apiVersion": EXEC_V1, "command": "x", **fields})


@pytest.mark.parametrize(
    "change,message",
    [
        ({"clusters": {"c": {}}}, "clusters must be a list"),
        ({"users": [{"user": {}}]}, "users[0] must be a mapping with a name"),
        ({"current-context": 3}, "current-context must be a string"),
        ({"clusters": [{"name": "c", "cluster": "x"}]}, "clusters[0].cluster must be a mapping"),
        ({"clusters": [{"name": "c", "cluster": {}}]}, "clusters[0].cluster.server is missing"),
        (with_cluster(server=1), "clusters[0].cluster.server must be a string"),
        ({"contexts": [{"name": "c", "context": {}}]}, "contexts[0].context.cluster is missing"),
        (with_cluster(**{"insecure-skip-tls-verify": "yes"}), "verify must be true or false"),
        (
            with_cluster(**{"certificate-authority-data": "%%"}),
            "clusters[0].cluster.certificate-authority-data must be base64",
        ),
        (with_user(**{"client-certificate": "c.crt"}), "needs both"),
        (with_exec(apiVersion="v9"), "users[0].user.exec.apiVersion must be one of"),
        (with_exec(command=None), "users[0].user.exec.command is missing"),
        (with_exec(args=[1]), "users[0].user.exec.args must be a list of strings"),
        (with_exec(args="a b"), "users[0].user.exec.args must be a list"),
        (with_exec(env=[{"name": "A"}]), "exec.env must be a list of {name, value} strings"),
    ],
)
def test_a_wrong_key_is_named_with_its_file(
    tmp_path: Path, change: dict[str, Any], message: str
) -> None:
    path = write(tmp_path / "config", {**document("c"), **change})
    found = config_error(path)
    assert message in found and str(path) in found


def test_unsupported_entries_are_refused(tmp_path: Path) -> None:
    provider = write(tmp_path / "provider", document(user={"auth-provider": {"name": "gcp"}}))
    with pytest.raises(ConnectionConfigError, match="auth-provider entries are not supported"):
        load_config(provider)
    named = write(tmp_path / "named", document(cluster={"tls-server-name": "kubernetes"}))
    with pytest.raises(ConnectionConfigError, match="tls-server-name is not supported"):
        load_config(named)


def test_unreadable_certificates_fail_the_tls_set_up(tmp_path: Path) -> None:
    missing = document(cluster={"certificate-authority": "absent.crt"})
    with pytest.raises(ConnectionConfigError, match="cannot set up TLS for https://kube") as caught:
        load_config(write(tmp_path / "missing", missing)).ssl_context()
    assert "certificate paths" in caught.value.hint
    garbage = document(cluster={"certificate-authority-data": b64(b"-----BEGIN nonsense")})
    with pytest.raises(ConnectionConfigError, match="cannot set up TLS"):
        load_config(write(tmp_path / "garbage", garbage)).ssl_context()
    pair = document(user={"client-certificate-data": b64(b"x"), "client-key-data": b64(b"y")})
    with pytest.raises(ConnectionConfigError, match="cannot set up TLS"):
        load_config(write(tmp_path / "pair", pair)).ssl_context()


# -- against real TLS servers -------------------------------------------------------------


@pytest.mark.integration
def test_the_embedded_servers_kubeconfig_round_trips(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with EmbeddedServer(port=0) as server:
        version = KubeClient(load_config(server.kubeconfig)).request("GET", "/version")
        assert "gitVersion" in version
        # the same CA and token as files, named relatively
        write(tmp_path / "ca.crt", server.credentials.ca.certificate.decode())
        write(tmp_path / "token", server.token or "")
        files = document(server=server.url, cluster={"certificate-authority": "ca.crt"})
        files["users"][0]["user"] = {"tokenFile": "token"}
        client = KubeClient(load_config(write(tmp_path / "config", files)))
        assert client.request("GET", "/version") == version
        client.close()
        # and as a pod's service account
        monkeypatch.setenv("KUBERNETES_SERVICE_HOST", "127.0.0.1")
        monkeypatch.setenv("KUBERNETES_SERVICE_PORT", str(server.port))
        client = KubeClient(load_config(service_account=tmp_path))
        assert client.request("GET", "/version") == version
        client.close()


def client_certificate() -> pki.KeyPair:
    """pki mints CAs and serving certificates, none for clients: a CA's own certificate
    (no extended key usage, digitalSignature) is presented as one, and trusted as such."""
    return pki.new_ca("test-client", datetime.now(UTC), timedelta(hours=1))


@contextmanager
def mutual_tls_server(directory: Path, trusted: bytes) -> Iterator[tuple[int, bytes, list[str]]]:
    """An HTTPS server on a thread requiring a client certificate issued by ``trusted``:
    (port, its CA, the subjects of the clients it served)."""
    now = datetime.now(UTC)
    ca = pki.new_ca("test-ca", now, timedelta(hours=1))
    serving = pki.new_serving(ca, ["127.0.0.1"], "server", now, timedelta(hours=1))
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.verify_mode = ssl.CERT_REQUIRED
    context.load_verify_locations(cadata=trusted.decode())
    cert = write(directory / "server.crt", serving.certificate.decode())
    key = write(directory / "server.key", serving.key.decode())
    context.load_cert_chain(cert, key)
    listener = socket.create_server(("127.0.0.1", 0))
    seen: list[str] = []

    def serve() -> None:
        while True:
            try:
                raw, _ = listener.accept()
            except OSError:
                return
            try:
                with context.wrap_socket(raw, server_side=True) as conn:
                    seen.append(str((conn.getpeercert() or {}).get("subject")))
                    conn.recv(65536)
                    body = b'{"gitVersion": "v1.0.0"}'
                    conn.sendall(
                        b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                        b"Connection: close\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body)
                    )
            except (OSError, ssl.SSLError):
                continue  # a client without a certificate: refused in the handshake

    threading.Thread(target=serve, daemon=True).start()
    try:
        yield listener.getsockname()[1], ca.certificate, seen
    finally:
        listener.close()


@pytest.mark.integration
def test_client_certificates_as_data_or_files_authenticate(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    scratch = tmp_path / "scratch"  # where the key given as data is written, for a moment
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    client = client_certificate()
    with mutual_tls_server(tmp_path / "server", client.certificate) as (port, ca, seen):
        server = f"https://127.0.0.1:{port}"
        cluster = {"certificate-authority-data": b64(ca)}
        as_data = document(
            server=server,
            cluster=cluster,
            user={
                "client-certificate-data": b64(client.certificate),
                "client-key-data": b64(client.key),
            },
        )
        write(tmp_path / "client.crt", client.certificate.decode())
        write(tmp_path / "client.key", client.key.decode())
        as_files = document(
            server=server,
            cluster=cluster,
            user={"client-certificate": "client.crt", "client-key": "client.key"},
        )
        for name, config in (("data", as_data), ("files", as_files)):
            kube = KubeClient(load_config(write(tmp_path / name, config)))
            assert kube.request("GET", "/version") == {"gitVersion": "v1.0.0"}
        assert len(seen) == 2 and all("'commonName', 'test-client'" in s for s in seen)
        assert not list(scratch.iterdir())
        anonymous = write(tmp_path / "anonymous", document(server=server, cluster=cluster))
        with pytest.raises(ServiceUnavailableError):
            KubeClient(load_config(anonymous)).request("GET", "/version")

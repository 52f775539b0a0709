"""The embedded server's CA, serving certificate, token and kubeconfig."""

from __future__ import annotations

import base64
import shutil
import socket
import ssl
import stat
import subprocess
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import yaml
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID

from orkestra.apiserver import certs

NOW = datetime(2026, 6, 14, 12, 0, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def ca() -> certs.KeyPair:
    return certs.generate_ca(now=NOW)


@pytest.fixture(scope="module")
def server(ca: certs.KeyPair) -> certs.KeyPair:
    return certs.generate_server_cert(ca, names=["ork.local", "10.1.2.3", "LOCALHOST"], now=NOW)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_ca_is_a_ten_year_p256_authority(ca: certs.KeyPair) -> None:
    cert = ca.cert
    assert isinstance(cert.public_key(), ec.EllipticCurvePublicKey)
    assert cert.public_key().curve.name == "secp256r1"  # type: ignore[union-attr]
    constraints = cert.extensions.get_extension_for_class(x509.BasicConstraints)
    assert constraints.critical and constraints.value.ca
    usage = cert.extensions.get_extension_for_class(x509.KeyUsage).value
    assert usage.key_cert_sign and usage.crl_sign
    assert cert.not_valid_after_utc - cert.not_valid_before_utc >= timedelta(days=3650)
    assert cert.subject == cert.issuer
    assert b"PRIVATE KEY" in ca.key


def test_server_certificate_names_and_usages(ca: certs.KeyPair, server: certs.KeyPair) -> None:
    cert = server.cert
    assert certs.certificate_names(server.certificate) == {
        "localhost",
        "127.0.0.1",
        "::1",
        "ork.local",
        "10.1.2.3",
    }
    san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert len(san.get_values_for_type(x509.IPAddress)) == 3
    eku = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert list(eku) == [ExtendedKeyUsageOID.SERVER_AUTH]
    usage = cert.extensions.get_extension_for_class(x509.KeyUsage)
    assert usage.critical and usage.value.digital_signature and not usage.value.key_cert_sign
    assert not cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    assert cert.issuer == ca.cert.subject
    assert certs.verify_issued(server, ca)
    assert not certs.verify_issued(server, certs.generate_ca(now=NOW))
    assert cert.not_valid_after_utc <= ca.cert.not_valid_after_utc


@pytest.mark.skipif(shutil.which("openssl") is None, reason="openssl not installed")
@pytest.mark.parametrize(
    "check",
    [
        ["-verify_hostname", "localhost"],
        ["-verify_hostname", "ork.local"],
        ["-verify_ip", "127.0.0.1"],
        ["-verify_ip", "::1"],
    ],
)
def test_openssl_verifies_the_chain_strictly(tmp_path: Path, check: list[str]) -> None:
    ca_pair = certs.generate_ca()
    leaf = certs.generate_server_cert(ca_pair, names=["ork.local"])
    (tmp_path / "ca.crt").write_bytes(ca_pair.certificate)
    (tmp_path / "server.crt").write_bytes(leaf.certificate)
    result = subprocess.run(
        [
            "openssl",
            "verify",
            "-x509_strict",
            "-purpose",
            "sslserver",
            *check,
            "-CAfile",
            str(tmp_path / "ca.crt"),
            str(tmp_path / "server.crt"),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_tls_handshake_with_the_ca_as_only_trust(tmp_path: Path) -> None:
    creds = certs.load_or_create(tmp_path / "pki")
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    served: list[bytes] = []

    def serve() -> None:
        conn, _ = listener.accept()
        with certs.server_ssl_context(creds).wrap_socket(conn, server_side=True) as tls:
            served.append(tls.recv(5))

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    client = ssl.create_default_context(cadata=creds.ca.certificate.decode())
    client.verify_flags |= ssl.VERIFY_X509_STRICT
    with (
        socket.create_connection(("127.0.0.1", port)) as raw,
        client.wrap_socket(raw, server_hostname="localhost") as tls,
    ):
        tls.sendall(b"hello")
    thread.join(5)
    listener.close()
    assert served == [b"hello"]


def test_tokens_are_random_and_checked_in_constant_time() -> None:
    token = certs.new_token()
    assert len(token) >= 43 and token != certs.new_token()
    assert certs.token_matches(f"Bearer {token}", token)
    assert certs.token_matches(f"bearer  {token} ", token)
    assert not certs.token_matches(f"Bearer {token}x", token)
    assert not certs.token_matches(f"Basic {token}", token)
    assert not certs.token_matches(None, token)
    assert not certs.token_matches("Bearer ", "")


def test_private_files_are_0600_and_atomic(tmp_path: Path) -> None:
    target = tmp_path / "deep" / "secret.pem"
    certs.write_private(target, b"one")
    certs.write_private(target, b"two")
    assert target.read_bytes() == b"two" and mode(target) == 0o600
    assert [p.name for p in target.parent.iterdir()] == ["secret.pem"]


def test_credentials_are_reused_and_renewed(tmp_path: Path) -> None:
    pki = tmp_path / "pki"
    first = certs.load_or_create(pki, now=NOW)
    for name in ("ca.crt", "ca.key", "server.crt", "server.key", "token"):
        assert mode(pki / name) == 0o600
    assert mode(pki) == 0o700
    assert first.cert_file == pki / "server.crt"
    again = certs.load_or_create(pki, now=NOW + timedelta(days=1))
    assert again.ca == first.ca and again.server == first.server
    assert again.token == first.token
    renamed = certs.load_or_create(pki, names=["ork.example"], now=NOW)
    assert renamed.ca == first.ca and renamed.server != first.server
    assert "ork.example" in certs.certificate_names(renamed.server.certificate)
    assert certs.verify_issued(renamed.server, first.ca)
    late = certs.load_or_create(pki, names=["ork.example"], now=NOW + timedelta(days=340))
    assert late.ca == first.ca and late.server != renamed.server
    (pki / "ca.key").write_bytes(b"garbage")
    rebuilt = certs.load_or_create(pki, now=NOW)
    assert rebuilt.ca != first.ca and certs.verify_issued(rebuilt.server, rebuilt.ca)


def test_credentials_without_a_directory_have_no_files() -> None:
    creds = certs.Credentials(certs.generate_ca(), certs.generate_ca(), "t")
    with pytest.raises(ValueError):
        _ = creds.key_file


def test_kubeconfig_is_complete(tmp_path: Path, ca: certs.KeyPair) -> None:
    path = tmp_path / "kubeconfig"
    certs.write_kubeconfig(
        path, server="https://127.0.0.1:6443", ca_pem=ca.certificate, token="tok"
    )
    config = yaml.safe_load(path.read_text())
    assert mode(path) == 0o600
    assert config["current-context"] == "ork-embedded"
    cluster = config["clusters"][0]["cluster"]
    assert cluster["server"] == "https://127.0.0.1:6443"
    assert base64.b64decode(cluster["certificate-authority-data"]) == ca.certificate
    assert config["users"] == [{"name": "ork-embedded", "user": {"token": "tok"}}]
    assert config["contexts"][0]["context"] == {
        "cluster": "ork-embedded",
        "user": "ork-embedded",
        "namespace": "default",
    }


def test_kubeconfig_without_ca() -> None:
    secure = certs.kubeconfig(server="https://h:1", ca_pem=None, token="t")
    assert secure["clusters"][0]["cluster"]["insecure-skip-tls-verify"] is True
    plain = certs.kubeconfig(server="http://h:1", ca_pem=None, token="t")
    assert plain["clusters"][0]["cluster"] == {"server": "http://h:1"}


def test_kubeconfig_merge_keeps_other_clusters(tmp_path: Path, ca: certs.KeyPair) -> None:
    path = tmp_path / "config"
    other = {
        "apiVersion": "v1",
        "kind": "Config",
        "current-context": "prod",
        "clusters": [
            {"name": "prod", "cluster": {"server": "https://prod"}},
            {"name": "ork", "cluster": {"server": "https://old"}},
        ],
        "users": [{"name": "prod", "user": {"token": "p"}}],
        "contexts": [{"name": "prod", "context": {"cluster": "prod", "user": "prod"}}],
        "preferences": {"colors": True},
    }
    path.write_text(yaml.safe_dump(other))
    certs.write_kubeconfig(
        path,
        server="https://127.0.0.1:1",
        ca_pem=ca.certificate,
        token="new",
        name="ork",
        merge=True,
    )
    merged = yaml.safe_load(path.read_text())
    assert merged["current-context"] == "ork" and merged["preferences"] == {"colors": True}
    assert [c["name"] for c in merged["clusters"]] == ["prod", "ork"]
    assert merged["clusters"][1]["cluster"]["server"] == "https://127.0.0.1:1"
    assert [u["name"] for u in merged["users"]] == ["prod", "ork"]
    assert [c["name"] for c in merged["contexts"]] == ["prod", "ork"]
    certs.write_kubeconfig(
        tmp_path / "fresh", server="https://x", ca_pem=None, token="t", merge=True
    )
    assert yaml.safe_load((tmp_path / "fresh").read_text())["current-context"] == "ork-embedded"
    path.write_text("- not\n- a kubeconfig\n")
    with pytest.raises(ValueError, match="not a kubeconfig"):
        certs.write_kubeconfig(path, server="https://x", ca_pem=None, token="t", merge=True)


@pytest.mark.skipif(shutil.which("kubectl") is None, reason="kubectl not installed")
def test_kubectl_reads_the_kubeconfig(tmp_path: Path, ca: certs.KeyPair) -> None:
    path = tmp_path / "kubeconfig"
    certs.write_kubeconfig(
        path, server="https://127.0.0.1:6443", ca_pem=ca.certificate, token="tok"
    )
    result = subprocess.run(
        [
            "kubectl",
            "--kubeconfig",
            str(path),
            "config",
            "view",
            "--raw",
            "--minify",
            "-o",
            "jsonpath={.clusters[0].cluster.server} {.users[0].user.token}",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout == "https://127.0.0.1:6443 tok"

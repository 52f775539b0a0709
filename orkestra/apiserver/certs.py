"""TLS and credentials of the embedded API server: its CA, serving certificate, token, kubeconfig.

This module owns everything a client needs to trust and reach the embedded server: a
self-signed certificate authority (ECDSA P-256, ten years), a serving certificate signed by
it for ``localhost``, ``127.0.0.1``, ``::1`` and any extra names, with the key usages Go's
TLS stack (kubectl) and OpenSSL's strict mode require; a random bearer token and its
constant-time check; private files written atomically with mode 0600; a credentials
directory reused across restarts (so kubeconfigs stay valid) with the serving certificate
renewed when names change or expiry nears; and the kubeconfig itself, written whole or
merged into an existing one. The X.509 itself is :mod:`orkestra.pki`, shared with the
gateway; ``orkestra.engine.tls`` makes one-off self-signed certificates for workloads and
is not a CA.
"""

from __future__ import annotations

import base64
import hmac
import os
import secrets
import ssl
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Literal, TypedDict

import yaml
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from orkestra import pki
from orkestra.kubeobjects import Json, JsonDict, JsonObject
from orkestra.pki import KeyPair, certificate_names

DEFAULT_NAMES = ("localhost", "127.0.0.1", "::1")
CA_DAYS = 3650
SERVER_DAYS = 365
RENEW_BEFORE = timedelta(days=30)

# A kubeconfig (clientcmd's v1 Config) with the entries written here; functional syntax
# for the keys with dashes.
ClusterEntry = TypedDict(
    "ClusterEntry",
    {"server": str, "certificate-authority-data": str, "insecure-skip-tls-verify": bool},
    total=False,
)


class NamedCluster(TypedDict):
    name: str
    cluster: ClusterEntry


class UserEntry(TypedDict):
    token: str


class NamedUser(TypedDict):
    name: str
    user: UserEntry


class ContextEntry(TypedDict):
    cluster: str
    user: str
    namespace: str


class NamedContext(TypedDict):
    name: str
    context: ContextEntry


Kubeconfig = TypedDict(
    "Kubeconfig",
    {
        "apiVersion": str,
        "kind": str,
        "preferences": JsonDict,
        "clusters": list[NamedCluster],
        "users": list[NamedUser],
        "contexts": list[NamedContext],
        "current-context": str,
    },
)
_SECTIONS: tuple[Literal["clusters", "users", "contexts"], ...] = ("clusters", "users", "contexts")


@dataclass(frozen=True)
class Credentials:
    """What the embedded server serves with and what its clients are given."""

    ca: KeyPair
    server: KeyPair
    token: str
    directory: Path | None = None

    @property
    def cert_file(self) -> Path:
        return self._file("server.crt")

    @property
    def key_file(self) -> Path:
        return self._file("server.key")

    @property
    def ca_file(self) -> Path:
        return self._file("ca.crt")

    def _file(self, name: str) -> Path:
        if self.directory is None:
            raise ValueError("these credentials were not saved to a directory")
        return self.directory / name


def _now(now: datetime | None) -> datetime:
    return (now or datetime.now(UTC)).astimezone(UTC)


def generate_ca(
    *, common_name: str = "ork-embedded-ca", now: datetime | None = None, days: int = CA_DAYS
) -> KeyPair:
    """A self-signed ECDSA P-256 certificate authority valid for ``days``."""
    return pki.new_ca(common_name, _now(now), timedelta(days=days))


def generate_server_cert(
    ca: KeyPair,
    *,
    names: Sequence[str] = (),
    common_name: str = "ork-embedded-apiserver",
    now: datetime | None = None,
    days: int = SERVER_DAYS,
) -> KeyPair:
    """A serving certificate signed by ``ca`` for :data:`DEFAULT_NAMES` plus ``names``."""
    return pki.new_serving(
        ca, [*DEFAULT_NAMES, *names], common_name, _now(now), timedelta(days=days)
    )


def verify_issued(server: KeyPair, ca: KeyPair) -> bool:
    """Whether ``server``'s certificate was signed by ``ca``'s key."""
    return pki.issued_by(server.certificate, ca.certificate)


def needs_renewal(
    server: KeyPair, ca: KeyPair, names: Sequence[str] = (), now: datetime | None = None
) -> bool:
    """True when the serving certificate is not from ``ca``, misses a name or expires soon."""
    wanted = {str(g.value) for g in pki.subject_names([*DEFAULT_NAMES, *names])}
    cert = server.cert
    return (
        not verify_issued(server, ca)
        or not wanted <= certificate_names(server.certificate)
        or cert.not_valid_after_utc - _now(now) < RENEW_BEFORE
    )


def new_token(nbytes: int = 32) -> str:
    """A random bearer token (URL-safe, no padding)."""
    return secrets.token_urlsafe(nbytes)


def token_matches(authorization: str | None, token: str) -> bool:
    """Whether an ``Authorization`` header carries ``Bearer <token>`` (constant time)."""
    scheme, _, value = (authorization or "").strip().partition(" ")
    if scheme.lower() != "bearer" or not token:
        return False
    return hmac.compare_digest(value.strip().encode(), token.encode())


def write_private(path: Path | str, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically (temp file + rename) with mode 0600."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, temp = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.chmod(temp, 0o600)
        os.replace(temp, target)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise


def _read(path: Path) -> bytes | None:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        return None


def _load_pair(directory: Path, stem: str) -> KeyPair | None:
    cert, key = _read(directory / f"{stem}.crt"), _read(directory / f"{stem}.key")
    if cert is None or key is None:
        return None
    try:
        x509.load_pem_x509_certificate(cert)
        serialization.load_pem_private_key(key, password=None)
    except ValueError:
        return None
    return KeyPair(cert, key)


def _save_pair(directory: Path, stem: str, pair: KeyPair) -> None:
    write_private(directory / f"{stem}.key", pair.key)
    write_private(directory / f"{stem}.crt", pair.certificate)


def _ca_usable(ca: KeyPair, now: datetime) -> bool:
    return ca.cert.not_valid_after_utc - now > RENEW_BEFORE


def load_or_create(
    directory: Path | str, *, names: Sequence[str] = (), now: datetime | None = None
) -> Credentials:
    """The credentials kept in ``directory`` (``ca.crt``/``ca.key``, ``server.crt``/
    ``server.key``, ``token``), creating what is missing or unusable; the serving
    certificate is reissued when it lacks one of ``names`` or expires within 30 days."""
    where, moment = Path(directory), _now(now)
    where.mkdir(mode=0o700, parents=True, exist_ok=True)
    ca = _load_pair(where, "ca")
    if ca is None or not _ca_usable(ca, moment):
        ca = generate_ca(now=moment)
        _save_pair(where, "ca", ca)
    server = _load_pair(where, "server")
    if server is None or needs_renewal(server, ca, names, moment):
        server = generate_server_cert(ca, names=names, now=moment)
        _save_pair(where, "server", server)
    token = (_read(where / "token") or b"").decode().strip()
    if not token:
        token = new_token()
        write_private(where / "token", token.encode() + b"\n")
    return Credentials(ca, server, token, where)


def server_ssl_context(credentials: Credentials) -> ssl.SSLContext:
    """A server-side TLS context (TLS 1.2+) serving the saved certificate and key."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.load_cert_chain(credentials.cert_file, credentials.key_file)
    return context


def kubeconfig(
    *, server: str, ca_pem: bytes | None, token: str, name: str = "ork-embedded"
) -> Kubeconfig:
    """A kubeconfig with one cluster, user and context, all called ``name``."""
    cluster: ClusterEntry = {"server": server}
    if ca_pem:
        cluster["certificate-authority-data"] = base64.b64encode(ca_pem).decode("ascii")
    elif server.startswith("https://"):
        cluster["insecure-skip-tls-verify"] = True
    return {
        "apiVersion": "v1",
        "kind": "Config",
        "preferences": {},
        "clusters": [{"name": name, "cluster": cluster}],
        "users": [{"name": name, "user": {"token": token}}],
        "contexts": [
            {"name": name, "context": {"cluster": name, "user": name, "namespace": "default"}}
        ],
        "current-context": name,
    }


def _merge_named(existing: Json, entry: NamedCluster | NamedUser | NamedContext) -> list[object]:
    items = [e for e in existing if isinstance(e, dict)] if isinstance(existing, list) else []
    kept: list[object] = [e for e in items if e.get("name") != entry["name"]]
    return [*kept, entry]


def merge_kubeconfig(base: JsonObject, ours: Kubeconfig) -> dict[str, object]:
    """``base`` with ``ours``'s cluster, user and context replaced or added, and made current."""
    merged: dict[str, object] = dict(base)
    merged.setdefault("apiVersion", "v1")
    merged.setdefault("kind", "Config")
    for section in _SECTIONS:
        merged[section] = _merge_named(base.get(section), ours[section][0])
    merged["current-context"] = ours["current-context"]
    return merged


def write_kubeconfig(
    path: Path | str,
    *,
    server: str,
    ca_pem: bytes | None,
    token: str,
    name: str = "ork-embedded",
    merge: bool = False,
) -> None:
    """Write a kubeconfig for the embedded server atomically (mode 0600).

    With ``merge``, entries of other clusters already in ``path`` are kept and only the
    ones called ``name`` are replaced; ``current-context`` becomes ``name`` either way.
    A file that is not a kubeconfig is refused (ValueError) rather than overwritten.
    """
    target = Path(path).expanduser()
    ours = kubeconfig(server=server, ca_pem=ca_pem, token=token, name=name)
    config: Mapping[str, object] = ours
    existing = _read(target) if merge else None
    if existing and existing.strip():
        base = yaml.safe_load(existing)
        if not isinstance(base, dict):
            raise ValueError(f"{target}: not a kubeconfig (expected a mapping)")
        config = merge_kubeconfig(base, ours)
    text = yaml.safe_dump(config, sort_keys=False, default_flow_style=False)
    write_private(target, text.encode())

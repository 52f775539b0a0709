"""TLS and credentials of the embedded API server: its CA, serving certificate, token, kubeconfig.

This module owns everything a client needs to trust and reach the embedded server: a
self-signed certificate authority (ECDSA P-256, ten years), a serving certificate signed by
it for ``localhost``, ``127.0.0.1``, ``::1`` and any extra names, with the key usages Go's
TLS stack (kubectl) and OpenSSL's strict mode require; a random bearer token and its
constant-time check; private files written atomically with mode 0600; a credentials
directory reused across restarts (so kubeconfigs stay valid) with the serving certificate
renewed when names change or expiry nears; and the kubeconfig itself, written whole or
merged into an existing one. It uses the ``cryptography`` package; ``orkestra.engine.tls``
makes one-off self-signed certificates for workloads and is not a CA, so nothing is shared.
"""

from __future__ import annotations

import base64
import hmac
import ipaddress
import os
import secrets
import ssl
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import yaml
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

DEFAULT_NAMES = ("localhost", "127.0.0.1", "::1")
CA_DAYS = 3650
SERVER_DAYS = 365
RENEW_BEFORE = timedelta(days=30)
_BACKDATE = timedelta(minutes=5)
Obj = dict[str, Any]


@dataclass(frozen=True)
class KeyPair:
    """A PEM certificate and its PEM (PKCS#8, unencrypted) private key."""

    certificate: bytes
    key: bytes

    @property
    def cert(self) -> x509.Certificate:
        return x509.load_pem_x509_certificate(self.certificate)


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


def _new_key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def _key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "orkestra"),
                      x509.NameAttribute(NameOID.COMMON_NAME, common_name[:64])])


def _load_key(pem: bytes) -> ec.EllipticCurvePrivateKey:
    key = serialization.load_pem_private_key(pem, password=None)
    if not isinstance(key, ec.EllipticCurvePrivateKey):
        raise ValueError("the CA key is not an ECDSA key")
    return key


def generate_ca(*, common_name: str = "ork-embedded-ca", now: datetime | None = None,
                days: int = CA_DAYS) -> KeyPair:
    """A self-signed ECDSA P-256 certificate authority valid for ``days``."""
    start = _now(now)
    key = _new_key()
    name = _name(common_name)
    public = key.public_key()
    cert = (x509.CertificateBuilder()
            .subject_name(name).issuer_name(name).public_key(public)
            .serial_number(x509.random_serial_number())
            .not_valid_before(start - _BACKDATE).not_valid_after(start + timedelta(days=days))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(_usage(cert_sign=True), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(public),
                           critical=False)
            .sign(key, hashes.SHA256()))
    return KeyPair(cert.public_bytes(serialization.Encoding.PEM), _key_pem(key))


def _usage(*, cert_sign: bool) -> x509.KeyUsage:
    return x509.KeyUsage(digital_signature=True, content_commitment=False,
                         key_encipherment=False, data_encipherment=False, key_agreement=False,
                         key_cert_sign=cert_sign, crl_sign=cert_sign, encipher_only=False,
                         decipher_only=False)


def subject_names(names: Iterable[str]) -> list[x509.GeneralName]:
    """SAN entries: IP addresses as such, everything else as DNS names; duplicates dropped."""
    out: list[x509.GeneralName] = []
    seen: set[str] = set()
    for raw in names:
        name = raw.strip().lower()
        if not name or name in seen:
            continue
        seen.add(name)
        try:
            out.append(x509.IPAddress(ipaddress.ip_address(name.strip("[]"))))
        except ValueError:
            out.append(x509.DNSName(name))
    return out


def generate_server_cert(ca: KeyPair, *, names: Sequence[str] = (),
                         common_name: str = "ork-embedded-apiserver",
                         now: datetime | None = None, days: int = SERVER_DAYS) -> KeyPair:
    """A serving certificate signed by ``ca`` for :data:`DEFAULT_NAMES` plus ``names``."""
    start = _now(now)
    ca_cert, ca_key = ca.cert, _load_key(ca.key)
    key = _new_key()
    public = key.public_key()
    not_after = min(start + timedelta(days=days), ca_cert.not_valid_after_utc)
    cert = (x509.CertificateBuilder()
            .subject_name(_name(common_name)).issuer_name(ca_cert.subject).public_key(public)
            .serial_number(x509.random_serial_number())
            .not_valid_before(start - _BACKDATE).not_valid_after(not_after)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(_usage(cert_sign=False), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]),
                           critical=False)
            .add_extension(x509.SubjectAlternativeName(
                subject_names([*DEFAULT_NAMES, *names])), critical=False)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(
                ca_key.public_key()), critical=False)
            .sign(ca_key, hashes.SHA256()))
    return KeyPair(cert.public_bytes(serialization.Encoding.PEM), _key_pem(key))


def certificate_names(certificate: bytes) -> set[str]:
    """The DNS names and IP addresses a PEM certificate is valid for."""
    try:
        san = x509.load_pem_x509_certificate(certificate).extensions.get_extension_for_class(
            x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return set()
    return ({str(n) for n in san.get_values_for_type(x509.DNSName)}
            | {str(ip) for ip in san.get_values_for_type(x509.IPAddress)})


def verify_issued(server: KeyPair, ca: KeyPair) -> bool:
    """Whether ``server``'s certificate was signed by ``ca``'s key."""
    try:
        server.cert.verify_directly_issued_by(ca.cert)
    except (ValueError, TypeError, InvalidSignature):
        return False
    return True


def needs_renewal(server: KeyPair, ca: KeyPair, names: Sequence[str] = (),
                  now: datetime | None = None) -> bool:
    """True when the serving certificate is not from ``ca``, misses a name or expires soon."""
    wanted = {str(g.value) for g in subject_names([*DEFAULT_NAMES, *names])}
    cert = server.cert
    return (not verify_issued(server, ca) or not wanted <= certificate_names(server.certificate)
            or cert.not_valid_after_utc - _now(now) < RENEW_BEFORE)


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


def load_or_create(directory: Path | str, *, names: Sequence[str] = (),
                   now: datetime | None = None) -> Credentials:
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


def kubeconfig(*, server: str, ca_pem: bytes | None, token: str,
               name: str = "ork-embedded") -> Obj:
    """A kubeconfig with one cluster, user and context, all called ``name``."""
    cluster: Obj = {"server": server}
    if ca_pem:
        cluster["certificate-authority-data"] = base64.b64encode(ca_pem).decode("ascii")
    elif server.startswith("https://"):
        cluster["insecure-skip-tls-verify"] = True
    return {"apiVersion": "v1", "kind": "Config", "preferences": {},
            "clusters": [{"name": name, "cluster": cluster}],
            "users": [{"name": name, "user": {"token": token}}],
            "contexts": [{"name": name, "context": {"cluster": name, "user": name,
                                                     "namespace": "default"}}],
            "current-context": name}


def _merge_named(existing: Any, entry: Obj) -> list[Any]:
    items = [e for e in existing if isinstance(e, dict)] if isinstance(existing, list) else []
    kept = [e for e in items if e.get("name") != entry["name"]]
    return [*kept, entry]


def merge_kubeconfig(base: Obj, ours: Obj) -> Obj:
    """``base`` with ``ours``'s cluster, user and context replaced or added, and made current."""
    merged = dict(base)
    merged.setdefault("apiVersion", "v1")
    merged.setdefault("kind", "Config")
    for section in ("clusters", "users", "contexts"):
        merged[section] = _merge_named(base.get(section), ours[section][0])
    merged["current-context"] = ours["current-context"]
    return merged


def write_kubeconfig(path: Path | str, *, server: str, ca_pem: bytes | None, token: str,
                     name: str = "ork-embedded", merge: bool = False) -> None:
    """Write a kubeconfig for the embedded server atomically (mode 0600).

    With ``merge``, entries of other clusters already in ``path`` are kept and only the
    ones called ``name`` are replaced; ``current-context`` becomes ``name`` either way.
    A file that is not a kubeconfig is refused (ValueError) rather than overwritten.
    """
    target = Path(path).expanduser()
    config = kubeconfig(server=server, ca_pem=ca_pem, token=token, name=name)
    existing = _read(target) if merge else None
    if existing and existing.strip():
        base = yaml.safe_load(existing)
        if not isinstance(base, dict):
            raise ValueError(f"{target}: not a kubeconfig (expected a mapping)")
        config = merge_kubeconfig(base, config)
    text = yaml.safe_dump(config, sort_keys=False, default_flow_style=False)
    write_private(target, text.encode())

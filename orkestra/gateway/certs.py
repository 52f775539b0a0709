"""The gateway's X.509: a CA of its own, serving certificates it signs, and checks on both.

Keys are ECDSA P-256 (which the API server's webhook client and Go's TLS stack accept).
Certificates start a few minutes in the past, so a clock slightly behind ours still
trusts them, and a serving certificate never outlives its CA. A certificate is *due*
once less than a third of its lifetime (at most 30 days) remains: the rotation loop
renews it then, well before a client could see it expired. A CA bundle is one or more
PEM certificates; during a CA rotation it holds the new CA and the old one.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

BACKDATE = timedelta(minutes=5)
MAX_RENEW_BEFORE = timedelta(days=30)
CA_NAME = "orkestra-gateway-ca"
_PEM_END = b"-----END CERTIFICATE-----"


@dataclass(frozen=True)
class KeyPair:
    """A PEM certificate and its PEM (PKCS#8) private key."""

    certificate: bytes
    key: bytes

    @property
    def cert(self) -> x509.Certificate:
        return x509.load_pem_x509_certificate(self.certificate)


def _key() -> tuple[ec.EllipticCurvePrivateKey, bytes]:
    key = ec.generate_private_key(ec.SECP256R1())
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption())
    return key, pem


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _usage(*, ca: bool) -> x509.KeyUsage:
    return x509.KeyUsage(digital_signature=True, content_commitment=False,
                         key_encipherment=False, data_encipherment=False,
                         key_agreement=False, key_cert_sign=ca, crl_sign=ca,
                         encipher_only=False, decipher_only=False)


def new_ca(now: datetime, lifetime: timedelta, common_name: str = CA_NAME) -> KeyPair:
    key, pem = _key()
    name = _name(common_name)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - BACKDATE).not_valid_after(now + lifetime)
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(_usage(ca=True), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()),
                           critical=False)
            .sign(key, hashes.SHA256()))
    return KeyPair(cert.public_bytes(serialization.Encoding.PEM), pem)


def _subject_names(names: Iterable[str]) -> list[x509.GeneralName]:
    found: list[x509.GeneralName] = []
    for name in dict.fromkeys(names):
        try:
            found.append(x509.IPAddress(ipaddress.ip_address(name)))
        except ValueError:
            found.append(x509.DNSName(name))
    return found


def new_serving(ca: KeyPair, names: Sequence[str], now: datetime,
                lifetime: timedelta) -> KeyPair:
    """A serving certificate for ``names`` (DNS names or IP addresses) signed by ``ca``."""
    key, pem = _key()
    ca_cert = ca.cert
    ca_key = serialization.load_pem_private_key(ca.key, None)
    assert isinstance(ca_key, ec.EllipticCurvePrivateKey)
    ends = min(now + lifetime, ca_cert.not_valid_after_utc)
    cert = (x509.CertificateBuilder().subject_name(_name(names[0]))
            .issuer_name(ca_cert.subject).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - BACKDATE).not_valid_after(ends)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(_usage(ca=False), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]),
                           critical=False)
            .add_extension(x509.SubjectAlternativeName(_subject_names(names)), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(
                ca_key.public_key()), critical=False)
            .sign(ca_key, hashes.SHA256()))
    return KeyPair(cert.public_bytes(serialization.Encoding.PEM), pem)


def split_bundle(bundle: bytes) -> list[bytes]:
    """The PEM certificates of a bundle, in order."""
    parts = [p.strip() for p in bundle.split(_PEM_END)]
    return [p + b"\n" + _PEM_END + b"\n" for p in parts if p]


def expires(certificate: bytes) -> datetime:
    return x509.load_pem_x509_certificate(certificate).not_valid_after_utc


def renew_before(lifetime: timedelta) -> timedelta:
    return min(lifetime / 3, MAX_RENEW_BEFORE)


def due(certificate: bytes, now: datetime) -> bool:
    """Whether a certificate should be renewed (or has expired)."""
    cert = x509.load_pem_x509_certificate(certificate)
    lifetime = cert.not_valid_after_utc - cert.not_valid_before_utc - BACKDATE
    return cert.not_valid_after_utc - now <= renew_before(max(lifetime, timedelta(0)))


def expired(certificate: bytes, now: datetime) -> bool:
    return expires(certificate) <= now


def names_of(certificate: bytes) -> set[str]:
    cert = x509.load_pem_x509_certificate(certificate)
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return set()
    return {str(n) for n in san.get_values_for_type(x509.DNSName)} | \
        {str(n) for n in san.get_values_for_type(x509.IPAddress)}


def covers(certificate: bytes, names: Iterable[str]) -> bool:
    return set(names) <= names_of(certificate)


def issued_by(certificate: bytes, ca: bytes) -> bool:
    """Whether ``ca`` signed ``certificate``."""
    try:
        x509.load_pem_x509_certificate(certificate).verify_directly_issued_by(
            x509.load_pem_x509_certificate(ca))
    except (ValueError, TypeError, InvalidSignature):
        return False
    return True


def matches(pair: KeyPair) -> bool:
    """Whether the key belongs to the certificate."""
    try:
        key = serialization.load_pem_private_key(pair.key, None)
        cert_key = pair.cert.public_key()
    except (ValueError, TypeError):
        return False
    spki = serialization.PublicFormat.SubjectPublicKeyInfo
    return key.public_key().public_bytes(serialization.Encoding.PEM, spki) == \
        cert_key.public_bytes(serialization.Encoding.PEM, spki)

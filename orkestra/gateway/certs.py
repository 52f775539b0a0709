"""The gateway's X.509: a CA of its own, serving certificates it signs, and checks on both
(issued with :mod:`orkestra.pki`, as the embedded API server's are). A certificate is *due*
once less than a third of its lifetime (at most 30 days) remains: the rotation loop
renews it then, well before a client could see it expired. A CA bundle is one or more
PEM certificates; during a CA rotation it holds the new CA and the old one.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from orkestra import pki
from orkestra.pki import BACKDATE, KeyPair, issued_by
from orkestra.pki import certificate_names as names_of

MAX_RENEW_BEFORE = timedelta(days=30)
CA_NAME = "orkestra-gateway-ca"
_PEM_END = b"-----END CERTIFICATE-----"


def new_ca(now: datetime, lifetime: timedelta, common_name: str = CA_NAME) -> KeyPair:
    return pki.new_ca(common_name, now, lifetime)


def new_serving(ca: KeyPair, names: Sequence[str], now: datetime, lifetime: timedelta) -> KeyPair:
    """A serving certificate for ``names`` (DNS names or IP addresses) signed by ``ca``."""
    return pki.new_serving(ca, names, names[0], now, lifetime)


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


def covers(certificate: bytes, names: Iterable[str]) -> bool:
    return set(names) <= names_of(certificate)


def matches(pair: KeyPair) -> bool:
    """Whether the key belongs to the certificate."""
    try:
        key = serialization.load_pem_private_key(pair.key, None)
        cert_key = pair.cert.public_key()
    except (ValueError, TypeError):
        return False
    spki = serialization.PublicFormat.SubjectPublicKeyInfo
    return key.public_key().public_bytes(serialization.Encoding.PEM, spki) == cert_key.public_bytes(
        serialization.Encoding.PEM, spki
    )


__all__ = [
    "BACKDATE",
    "CA_NAME",
    "KeyPair",
    "covers",
    "due",
    "expired",
    "expires",
    "issued_by",
    "matches",
    "names_of",
    "new_ca",
    "new_serving",
    "renew_before",
    "split_bundle",
]

"""Certificates: issuing, renewal, CA rotation, sharing through a Secret, given ones."""

from __future__ import annotations

import asyncio
import base64
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from orkestra.gateway import certs
from orkestra.gateway.sources import (
    CertificateError,
    FileCerts,
    GeneratedCerts,
    Material,
    SecretCerts,
)
from tests.gateway.conftest import NAMES, FakeKube

NOW = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)
DAY = timedelta(days=1)


def refresh(source: GeneratedCerts | FileCerts | SecretCerts, now: datetime) -> Material:
    return asyncio.run(source.refresh(now))


def test_a_serving_certificate_chains_to_its_ca() -> None:
    ca = certs.new_ca(NOW, 3650 * DAY)
    serving = certs.new_serving(ca, NAMES, NOW, 365 * DAY)
    assert certs.issued_by(serving.certificate, ca.certificate)
    assert not certs.issued_by(ca.certificate, serving.certificate)
    assert certs.names_of(serving.certificate) == set(NAMES)
    assert certs.matches(serving) and certs.matches(ca)
    assert not certs.matches(certs.KeyPair(serving.certificate, ca.key))
    assert certs.expires(serving.certificate) == NOW + 365 * DAY


def test_a_serving_certificate_never_outlives_its_ca() -> None:
    ca = certs.new_ca(NOW, 10 * DAY)
    serving = certs.new_serving(ca, NAMES, NOW, 365 * DAY)
    assert certs.expires(serving.certificate) == certs.expires(ca.certificate)


def test_due_a_third_before_expiry_at_most_thirty_days() -> None:
    short = certs.new_serving(certs.new_ca(NOW, 3650 * DAY), NAMES, NOW, timedelta(seconds=30))
    assert not certs.due(short.certificate, NOW + timedelta(seconds=19))
    assert certs.due(short.certificate, NOW + timedelta(seconds=21))
    long = certs.new_serving(certs.new_ca(NOW, 3650 * DAY), NAMES, NOW, 365 * DAY)
    assert not certs.due(long.certificate, NOW + 334 * DAY)
    assert certs.due(long.certificate, NOW + 336 * DAY)
    assert certs.expired(long.certificate, NOW + 366 * DAY)


def test_split_bundle() -> None:
    one, two = certs.new_ca(NOW, DAY), certs.new_ca(NOW, DAY)
    assert certs.split_bundle(one.certificate + two.certificate) == [
        one.certificate,
        two.certificate,
    ]


def test_generated_certificates_renew_with_the_same_ca() -> None:
    source = GeneratedCerts(NAMES, lifetime=30 * DAY)
    first = refresh(source, NOW)
    assert refresh(source, NOW + DAY) == first
    renewed = refresh(source, NOW + 21 * DAY)
    assert renewed.serving != first.serving
    assert renewed.ca_bundle == first.ca_bundle  # the webhooks need no update
    assert certs.issued_by(renewed.serving.certificate, first.ca_bundle)


def test_an_expired_certificate_is_replaced_at_once() -> None:
    source = GeneratedCerts(NAMES, lifetime=30 * DAY)
    first = refresh(source, NOW)
    late = NOW + 45 * DAY
    renewed = refresh(source, late)
    assert not certs.expired(renewed.serving.certificate, late)
    assert renewed.serving != first.serving


def test_a_ca_rotation_keeps_the_old_ca_trusted_then_switches() -> None:
    source = GeneratedCerts(NAMES, lifetime=30 * DAY, ca_lifetime=90 * DAY)
    first = refresh(source, NOW)
    old_ca = first.ca_bundle
    # Day 60 and a half: the CA is due (less than 30 days left); the serving certificate,
    # renewed on days 21 and 41, is not (10.5 of its 30 days left).
    for day in (21, 41):
        refresh(source, NOW + day * DAY)
    before = refresh(source, NOW + 50 * DAY)
    rotated = refresh(source, NOW + 60.5 * DAY)
    bundle = certs.split_bundle(rotated.ca_bundle)
    assert len(bundle) == 2 and bundle[1] == old_ca
    assert rotated.serving == before.serving  # still the old CA's, until the bundle spread
    switched = refresh(source, NOW + 60.5 * DAY + timedelta(seconds=30))
    assert switched.ca_bundle == rotated.ca_bundle
    assert certs.issued_by(switched.serving.certificate, bundle[0])


def test_names_changed_means_a_new_certificate() -> None:
    source = GeneratedCerts(NAMES)
    first = refresh(source, NOW)
    source.names = [*NAMES, "gw.example.com"]
    assert "gw.example.com" in certs.names_of(refresh(source, NOW).serving.certificate)
    assert refresh(source, NOW).ca_bundle == first.ca_bundle


def secret_data(kube: FakeKube, name: str = "orkestra-gateway-certs") -> dict[str, bytes]:
    stored = kube.objects[("Secret", "orkestra-system", name)]
    return {k: base64.b64decode(v) for k, v in stored["data"].items()}


def generated(kube: FakeKube, **kwargs: timedelta) -> GeneratedCerts:
    return GeneratedCerts(
        NAMES, store=kube, secret="orkestra-gateway-certs", namespace="orkestra-system", **kwargs
    )


def test_replicas_share_the_certificates_through_the_secret() -> None:
    kube = FakeKube()
    first = refresh(generated(kube), NOW)
    data = secret_data(kube)
    assert data["tls.crt"] == first.serving.certificate
    assert data["ca.crt"] == first.ca_bundle
    assert (
        kube.objects[("Secret", "orkestra-system", "orkestra-gateway-certs")]["type"]
        == "kubernetes.io/tls"
    )
    second = refresh(generated(kube), NOW + DAY)  # another replica, or a restart
    assert second == first


def test_a_replica_adopts_a_renewal_made_elsewhere() -> None:
    kube = FakeKube()
    one, two = generated(kube, lifetime=30 * DAY), generated(kube, lifetime=30 * DAY)
    start = refresh(one, NOW)
    assert refresh(two, NOW) == start
    renewed = refresh(one, NOW + 21 * DAY)
    assert renewed != start
    assert refresh(two, NOW + 21 * DAY) == renewed


def test_concurrent_renewals_settle_on_one() -> None:
    kube = FakeKube()
    one, two = generated(kube, lifetime=30 * DAY), generated(kube, lifetime=30 * DAY)
    refresh(one, NOW)
    refresh(two, NOW)
    later = NOW + 21 * DAY

    async def both() -> tuple[Material, Material]:
        a, b = await asyncio.gather(one.refresh(later), two.refresh(later))
        return a, b

    a, b = asyncio.run(both())
    assert a == b
    assert secret_data(kube)["tls.crt"] == a.serving.certificate


def test_an_expired_secret_is_renewed_at_start() -> None:
    kube = FakeKube()
    old = refresh(generated(kube, lifetime=DAY), NOW - 10 * DAY)
    assert certs.expired(secret_data(kube)["tls.crt"], NOW)
    fresh = refresh(generated(kube, lifetime=DAY), NOW)
    assert not certs.expired(fresh.serving.certificate, NOW)
    assert fresh.ca_bundle == old.ca_bundle  # the CA itself is still good
    assert secret_data(kube)["tls.crt"] == fresh.serving.certificate


def test_garbage_in_the_secret_is_replaced() -> None:
    kube = FakeKube()
    asyncio.run(
        kube.create(
            {
                "apiVersion": "v1",
                "kind": "Secret",
                "metadata": {"name": "orkestra-gateway-certs", "namespace": "orkestra-system"},
                "data": {
                    "tls.crt": "bm9wZQ==",
                    "tls.key": "bm9wZQ==",
                    "ca.crt": "bm9wZQ==",
                    "ca.key": "bm9wZQ==",
                },
            }
        )
    )
    material = refresh(generated(kube), NOW)
    assert certs.matches(material.serving)
    assert secret_data(kube)["tls.crt"] == material.serving.certificate


def _files(tmp_path: Path, lifetime: timedelta = 30 * DAY) -> tuple[Path, Path]:
    ca = certs.new_ca(NOW, 3650 * DAY)
    serving = certs.new_serving(ca, NAMES, NOW, lifetime)
    (tmp_path / "tls.crt").write_bytes(serving.certificate)
    (tmp_path / "tls.key").write_bytes(serving.key)
    (tmp_path / "ca.crt").write_bytes(ca.certificate)
    return tmp_path / "tls.crt", tmp_path / "tls.key"


def test_files_are_followed(tmp_path: Path) -> None:
    cert, key = _files(tmp_path)
    source = FileCerts(cert, key, tmp_path / "ca.crt")
    first = refresh(source, NOW)
    assert first.ca_bundle == (tmp_path / "ca.crt").read_bytes()
    assert refresh(source, NOW) is first
    _files(tmp_path)  # cert-manager renewed them
    assert refresh(source, NOW) != first
    key.write_text("broken")
    assert refresh(source, NOW).serving.key != b"broken"  # the last good one stays
    assert FileCerts(cert, cert).paths[2] is None
    with pytest.raises(CertificateError):
        refresh(FileCerts(cert, key), NOW)
    with pytest.raises(CertificateError):
        refresh(FileCerts(tmp_path / "missing", key), NOW)


def test_a_given_secret_is_served_and_followed(tmp_path: Path) -> None:
    kube = FakeKube()
    cert, key = _files(tmp_path)

    def store() -> None:
        data = {"tls.crt": cert.read_bytes(), "tls.key": key.read_bytes()}
        obj = {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {"name": "webhook-tls", "namespace": "orkestra-system"},
            "data": {k: base64.b64encode(v).decode() for k, v in data.items()},
        }
        kube.objects.pop(("Secret", "orkestra-system", "webhook-tls"), None)
        asyncio.run(kube.create(obj))

    store()
    source = SecretCerts(kube, "webhook-tls", "orkestra-system")
    first = refresh(source, NOW)
    assert first.ca_bundle == cert.read_bytes()  # no ca.crt: the certificate is the bundle
    _files(tmp_path)
    store()
    assert refresh(source, NOW) != first
    with pytest.raises(CertificateError, match=r"has no tls\.crt"):
        refresh(SecretCerts(kube, "missing", "orkestra-system"), NOW)

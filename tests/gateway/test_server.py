"""The gateway over HTTPS: the three webhooks, bad bodies, health, metrics, and a
certificate rotation while a client keeps calling."""

from __future__ import annotations

import base64
import http.client
import json
import threading
import time
from collections.abc import Iterator
from datetime import timedelta

import jsonpatch
import pytest
from cryptography import x509

from orkestra.gateway import Gateway, GeneratedCerts, Options, Targets
from orkestra.gateway.decide import PROTECTED
from tests.gateway.conftest import (
    NAMES,
    Client,
    LoopThread,
    denied_cr,
    good_cr,
    review,
    serving,
)


def options(**changes: object) -> Options:
    base = Options(host="127.0.0.1", port=0, http_port=0, manage_webhooks=False)
    for key, value in changes.items():
        setattr(base, key, value)
    return base


@pytest.fixture
def gateway(targets: Targets, loop_thread: LoopThread) -> Iterator[Gateway]:
    with serving(Gateway(targets, GeneratedCerts(NAMES), options()), loop_thread) as running:
        yield running


def client_of(gateway: Gateway) -> Client:
    assert gateway.material is not None
    return Client(gateway.port, gateway.material.ca_bundle)


def get(port: int, path: str) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request("GET", path)
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def test_validate_over_https(gateway: Gateway) -> None:
    client = client_of(gateway)
    body = review(denied_cr())
    answer = client.review("/validate", body)
    assert answer["uid"] == body["request"]["uid"]
    assert answer["allowed"] is False
    assert answer["status"]["code"] == 403
    assert answer["status"]["message"].startswith(
        '[Orkestra Validation] validation failed: field "spec.image": image must be pulled '
        "from the internal registry"
    )
    assert answer["warnings"] == [
        '[Orkestra Validation] validation warning: field "metadata.labels.team": set the '
        'team label so the platform team knows who owns this (got "")'
    ]


def test_a_good_cr_is_allowed(gateway: Gateway) -> None:
    body = review(good_cr())
    answer = client_of(gateway).review("/validate", body)
    assert answer == {"uid": body["request"]["uid"], "allowed": True}


def test_mutate_over_https(gateway: Gateway) -> None:
    cr = good_cr()
    del cr["spec"]["replicas"]
    answer = client_of(gateway).review("/mutate", review(cr))
    assert answer["allowed"] is True and answer["patchType"] == "JSONPatch"
    patch = json.loads(base64.b64decode(answer["patch"]))
    assert jsonpatch.apply_patch(cr, patch)["spec"]["replicas"] == 1


def test_protect_over_https(gateway: Gateway) -> None:
    answer = client_of(gateway).review("/protect", review(None, operation="DELETE", old=good_cr()))
    assert answer["allowed"] is False
    assert answer["status"] == {"code": 403, "message": PROTECTED}


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"{",
        b"null",
        b'{"kind": "AdmissionReview"}',
        b"\x00\xff" * 50,
        json.dumps(
            {
                "apiVersion": "admission.k8s.io/v1",
                "kind": "AdmissionReview",
                "request": {"uid": "1", "operation": "CREATE"},
            }
        ).encode(),
        b"[" * 200_000,
    ],
)
def test_malformed_bodies_get_400_and_the_server_goes_on(gateway: Gateway, body: bytes) -> None:
    client = client_of(gateway)
    for path in ("/validate", "/mutate", "/protect"):
        status, answer, _ = client.post(path, body)
        assert status == 400
        assert "error" in answer
    assert client.review("/validate", review(good_cr()))["allowed"] is True
    status, metrics = get(gateway.http_port, "/metrics")
    assert b'result="bad_request"' in metrics


def test_health_ready_and_metrics(gateway: Gateway) -> None:
    assert get(gateway.http_port, "/health") == (200, b'{"status": "ok"}')
    assert get(gateway.http_port, "/ready")[0] == 200
    client_of(gateway).review("/validate", review(denied_cr()))
    status, metrics = get(gateway.http_port, "/metrics")
    assert status == 200
    text = metrics.decode()
    assert (
        'orkestra_gateway_admission_requests_total{operation="CREATE",result="denied",'
        'webhook="validate"} 1.0' in text
    )
    assert "orkestra_gateway_certificate_expiry_timestamp_seconds" in text


def test_not_ready_before_start(targets: Targets) -> None:
    gateway = Gateway(targets, GeneratedCerts(NAMES), options())
    assert not gateway.ready


def test_unknown_paths_and_methods(gateway: Gateway) -> None:
    client = client_of(gateway)
    assert client.post("/convert", review(good_cr()))[0] == 404
    conn = client.connect()
    try:
        conn.request("GET", "/validate")
        assert conn.getresponse().status == 405
    finally:
        conn.close()


def serial(der: bytes) -> int:
    return x509.load_der_x509_certificate(der).serial_number


def test_an_expiring_certificate_is_rotated_without_a_failed_request(
    targets: Targets, loop_thread: LoopThread
) -> None:
    """Serving certificates live three seconds; a client hammers the gateway with new
    connections (each handshake checks the certificate's validity) and with one kept-alive
    connection, through several rotations: no request fails."""
    source = GeneratedCerts(NAMES, lifetime=timedelta(seconds=3))
    gateway = Gateway(targets, source, options(check_interval=0.1))
    failures: list[str] = []
    serials: set[int] = set()
    done = threading.Event()
    count = [0, 0]

    def hammer(client: Client, keep: bool, slot: int) -> None:
        connection = client.connect() if keep else None
        body = review(denied_cr())
        while not done.is_set():
            try:
                status, answer, der = client.post("/validate", body, connection)
                if status != 200 or answer["response"]["allowed"] is not False:
                    failures.append(f"{status} {answer}")
                serials.add(serial(der))
                count[slot] += 1
            except (OSError, http.client.HTTPException) as exc:
                failures.append(repr(exc))
                if connection is not None:
                    connection.close()
                    connection = client.connect()
        if connection is not None:
            connection.close()

    with serving(gateway, loop_thread):
        client = client_of(gateway)
        threads = [
            threading.Thread(target=hammer, args=(client, keep, i))
            for i, keep in enumerate((False, True))
        ]
        for thread in threads:
            thread.start()
        time.sleep(7)
        done.set()
        for thread in threads:
            thread.join(10)
        rotations = gateway.metrics.registry.get_sample_value(
            "orkestra_gateway_certificate_rotations_total"
        )
    assert failures == []
    assert count[0] > 50 and count[1] > 50
    # the first certificate expired three seconds in; every later one was served in time
    assert rotations is not None and rotations >= 2
    assert len(serials) >= 3

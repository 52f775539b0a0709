"""The gateway's Prometheus metrics, in a registry of their own (two gateways may share a
process in tests): admission requests by webhook, operation and result, their duration,
the serving certificate's expiry, rotations, and failed webhook-configuration syncs."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0)


class GatewayMetrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.requests = Counter(
            "orkestra_gateway_admission_requests",
            "Admission requests by "
            "webhook, operation and result (allowed, denied, "
            "bad_request, error).",
            ["webhook", "operation", "result"],
            registry=r,
        )
        self.duration = Histogram(
            "orkestra_gateway_admission_duration_seconds",
            "Time spent answering one admission request.",
            ["webhook"],
            buckets=BUCKETS,
            registry=r,
        )
        self.warnings = Counter(
            "orkestra_gateway_admission_warnings", "Warnings returned.", ["webhook"], registry=r
        )
        self.cert_expiry = Gauge(
            "orkestra_gateway_certificate_expiry_timestamp_seconds",
            "When the serving certificate expires (Unix time).",
            registry=r,
        )
        self.rotations = Counter(
            "orkestra_gateway_certificate_rotations",
            "Serving certificates switched to (after the first).",
            registry=r,
        )
        self.sync_errors = Counter(
            "orkestra_gateway_maintenance_errors",
            "Failed certificate refreshes and webhook-configuration syncs.",
            registry=r,
        )

    def render(self) -> bytes:
        return generate_latest(self.registry)

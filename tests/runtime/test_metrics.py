"""The runtime's metrics: kept as plain numbers, rendered by prometheus-client when read."""

from __future__ import annotations

import subprocess
import sys
import threading

import pytest
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

from orkestra.runtime.metrics import BUCKETS, RuntimeMetrics

OBSERVED = (0.0004, 0.001, 0.005, 0.0051, 0.3, 10.0, 11.0)  # bounds included, and past all


def samples(text: bytes) -> set[str]:
    """The sample lines of an exposition (no comments, no optional ``_created`` series)."""
    lines = text.decode().splitlines()
    return {line for line in lines if not line.startswith("#") and "_created" not in line}


def test_the_exposition_is_what_prometheus_client_writes_for_the_same_numbers() -> None:
    ours = RuntimeMetrics()
    ours.reconciles.labels("webapp", "success").inc()
    ours.reconciles.labels("webapp", "success").inc(2)
    ours.queue_depth.labels("webapp").set_function(lambda: 7)
    ours.leader.set(1)
    for seconds in OBSERVED:
        ours.duration.distribution("webapp").observe(seconds)

    theirs = CollectorRegistry()
    reconciles = Counter("orkestra_reconcile", "x", ["crd", "result"], registry=theirs)
    reconciles.labels("webapp", "success").inc(3)
    Gauge("orkestra_queue_depth", "x", ["crd"], registry=theirs).labels("webapp").set(7)
    Gauge("orkestra_leader", "x", registry=theirs).set(1)
    duration = Histogram(
        "orkestra_reconcile_duration_seconds", "x", ["crd"], buckets=BUCKETS, registry=theirs
    )
    for seconds in OBSERVED:
        duration.labels("webapp").observe(seconds)

    rendered = samples(ours.render())
    assert samples(generate_latest(theirs)) <= rendered
    assert 'orkestra_reconcile_duration_seconds_bucket{crd="webapp",le="+Inf"} 7.0' in rendered
    assert (
        ours.registry.get_sample_value(
            "orkestra_reconcile_total",
            {
                "crd": "webapp",
                "result": "success",
            },
        )
        == 3
    )


def test_increments_from_many_threads_all_count() -> None:
    metrics = RuntimeMetrics()
    series = metrics.writes.labels("webapp", "create")

    def bump() -> None:
        for _ in range(20_000):
            series.inc()

    threads = [threading.Thread(target=bump) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert series.get() == 80_000


def test_a_series_needs_every_label_and_a_histogram_is_observed_not_counted() -> None:
    metrics = RuntimeMetrics()
    with pytest.raises(ValueError, match=r"has the labels \('crd', 'verb'\)"):
        metrics.writes.labels("webapp")
    with pytest.raises(AssertionError, match="is a histogram"):
        metrics.duration.labels("webapp")


def test_prometheus_client_is_imported_only_when_the_metrics_are_read() -> None:
    script = (
        "import sys\n"
        "from orkestra.runtime.metrics import RuntimeMetrics\n"
        "metrics = RuntimeMetrics()\n"
        "metrics.reconciles.labels('a', 'success').inc()\n"
        "print('prometheus_client' in sys.modules)\n"
        "metrics.render()\n"
        "print('prometheus_client' in sys.modules)\n"
    )
    shown = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    ).stdout.split()
    assert shown == ["False", "True"]

"""The runtime's Prometheus metrics, in a registry of their own (so two runtimes can share a
process in tests), rendered as the text format ``/metrics`` serves.

Per CRD: reconciles by result, reconcile errors, a reconcile-duration histogram, writes by
verb, conflicts (409s that sent a key back for a fresh read), queue depth, keys in
backoff, keys ``queue.behaviour`` dropped (by rule) and events or items a ``preReconcile``
gate held back (by gate). Per resource type: watch events by type, relists, objects in the
cache. Plus whether this process is the leader.

The numbers are kept here, each series a value under a lock of its own, and prometheus-client
is handed them only when they are read, through a custom collector (the library's way of
exposing numbers kept elsewhere), which it renders as usual. Importing prometheus_client
costs ~20 ms (its package imports its HTTP servers with ``urllib``, ``email`` and
``platform``; ``ork run`` takes 0.22-0.25 s of CPU to its first reconcile, see
benchmarks/RESULTS.md), paid here, at the first scrape, only by a runtime that is
scraped. Counters export ``NAME_total`` without the optional ``NAME_created`` series.
"""

from __future__ import annotations

import threading
from bisect import bisect_left
from collections.abc import Callable, Iterator
from functools import cached_property
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from prometheus_client import CollectorRegistry
    from prometheus_client.metrics_core import Metric

BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
Kind = Literal["counter", "gauge", "histogram"]


class Value:
    """One series of a counter or a gauge."""

    __slots__ = ("_function", "_lock", "_value")

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._value = 0.0
        self._function: Callable[[], float] | None = None

    def inc(self, amount: float = 1.0) -> None:
        with self._lock:
            self._value += amount

    def set(self, value: float) -> None:
        self._value = float(value)

    def set_function(self, function: Callable[[], float]) -> None:
        """Read the gauge from ``function`` whenever it is collected."""
        self._function = function

    def get(self) -> float:
        return float(self._function()) if self._function is not None else self._value


class Distribution:
    """One series of a histogram: a count per bucket (the last one ``+Inf``) and the sum."""

    __slots__ = ("_lock", "counts", "sum")

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.counts = [0] * (len(BUCKETS) + 1)
        self.sum = 0.0

    def observe(self, amount: float) -> None:
        index = bisect_left(BUCKETS, amount)  # the first bucket whose bound holds it
        with self._lock:
            self.counts[index] += 1
            self.sum += amount

    def cumulative(self) -> tuple[list[int], float]:
        with self._lock:
            counts, total = list(self.counts), self.sum
        running, buckets = 0, []
        for count in counts:
            running += count
            buckets.append(running)
        return buckets, total


class Family:
    """A metric and its series, one per combination of label values."""

    def __init__(
        self, kind: Kind, name: str, documentation: str, labelnames: tuple[str, ...] = ()
    ) -> None:
        self.kind = kind
        self.name = name
        self.documentation = documentation
        self.labelnames = labelnames
        self._series: dict[tuple[str, ...], Value | Distribution] = {}
        self._lock = threading.Lock()

    def labels(self, *values: str) -> Value:
        series = self._child(values)
        assert isinstance(series, Value), f"{self.name} is a histogram"
        return series

    def distribution(self, *values: str) -> Distribution:
        series = self._child(values)
        assert isinstance(series, Distribution), f"{self.name} is no histogram"
        return series

    def set(self, value: float) -> None:
        """Set the one series of an unlabelled gauge."""
        self.labels().set(value)

    def _child(self, values: tuple[str, ...]) -> Value | Distribution:
        if len(values) != len(self.labelnames):
            raise ValueError(f"{self.name} has the labels {self.labelnames}, not {values}")
        series = self._series.get(values)
        if series is None:
            with self._lock:
                series = self._series.setdefault(
                    values, Distribution() if self.kind == "histogram" else Value()
                )
        return series

    def collect(self) -> list[Metric]:
        """The family as prometheus-client renders it."""
        from prometheus_client.metrics_core import (
            CounterMetricFamily,
            GaugeMetricFamily,
            HistogramMetricFamily,
        )

        labels = list(self.labelnames)
        with self._lock:
            series = list(self._series.items())
        if self.kind == "histogram":
            histogram = HistogramMetricFamily(self.name, self.documentation, labels=labels)
            bounds = [repr(b) for b in BUCKETS] + ["+Inf"]  # as the library writes these
            for values, child in series:
                assert isinstance(child, Distribution)
                counts, total = child.cumulative()
                histogram.add_metric(list(values), list(zip(bounds, counts, strict=True)), total)
            return [histogram]
        family_type = CounterMetricFamily if self.kind == "counter" else GaugeMetricFamily
        family = family_type(self.name, self.documentation, labels=labels)
        for values, child in series:
            assert isinstance(child, Value)
            family.add_metric(list(values), child.get())
        return [family]


class _Collector:
    def __init__(self, families: list[Family]) -> None:
        self.families = families

    def collect(self) -> Iterator[Metric]:
        for family in self.families:
            yield from family.collect()


class RuntimeMetrics:
    def __init__(self) -> None:
        self.reconciles = Family(
            "counter",
            "orkestra_reconcile",
            "Reconciles by result (success, error, denied, retry).",
            ("crd", "result"),
        )
        self.errors = Family(
            "counter",
            "orkestra_reconcile_errors",
            "Reconciles that failed (errors and denials).",
            ("crd",),
        )
        self.duration = Family(
            "histogram",
            "orkestra_reconcile_duration_seconds",
            "Time spent in one reconcile.",
            ("crd",),
        )
        self.writes = Family(
            "counter",
            "orkestra_writes",
            "API writes by verb (create, update, status, delete).",
            ("crd", "verb"),
        )
        self.conflicts = Family(
            "counter",
            "orkestra_conflicts",
            "Writes refused for a stale read (409), retried after a fresh read.",
            ("crd",),
        )
        self.queue_depth = Family(
            "gauge", "orkestra_queue_depth", "Keys waiting for a worker.", ("crd",)
        )
        self.queue_delayed = Family(
            "gauge",
            "orkestra_queue_delayed",
            "Keys waiting for their backoff or requeue delay.",
            ("crd",),
        )
        self.dropped = Family(
            "counter",
            "orkestra_queue_dropped",
            "Keys not queued because the queue was full (queue.behaviour: onLimit, onThreshold).",
            ("crd", "rule"),
        )
        self.gated = Family(
            "counter",
            "orkestra_gated",
            "Events and queue items a preReconcile or watch gate held back.",
            ("crd", "gate"),
        )
        self.watch_events = Family(
            "counter", "orkestra_watch_events", "Watch events received.", ("resource", "type")
        )
        self.relists = Family(
            "counter",
            "orkestra_relists",
            "Full lists (start, expired watches).",
            ("resource",),
        )
        self.cache_objects = Family(
            "gauge", "orkestra_cache_objects", "Objects in the informer cache.", ("resource",)
        )
        self.leader = Family(
            "gauge",
            "orkestra_leader",
            "1 while this process holds the lease (or runs without leader election).",
        )

    @cached_property
    def registry(self) -> CollectorRegistry:
        """A prometheus-client registry of every metric, created at its first use."""
        from prometheus_client import CollectorRegistry

        registry = CollectorRegistry(auto_describe=False)
        registry.register(_Collector([v for v in vars(self).values() if isinstance(v, Family)]))
        return registry

    def render(self) -> bytes:
        """The Prometheus text exposition of every metric."""
        from prometheus_client import generate_latest

        return generate_latest(self.registry)

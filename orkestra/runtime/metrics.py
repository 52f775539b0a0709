"""The runtime's Prometheus metrics, in a registry of their own (so two runtimes can share a
process in tests), rendered as the text format ``/metrics`` serves.

Per CRD: reconciles by result, reconcile errors, a reconcile-duration histogram, writes by
verb, conflicts (409s that sent a key back for a fresh read), queue depth, keys in
backoff, keys ``queue.behaviour`` dropped (by rule) and events or items a ``preReconcile``
gate held back (by gate). Per resource type: watch events by type, relists, objects in the
cache. Plus whether this process is the leader.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class RuntimeMetrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.reconciles = Counter(
            "orkestra_reconcile",
            "Reconciles by result (success, error, denied, retry).",
            ["crd", "result"],
            registry=r,
        )
        self.errors = Counter(
            "orkestra_reconcile_errors",
            "Reconciles that failed (errors and denials).",
            ["crd"],
            registry=r,
        )
        self.duration = Histogram(
            "orkestra_reconcile_duration_seconds",
            "Time spent in one reconcile.",
            ["crd"],
            buckets=BUCKETS,
            registry=r,
        )
        self.writes = Counter(
            "orkestra_writes",
            "API writes by verb (create, update, status, delete).",
            ["crd", "verb"],
            registry=r,
        )
        self.conflicts = Counter(
            "orkestra_conflicts",
            "Writes refused for a stale read (409), retried after a fresh read.",
            ["crd"],
            registry=r,
        )
        self.queue_depth = Gauge(
            "orkestra_queue_depth", "Keys waiting for a worker.", ["crd"], registry=r
        )
        self.queue_delayed = Gauge(
            "orkestra_queue_delayed",
            "Keys waiting for their backoff or requeue delay.",
            ["crd"],
            registry=r,
        )
        self.dropped = Counter(
            "orkestra_queue_dropped",
            "Keys not queued because the queue was full (queue.behaviour: onLimit, onThreshold).",
            ["crd", "rule"],
            registry=r,
        )
        self.gated = Counter(
            "orkestra_gated",
            "Events and queue items a preReconcile or watch gate held back.",
            ["crd", "gate"],
            registry=r,
        )
        self.watch_events = Counter(
            "orkestra_watch_events", "Watch events received.", ["resource", "type"], registry=r
        )
        self.relists = Counter(
            "orkestra_relists", "Full lists (start, expired watches).", ["resource"], registry=r
        )
        self.cache_objects = Gauge(
            "orkestra_cache_objects", "Objects in the informer cache.", ["resource"], registry=r
        )
        self.leader = Gauge(
            "orkestra_leader",
            "1 while this process holds the lease (or runs without leader election).",
            registry=r,
        )

    def render(self) -> bytes:
        """The Prometheus text exposition of every metric."""
        return generate_latest(self.registry)

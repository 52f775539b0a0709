"""The controller of one CRD: its informers, its work queue and its workers.

Start-up waits until the CRD is established (or, for a built-in kind, served), then starts
an informer for the CRs and one for each child kind the katalog declares, and starts the
workers only once all of them have listed, so a worker never mistakes an empty cache for
missing children. CR events enqueue the CR; child events enqueue the owner (its controller
ownerReference, or the ``orkestra.io/owner`` label of cluster-scoped and cross-namespace
children), which corrects drift; events of the kinds ``observe.watch`` lists enqueue the CRs
their entries resolve (:mod:`~orkestra.runtime.watches`).

Every event goes through one enqueue path (:mod:`~orkestra.runtime.gates`): a CR update
must pass ``preReconcile.enqueueGate`` and a watched object's event its entry's
``enqueueGate``, each seeing the sentinels of that update; then ``queue.behaviour`` may drop
a key the queue does not hold yet (counted by ``orkestra_queue_dropped``). A key that waits
already absorbs the event, and the item keeps the latest event's sentinels; with
``reconcileGate.eventAware`` each event is an item of its own instead (the CR's items are
still handed out one at a time, in order). A worker takes an item, evaluates
``preReconcile.reconcileGate`` on the CR as cached with that item's sentinels (held back:
counted by ``orkestra_gated``, nothing else happens), and reconciles the current CR.

Each worker is a task of the event loop that owns a :class:`CachedCluster` and a
:class:`Reconciler` built exactly as simulate builds it; the synchronous reconcile runs in a
greenlet of the loop's thread and its cluster calls wait on the loop
(:mod:`orkestra.greenbridge`), so ``workers`` reconciles interleave at their waits with the
informers and with each other. A worker loops: take an item, reconcile, then

- success: forget its backoff; if the reconcile wrote anything, queue it again (with its
  sentinels, merged with those of any event that came meanwhile, so the reconcile gate
  admits it again), the way simulate runs another cycle, until a reconcile writes nothing
  (a key that keeps writing is slowed down by backoff). A reconcile whose only write was
  its CR's status is not run again when nothing the CRD declares reads that status
  (:mod:`~orkestra.engine.statusreads`): the next run would see what this one saw;
- reconcile error or validation denial: a Warning Event; errors retry with backoff, a denial
  waits for the CR to change (or the resync);
- :class:`Retry` (409, AlreadyExists, server unavailable): the cache was refreshed; retry
  with backoff (it starts at a few milliseconds).

A resync enqueues every CR each ``resync`` period (not an event: no sentinels, and one item
per CR even when event-aware). ``health()`` reports what
``/katalog/{crd}/health`` shows.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import threading
import time
from collections.abc import Hashable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal, TypedDict, cast

from orkestra.cluster.errors import NotFoundError, ServiceUnavailableError
from orkestra.engine.build import OWNER_LABEL, Owner, kind_type
from orkestra.engine.profiles import ProfileError
from orkestra.engine.reconcile import CycleResult, Reconciler, cr_type
from orkestra.errors import OrkError
from orkestra.greenbridge import run_sync
from orkestra.kubeobjects import KubeObject
from orkestra.model.shapes import ReconcileBlock
from orkestra.runtime.cache import CachedCluster, Retry
from orkestra.runtime.cross import CrossSources
from orkestra.runtime.events import EventRecorder
from orkestra.runtime.gates import (
    PreReconcile,
    QueueBehaviour,
    Sentinels,
    merged,
    sentinel_values,
)
from orkestra.runtime.informer import Informer, Informers
from orkestra.runtime.kube import KubeClient, Resource
from orkestra.runtime.logs import Extra, fields
from orkestra.runtime.metrics import RuntimeMetrics
from orkestra.runtime.pattern import Unit
from orkestra.runtime.queue import WorkQueue
from orkestra.runtime.store import Change, Key, Store, object_key
from orkestra.runtime.watches import Primary, WatchEntry, entries
from orkestra.units import DurationError, format_timestamp, parse_duration

CRDS = "/apis/apiextensions.k8s.io/v1/customresourcedefinitions"
NO_BEHAVIOUR = QueueBehaviour()
DEFAULT_WORKERS = 3
DEFAULT_RESYNC = "30s"
WRITE_STREAK = 8  # reconciles in a row that wrote before a key is slowed down
# the keys of a CRD's ``reconcile`` that override its reconciler profile
TUNED: tuple[Literal["workers", "resync", "queue"], ...] = ("workers", "resync", "queue")
log = logging.getLogger("orkestra.runtime.controller")


@dataclass(frozen=True, kw_only=True)
class Settings:
    """How a CRD's controller runs."""

    workers: int = DEFAULT_WORKERS
    resync: float = 30.0
    retry_base: float = 0.005
    failure_threshold: int | None = None
    behaviour: QueueBehaviour = NO_BEHAVIOUR

    @classmethod
    def of(
        cls, crd: str, unit: Unit, *, workers: int | None = None, resync: float | None = None
    ) -> Settings:
        """The CRD's ``reconcile`` tuning (over its reconciler profile), then the command
        line's overrides."""
        plan = (unit.composed.crds[crd].get("operatorBox") or {}).get("reconcile") or {}
        try:
            preset = unit.profiles.get("reconciler", plan["profile"]) if plan.get("profile") else {}
            # a reconciler profile has the keys of a reconcile block (the model checked both)
            tuning = cast(ReconcileBlock, {**preset, **{k: plan[k] for k in TUNED if k in plan}})
            queue = tuning.get("queue") or {}
            backoff = queue.get("retryBackoff")
            return cls(
                workers=workers or int(tuning.get("workers", DEFAULT_WORKERS)),
                resync=resync
                if resync is not None
                else parse_duration(str(tuning.get("resync", DEFAULT_RESYNC))),
                retry_base=parse_duration(str(backoff)) if backoff else cls.retry_base,
                failure_threshold=queue.get("failureThreshold"),
                behaviour=QueueBehaviour.of(queue),
            )
        except (ProfileError, DurationError) as exc:
            raise OrkError(f"CRD {crd}: {exc}", hint="fix operatorBox.reconcile") from None


class LastError(TypedDict):
    message: str
    namespace: str
    name: str
    time: str


class Stats(TypedDict):
    """A controller's reconcile counts."""

    reconciles: int
    errors: int
    consecutiveFailures: int
    lastError: LastError | None
    lastReconcile: str | None


class Health(Stats):
    """What ``/katalog/{crd}/health`` shows."""

    crd: str
    kind: str
    apiVersion: str
    started: bool
    workers: int
    resyncSeconds: float
    queueDepth: int
    delayed: int
    processing: int
    cached: int
    failureThreshold: int | None
    degraded: bool


@dataclass
class _Worker:
    cluster: CachedCluster
    reconciler: Reconciler


def cr_of(item: Hashable) -> Key:
    """The CR a queue item is about: the item itself, or the (namespace, name) of an
    event-aware item (namespace, name, event number)."""
    assert isinstance(item, tuple)
    return item if len(item) == 2 else item[:2]


class Controller:
    """Reconciles the CRs of one CRD entry."""

    def __init__(
        self,
        unit: Unit,
        crd: str,
        *,
        client: KubeClient,
        informers: Informers,
        metrics: RuntimeMetrics,
        recorder: EventRecorder,
        settings: Settings,
        cross: CrossSources | None = None,
        poll: float = 1.0,
    ) -> None:
        self.unit = unit
        self.cross = cross  # one per process: the workers share its cache
        self.crd = crd
        self.entry = unit.composed.crds[crd]
        self.client = client
        self.informers = informers
        self.recorder = recorder
        self.settings = settings
        self.poll = poll
        api = self.entry.get("apiTypes") or {}
        self.group = str(api.get("group", ""))
        self.api_version, self.kind = cr_type(self.entry)
        self.plural = str(api.get("plural") or "")
        self.namespaced = True
        self.pre = PreReconcile.of(self.entry)
        self.watches = entries(self.entry)
        self.renderer = unit.engines.renderer
        self.queue = WorkQueue(base_delay=settings.retry_base, group=cr_of)
        self.store = Store()
        self._events = itertools.count(1)
        self._sentinels: dict[Hashable, Sentinels] = {}  # by queued item: its event's values
        self.started = asyncio.Event()
        self.workers: list[asyncio.Task[None]] = []
        self.tasks: list[asyncio.Task[None]] = []
        self._owner_keys: dict[str, Key] = {}
        self._streaks: dict[Hashable, int] = {}  # by queued item
        self._lock = threading.Lock()
        self._stats: Stats = {
            "reconciles": 0,
            "errors": 0,
            "consecutiveFailures": 0,
            "lastError": None,
            "lastReconcile": None,
        }
        self._last_reconcile: float | None = None
        self._bind_metrics(metrics)

    def _bind_metrics(self, metrics: RuntimeMetrics) -> None:
        self._duration = metrics.duration.distribution(self.crd)
        self._results = {
            r: metrics.reconciles.labels(self.crd, r)
            for r in ("success", "error", "denied", "retry")
        }
        self._errors = metrics.errors.labels(self.crd)
        self._conflicts = metrics.conflicts.labels(self.crd)
        self._dropped = {
            r.name: metrics.dropped.labels(self.crd, r.name) for r in self.settings.behaviour.rules
        }
        self._gated = metrics.gated
        self._writes = {
            v: metrics.writes.labels(self.crd, v) for v in ("create", "update", "status", "delete")
        }
        metrics.queue_depth.labels(self.crd).set_function(self.queue.__len__)
        metrics.queue_delayed.labels(self.crd).set_function(lambda: self.queue.delayed)

    # -- start ------------------------------------------------------------------------
    async def start(self) -> None:
        """Wait for the CRD, fill the caches, then start the workers and the resync."""
        resource = await self._served()
        self.namespaced = resource.namespaced
        informer = self.informers.informer(resource)
        informer.subscribe(self._on_cr, origin=self)
        self.store = informer.store
        waiting = [informer]
        for api_version, kind in self.child_kinds():
            child = await self._child_informer(api_version, kind)
            if child is not None:
                child.subscribe(self._on_child, origin=self)
                waiting.append(child)
        for entry in self.watches:
            watched = await self._watch_informer(entry)
            if watched is not None:
                waiting.append(watched)
        self._warn_unsupported()
        await asyncio.gather(*(i.synced.wait() for i in waiting))
        loop = asyncio.get_running_loop()
        self.workers = [
            loop.create_task(self.work(), name=f"{self.crd}-worker-{number}")
            for number in range(self.settings.workers)
        ]
        if self.settings.resync > 0:
            self.tasks.append(asyncio.get_running_loop().create_task(self._resync()))
        self.started.set()
        log.info(
            "controller started",
            extra=fields(crd=self.crd, kind=self.kind, workers=self.settings.workers),
        )

    def child_kinds(self) -> list[tuple[str, str]]:
        """(apiVersion, kind) of every child kind the katalog declares (literal ones)."""
        keys, custom = self.unit.reconciler(
            self.crd, CachedCluster(self.client, self.informers)
        ).declared_kinds()
        kinds = [kind_type(k)[:2] for k in keys] + [c for c in custom if "{{" not in "".join(c)]
        return list(dict.fromkeys(kinds))

    async def _served(self) -> Resource:
        """The CR resource once its CRD is established (a built-in kind: once served)."""
        warned = False
        while True:
            try:
                if await self._established():
                    return await asyncio.to_thread(
                        self.client.resource, self.api_version, self.kind
                    )
            except (NotFoundError, ServiceUnavailableError):
                pass
            if not warned:
                log.warning(
                    "waiting for CRD %s.%s to be established",
                    self.plural,
                    self.group,
                    extra=fields(crd=self.crd),
                )
                warned = True
            await asyncio.sleep(self.poll)

    async def _established(self) -> bool:
        try:
            return await established(self.client, f"{CRDS}/{self.plural}.{self.group}")
        except NotFoundError:  # no CRD: a kind the server serves itself?
            await asyncio.to_thread(self.client.resource, self.api_version, self.kind)
            return True

    async def _child_informer(self, api_version: str, kind: str) -> Informer | None:
        try:
            resource = await asyncio.to_thread(self.client.resource, api_version, kind)
        except NotFoundError:
            log.warning(
                "%s %s is not served; reading it live",
                kind,
                api_version,
                extra=fields(crd=self.crd),
            )
            return None
        return self.informers.informer(resource)

    async def _watch_informer(self, entry: WatchEntry) -> Informer | None:
        try:
            resource = await asyncio.to_thread(self.client.resource, entry.api_version, entry.kind)
        except NotFoundError:
            log.warning(
                "watch of %s skipped: the kind is not served",
                entry.describe(),
                extra=fields(crd=self.crd),
            )
            return None
        informer = self.informers.watching(resource, entry.namespace)
        informer.subscribe(lambda change: self._on_watched(entry, informer, change), origin=self)
        return informer

    def _warn_unsupported(self) -> None:
        gates = [self.pre.enqueue, self.pre.reconcile, *(w.gate for w in self.watches)]
        for gate in gates:
            for warning in gate.warnings() if gate is not None else ():
                log.warning(warning, extra=fields(crd=self.crd))

    async def _resync(self) -> None:
        while True:
            await asyncio.sleep(self.settings.resync)
            for key in self.store.list_keys():
                self.offer(key, None, None, event=False)

    # -- events -----------------------------------------------------------------------
    def _on_cr(self, change: Change) -> None:
        key = object_key(change.obj)
        label = Owner.of(change.obj, self.crd).owner_label
        if change.type == "DELETED":
            self._owner_keys.pop(label, None)
        else:
            self._owner_keys[label] = key
        values = (
            sentinel_values(self.pre.sentinels, change.old, change.obj)
            if change.type == "MODIFIED"
            else None
        )
        gate = self.pre.enqueue
        # upstream gates updates only: a create or a deletion always enqueues
        if (
            gate is not None
            and change.type == "MODIFIED"
            and not gate.admits(change.obj, values, self.renderer)
        ):
            self._held(key, gate.name)
            return
        self.offer(key, change.obj, values)

    def _on_child(self, change: Change) -> None:
        for key in self.owners(change.obj):
            self.offer(key, change.obj, None)

    def _on_watched(self, entry: WatchEntry, informer: Informer, change: Change) -> None:
        if not informer.synced.is_set() or not entry.matches(change):
            return  # the first list is the starting state, not events
        values = (
            sentinel_values(entry.sentinels, change.old, change.obj)
            if change.type == "MODIFIED"
            else None
        )
        if entry.gate is not None and not entry.gate.admits(change.obj, values, self.renderer):
            self._held(object_key(change.obj), entry.gate.name)
            return
        primary = Primary(self.group, self.kind, self.namespaced, self.store.list_keys)
        for key in entry.keys(change.obj, primary):
            self.offer(key, change.obj, values)

    def offer(
        self, key: Key, obj: KubeObject | None, values: Sentinels | None, *, event: bool = True
    ) -> bool:
        """Queue ``key`` unless the queue behaviour drops it; ``obj`` is the event's object
        (None: the CR, read when a drop rule needs it), ``values`` its sentinels. An event
        is an item of its own when the reconcile gate is event-aware."""
        item: Hashable = (*key, next(self._events)) if event and self.pre.event_aware else key
        if self.settings.behaviour.rules and not self.queue.waiting(item):
            rule = self.settings.behaviour.dropping(
                len(self.queue),
                lambda: obj if obj is not None else self.store.get(key),
                self.renderer,
            )
            if rule is not None:
                self._dropped[rule].inc()
                log.warning(
                    "queue depth limit reached: item dropped",
                    extra=self._where(key, rule=rule, depth=len(self.queue)),
                )
                return False
        if values is not None:
            self._sentinels[item] = values
        self.queue.add(item)
        return True

    def _held(self, key: Key, gate: str) -> None:
        self._gated.labels(self.crd, gate).inc()
        if log.isEnabledFor(logging.DEBUG):
            log.debug("held back by %s", gate, extra=self._where(key))

    def owners(self, obj: KubeObject) -> list[Key]:
        """Keys of the CRs of this CRD that own ``obj``."""
        meta = obj["metadata"]
        keys = [
            (meta.get("namespace") or "", str(ref.get("name")))
            for ref in meta.get("ownerReferences") or []
            if ref.get("controller")
            and ref.get("kind") == self.kind
            and str(ref.get("apiVersion", "")).rpartition("/")[0] == self.group
        ]
        label = (meta.get("labels") or {}).get(OWNER_LABEL)
        labelled = self._owner_keys.get(label) if label else None
        if labelled is not None:
            keys.append(labelled)
        return keys

    # -- workers ----------------------------------------------------------------------
    async def work(self) -> None:
        """One worker: reconcile the keys the queue hands out until it shuts down. The
        reconcile (synchronous, the engine simulate runs) runs in a greenlet of the loop's
        thread, its cluster calls waiting on the loop (:mod:`orkestra.greenbridge`)."""
        cluster = CachedCluster(self.client, self.informers, self.cross, origin=self)
        worker = _Worker(cluster, self.unit.reconciler(self.crd, cluster))
        while (item := await self.queue.next()) is not None:
            try:
                await run_sync(self.process, worker, item)
            finally:
                self.queue.done(item)

    def process(self, worker: _Worker, item: Hashable) -> None:
        """Reconcile the CR of a queue item (a key, or an event-aware item)."""
        key = cr_of(item)
        values = self._sentinels.pop(item, None)
        gate = self.pre.reconcile
        if gate is not None:
            cr = self.store.get(key)  # gone: the reconcile finds nothing, as upstream
            if cr is not None and not gate.admits(cr, values, self.renderer):
                self.queue.forget(item)
                self._streaks.pop(item, None)
                self._held(key, gate.name)
                return
        namespace, name = key
        worker.cluster.begin()
        started = time.perf_counter()
        try:
            result = worker.reconciler.reconcile(name, namespace or None)
        except Retry as exc:
            outcome = self._retry(item, values, exc)
        except Exception as exc:  # an engine bug must not stop the worker
            log.exception("reconcile crashed", extra=self._where(key))
            outcome = self._failed(item, values, CycleResult(error=f"internal error: {exc}"))
        else:
            self._record(key, result)
            outcome = self._finish(item, values, result, self._unsettled(worker, key))
        elapsed = time.perf_counter() - started
        self._duration.observe(elapsed)
        self._results[outcome].inc()
        for write in worker.cluster.writes:
            self._writes[write.verb].inc()
        self._log(key, outcome, elapsed, len(worker.cluster.writes))

    def _unsettled(self, worker: _Worker, key: Key) -> bool:
        """Whether the reconcile wrote something a run at once could find differently: not
        when it wrote nothing, nor when it only wrote its CR's status and nothing the CRD
        declares reads that (:mod:`orkestra.engine.statusreads`)."""
        writes = worker.cluster.writes
        if not writes or worker.reconciler.reads_own_status:
            return bool(writes)
        namespace, name = key
        return any(
            (w.verb, w.resource, w.namespace, w.name) != ("status", self.plural, namespace, name)
            for w in writes
        )

    def _again(self, item: Hashable, values: Sentinels | None, *, backoff: bool) -> None:
        """Queue ``item`` again, at once or after its backoff, with its event's sentinels
        merged into those of an event that came meanwhile: an admitted item's next
        reconciles are not held back by a later event (such as the echo of the runtime's
        own write)."""
        if values is not None:
            newer = self._sentinels.get(item)
            self._sentinels[item] = values if newer is None else merged(values, newer)
        if backoff:
            self.queue.add_rate_limited(item)
        else:
            self.queue.add(item)

    def _record(self, key: Key, result: CycleResult) -> None:
        """The Events the hooks asked for."""
        cr = self.store.get(key) if result.events else None
        if cr is None:
            return
        for event in result.events:
            self.recorder.record(cr, event.type, event.reason, event.message)

    def _finish(
        self, item: Hashable, values: Sentinels | None, result: CycleResult, wrote: bool
    ) -> str:
        if not result.found:
            self.queue.forget(item)
            self._streaks.pop(item, None)
            return "success"
        if result.error is not None:
            return self._failed(item, values, result)
        self.queue.forget(item)
        with self._lock:
            self._stats["reconciles"] += 1
            self._stats["consecutiveFailures"] = 0
            self._last_reconcile = time.time()  # formatted when health() is read
        if wrote:
            streak = self._streaks.get(item, 0) + 1
            self._streaks[item] = streak
            self._again(item, values, backoff=streak >= WRITE_STREAK)
        else:
            self._streaks.pop(item, None)
        return "success"

    def _failed(self, item: Hashable, values: Sentinels | None, result: CycleResult) -> str:
        key = cr_of(item)
        message = result.error or "reconcile failed"
        with self._lock:
            self._stats["reconciles"] += 1
            self._stats["errors"] += 1
            self._stats["consecutiveFailures"] += 1
            self._stats["lastError"] = {
                "message": message,
                "namespace": key[0],
                "name": key[1],
                "time": _now(),
            }
        self._errors.inc()
        cr = self.store.get(key)
        if cr is not None:
            self.recorder.warning(
                cr, "ValidationFailed" if result.denied else "ReconcileError", message
            )
        if not result.denied:
            self._again(item, values, backoff=True)
        return "denied" if result.denied else "error"

    def _retry(self, item: Hashable, values: Sentinels | None, exc: Retry) -> str:
        if exc.conflict:
            self._conflicts.inc()
        self._again(item, values, backoff=True)
        if log.isEnabledFor(logging.DEBUG):
            log.debug("retrying: %s", exc, extra=self._where(cr_of(item)))
        return "retry"

    def _where(self, key: Key, **more: object) -> Extra:
        return fields(crd=self.crd, namespace=key[0], name=key[1], **more)

    def _log(self, key: Key, outcome: str, elapsed: float, writes: int) -> None:
        level = (
            logging.WARNING
            if outcome in ("error", "denied")
            else logging.INFO
            if writes
            else logging.DEBUG
        )
        if log.isEnabledFor(level):
            failed = outcome in ("error", "denied")
            last = self._stats["lastError"]
            error = last["message"] if failed and last is not None else None
            log.log(
                level,
                "reconciled" if outcome == "success" else f"reconcile {outcome}",
                extra=self._where(
                    key,
                    duration_ms=round(elapsed * 1000, 2),
                    writes=writes,
                    result=outcome,
                    **({"error": error} if failed else {}),
                ),
            )

    # -- control ----------------------------------------------------------------------
    def pause(self) -> None:
        self.queue.pause()

    def resume(self) -> None:
        self.queue.resume()

    def stop(self) -> None:
        """Hand out no more keys; running reconciles finish."""
        self.queue.shutdown()
        for task in self.tasks:
            task.cancel()

    async def join(self, deadline: float) -> bool:
        """Wait for the workers until ``deadline`` (monotonic); False if some were still in
        a reconcile then (those are cancelled)."""
        if not self.workers:
            return True
        timeout = max(0.0, deadline - time.monotonic())
        _, running = await asyncio.wait(self.workers, timeout=timeout)
        for task in running:
            task.cancel()
        await asyncio.gather(*running, return_exceptions=True)
        return not running

    @property
    def healthy(self) -> bool:
        return self.started.is_set() and self._stats["consecutiveFailures"] == 0

    def health(self) -> Health:
        with self._lock:
            stats = self._stats.copy()
            if self._last_reconcile is not None:
                stats["lastReconcile"] = format_timestamp(
                    datetime.fromtimestamp(self._last_reconcile, UTC)
                )
        threshold = self.settings.failure_threshold
        return {
            "crd": self.crd,
            "kind": self.kind,
            "apiVersion": self.api_version,
            "started": self.started.is_set(),
            "workers": self.settings.workers,
            "resyncSeconds": self.settings.resync,
            "queueDepth": len(self.queue),
            "delayed": self.queue.delayed,
            "processing": self.queue.processing,
            "cached": len(self.store),
            **stats,
            "failureThreshold": threshold,
            "degraded": threshold is not None and stats["consecutiveFailures"] >= threshold,
        }


async def established(client: KubeClient, path: str) -> bool:
    """Whether the CRD at ``path`` has condition Established=True (NotFoundError if none)."""
    crd = await client.arequest("GET", path)
    conditions = (crd.get("status") or {}).get("conditions") or []
    return any(c.get("type") == "Established" and c.get("status") == "True" for c in conditions)


def _now() -> str:
    return format_timestamp(datetime.now(UTC))

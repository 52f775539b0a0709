"""The operator runtime (``ork run``): reconciles CRs on a real API server with the engine
simulate uses.

Modules: :mod:`~orkestra.runtime.kube` (configuration and REST over dicts),
:mod:`~orkestra.runtime.store` and :mod:`~orkestra.runtime.informer` (list+watch caches),
:mod:`~orkestra.runtime.cache` (``CachedCluster``, the engine's ``ClusterAPI``),
:mod:`~orkestra.runtime.queue`, :mod:`~orkestra.runtime.controller` (one per CRD),
:mod:`~orkestra.runtime.gates` (``preReconcile`` gates, sentinels, ``queue.behaviour``),
:mod:`~orkestra.runtime.watches` (``observe.watch`` entries),
:mod:`~orkestra.runtime.leader`, :mod:`~orkestra.runtime.events`,
:mod:`~orkestra.runtime.metrics`, :mod:`~orkestra.runtime.http`,
:mod:`~orkestra.runtime.logs`, :mod:`~orkestra.runtime.pattern` (what runs) and
:mod:`~orkestra.runtime.operator` (assembly, ``run``). It never imports
:mod:`orkestra.apiserver`; ``ork run --dev`` wires the two in the CLI.

**Same engine as simulate.** Each CRD's workers build the :class:`Reconciler` exactly as
simulate does (the composed entry, ``Renderer(notes)``, ``Profiles(profiles)``, finalizers
from ``spec.finalizers``), over ``CachedCluster`` instead of ``MemoryCluster``. The engine
decides what to write (it compares before writing), so the runtime writes what simulate
predicts; after a reconcile that wrote, the key runs again, as simulate runs another cycle,
until a reconcile writes nothing, unless its only write was its CR's status and nothing
the CRD declares can read that (:mod:`orkestra.engine.statusreads`): the run again would
see what this one saw. ``tests/runtime/test_differential.py`` checks that every pack
example and official pattern ends with the children and status simulate predicts.

**One thread: the event loop, with each reconcile in a greenlet.** One event loop (uvloop's
where installed: see :mod:`orkestra.loops`) runs the informers (list and watch), leader
election, event posting, the HTTP endpoints and each CRD's ``workers`` workers. A worker
runs the synchronous engine, the one simulate runs, in a greenlet of the loop's thread: its
reads come from the caches at once, and a call to the API server hands its coroutine to the
loop and resumes once the answer is in (:mod:`orkestra.greenbridge`), so reconciles
interleave at their waits as tasks do and the engine needs no async rewrite. What must
block (a typed hook's relay, an HTTP source of ``cross``) waits on an executor thread.

Until December 2026 the workers were threads, each with a blocking connection: cheaper per
call in isolation (~155 µs of client CPU per PUT against ~190 µs through the loop), but in
a run every blocking call handed the GIL between the workers and the loop thread, ~17
context switches per CR, and each answer waited for its thread to get the GIL back (a
reconcile that wrote nothing took 189 µs of CPU and 401 µs of wall time). With the workers
on the loop, interleaved runs on one machine brought 10,000 WebApps to Ready in 18.2-23.4 s
against 23.0-26.7 s with threads, and 1,000 in a median 2.2 s against 2.5 s; the operator
benchmark then measured 2.79-3.07x Kopf's throughput at 10,000 CRs (four runs) and
3.06-3.36x at 1,000 (``benchmarks/RESULTS.md``). Watches were on the loop before and stay
there; reading them on threads of their own did not lower the process's CPU (more GIL
hand-offs), uvloop did (the loop thread ~15% cheaper).

**Transport.** Configuration (kubeconfig, in-cluster account, CA, client certificates,
credentials) is :mod:`~orkestra.runtime.kubeconfig`'s, which replaced lightkube's loader:
importing lightkube (and the httpx it brings) cost ~50 ms of every start. Its httpx client
never carried the calls: a GET of a small object costs 0.35 ms of client CPU with httpx
(0.38 ms through lightkube's ``Client`` and its models) against 0.12 ms with
``http.client``. The workers use :mod:`~orkestra.transport`, a small HTTP/1.1 client,
because ``http.client``'s response parsing (through the ``email`` package) was itself the
largest client-side cost of a call: 146 µs against 52 µs of CPU per GET of a 1.9 KB
object. The loop's calls (watches, lists, leases, events) go through
:mod:`~orkestra.runtime.asynchttp`, on asyncio's streams, and the endpoints are served by
:mod:`orkestra.httpserver`; both replaced aiohttp, whose import was 120-140 ms of a ~400 ms
start-up (with lightkube's loader gone too, CPU at the first reconcile of 1,000 CRs fell
from 0.42 to 0.22-0.25 s). Bodies are plain dicts (msgspec decodes 3x
faster than ``json``), never model objects.

**Caches.** One informer per resource type (the CRDs' kinds and every child kind the
katalogs declare, cluster-wide, or one namespace with ``--namespace``) fills a store keyed
by (namespace, name) that keeps resourceVersion order: an older version never replaces a
newer one, a deletion by the runtime leaves a tombstone, and a relist deletes only what is
older than the list. Writes go through to the store with the server's answer, so a reconcile
sees its own writes and a stale cache never creates twice (AlreadyExists and 409 refresh the
object and retry the key). Stores keep each object as its JSON bytes (without
``managedFields``) and a small record (version, index values): ~5 KiB per CR of
02-katalog-api, its three objects included, in place of ~13 KiB of decoded dicts. A
reconcile decodes what it reads, each stored version once (``CachedCluster`` keeps them for
the reconcile), so no two reconciles share an object and nobody can change what another
reads. Most watch events are the echoes of the runtime's own writes, already in the store by
write-through: the informer reads their name and version without decoding the rest and drops
them. The ``orkestra-owner`` label is indexed, so the engine's child lists are lookups.

**Queue.** client-go semantics (dedup, a key in processing never goes to a second worker,
re-adds remembered; an event-aware CR's events stay apart but reach it one at a time),
per-key exponential backoff with jitter (5 ms doubling to 5 min, or
``queue.retryBackoff``), drops by ``queue.behaviour``, ``workers`` and ``resync`` from
``operatorBox.reconcile`` (or its reconciler profile; komposer overrides are already
merged), ``--workers``/``--resync`` on top.

**Leader election** (``--leader-elect``): a Lease acquired, renewed every retry period and
released on shutdown; expiry is judged by how long the record has not changed on our own
clock. Followers keep their caches warm with paused queues and take over on release or
expiry.

**Throughput and memory** (``benchmarks/operators.py``: 02-katalog-api, N CRs created first
on the embedded server running as ``ork cluster up`` in its own process; clock from the
operator's spawn until a watch has seen every CR ready; CPU and peak RSS of the operator; a
Kopf 1.45 operator creating the same Deployment and Service, on a fresh server of the same
build; 2 cores shared by server, operator and watcher; three interleaved runs per operator
and size, the best counting; the katalog's two workers; two benchmark runs in a row from a
clean clone, ``benchmarks/RESULTS.md``, 2026-12-04 evening):

======  ==========================================  =========================================
CRs     ork run                                     Kopf
======  ==========================================  =========================================
1,000   1.4-1.6 s to all Ready (621-740/s),         4.8-5.3 s (188-209/s), 4.8-5.3 ms/CR,
        1.1-1.3 ms CPU per CR, 48 MiB               145-148 MiB
10,000  12.0-17.7 s (566-836/s), 1.0-1.4 ms/CR,     41.6-47.1 s (212-240/s), 4.1-4.7 ms/CR,
        99-100 MiB                                  182-188 MiB
======  ==========================================  =========================================

That is 3.45-3.54x Kopf's throughput at 1,000 CRs and 3.35-3.48x at 10,000, at 0.33-0.55x
its memory (single interleaved pairs at 10,000 ranged 2.33-3.93x over the day, median
3.28x: the machine's speed drifts, and a short run feels it most).
Per CR the runtime does the minimum a declarative reconcile can: two creates and two status
writes, in two reconciles: the first creates the children and writes status, and runs
again as it wrote children; under load the Deployment is ready by then, so that run writes
Ready, and as the status is all it wrote (and the katalog never reads it) nothing runs
after it. The server answers them and sends five watch events, four of them echoes, which
its watch hub batches under load.
The run has two phases: while the children are created the server is the busier process
(~85-90% of a core against the runtime's ~75%), then the runtime (~94%) while the CRs turn
Ready. Both are CPU-bound: more workers (``--workers 4``) measured no faster.
"""

from orkestra.runtime.operator import Operator, Options, run
from orkestra.runtime.pattern import Unit

__all__ = ["Operator", "Options", "Unit", "run"]

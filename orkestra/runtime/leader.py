"""Leader election on a ``coordination.k8s.io/v1`` Lease, so only one of several runtimes
reconciles and writes.

Every retry period the elector reads the Lease. Nobody holds it, or its holder let it expire,
or we hold it: we write ourselves in as holder with a fresh ``renewTime`` (taking it over
counts a ``leaseTransitions``), guarded by the resourceVersion we read, so of two runtimes
racing for it only one wins. Expiry is judged the way client-go does, without trusting
other machines' clocks: a lease is expired when its record (holder and renew time) has not
changed for ``leaseDurationSeconds`` of our own monotonic time since we first saw it. A
leader that cannot renew for ``renew_deadline`` steps down (the callbacks pause and resume
the work queues; caches stay warm either way). On shutdown the leader releases the lease
(empty holder, duration 1s) so a follower takes over at its next retry instead of waiting
for expiry.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import NotRequired, Protocol, TypedDict

from orkestra.cluster.errors import ApiError, NotFoundError
from orkestra.kubeobjects import ObjectMeta
from orkestra.runtime.kube import KubeClient
from orkestra.runtime.logs import fields

LEASES = "/apis/coordination.k8s.io/v1/namespaces/{namespace}/leases"
log = logging.getLogger("orkestra.runtime.leader")


class LeaseSpec(TypedDict, total=False):
    holderIdentity: str
    leaseDurationSeconds: int
    acquireTime: str  # MicroTime
    renewTime: str
    leaseTransitions: int


class Lease(TypedDict):
    """A coordination.k8s.io/v1 Lease."""

    apiVersion: str
    kind: str
    metadata: ObjectMeta
    spec: NotRequired[LeaseSpec]


class LeaseAPI(Protocol):
    async def get_lease(self, namespace: str, name: str) -> Lease | None: ...

    async def create_lease(self, lease: Lease) -> Lease: ...

    async def replace_lease(self, lease: Lease) -> Lease: ...


class KubeLeases:
    """Leases through the API server."""

    def __init__(self, client: KubeClient) -> None:
        self.client = client

    async def get_lease(self, namespace: str, name: str) -> Lease | None:
        try:
            lease: Lease = await self.client.arequest(
                "GET", f"{LEASES.format(namespace=namespace)}/{name}"
            )
        except NotFoundError:
            return None
        return lease

    async def create_lease(self, lease: Lease) -> Lease:
        created: Lease = await self.client.arequest(
            "POST", LEASES.format(namespace=lease["metadata"].get("namespace", "")), body=lease
        )
        return created

    async def replace_lease(self, lease: Lease) -> Lease:
        meta = lease["metadata"]
        path = f"{LEASES.format(namespace=meta.get('namespace', ''))}/{meta.get('name', '')}"
        replaced: Lease = await self.client.arequest("PUT", path, body=lease)
        return replaced


def micro_time(moment: datetime) -> str:
    """Kubernetes MicroTime: RFC 3339 with microseconds, UTC."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@dataclass(kw_only=True)
class LeaderElector:
    """Acquires, renews and releases one Lease."""

    api: LeaseAPI
    name: str
    namespace: str
    identity: str
    on_started: Callable[[], None]
    on_stopped: Callable[[], None]
    lease_duration: float = 15.0
    renew_deadline: float = 10.0
    retry_period: float = 2.0
    clock: Callable[[], float] = time.monotonic
    wall: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))
    leading: bool = field(default=False, init=False)
    _renewed: float = field(default=0.0, init=False)
    _observed: tuple[str | None, str | None, int | None] | None = field(default=None, init=False)
    _observed_at: float = field(default=0.0, init=False)

    async def run(self) -> None:
        """Try to acquire, then keep renewing, until cancelled."""
        while True:
            await self.step()
            jitter = 0.0 if self.leading else random.uniform(0, 0.2)
            await asyncio.sleep(self.retry_period * (1 + jitter))

    async def step(self) -> None:
        """One attempt to acquire or renew, and the leadership changes it implies."""
        ok = await self.try_acquire_or_renew()
        now = self.clock()
        if ok:
            self._renewed = now
            if not self.leading:
                self.leading = True
                log.info("became the leader", extra=fields(lease=self.name, identity=self.identity))
                self.on_started()
        elif self.leading and now - self._renewed >= self.renew_deadline:
            self.leading = False
            log.warning("lost the lease", extra=fields(lease=self.name, identity=self.identity))
            self.on_stopped()

    async def try_acquire_or_renew(self) -> bool:
        try:
            lease = await self.api.get_lease(self.namespace, self.name)
            if lease is None:
                written = await self.api.create_lease(self._lease(None))
            elif self._may_take(lease.get("spec") or {}):
                written = await self.api.replace_lease(self._lease(lease))
            else:
                return False
        except ApiError as exc:
            log.debug("lease attempt failed: %s", exc.message, extra=fields(lease=self.name))
            return False
        self._observe(written.get("spec") or {})
        return True

    def _observe(self, spec: LeaseSpec) -> None:
        record = (
            spec.get("holderIdentity"),
            spec.get("renewTime"),
            spec.get("leaseDurationSeconds"),
        )
        if record != self._observed:
            self._observed, self._observed_at = record, self.clock()

    def _may_take(self, spec: LeaseSpec) -> bool:
        self._observe(spec)
        now = self.clock()
        holder = spec.get("holderIdentity")
        if not holder or holder == self.identity:
            return True
        duration = float(spec.get("leaseDurationSeconds") or self.lease_duration)
        return now - self._observed_at >= duration

    def _lease(self, current: Lease | None) -> Lease:
        held: LeaseSpec = (current.get("spec") or {}) if current is not None else {}
        spec: LeaseSpec = {**held}
        now = micro_time(self.wall())
        if spec.get("holderIdentity") != self.identity:
            spec["acquireTime"] = now
            if current is not None:
                spec["leaseTransitions"] = int(spec.get("leaseTransitions") or 0) + 1
        spec["holderIdentity"] = self.identity
        spec["renewTime"] = now
        spec["leaseDurationSeconds"] = int(self.lease_duration)
        spec.setdefault("leaseTransitions", 0)
        meta: ObjectMeta = {"name": self.name, "namespace": self.namespace}
        if current is not None:
            meta["resourceVersion"] = current["metadata"].get("resourceVersion", "")
        return {
            "apiVersion": "coordination.k8s.io/v1",
            "kind": "Lease",
            "metadata": meta,
            "spec": spec,
        }

    async def release(self) -> None:
        """Give the lease up (if held) so another runtime can take it at once."""
        if not self.leading:
            return
        self.leading = False
        try:
            lease = await self.api.get_lease(self.namespace, self.name)
            held: LeaseSpec = (lease.get("spec") or {}) if lease is not None else {}
            if lease is None or held.get("holderIdentity") != self.identity:
                return
            spec: LeaseSpec = {
                **held,
                "holderIdentity": "",
                "leaseDurationSeconds": 1,
                "renewTime": micro_time(self.wall()),
            }
            await self.api.replace_lease({**lease, "spec": spec})
            log.info("released the lease", extra=fields(lease=self.name))
        except ApiError as exc:
            log.warning(
                "could not release the lease: %s", exc.message, extra=fields(lease=self.name)
            )

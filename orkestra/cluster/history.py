"""The watch history: a bounded, per-resource log of change events.

A watch resumes from a resourceVersion, so the store keeps the recent events of every
resource in resourceVersion order and answers "what happened to deployments.apps after
version N" with a binary search instead of a scan. Each resource keeps at most ``window``
events; older ones are compacted away, and asking for a version before the oldest one
kept is answered with 410 Gone, exactly when a real API server's etcd window has moved on
and the client must list again.
"""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass, field

from orkestra.cluster.errors import GoneError
from orkestra.kubeobjects import KubeObject

ResourceKey = tuple[str, str]  # (group, plural)


@dataclass(slots=True, kw_only=True)
class WatchEvent:
    """One change: ``ADDED``, ``MODIFIED`` or ``DELETED`` with the object after it.

    The object (and ``previous``, the version it replaced) is shared with the store, which
    never mutates a stored object in place, so readers must not mutate it either.
    ``encoded`` caches a serialized form for servers
    that send one event to many watchers.
    """

    type: str
    group: str
    resource: str
    object: KubeObject
    resource_version: int
    previous: KubeObject | None = field(default=None, compare=False, repr=False)
    encoded: bytes | None = field(default=None, compare=False, repr=False)

    @property
    def namespace(self) -> str:
        return str(self.object["metadata"].get("namespace", ""))


@dataclass(slots=True)
class _Stream:
    events: list[WatchEvent] = field(default_factory=list)
    versions: list[int] = field(default_factory=list)
    compacted: int = 0  # the newest version no longer kept


class EventHistory:
    """Recent events of every resource; ``window=None`` keeps everything."""

    def __init__(self, window: int | None = None, *, start: int = 0) -> None:
        self.window = window
        self.start = start
        self._streams: dict[ResourceKey, _Stream] = {}

    def append(self, event: WatchEvent) -> None:
        stream = self._streams.get((event.group, event.resource))
        if stream is None:
            stream = self._streams[(event.group, event.resource)] = _Stream(compacted=self.start)
        stream.events.append(event)
        stream.versions.append(event.resource_version)
        if self.window is not None and len(stream.events) > 2 * self.window:
            drop = len(stream.events) - self.window
            stream.compacted = stream.versions[drop - 1]
            del stream.events[:drop]
            del stream.versions[:drop]

    def since(
        self, resource_version: int, group: str, resource: str, namespace: str | None = None
    ) -> list[WatchEvent]:
        """Events of one resource after ``resource_version`` (410 Gone when compacted)."""
        stream = self._streams.get((group, resource))
        compacted = stream.compacted if stream is not None else self.start
        if resource_version < compacted:
            raise GoneError(f"too old resource version: {resource_version} ({compacted})")
        if stream is None:
            return []
        found = stream.events[bisect_right(stream.versions, resource_version) :]
        if namespace is None:
            return found
        return [e for e in found if e.namespace == namespace]

    def oldest(self, group: str, resource: str) -> int:
        """The oldest version a watch of this resource can still resume from."""
        stream = self._streams.get((group, resource))
        return stream.compacted if stream is not None else self.start

    def forget(self, group: str, resource: str) -> None:
        """Drop a resource's events (its CRD was deleted)."""
        self._streams.pop((group, resource), None)

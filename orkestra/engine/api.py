"""The cluster interface the engine is given (no I/O of its own).

:class:`orkestra.cluster.MemoryCluster` implements it for simulate; the runtime implements
it over a real API server. Both may answer objects they keep themselves (no copy per read):
the engine never mutates an object it was given; it builds a new one to write.

Two optional capabilities sit beside it; the engine asks ``isinstance(cluster, ...)``:

- :class:`CrossReader`: what ``observe.cross`` entries read (``.cross.<as>``). Without it
  every entry gives upstream's not-found value and the cycle a warning.
- :class:`CopySourcePolicy`: what to do when the source of a ``fromSecret`` /
  ``fromConfigMap`` copy is absent from another namespace. Without it the reconcile fails
  (a live cluster: the source is really missing).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

from orkestra.kubeobjects import JsonObject, KubeObject, LabelSelector


class ClusterAPI(Protocol):
    def find(
        self, api_version: str, kind: str, name: str, namespace: str | None = None
    ) -> KubeObject | None: ...

    def list(
        self,
        api_version: str,
        kind: str,
        namespace: str | None = None,
        *,
        label_selector: str | LabelSelector | None = None,
        field_selector: str | None = None,
        record: bool = True,
    ) -> list[KubeObject]: ...

    def create(self, obj: KubeObject, *, record: bool = True) -> KubeObject: ...

    def update(
        self, obj: KubeObject, *, subresource: str = "", verb: str = "update"
    ) -> KubeObject: ...

    def update_status(self, obj: KubeObject) -> KubeObject: ...

    def delete(
        self,
        api_version: str,
        kind: str,
        name: str,
        namespace: str | None = None,
        *,
        record: bool = True,
    ) -> KubeObject: ...


@dataclass(frozen=True, slots=True, kw_only=True)
class PeerQuery:
    """The peer CRs one ``cross`` entry reads, its templates rendered.

    The target CRD is ``crd`` (a ``spec.crds`` key), or, when ``crd`` is empty, the CRD
    entry whose ``labelSelector`` holds every pair of ``crd_labels``. A CR matches by
    ``match_labels`` when that is not empty (every pair, any namespace), else by ``name``
    in ``namespace`` (empty for a cluster-scoped target). :func:`orkestra.engine.cross.
    peer_matches` decides it for one object."""

    crd: str
    crd_labels: Mapping[str, str]
    name: str
    namespace: str
    match_labels: Mapping[str, str]


@dataclass(frozen=True, slots=True)
class RemoteQuery:
    """One HTTP read of a ``cross`` source: a GET of ``url`` with ``Accept:
    application/json``, authenticated by ``auth`` as the katalog wrote it (``{token}``,
    where ``$VAR`` names an environment variable, or ``{secretRef: {name, namespace,
    key}}``; None: no Authorization header). ``key`` is the entry's ``as``."""

    key: str
    url: str
    cache_for: float  # seconds a result may be reused
    auth: JsonObject | None = field(default=None)


@runtime_checkable
class CrossReader(Protocol):
    """Reads for ``observe.cross`` (upstream's order: peers first, then the source).

    The runtime implements it from its informer caches and an HTTP client:

    - :meth:`cross_peers`: the CRs of the target CRD that match ``query`` (a same-process
      read: informer stores, never the API server), or None when this process runs no
      informer for the target CRD; then the entry's ``source`` is tried. A target whose
      CRD entry or katalog sets ``crossAccess: false`` answers ``[]``.
    - :meth:`cross_remote`: the JSON object the source answered; ``{"found": "false"}``
      on a 404; None on any other failure (timeout 5 s, body over 64 KiB, not a JSON
      object, another status). A result is reused for ``cache_for`` seconds per (url,
      auth); failures are not cached.

    The engine shapes what it gets (:mod:`orkestra.engine.cross`)."""

    def cross_peers(self, query: PeerQuery) -> list[KubeObject] | None: ...

    def cross_remote(self, query: RemoteQuery) -> JsonObject | None: ...


@dataclass(frozen=True, slots=True, kw_only=True)
class CopySource:
    """The source a copy declaration names: ``kind`` (Secret or ConfigMap), ``name`` and
    ``namespace`` rendered; ``declaration`` is the resource key (``secrets``,
    ``configMaps``) and ``declared_name`` the declaration's ``name`` as written."""

    declaration: str
    declared_name: str
    kind: str
    name: str
    namespace: str


@runtime_checkable
class CopySourcePolicy(Protocol):
    """Decides about a copy whose source is absent from a namespace other than the CR's."""

    def skip_copy(self, source: CopySource) -> bool:
        """True: the declaration makes nothing this reconcile (simulate, which holds only
        the objects it was given, notes why); False: the reconcile fails."""
        ...

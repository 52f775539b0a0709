"""Test doubles for the runtime's unit tests: a KubeClient over a MemoryCluster (with
scripted failures and a call log) and an informer set of plain stores."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from orkestra.cluster import MemoryCluster
from orkestra.cluster.data import clone
from orkestra.cluster.errors import ApiError
from orkestra.engine.build.base import OWNER_NAME_LABEL
from orkestra.runtime.informer import Informer
from orkestra.runtime.kube import Resource
from orkestra.runtime.store import Store, label_indexer

Obj = dict[str, Any]
T = TypeVar("T")


class FakeClient:
    """The synchronous half of KubeClient, answered by a MemoryCluster. ``failures`` maps a
    verb to errors raised (once each) before the call reaches the cluster. Answers are
    copies, as a real client's decoded responses are its own (the store's are shared)."""

    def __init__(self, cluster: MemoryCluster) -> None:
        self.cluster = cluster
        self.calls: list[tuple[str, str]] = []
        self.failures: dict[str, list[ApiError]] = {}

    def resource(self, api_version: str, kind: str) -> Resource:
        rt = self.cluster.type_for(api_version, kind)
        return Resource(
            group=rt.group,
            version=rt.version,
            plural=rt.plural,
            kind=rt.kind,
            namespaced=rt.namespaced,
            has_status=rt.has_status,
        )

    def _call(self, verb: str, what: str, action: Callable[[], T]) -> T:
        self.calls.append((verb, what))
        pending = self.failures.get(verb)
        if pending:
            raise pending.pop(0)
        return clone(action())

    def get(self, res: Resource, name: str, namespace: str | None = None) -> Obj:
        return self._call(
            "get",
            name,
            lambda: self.cluster.get(res.api_version, res.kind, name, namespace, record=False),
        )

    def list_items(self, res: Resource, namespace: str | None = None) -> list[Obj]:
        return self._call(
            "list",
            res.plural,
            lambda: self.cluster.list(res.api_version, res.kind, namespace, record=False),
        )

    def create(self, res: Resource, obj: Obj) -> Obj:
        return self._call(
            "create", obj["metadata"]["name"], lambda: self.cluster.create(obj, record=False)
        )

    def replace(self, res: Resource, obj: Obj, subresource: str = "") -> Obj:
        verb = "status" if subresource else "update"
        return self._call(
            verb, obj["metadata"]["name"], lambda: self.cluster.update(obj, subresource=subresource)
        )

    def delete(self, res: Resource, name: str, namespace: str | None = None) -> Obj:
        return self._call(
            "delete",
            name,
            lambda: self.cluster.delete(res.api_version, res.kind, name, namespace, record=False),
        )


class FakeInformers:
    """Synced stores for some kinds, filled from the cluster like a first list would."""

    def __init__(self, client: FakeClient, kinds: list[tuple[str, str]]) -> None:
        self.stores: dict[tuple[str, str], tuple[Resource, Store]] = {}
        self.informers: dict[tuple[str, str], Informer] = {}
        for api_version, kind in kinds:
            store = Store({OWNER_NAME_LABEL: label_indexer(OWNER_NAME_LABEL)})
            for obj in client.cluster.list(api_version, kind, None, record=False):
                store.upsert(obj)
            self.stores[(api_version, kind)] = (client.resource(api_version, kind), store)

    def synced_store(self, api_version: str, kind: str) -> tuple[Resource, Store] | None:
        return self.stores.get((api_version, kind))

    def synced_informer(self, api_version: str, kind: str) -> Informer | None:
        """The informer a test put in :attr:`informers` for the kind (its handlers get what
        writes through the store change)."""
        return self.informers.get((api_version, kind))

    def store(self, api_version: str, kind: str) -> Store:
        return self.stores[(api_version, kind)][1]

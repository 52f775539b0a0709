"""The cluster interface the engine is given (no I/O of its own).

:class:`orkestra.cluster.MemoryCluster` implements it for simulate; the runtime implements
it over a real API server. Both may answer objects they keep themselves (no copy per read):
the engine never mutates an object it was given; it builds a new one to write.
"""

from __future__ import annotations

from typing import Any, Protocol

Obj = dict[str, Any]


class ClusterAPI(Protocol):
    def find(self, api_version: str, kind: str, name: str, namespace: str | None = None
             ) -> Obj | None: ...

    def list(self, api_version: str, kind: str, namespace: str | None = None, *,
             label_selector: str | dict[str, Any] | None = None,
             field_selector: str | None = None, record: bool = True) -> list[Obj]: ...

    def create(self, obj: Obj, *, record: bool = True) -> Obj: ...

    def update(self, obj: Obj, *, subresource: str = "", verb: str = "update") -> Obj: ...

    def update_status(self, obj: Obj) -> Obj: ...

    def delete(self, api_version: str, kind: str, name: str, namespace: str | None = None,
               *, record: bool = True) -> Obj: ...

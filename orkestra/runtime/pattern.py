"""What the runtime runs: composed katalogs and komposers, each with what its reconcilers need.

A :class:`Unit` is one ``katalog.yaml`` or ``komposer.yaml`` composed once at start (motifs,
includes, imports and overrides resolved) with its :class:`~orkestra.compose.engines.Engines`,
the reconciler factory simulate uses too, so both build the same :class:`Reconciler`. It
also answers the start-up questions: which of its patterns reached end of life without
being accepted (PRODUCT.md D8), and which CRD and CR manifests ``--apply-cr`` applies (the
``crdFile`` manifests and the ``crd.yaml`` and ``cr.yaml`` beside the file).
"""

from __future__ import annotations

import datetime
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import cast

from orkestra.compose import Composed, compose_file
from orkestra.compose.engines import Engines
from orkestra.compose.komposer import accepts
from orkestra.engine.api import ClusterAPI
from orkestra.engine.profiles import Profiles
from orkestra.engine.reconcile import Reconciler
from orkestra.kubeobjects import KubeObject
from orkestra.model.deprecation import Deprecation, deprecation_of
from orkestra.model.document import Document
from orkestra.model.source import load_documents

log = logging.getLogger("orkestra.runtime.pattern")


@dataclass(frozen=True)
class EndOfLife:
    """A pattern past its end of life that nobody accepted."""

    name: str
    version: str
    notice: Deprecation


@dataclass
class Unit:
    """One composed pattern file."""

    path: Path
    composed: Composed
    engines: Engines

    @classmethod
    def load(cls, path: Path, display: str | None = None, *, trust_hooks: bool = False) -> Unit:
        """Compose the file and import its hooks (a runtime without them does not start:
        PatternError naming what is missing)."""
        composed = compose_file(path, display or str(path))
        engines = Engines(composed, trust_hooks=trust_hooks)
        for warning in engines.load_hooks():
            log.warning(warning.render())
        return cls(path, composed, engines)

    @property
    def profiles(self) -> Profiles:
        return self.engines.profiles

    @property
    def name(self) -> str:
        return self.composed.name or self.path.parent.name

    def reconciler(self, crd: str, cluster: ClusterAPI) -> Reconciler:
        """The engine for one CRD of this unit, as simulate builds it."""
        return self.engines.reconciler(crd, cluster)

    def end_of_life(self, today: datetime.date) -> list[EndOfLife]:
        """Patterns (this file and what it imports) past end of life and not accepted, by
        their own notice (``accept.eol``) or by the komposer (``lifecycle.accept``)."""
        found = []
        top = self.composed.source
        for doc in _unique(self.composed.documents):
            notice = deprecation_of(doc.data)
            if notice is None or notice.state(today) != "eol" or notice.accept_eol:
                continue
            author = str(doc.metadata.get("author", ""))
            if doc is not top and accepts(top.data, doc.name, author, doc.version):
                continue
            found.append(EndOfLife(doc.name, doc.version, notice))
        return found

    def deprecations(self, today: datetime.date) -> list[EndOfLife]:
        """Deprecated patterns not yet past end of life (warned about, then run)."""
        return [
            EndOfLife(d.name, d.version, n)
            for d in _unique(self.composed.documents)
            if (n := deprecation_of(d.data)) is not None and n.state(today) != "eol"
        ]

    def manifests(self) -> tuple[list[KubeObject], list[KubeObject]]:
        """(CRDs, CRs) for ``--apply-cr``: crdFile manifests plus ``crd.yaml`` and ``cr.yaml``
        next to the pattern file."""
        crds = {m["metadata"]["name"]: m for m in self.composed.crd_manifests.values()}
        for obj in _objects(self.path.parent / "crd.yaml"):
            if obj.get("kind") == "CustomResourceDefinition":
                crds.setdefault(obj["metadata"]["name"], obj)
        return list(crds.values()), _objects(self.path.parent / "cr.yaml")


def _unique(documents: list[Document]) -> list[Document]:
    seen: list[Document] = []
    for doc in documents:
        if all(doc is not s for s in seen) and doc.kind in ("Katalog", "Komposer"):
            seen.append(doc)
    return seen


def _objects(path: Path) -> list[KubeObject]:
    if not path.is_file():
        return []
    return [
        cast(KubeObject, d.data)  # a manifest: a mapping with a kind and metadata
        for d in load_documents(path, display=path.name)
        if isinstance(d.data, dict)
        and d.data.get("kind")
        and isinstance(d.data.get("metadata"), dict)
    ]

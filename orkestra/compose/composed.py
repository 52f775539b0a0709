"""The result of composition: every CRD a runtime would run, with all imports resolved."""

from __future__ import annotations

from collections.abc import Container, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar, cast

from orkestra.kubeobjects import KubeObject
from orkestra.model.document import Document, Named
from orkestra.model.errors import Problem
from orkestra.model.formats import API_VERSION
from orkestra.model.origins import Origins
from orkestra.model.shapes import CrdEntry, Katalog, Metadata, TopLevel
from orkestra.template import UserNote

PrunedT = TypeVar("PrunedT")


@dataclass(kw_only=True)
class Composed(Named):
    """A katalog or komposer after motif expansion, includes and overrides.

    ``crds`` holds G2 CRD entries keyed by name; ``origins`` maps paths such as
    ``("spec", "crds", name, ...)`` back to the file and line each part came from;
    ``crd_manifests`` holds the CustomResourceDefinitions read from ``crdFile``s.
    """

    source: Document
    metadata: Metadata
    crds: dict[str, CrdEntry]
    origins: Origins
    top: TopLevel = field(default_factory=TopLevel)
    crd_manifests: dict[str, KubeObject] = field(default_factory=dict)
    documents: list[Document] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)
    code_roots: dict[str, Path] = field(default_factory=dict)  # imported CRDs' directories

    def code_root(self, crd: str) -> Path:
        """The directory a CRD's code (hooks, CR model) is found in: that of the katalog
        that defines it."""
        return self.code_roots.get(crd, self.source.directory)

    @property
    def notes(self) -> list[UserNote]:
        functions = (self.top.get("notes") or {}).get("functions") or []
        return [UserNote(f["name"], f["expression"], f.get("description", "")) for f in functions]

    @property
    def enabled_crds(self) -> dict[str, CrdEntry]:
        return {n: e for n, e in self.crds.items() if e.get("enabled", True) is not False}

    def start_order(self) -> list[str]:
        """CRD names in dependency order: a CRD comes after those it ``dependsOn``."""
        done: list[str] = []

        def visit(name: str, trail: tuple[str, ...]) -> None:
            if name in done or name not in self.crds or name in trail:
                return
            for dep in self.crds[name].get("dependsOn") or {}:
                visit(dep, (*trail, name))
            done.append(name)

        for name in self.crds:
            visit(name, ())
        return done

    def as_katalog(self) -> Katalog:
        """The runtime view, G2 layout: what ``ork template`` prints."""
        meta: Metadata = {}
        for k in ("name", "version", "author", "description"):
            if self.metadata.get(k) not in (None, ""):
                meta[k] = self.metadata[k]
        out: Katalog = {"apiVersion": API_VERSION, "kind": "Katalog", "metadata": meta}
        for key in ("notes", "profiles", "security"):
            if self.top.get(key):
                out[key] = self.top[key]
        out["spec"] = {"crds": self.crds}
        return prune(out)


def top_blocks(data: Mapping[str, object], keep: Container[str]) -> TopLevel:
    """The top-level blocks of a checked katalog or komposer named in ``keep``, in the
    order they were written."""
    return cast(TopLevel, {k: v for k, v in data.items() if k in keep})


def prune(node: PrunedT) -> PrunedT:
    """Drop empty maps and lists (and None), recursively. An empty string stays: it is a
    value (``notEquals: ""``, an input bound to ""). The result has the shape of ``node``
    less what was dropped."""
    return cast(PrunedT, _pruned(node))


def _pruned(node: object) -> object:
    if isinstance(node, dict):
        out = {k: _pruned(v) for k, v in node.items()}
        return {k: v for k, v in out.items() if v is not None and v != [] and v != {}}
    if isinstance(node, list):
        return [_pruned(v) for v in node]
    return node

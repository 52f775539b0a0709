"""Where a pattern document imports motifs, and how each import names its motif.

A pure scan of the data (no loading, no network): ``ork push`` uses it to refuse local
imports, ``ork pull`` to fetch a katalog's motifs without composing it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from orkestra.model.errors import YamlPath, format_path

LOCK_FILE = "komposer.lock"
"""Beside a komposer: its registry imports pinned to digests (``ork pull -f`` writes it)."""


CRD_IMPORTS: tuple[YamlPath, ...] = (("imports",), ("operatorBox", "reconcile", "imports"))
"""Where a CRD entry imports motifs, in expansion order."""


def _at(node: object, path: YamlPath) -> object:
    for key in path:
        node = node.get(key) if isinstance(node, dict) else None
    return node


@dataclass(frozen=True)
class MotifImport:
    path: YamlPath
    ref: str
    version: str = ""
    oci: bool = False

    @property
    def where(self) -> str:
        return format_path(self.path)

    @property
    def is_git(self) -> bool:
        return self.ref.startswith(("https://", "http://", "git@"))

    @property
    def is_registry(self) -> bool:
        """``oci://…``, ``host/repo:tag``, ``name@v1``, ``name:v1`` (or ``oci: true``)."""
        if self.oci or self.ref.startswith("oci://"):
            return True
        if (
            self.is_git
            or self.ref.startswith(("./", "../", "/", "~"))
            or self.ref.endswith((".yaml", ".yml"))
        ):
            return False
        return "@" in self.ref or ":" in self.ref or "/" in self.ref

    @property
    def is_local(self) -> bool:
        return not self.is_registry and not self.is_git


def motif_imports(data: Mapping[str, object]) -> list[MotifImport]:
    """Katalog-wide (``spec.imports``) and per-CRD (``spec.crds.<n>.imports``, then
    ``spec.crds.<n>.operatorBox.reconcile.imports``) imports of a pattern document, checked
    or as read."""
    spec = data.get("spec")
    if not isinstance(spec, dict):
        spec = {}
    places: list[tuple[YamlPath, object]] = [(("spec", "imports"), spec.get("imports"))]
    crds = spec.get("crds")
    for name, entry in crds.items() if isinstance(crds, dict) else ():
        places += [(("spec", "crds", name, *where), _at(entry, where)) for where in CRD_IMPORTS]
    found = []
    for path, imports in places:
        for i, imp in enumerate(imports if isinstance(imports, list) else []):
            if isinstance(imp, dict) and isinstance(imp.get("motif"), str) and imp["motif"]:
                found.append(
                    MotifImport(
                        path + (i,),
                        imp["motif"],
                        str(imp.get("version") or ""),
                        bool(imp.get("oci")),
                    )
                )
    return found

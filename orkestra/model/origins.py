"""Where each part of a normalized or expanded pattern came from.

Normalization moves blocks (G1 ``operatorBox.status`` becomes ``operatorBox.emit.status``)
and motif expansion brings in resources from other files. :class:`Origins` maps a path in
the resulting model back to the document and path the user wrote, so problems found later
still point at the right file, line and column.
"""

from __future__ import annotations

from collections.abc import Sequence

from orkestra.model.errors import Problem, YamlPath
from orkestra.model.source import SourceDoc


class Origins:
    def __init__(self, doc: SourceDoc) -> None:
        self.doc = doc
        self._map: dict[YamlPath, tuple[SourceDoc, YamlPath]] = {}

    def add(self, new: YamlPath, doc: SourceDoc, old: YamlPath) -> None:
        """Record that ``new`` (in the model) was written at ``old`` in ``doc``."""
        self._map[new] = (doc, old)

    def moved(self, new: YamlPath, old: YamlPath) -> None:
        """``new`` was moved from ``old`` within the model."""
        self._map[new] = self.resolve(old)

    def relist(self, prefix: YamlPath, items: Sequence[tuple[SourceDoc, YamlPath]]) -> None:
        """The list at ``prefix`` was rebuilt: its item ``i`` was written at ``items[i]``
        (resolve the old places before calling: their entries are replaced here)."""
        depth = len(prefix)
        for path in [p for p in self._map if len(p) > depth and p[:depth] == prefix]:
            del self._map[path]
        for i, origin in enumerate(items):
            self._map[prefix + (i,)] = origin

    def resolve(self, path: YamlPath) -> tuple[SourceDoc, YamlPath]:
        for i in range(len(path), -1, -1):
            found = self._map.get(path[:i])
            if found is not None:
                return found[0], found[1] + path[i:]
        return self.doc, path

    def problem(
        self,
        path: YamlPath,
        message: str,
        *,
        expected: str = "",
        hint: str = "",
        key: bool = False,
        severity: str = "error",
    ) -> Problem:
        doc, original = self.resolve(path)
        return doc.problem(
            original, message, expected=expected, hint=hint, key=key, severity=severity
        )

    def merge(self, other: Origins, new_prefix: YamlPath, old_prefix: YamlPath) -> None:
        """Adopt ``other``'s origins for content copied from ``old_prefix`` to ``new_prefix``."""
        self._map[new_prefix] = other.resolve(old_prefix)
        for path, origin in other._map.items():
            if path[: len(old_prefix)] == old_prefix:
                self._map[new_prefix + path[len(old_prefix) :]] = origin

"""A CRD entry's ``admission:`` block folded into the CRD-level ``validation``,
``mutation``, ``webhooks`` and ``conversion`` that the engine, the gateway and the plan read.

Rules end up in this order: ``admission.<section>.rules``, the rules of
``admission.<section>.include``, the CRD-level ``<section>`` (its include's rules, then its
inline ones; expanded before this step), then motif rules (appended by the imports, which
run after). ``external`` calls are concatenated the same way. ``mutateFirst``, ``webhooks``
and ``conversion`` may be given in one of the two places only.
"""

from __future__ import annotations

from typing import Any

from orkestra.compose.includes import RULES_FILES, load_include
from orkestra.model.document import Document
from orkestra.model.errors import PatternError, Problem, YamlPath, format_path
from orkestra.model.origins import Origins
from orkestra.model.source import SourceDoc


def fold_admission(
    owner: Document, entry: dict[str, Any], crd_path: YamlPath, written: Origins, into: Origins
) -> list[Problem]:
    """Fold ``entry["admission"]`` into ``entry``. ``written`` places the paths of ``entry``
    as the user wrote them; ``into`` receives the places of the folded content (the same
    Origins for a katalog; a Komposer's override is written in the Komposer)."""
    admission = entry.pop("admission", None)
    if not isinstance(admission, dict):
        return []
    folder = _Folder(owner, entry, crd_path, written, into)
    for section in ("validation", "mutation"):
        if isinstance(admission.get(section), dict):
            try:
                folder.section(section, admission[section])
            except PatternError as exc:
                folder.problems.extend(exc.problems)
    for key in ("webhooks", "conversion"):
        if key in admission:
            folder.single(key, admission[key], crd_path + (key,))
    return folder.problems


class _Folder:
    def __init__(
        self,
        owner: Document,
        entry: dict[str, Any],
        crd_path: YamlPath,
        written: Origins,
        into: Origins,
    ) -> None:
        self.owner = owner
        self.entry = entry
        self.crd_path = crd_path
        self.written = written
        self.into = into
        self.problems: list[Problem] = []

    def section(self, section: str, block: dict[str, Any]) -> None:
        here = self.crd_path + ("admission", section)
        mine = self.entry.setdefault(section, {})
        rules, places = self.items(block, here, "rules")
        ref = block.get("include")
        if isinstance(ref, str):
            data, inc = load_include(self.owner, ref, here + ("include",), RULES_FILES[section])
            rules += data["rules"]
            places += [(inc.doc, ("rules", i)) for i in range(len(data["rules"]))]
        self.prepend(mine, section, "rules", rules, places)
        self.prepend(mine, section, "external", *self.items(block, here, "external"))
        if "mutateFirst" in block:
            self.single(
                "mutateFirst", block["mutateFirst"], self.crd_path + (section, "mutateFirst")
            )

    def items(
        self, block: dict[str, Any], path: YamlPath, key: str
    ) -> tuple[list[Any], list[tuple[SourceDoc, YamlPath]]]:
        found = list(block.get(key) or [])
        return found, [self.written.resolve(path + (key, i)) for i in range(len(found))]

    def prepend(
        self,
        mine: dict[str, Any],
        section: str,
        key: str,
        items: list[Any],
        places: list[tuple[SourceDoc, YamlPath]],
    ) -> None:
        if not items:
            return
        path = self.crd_path + (section, key)
        existing, existing_places = self.items(mine, self.crd_path + (section,), key)
        mine[key] = items + existing
        self.into.relist(path, places + existing_places)

    def single(self, key: str, value: Any, target: YamlPath) -> None:
        """Move a value that may be set in one place only to ``target``."""
        parent = self.entry
        for part in target[len(self.crd_path) : -1]:
            parent = parent.setdefault(str(part), {})
        source = self.crd_path + ("admission",) + target[len(self.crd_path) :]
        if key in parent and parent[key] != value:
            self.problems.append(
                self.written.problem(
                    source,
                    "set twice",
                    key=True,
                    hint=f"{format_path(target)} is set too; keep one of the two",
                )
            )
            return
        parent[key] = value
        self.into.add(target, *self.written.resolve(source))

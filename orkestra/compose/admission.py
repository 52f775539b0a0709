"""A CRD entry's ``admission:`` block folded into the CRD-level ``validation``,
``mutation``, ``webhooks`` and ``conversion`` that the engine, the gateway and the plan read.

Rules end up in this order: ``admission.<section>.rules``, the rules of
``admission.<section>.include``, the CRD-level ``<section>`` (its include's rules, then its
inline ones; expanded before this step), then motif rules (appended by the imports, which
run after). ``external`` calls are concatenated the same way. ``mutateFirst``, ``webhooks``
and ``conversion`` may be given in one of the two places only.
"""

from __future__ import annotations

from typing import TypeVar

from orkestra.compose.includes import RULES_FILES, load_include
from orkestra.model.document import Document
from orkestra.model.errors import PatternError, Problem, YamlPath, format_path
from orkestra.model.origins import Origins
from orkestra.model.shapes import CrdEntry, Mutation, Validation
from orkestra.model.source import SourceDoc

ItemT = TypeVar("ItemT")
SectionT = TypeVar("SectionT", Validation, Mutation)
Places = list[tuple[SourceDoc, YamlPath]]


def fold_admission(
    owner: Document, entry: CrdEntry, crd_path: YamlPath, written: Origins, into: Origins
) -> list[Problem]:
    """Fold ``entry["admission"]`` into ``entry``. ``written`` places the paths of ``entry``
    as the user wrote them; ``into`` receives the places of the folded content (the same
    Origins for a katalog; a Komposer's override is written in the Komposer)."""
    admission = entry.pop("admission", None)
    if not isinstance(admission, dict):
        return []
    folder = _Folder(owner, entry, crd_path, written, into)
    validation = admission.get("validation")
    if isinstance(validation, dict):
        folder.section("validation", entry.setdefault("validation", {}), validation)
    mutation = admission.get("mutation")
    if isinstance(mutation, dict):
        folder.section("mutation", entry.setdefault("mutation", {}), mutation)
    for key in ("webhooks", "conversion"):
        if key in admission:
            folder.single(key, admission[key], crd_path + (key,))
    return folder.problems


class _Folder:
    def __init__(
        self,
        owner: Document,
        entry: CrdEntry,
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

    def section(self, section: str, mine: SectionT, block: SectionT) -> None:
        """Put ``block`` (``admission.<section>``) before ``mine`` (the CRD's own)."""
        here = self.crd_path + ("admission", section)
        rules = list(block.get("rules") or [])
        places = self.places(here + ("rules",), len(rules))
        ref = block.get("include")
        if isinstance(ref, str):
            try:
                data, inc = load_include(self.owner, ref, here + ("include",), RULES_FILES[section])
            except PatternError as exc:
                self.problems.extend(exc.problems)
                return
            included = data["rules"]
            if isinstance(included, list):  # the file's schema requires the list
                rules += included
                places += [(inc.doc, ("rules", i)) for i in range(len(included))]
        if rules:
            at = self.crd_path + (section, "rules")
            mine["rules"] = self.prepend(at, rules, places, mine.get("rules"))
        external = list(block.get("external") or [])
        if external:
            at = self.crd_path + (section, "external")
            before = self.places(here + ("external",), len(external))
            mine["external"] = self.prepend(at, external, before, mine.get("external"))
        if "mutateFirst" in block:
            self.single(
                "mutateFirst", block.get("mutateFirst"), self.crd_path + (section, "mutateFirst")
            )

    def places(self, path: YamlPath, count: int) -> Places:
        """Where the first ``count`` items of the list at ``path`` were written."""
        return [self.written.resolve(path + (i,)) for i in range(count)]

    def prepend(
        self, at: YamlPath, items: list[ItemT], places: Places, existing: list[ItemT] | None
    ) -> list[ItemT]:
        """``items`` (written at ``places``) before ``existing``, the list at ``at``."""
        current = list(existing or [])
        self.into.relist(at, places + self.places(at, len(current)))
        return items + current

    def single(self, key: str, value: object, target: YamlPath) -> None:
        """Move a value that may be set in one place only to ``target``."""
        parent: object = self.entry
        for part in target[len(self.crd_path) : -1]:
            assert isinstance(parent, dict)  # a section of the entry: a mapping
            parent = parent.setdefault(str(part), {})
        assert isinstance(parent, dict)
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

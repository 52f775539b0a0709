"""Load and compose a katalog or komposer file in one call."""

from __future__ import annotations

from pathlib import Path

from orkestra.compose.composed import Composed
from orkestra.compose.katalog import compose_katalog
from orkestra.compose.komposer import compose_komposer
from orkestra.compose.motifs import MotifResolver
from orkestra.model.document import Document
from orkestra.model.loader import load_document


def compose_document(doc: Document, motifs: MotifResolver | None = None) -> Composed:
    if doc.kind == "Komposer":
        return compose_komposer(doc, motifs)
    return compose_katalog(doc, motifs)


def compose_file(
    path: Path,
    display: str | None = None,
    *,
    checks: bool = True,
    motifs: MotifResolver | None = None,
) -> Composed:
    """The composed katalog of a ``katalog.yaml`` or ``komposer.yaml``."""
    doc = load_document(path, kinds=("Katalog", "Komposer"), display=display, checks=checks)
    return compose_document(doc, motifs or MotifResolver(checks=checks))

"""Composition: turn pattern documents into what a runtime runs.

This package owns everything that combines files: motif expansion into CRDs (with input
binding and load-time condition splitting), ``include:`` files, ``crdFile`` cross-checks,
and Komposer imports with per-CRD overrides. The result, :class:`Composed`, is the input of
``ork template``, the simulator and the runtime. :mod:`~orkestra.compose.pulling` composes
while pulling what a pattern imports (``ork pull``), with ``komposer.lock`` kept.
"""

from orkestra.compose.composed import Composed, prune
from orkestra.compose.katalog import compose_katalog
from orkestra.compose.komposer import compose_komposer
from orkestra.compose.load import compose_file
from orkestra.compose.motifs import MotifResolver

__all__ = [
    "Composed",
    "MotifResolver",
    "compose_file",
    "compose_katalog",
    "compose_komposer",
    "prune",
]

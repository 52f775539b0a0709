"""Orkestra's template function library ("notes"), grouped by domain.

:data:`LIBRARY` is the table every pattern template renders with: Go's builtins plus these
notes. Names that Sprig also defines (``default``, ``trimPrefix``, ``add``, ``toJson`` ...)
behave exactly like Sprig's, which the differential suite checks against real Go; the
Orkestra-specific ones (``ternary`` with the condition first, ``allReplicasReady``, ``get``
...) are documented in their modules.
"""

from __future__ import annotations

from orkestra.template.builtins import BUILTINS
from orkestra.template.functions import Func, FuncTable
from orkestra.template.notes import (
    collections,
    conditional,
    data,
    kube,
    math,
    network,
    random,
    semver,
    strings,
    time,
    types,
)

NOTES: tuple[Func, ...] = (
    *conditional.NOTES,
    *strings.NOTES,
    *math.NOTES,
    *types.NOTES,
    *data.NOTES,
    *random.NOTES,
    *time.NOTES,
    *semver.NOTES,
    *collections.NOTES,
    *kube.NOTES,
    *network.NOTES,
)

BUILTIN_TABLE = FuncTable(BUILTINS, "go")
LIBRARY = FuncTable((*BUILTINS, *NOTES), "orkestra")

"""Server-side printers: the columns and cells of each kind's Table rows.

This package owns which printer serves a kind (:func:`printer_for`): the built-in kinds'
printers, by family (:mod:`.workloads`, :mod:`.core`, :mod:`.others`), with the same columns,
cell types and ``<none>``/``<unknown>`` placeholders as the real API server's; the printer
model they share (:mod:`.columns`); and custom resources' printers from their CRD's
``additionalPrinterColumns`` (:mod:`.custom`).
"""

from __future__ import annotations

from orkestra.apiserver.tables.printers import core, others, workloads
from orkestra.apiserver.tables.printers.columns import Printer
from orkestra.apiserver.tables.printers.custom import custom_printer
from orkestra.cluster.resources import ResourceType

PRINTERS: dict[tuple[str, str], Printer] = {
    **workloads.PRINTERS,
    **core.PRINTERS,
    **others.PRINTERS,
}


def printer_for(rt: ResourceType) -> Printer:
    """The built-in printer of a kind, or its CRD's columns (NAME + AGE by default)."""
    if rt.printer_columns:
        return custom_printer(rt)
    builtin = PRINTERS.get((rt.group, rt.kind))
    return builtin if builtin is not None else custom_printer(rt)

"""Server-side printing: the ``meta.k8s.io`` ``Table`` an API server returns to ``kubectl get``.

This package owns what a client sees when it asks for ``application/json;as=Table``: reading
a request's ``Accept`` header to tell whether a Table was asked for (:mod:`.negotiation`),
the column definitions and cells of every built-in kind the in-memory cluster serves (the
same columns, cell types and ``<none>``/``<unknown>`` placeholders as the real API server's
printers) and the ``additionalPrinterColumns`` of custom resources (:mod:`.printers`),
evaluated with the JSONPath subset CRDs use (:mod:`.jsonpath`), ages in kubectl's short
human form (:mod:`.formats`), and here the Table itself, with the row ``object`` for each
``includeObject`` choice. Pure functions over plain dicts; the clock is a parameter.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import NotRequired, TypedDict

from orkestra.apiserver.tables.formats import (
    NONE,
    UNKNOWN,
    age,
    format_labels,
    format_selector,
    human_age,
    metadata,
)
from orkestra.apiserver.tables.jsonpath import JsonPathError, Step, compile_jsonpath, find
from orkestra.apiserver.tables.negotiation import (
    INCLUDE_OBJECT,
    TABLE_VERSIONS,
    TableRequest,
    table_request,
)
from orkestra.apiserver.tables.printers import PRINTERS, printer_for
from orkestra.apiserver.tables.printers.columns import (
    Cell,
    CellsFn,
    Column,
    ColumnDefinition,
    Printer,
)
from orkestra.apiserver.tables.printers.custom import custom_cell
from orkestra.apiserver.tables.printers.workloads import pod_conditions
from orkestra.cluster.resources import ResourceType
from orkestra.kubeobjects import Condition, KubeObject

__all__ = [
    "INCLUDE_OBJECT",
    "NONE",
    "PRINTERS",
    "TABLE_VERSIONS",
    "UNKNOWN",
    "Cell",
    "CellsFn",
    "Column",
    "ColumnDefinition",
    "JsonPathError",
    "Printer",
    "Step",
    "Table",
    "TableRequest",
    "TableRow",
    "age",
    "compile_jsonpath",
    "custom_cell",
    "find",
    "format_labels",
    "format_selector",
    "human_age",
    "printer_for",
    "table_request",
    "to_table",
]


class TableRow(TypedDict):
    cells: list[Cell]
    conditions: NotRequired[list[Condition]]
    object: KubeObject | None  # the object, its PartialObjectMetadata or nothing


class Table(TypedDict):
    kind: str
    apiVersion: str
    metadata: dict[str, object]  # the ListMeta fields of the list (resourceVersion ...)
    columnDefinitions: list[ColumnDefinition]
    rows: list[TableRow]


def _row_object(obj: KubeObject, include_object: str, table_version: str) -> KubeObject | None:
    if include_object == "None":
        return None
    if include_object == "Object":
        return obj
    return {
        "kind": "PartialObjectMetadata",
        "apiVersion": f"meta.k8s.io/{table_version}",
        "metadata": metadata(obj),
    }


_LIST_META_FIELDS = ("resourceVersion", "continue", "remainingItemCount", "selfLink")


def to_table(
    rt: ResourceType,
    objects: list[KubeObject],
    *,
    now: datetime,
    include_object: str = "Metadata",
    list_metadata: Mapping[str, object] | None = None,
    version: str = "v1",
    request: TableRequest | None = None,
    no_headers: bool = False,
) -> Table:
    """The ``meta.k8s.io/<version>`` Table of ``objects`` (all of type ``rt``).

    ``include_object`` picks each row's ``object``: ``Metadata`` (a PartialObjectMetadata),
    ``Object`` (the object itself) or ``None``; ``request`` (from :func:`table_request`),
    when given, supplies both it and ``version``. The ListMeta fields of ``list_metadata``
    (resourceVersion, continue, remainingItemCount) become the Table's metadata: pass a
    list's metadata, or for a single GET the object's metadata. ``no_headers`` leaves
    ``columnDefinitions`` empty (for watch events after the first, if wanted).
    """
    if request is not None:
        include_object, version = request.include_object, request.version
    if include_object not in INCLUDE_OBJECT:
        raise ValueError(f"includeObject: unsupported value {include_object!r}")
    printer = printer_for(rt)
    rows: list[TableRow] = []
    for obj in objects:
        cells, row_object = printer.cells(obj, now), _row_object(obj, include_object, version)
        conditions = pod_conditions(obj) if rt.group == "" and rt.kind == "Pod" else []
        rows.append(
            {"cells": cells, "conditions": conditions, "object": row_object}
            if conditions
            else {"cells": cells, "object": row_object}
        )
    meta = {
        k: v
        for k, v in (list_metadata or {}).items()
        if k in _LIST_META_FIELDS and v not in (None, "")
    }
    return {
        "kind": "Table",
        "apiVersion": f"meta.k8s.io/{version}",
        "metadata": meta,
        "columnDefinitions": [] if no_headers else [c.definition() for c in printer.columns],
        "rows": rows,
    }

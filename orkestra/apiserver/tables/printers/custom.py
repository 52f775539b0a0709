"""The printers of custom resources: a CRD's ``additionalPrinterColumns``.

This module owns the columns of a custom resource's Table (NAME, then the CRD's columns, or
AGE when it declares none) and their cells: the first value each column's JSONPath selects,
converted to the column's declared type, a string rendered as the API server's JSONPath
printer renders it.
"""

from __future__ import annotations

import json
from datetime import datetime

from orkestra.apiserver.tables.formats import age, as_int, metadata
from orkestra.apiserver.tables.jsonpath import JsonPathError, compile_jsonpath, find, is_number
from orkestra.apiserver.tables.printers.columns import AGE, NAME, Cell, Column, Printer
from orkestra.cluster.resources import ResourceType
from orkestra.kubeobjects import KubeObject
from orkestra.units import parse_timestamp


def _go_text(value: object) -> str:
    """A value as the API server's JSONPath printer renders it in a string column."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() and abs(value) < 1e21 else repr(value)
    if isinstance(value, dict | list):
        text = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    return "null" if value is None else str(value)


def custom_cell(value: object, type_: str, now: datetime) -> Cell:
    """A printer-column cell: the value converted to the column's declared type."""
    if value is None:
        return None
    if type_ == "string":
        return _go_text(value)
    if type_ == "integer":
        return int(value) if is_number(value) else None
    if type_ == "number":
        return float(value) if is_number(value) else None
    if type_ == "boolean":
        return value if isinstance(value, bool) else None
    if type_ == "date" and isinstance(value, str):
        return age(value, now) if parse_timestamp(value) else "<invalid>"
    return None


def custom_printer(rt: ResourceType) -> Printer:
    columns = rt.printer_columns or (
        {
            "name": "Age",
            "type": "date",
            "jsonPath": ".metadata.creationTimestamp",
            "description": AGE.description,
        },
    )
    defs = tuple(
        Column(
            name=str(c.get("name", "")),
            type=str(c.get("type", "string")),
            format=str(c.get("format", "")),
            description=str(
                c.get("description")
                or "Custom resource definition column (in "
                f"JSONPath format): {c.get('jsonPath', '')}"
            ),
            priority=as_int(c.get("priority")),
        )
        for c in columns
    )
    paths = tuple(str(c.get("jsonPath", "")) for c in columns)

    def cells(obj: KubeObject, now: datetime) -> list[Cell]:
        out: list[Cell] = [metadata(obj).get("name", "")]
        for path, column in zip(paths, defs, strict=True):
            try:
                found = find(obj, compile_jsonpath(path))
            except JsonPathError:
                found = []
            out.append(custom_cell(found[0], column.type, now) if found else None)
        return out

    return Printer((NAME, *defs), cells)

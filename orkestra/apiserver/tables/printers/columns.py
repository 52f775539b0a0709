"""The printer model: column definitions, cells, and the columns most kinds share.

This module owns :class:`Column` (one ``TableColumnDefinition``), :class:`Printer` (a kind's
columns and the function that turns one object into its row's cells), and the NAME, AGE and
``Created At`` columns the API server's printers have in common, with the cells of the kinds
that show only a name and a creation time.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TypedDict

from orkestra.apiserver.tables.formats import metadata
from orkestra.kubeobjects import Json, KubeObject
from orkestra.units import format_timestamp, parse_timestamp

# A cell is any JSON value (``TableRow.cells`` is ``[]interface{}``); printers put strings,
# numbers and booleans there, taken from the object as they are.
Cell = Json
CellsFn = Callable[[KubeObject, datetime], list[Cell]]


class ColumnDefinition(TypedDict):
    """A ``TableColumnDefinition`` as the API sends it."""

    name: str
    type: str
    format: str
    description: str
    priority: int


@dataclass(frozen=True, kw_only=True)
class Column:
    """One ``TableColumnDefinition``; ``priority`` > 0 shows only with ``-o wide``."""

    name: str
    type: str = "string"
    format: str = ""
    description: str = ""
    priority: int = 0

    def definition(self) -> ColumnDefinition:
        return {
            "name": self.name,
            "type": self.type,
            "format": self.format,
            "description": self.description,
            "priority": self.priority,
        }


NAME = Column(
    name="Name", format="name", description="Name of the object, unique within its namespace."
)
AGE = Column(name="Age", description="Time since the object was created (creationTimestamp).")
CREATED = Column(
    name="Created At", type="date", description="When the object was created (creationTimestamp)."
)


def col(name: str, description: str, type_: str = "string", priority: int = 0) -> Column:
    return Column(name=name, type=type_, format="", description=description, priority=priority)


@dataclass(frozen=True)
class Printer:
    columns: tuple[Column, ...]
    cells: CellsFn


def _created_at(obj: KubeObject) -> str:
    moment = parse_timestamp(str(metadata(obj).get("creationTimestamp") or ""))
    return format_timestamp(moment) if moment else "0001-01-01T00:00:00Z"


def created(obj: KubeObject, now: datetime) -> list[Cell]:
    return [metadata(obj).get("name", ""), _created_at(obj)]

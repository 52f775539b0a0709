"""``managedFields`` entries: one per manager, operation, subresource (and API version).

This module owns an entry's identity as the API server keys it (appliers' ignoring the API
version), how conflict messages name its manager, and reading and writing the
``managedFields`` list (malformed entries skipped; appliers first, then oldest first). An
entry read from a stored list and left unchanged is written back as the very item it was
read from: stored lists are only ever written by :func:`encode_entries`, so it is the item
encoding would make, without the copy (every write rewrites the list).
"""

from __future__ import annotations

import json
from typing import NamedTuple, cast

from orkestra.cluster.fieldmanager.trees import FieldTree
from orkestra.kubeobjects import ManagedFieldsEntry

APPLY, UPDATE = "Apply", "Update"


class Entry(NamedTuple):
    """One ``managedFields`` entry; ``fields`` is its FieldsV1 tree (shared, not copied).
    ``read_from`` is the stored item :func:`decode_entries` read it from, which
    :meth:`encode` hands back as it is. ``_replace`` keeps it, so a changed entry that was
    read must drop it (``read_from=None``); :meth:`with_fields` does."""

    manager: str
    operation: str
    api_version: str
    subresource: str
    time: str | None
    fields: FieldTree
    read_from: ManagedFieldsEntry | None = None

    @property
    def key(self) -> tuple[str, str, str, str]:
        """The API server's identity of an entry (appliers' ignores the API version)."""
        version = "" if self.operation == APPLY else self.api_version
        return (self.manager, self.operation, version, self.subresource)

    def with_fields(self, fields: FieldTree) -> Entry:
        """The same entry owning ``fields`` (faster than ``_replace``, on every write)."""
        return Entry(
            self.manager, self.operation, self.api_version, self.subresource, self.time, fields
        )

    def printed(self) -> str:
        """The manager as conflict messages print it."""
        text = json.dumps(self.manager)
        if self.subresource:
            text += f" with subresource {json.dumps(self.subresource)}"
        if self.operation == UPDATE:
            text += f" using {self.api_version}"
        return text

    def encode(self) -> ManagedFieldsEntry:
        if self.read_from is not None:
            return self.read_from
        out: ManagedFieldsEntry = {
            "manager": self.manager,
            "operation": self.operation,
            "apiVersion": self.api_version,
        }
        if self.time is not None:
            out["time"] = self.time
        out["fieldsType"] = "FieldsV1"
        out["fieldsV1"] = self.fields
        if self.subresource:
            out["subresource"] = self.subresource
        return out


def decode_entries(managed: object) -> list[Entry]:
    """The entries of a ``managedFields`` list; malformed entries are skipped."""
    entries = []
    for raw in managed if isinstance(managed, list) else ():
        if not isinstance(raw, dict) or not isinstance(raw.get("fieldsV1"), dict):
            continue
        operation = raw.get("operation")
        if operation not in (APPLY, UPDATE) or not isinstance(raw.get("manager"), str):
            continue
        entries.append(
            Entry(
                raw["manager"],
                operation,
                str(raw.get("apiVersion") or ""),
                str(raw.get("subresource") or ""),
                raw.get("time"),
                raw["fieldsV1"],
                cast(ManagedFieldsEntry, raw),
            )
        )
    return entries


def encode_entries(entries: list[Entry]) -> list[ManagedFieldsEntry]:
    """``managedFields`` in the API server's order: appliers first, then oldest first."""
    ordered = sorted(
        entries, key=lambda e: (e.operation, e.time or "", e.manager, e.api_version, e.subresource)
    )
    return [e.encode() for e in ordered]

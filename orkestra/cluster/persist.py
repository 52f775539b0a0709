"""Keeping a cluster's objects on disk, so a restarted API server loses nothing.

A snapshot (every object and the last resourceVersion) plus a journal of the changes made
since: each change is appended as one JSON line and flushed before the write is answered,
so even a killed process keeps every acknowledged write. When the journal grows long it is
folded into a new snapshot (written to a temporary file, synced, then renamed over the old
one), and replaying skips journal lines the snapshot already holds, so a crash between the
two steps is harmless. A torn last line (a crash mid-append) is ignored.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TypedDict

from orkestra.cluster.history import WatchEvent
from orkestra.kubeobjects import KubeObject

StoredObject = tuple[str, str, KubeObject]  # group, plural, object

SNAPSHOT = "snapshot.json"
JOURNAL = "journal.jsonl"


class JournalLine(TypedDict):
    """One change in the journal: event type, group, resource, resourceVersion, object."""

    t: str
    g: str
    r: str
    v: int
    o: KubeObject


@dataclass
class Restored:
    resource_version: int
    objects: list[StoredObject]


def _key(group: str, plural: str, obj: KubeObject) -> tuple[str, str, str, str]:
    meta = obj["metadata"]
    return (group, plural, str(meta.get("namespace", "")), str(meta["name"]))


class Journal:
    """The snapshot and journal files of one data directory."""

    def __init__(self, directory: Path, *, compact_after: int = 20_000) -> None:
        self.directory = directory
        self.compact_after = compact_after
        directory.mkdir(parents=True, exist_ok=True)
        self._lines = 0
        self._file: IO[str] | None = None

    def load(self) -> Restored:
        """What the directory holds (nothing for a new directory)."""
        version, objects = self._read_snapshot()
        for line in self._journal_lines():
            self._lines += 1
            if line["v"] <= version:
                continue
            key = _key(line["g"], line["r"], line["o"])
            if line["t"] == "DELETED":
                objects.pop(key, None)
            else:
                objects[key] = (line["g"], line["r"], line["o"])
            version = line["v"]
        return Restored(version, list(objects.values()))

    def _read_snapshot(self) -> tuple[int, dict[tuple[str, str, str, str], StoredObject]]:
        path = self.directory / SNAPSHOT
        if not path.exists():
            return 0, {}
        data = json.loads(path.read_text(encoding="utf-8"))
        objects = {_key(g, r, o): (g, r, o) for g, r, o in data["objects"]}
        return int(data["resourceVersion"]), objects

    def _journal_lines(self) -> Iterator[JournalLine]:
        path = self.directory / JOURNAL
        if not path.exists():
            return
        with path.open(encoding="utf-8") as handle:
            for text in handle:
                try:
                    yield json.loads(text)
                except json.JSONDecodeError:
                    return  # a torn last line: the write it held was never acknowledged

    def record(self, event: WatchEvent) -> bool:
        """Append one change; True when the journal is due for compaction."""
        if self._file is None:
            self._file = (self.directory / JOURNAL).open("a", encoding="utf-8")
        line: JournalLine = {
            "t": event.type,
            "g": event.group,
            "r": event.resource,
            "v": event.resource_version,
            "o": event.object,
        }
        self._file.write(json.dumps(line, separators=(",", ":")) + "\n")
        self._file.flush()
        self._lines += 1
        return self._lines >= self.compact_after

    def compact(self, resource_version: int, objects: Iterable[StoredObject]) -> None:
        """Write a snapshot of ``objects`` and start an empty journal."""
        data = {"resourceVersion": resource_version, "objects": list(objects)}
        path = self.directory / SNAPSHOT
        temp = path.with_suffix(".tmp")
        with temp.open("w", encoding="utf-8") as handle:
            json.dump(data, handle, separators=(",", ":"))
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp, path)
        self.close()
        (self.directory / JOURNAL).write_text("", encoding="utf-8")
        self._lines = 0

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None

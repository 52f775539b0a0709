"""The registry index artifact that ``ork patterns`` lists.

Every push updates ``<parent>/index:latest``: an OCI 1.1 artifact (empty config,
``artifactType`` ``application/vnd.orkestra.index.v1+json``) with one ``index.json`` layer
holding one entry per pattern name. An entry describes the pattern's newest version by
semantic-version order (a re-push of an older version, say to deprecate it, updates that
version's record without taking over ``latestVersion``); ``versions`` lists every version
pushed through ork and ``deprecatedVersions`` those whose last push carried a deprecation
notice.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, replace
from typing import Any

from orkestra.registry.errors import IntegrityError
from orkestra.semver import Version, is_valid

INDEX_ARTIFACT_TYPE = "application/vnd.orkestra.index.v1+json"
INDEX_LAYER_TYPE = "application/json"
INDEX_FILE = "index.json"


@dataclass(frozen=True)
class IndexEntry:
    name: str
    latestVersion: str  # noqa: N815 - the JSON key
    kind: str
    description: str = ""
    tags: tuple[str, ...] = ()
    author: str = ""
    simulateStatus: str = ""  # noqa: N815
    e2eStatus: str = ""  # noqa: N815
    deprecated: bool = False
    digest: str = ""
    versions: tuple[str, ...] = field(default=())
    deprecatedVersions: tuple[str, ...] = field(default=())  # noqa: N815

    def to_json(self) -> dict[str, Any]:
        out = asdict(self)
        for key in ("tags", "versions", "deprecatedVersions"):
            out[key] = list(getattr(self, key))
        return out

    @classmethod
    def from_json(cls, value: Any) -> IndexEntry:
        if not isinstance(value, dict) or not isinstance(value.get("name"), str):
            raise IntegrityError("registry index: an entry has no name")
        known = {k: value[k] for k in cls.__dataclass_fields__ if k in value}
        for key in ("tags", "versions", "deprecatedVersions"):
            items = known.get(key) or ()
            if not isinstance(items, list | tuple):
                raise IntegrityError(f"registry index: {key} of {value['name']} is not a list")
            known[key] = tuple(str(item) for item in items)
        for key in ("latestVersion", "kind", "description", "author", "simulateStatus",
                    "e2eStatus", "digest"):
            known[key] = str(known.get(key) or "")
        known["deprecated"] = bool(known.get("deprecated"))
        return cls(**known)


@dataclass
class RegistryIndex:
    updatedAt: str = ""  # noqa: N815
    entries: list[IndexEntry] = field(default_factory=list)

    def record(self, pushed: IndexEntry, updated_at: str) -> None:
        """Fold one push into the index."""
        self.updatedAt = updated_at
        version = pushed.latestVersion
        for i, entry in enumerate(self.entries):
            if entry.name != pushed.name:
                continue
            versions = _sorted_versions({*entry.versions, entry.latestVersion, version})
            deprecated = set(entry.deprecatedVersions) - {version}
            if pushed.deprecated:
                deprecated.add(version)
            newest = _newer(version, entry.latestVersion)
            self.entries[i] = replace(pushed if newest else entry, versions=versions,
                                      deprecatedVersions=_sorted_versions(deprecated))
            return
        self.entries.append(replace(pushed, versions=(version,), deprecatedVersions=(
            (version,) if pushed.deprecated else ())))

    def to_bytes(self) -> bytes:
        doc = {"updatedAt": self.updatedAt, "entries": [e.to_json() for e in self.entries]}
        return json.dumps(doc, indent=2, ensure_ascii=False).encode() + b"\n"

    @classmethod
    def parse(cls, data: bytes, where: str) -> RegistryIndex:
        try:
            doc = json.loads(data)
        except (ValueError, UnicodeDecodeError):
            raise IntegrityError(f"{where}: index.json is not JSON") from None
        if not isinstance(doc, dict) or not isinstance(doc.get("entries", []), list):
            raise IntegrityError(f"{where}: index.json has no entries list")
        return cls(str(doc.get("updatedAt", "")),
                   [IndexEntry.from_json(e) for e in doc.get("entries") or []])


def _newer(candidate: str, current: str) -> bool:
    """Whether ``candidate`` becomes the latest: a higher semantic version, or any version
    when neither is semantic (the last push wins); a non-semantic tag never displaces a
    semantic one."""
    if not is_valid(candidate):
        return not is_valid(current)
    return not is_valid(current) or Version.parse(candidate) >= Version.parse(current)


def _sorted_versions(versions: set[str]) -> tuple[str, ...]:
    semantic = sorted((v for v in versions if is_valid(v)), key=Version.parse)
    return tuple(semantic + sorted(v for v in versions if not is_valid(v)))

"""The registry index artifact that ``ork patterns`` lists.

``<parent>/index:latest`` is an OCI 1.1 artifact (empty config, ``artifactType``
``application/vnd.orkestra.index.v1+json``) with one ``index.json`` layer holding one entry
per pattern name, the format the original tool's readers know. An entry describes the
pattern's latest version (:func:`~orkestra.semver.latest_key`: the highest stable release, a
pre-release only while there is none; a re-push of an older version, say to deprecate it,
updates that version without taking over ``latestVersion``); ``versions``
lists every version pushed through ork, ``deprecatedVersions`` those whose current artifact
carries a deprecation notice, and ``history`` the artifacts a later push of the same
version replaced or that lost a race for its tag (still pullable by digest).

The document is a cache: :func:`rebuild` derives it from the push records
(:mod:`orkestra.registry.records`), which it also keeps (``records``) so that a reader only
fetches the records written since; entries of an index written before records existed
(``legacy``) are kept and the records folded over them.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, replace

from orkestra.kubeobjects import Json, JsonDict
from orkestra.registry.errors import IntegrityError
from orkestra.registry.records import PushRecord, current, pushes, winner
from orkestra.semver import Version, is_valid, latest_key

INDEX_ARTIFACT_TYPE = "application/vnd.orkestra.index.v1+json"
INDEX_LAYER_TYPE = "application/json"
INDEX_FILE = "index.json"


@dataclass(frozen=True, kw_only=True)
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
    history: tuple[Replaced, ...] = field(default=())

    def to_json(self) -> JsonDict:
        out = asdict(self)
        for key in ("tags", "versions", "deprecatedVersions"):
            out[key] = list(getattr(self, key))
        out["history"] = [asdict(item) for item in self.history]
        return out

    @classmethod
    def from_json(cls, value: Json) -> IndexEntry:
        if not isinstance(value, dict) or not isinstance(value.get("name"), str):
            raise IntegrityError("registry index: an entry has no name")
        known = {k: value[k] for k in cls.__dataclass_fields__ if k in value}
        for key in ("tags", "versions", "deprecatedVersions"):
            items = known.get(key) or ()
            if not isinstance(items, list | tuple):
                raise IntegrityError(f"registry index: {key} of {value['name']} is not a list")
            known[key] = tuple(str(item) for item in items)
        for key in (
            "latestVersion",
            "kind",
            "description",
            "author",
            "simulateStatus",
            "e2eStatus",
            "digest",
        ):
            known[key] = str(known.get(key) or "")
        known["deprecated"] = bool(known.get("deprecated"))
        known["history"] = tuple(
            Replaced.from_json(item)
            for item in known.get("history") or ()
            if isinstance(item, dict)
        )
        return cls(**known)


@dataclass(frozen=True, kw_only=True)
class Replaced:
    """An artifact no tag names any more: replaced by a later push of its version, or
    superseded by a rival push that won the tag."""

    version: str
    digest: str
    claimedAt: str  # noqa: N815
    by: str
    how: str  # "replaced" or "superseded"

    @classmethod
    def from_json(cls, value: Mapping[str, object]) -> Replaced:
        keys = ("version", "digest", "claimedAt", "by", "how")
        return cls(**{key: str(value.get(key) or "") for key in keys})


@dataclass
class RegistryIndex:
    updatedAt: str = ""  # noqa: N815
    entries: list[IndexEntry] = field(default_factory=list)
    records: dict[str, PushRecord] = field(default_factory=dict)
    """The push records the entries were built from, by tag."""
    legacy: list[IndexEntry] = field(default_factory=list)
    """Entries from before push records, kept under the records."""

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
            self.entries[i] = replace(
                pushed if newest else entry,
                versions=versions,
                deprecatedVersions=_sorted_versions(deprecated),
            )
            return
        self.entries.append(
            replace(
                pushed,
                versions=(version,),
                deprecatedVersions=((version,) if pushed.deprecated else ()),
            )
        )

    def to_bytes(self) -> bytes:
        doc = {
            "updatedAt": self.updatedAt,
            "entries": [e.to_json() for e in self.entries],
            "records": [r.to_json() for _, r in sorted(self.records.items())],
            "legacy": [e.to_json() for e in self.legacy],
        }
        return json.dumps(doc, indent=2, ensure_ascii=False).encode() + b"\n"

    @classmethod
    def parse(cls, data: bytes, where: str) -> RegistryIndex:
        try:
            doc = json.loads(data)
        except (ValueError, UnicodeDecodeError):
            raise IntegrityError(f"{where}: index.json is not JSON") from None
        if not isinstance(doc, dict) or not all(
            isinstance(doc.get(key, []), list) for key in ("entries", "records", "legacy")
        ):
            raise IntegrityError(f"{where}: index.json has no entries list")
        entries = [IndexEntry.from_json(e) for e in doc.get("entries") or []]
        if "records" not in doc:  # written before push records: its entries are the base
            return cls(str(doc.get("updatedAt", "")), entries, legacy=list(entries))
        records = [PushRecord.from_json(r, where) for r in doc["records"]]
        return cls(
            str(doc.get("updatedAt", "")),
            entries,
            {r.tag: r for r in records},
            [IndexEntry.from_json(e) for e in doc.get("legacy") or []],
        )


def rebuild(
    base: RegistryIndex | None, records: dict[str, PushRecord], updated_at: str
) -> RegistryIndex:
    """The index the push records say: ``base``'s legacy entries with every version's
    current record folded over them (versions in order, so the newest leads), and each
    version's other records as history."""
    legacy = list(base.legacy) if base is not None else []
    index = RegistryIndex(updated_at, list(legacy), dict(records), legacy)
    by_version: dict[tuple[str, str], list[PushRecord]] = {}
    for record in records.values():
        by_version.setdefault((record.name, record.version), []).append(record)
    settled = [
        (group, chosen) for group in by_version.values() if (chosen := current(group)) is not None
    ]
    settled.sort(key=lambda pair: _push_order(pair[1]))
    for _, chosen in settled:
        index.record(_entry(chosen), updated_at)
    history: dict[str, list[Replaced]] = {}
    for group, chosen in settled:
        history.setdefault(chosen.name, []).extend(_history(group, chosen))
    index.entries = [
        replace(e, history=tuple(sorted(history.get(e.name, ()), key=lambda h: h.claimedAt)))
        if e.name in history
        else e
        for e in index.entries
    ]
    return index


def _push_order(record: PushRecord) -> tuple[bool, Version | None, str]:
    """Semantic versions in version order, then other tags in push order."""
    semantic = is_valid(record.version)
    return (not semantic, Version.parse(record.version) if semantic else None, record.claimedAt)


def _entry(record: PushRecord) -> IndexEntry:
    return IndexEntry(
        name=record.name,
        latestVersion=record.version,
        kind=record.kind,
        description=record.description,
        tags=record.tags,
        author=record.author,
        simulateStatus=record.simulateStatus,
        e2eStatus=record.e2eStatus,
        deprecated=record.deprecated,
        digest=record.digest,
    )


def _history(group: list[PushRecord], chosen: PushRecord) -> list[Replaced]:
    """Every push of a version but its current one: replaced when it held the tag until a
    later push, superseded when a rival push won the tag from it."""
    chain = _chain({r.digest: r for r in group}, chosen)
    out = []
    for record in pushes(group):
        if record.digest == chosen.digest:
            continue
        if record.digest in chain:
            by, how = (
                winner(
                    r for r in pushes(group) if r.replaces == record.digest and not r.supersededBy
                ).digest,
                "replaced",
            )
        else:
            by, how = record.supersededBy or chosen.digest, "superseded"
        out.append(
            Replaced(
                version=record.version,
                digest=record.digest,
                claimedAt=record.claimedAt,
                by=by,
                how=how,
            )
        )
    return out


def _chain(by_digest: dict[str, PushRecord], chosen: PushRecord) -> set[str]:
    """The digests the current record replaced, one after the other."""
    seen: set[str] = set()
    record: PushRecord | None = chosen
    while record is not None and record.replaces and record.replaces not in seen:
        seen.add(record.replaces)
        record = by_digest.get(record.replaces)
    return seen


def _newer(candidate: str, current: str) -> bool:
    """Whether ``candidate`` becomes the latest (:func:`~orkestra.semver.latest_key`: a
    stable release over a pre-release, a higher version over a lower one); between tags that
    rank alike (a re-push, or neither semantic) the last push wins."""
    return latest_key(candidate) >= latest_key(current)


def _sorted_versions(versions: set[str]) -> tuple[str, ...]:
    semantic = sorted((v for v in versions if is_valid(v)), key=Version.parse)
    return tuple(semantic + sorted(v for v in versions if not is_valid(v)))

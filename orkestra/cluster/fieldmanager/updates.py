"""Non-apply writes: the ``managedFields`` after a create, update or non-apply patch.

This module owns :func:`record_update` (the writer becomes owner of what it changed, every
other manager loses that and what it removed, the entries a client sends replace the stored
ones) and the cap on ``Update`` entries every write keeps: at most
:data:`MAX_UPDATE_MANAGERS`, the oldest merged into ``ancient-changes``.
"""

from __future__ import annotations

from orkestra.cluster.fieldmanager.compare import diff
from orkestra.cluster.fieldmanager.entries import UPDATE, Entry, decode_entries, encode_entries
from orkestra.cluster.fieldmanager.trees import FieldTree, subtract, union
from orkestra.cluster.kubeschema import SchemaLike
from orkestra.kubeobjects import KubeObject, ManagedFieldsEntry

MAX_UPDATE_MANAGERS = 10
ANCIENT_CHANGES = "ancient-changes"


def _basis(old: KubeObject | None, new: KubeObject, subresource: str) -> list[Entry]:
    """The entries a write starts from: those the client sent on the main resource (so
    managedFields can be edited; ``[{}]`` clears them), else the stored ones."""
    sent = (new.get("metadata") or {}).get("managedFields")
    if not subresource and isinstance(sent, list) and sent:
        if all(item == {} for item in sent):
            return []
        entries = decode_entries(sent)
        if len(entries) == len(sent):
            return entries
    return decode_entries(((old or {}).get("metadata") or {}).get("managedFields"))


def record_update(
    old: KubeObject | None,
    new: KubeObject,
    *,
    manager: str,
    api_version: str,
    subresource: str,
    now: str,
    schema: SchemaLike,
    has_status: bool = True,
) -> list[ManagedFieldsEntry]:
    """The ``managedFields`` after a create (``old`` None), update or non-apply patch.

    ``manager`` becomes owner of the fields the write added or changed, every other manager
    loses those and the ones it removed; empty entries disappear; at most
    :data:`MAX_UPDATE_MANAGERS` ``Update`` entries are kept (older ones merge into
    ``ancient-changes``). ``has_status``: the kind has a status subresource. The result may
    share FieldsV1 sub-trees with ``old``: treat it as read-only."""
    entries = _basis(old, new, subresource)
    gained, lost = diff(old, new, schema, subresource=subresource, has_status=has_status)
    if gained is None and lost is None:
        return encode_entries(entries)
    key = (manager, UPDATE, api_version, subresource)
    out: list[Entry] = []
    mine: FieldTree | None = None
    time: str | None = now
    for entry in entries:
        rest: FieldTree | None = entry.fields
        if gained is not None:
            rest = subtract(entry.fields, gained)
        if lost is not None and rest is not None:
            rest = subtract(rest, lost)
        if entry.key == key:
            mine, time = rest, entry.time
        elif rest is not None:
            out.append(entry if rest is entry.fields else entry.with_fields(rest))
    if gained is not None:
        mine = union(mine, gained) if mine is not None else gained
        time = now
    if mine is not None:
        out.append(Entry(manager, UPDATE, api_version, subresource, time, mine))
    return encode_entries(cap_updates(out))


def cap_updates(entries: list[Entry]) -> list[Entry]:
    """Merge the oldest ``Update`` entries into ``ancient-changes`` (one per API version)
    until at most :data:`MAX_UPDATE_MANAGERS` are left."""
    if len(entries) <= MAX_UPDATE_MANAGERS:  # nearly always: nothing to count or sort
        return entries
    updates = sorted((e for e in entries if e.operation == UPDATE), key=lambda e: e.time or "")
    excess = len(updates) - MAX_UPDATE_MANAGERS
    if excess <= 0:
        return entries
    dropped: set[int] = set()
    firsts: dict[str, Entry] = {}
    buckets: dict[str, Entry] = {}
    for entry in updates:
        if excess <= 0:
            break
        version = entry.api_version
        base = buckets.get(version) or firsts.get(version)
        if base is None:
            firsts[version] = entry
            continue
        dropped.update((id(base), id(entry)))
        buckets[version] = Entry(
            ANCIENT_CHANGES, UPDATE, version, "", entry.time, union(base.fields, entry.fields)
        )
        excess -= 1
    return [e for e in entries if id(e) not in dropped] + list(buckets.values())

"""The JSONPatch that turns the object the API server sent into what mutation made of it.

Mutation (:func:`orkestra.engine.admission.mutate`) reports the dot paths it set; each
becomes one ``add`` operation (which replaces a member that exists) at the first segment
missing from the object, carrying the mutated subtree from there. Only those paths are
patched: ``normalize`` and the keys the template context adds stay out of the stored
object, as at reconcile time.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TypedDict

from orkestra.cluster.data import clone


class PatchOperation(TypedDict):
    """One RFC 6902 operation (the gateway only ever adds a value of the template
    context, which holds JSON)."""

    op: str
    path: str
    value: object


def pointer(parts: Iterable[str]) -> str:
    """A JSON pointer (RFC 6901) to the dot path ``parts``."""
    return "".join("/" + p.replace("~", "~0").replace("/", "~1") for p in parts)


def _at(data: Mapping[str, object], parts: list[str]) -> object:
    node: object = data
    for part in parts:
        if not isinstance(node, Mapping):  # mutation sets paths through maps only
            raise TypeError(f"{pointer(parts)} is not below a map")
        node = node[part]
    return node


def json_patch(
    original: Mapping[str, object], mutated: Mapping[str, object], paths: Iterable[str]
) -> list[PatchOperation]:
    """``add`` operations setting each of ``paths`` of ``original`` to its value in
    ``mutated``."""
    state = clone(dict(original))
    operations: list[PatchOperation] = []
    for path in dict.fromkeys(paths):
        parts = path.split(".")
        node = state
        for depth, part in enumerate(parts, start=1):
            child = node.get(part)
            if depth == len(parts) or not isinstance(child, dict):
                value = clone(_at(mutated, parts[:depth]))
                operations.append({"op": "add", "path": pointer(parts[:depth]), "value": value})
                node[part] = clone(value)
                break
            node = child
    return operations

"""The JSONPatch that turns the object the API server sent into what mutation made of it.

Mutation (:func:`orkestra.engine.admission.mutate`) reports the dot paths it set; each
becomes one ``add`` operation (which replaces a member that exists) at the first segment
missing from the object, carrying the mutated subtree from there. Only those paths are
patched: ``normalize`` and the keys the template context adds stay out of the stored
object, as at reconcile time.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from orkestra.cluster.data import clone

Obj = dict[str, Any]


def pointer(parts: Iterable[str]) -> str:
    """A JSON pointer (RFC 6901) to the dot path ``parts``."""
    return "".join("/" + p.replace("~", "~0").replace("/", "~1") for p in parts)


def _at(data: Obj, parts: list[str]) -> Any:
    node: Any = data
    for part in parts:
        node = node[part]
    return node


def json_patch(original: Obj, mutated: Obj, paths: Iterable[str]) -> list[Obj]:
    """``add`` operations setting each of ``paths`` of ``original`` to its value in
    ``mutated``."""
    state = clone(original)
    operations: list[Obj] = []
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

"""JSON merge patch (RFC 7386) and JSON patch (RFC 6902)."""

from __future__ import annotations

from orkestra.cluster.data import clone
from orkestra.cluster.errors import BadRequestError, InvalidError
from orkestra.kubeobjects import Json, JsonDict


def merge_patch(target: Json, patch: Json) -> Json:
    """Apply a merge patch: maps merge, ``null`` deletes, anything else replaces."""
    if not isinstance(patch, dict):
        return clone(patch)
    result: JsonDict = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result


def _pointer(path: str) -> list[str]:
    if path == "":
        return []
    if not path.startswith("/"):
        raise BadRequestError(f"invalid JSON pointer {path!r}")
    return [p.replace("~1", "/").replace("~0", "~") for p in path[1:].split("/")]


def _parent(doc: Json, parts: list[str], path: str) -> Json:
    node = doc
    for part in parts[:-1]:
        if isinstance(node, dict) and part in node:
            node = node[part]
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            raise InvalidError(f"the server rejected our request: path {path!r} does not exist")
    return node


def _get(doc: Json, path: str) -> Json:
    parts = _pointer(path)
    if not parts:
        return doc
    parent = _parent(doc, parts, path)
    last = parts[-1]
    found: Json
    if isinstance(parent, dict) and last in parent:
        found = parent[last]
    elif isinstance(parent, list) and last.isdigit() and int(last) < len(parent):
        found = parent[int(last)]
    else:
        raise InvalidError(f"the server rejected our request: path {path!r} does not exist")
    return found


def _add(doc: Json, path: str, value: Json) -> Json:
    parts = _pointer(path)
    if not parts:
        return value
    parent = _parent(doc, parts, path)
    last = parts[-1]
    if isinstance(parent, dict):
        parent[last] = value
    elif isinstance(parent, list):
        index = len(parent) if last == "-" else int(last) if last.isdigit() else -1
        if not 0 <= index <= len(parent):
            raise InvalidError(f"the server rejected our request: index out of range in {path!r}")
        parent.insert(index, value)
    else:
        raise InvalidError(f"the server rejected our request: cannot add at {path!r}")
    return doc


def _remove(doc: Json, path: str) -> Json:
    parts = _pointer(path)
    _get(doc, path)
    parent = _parent(doc, parts, path)
    if isinstance(parent, dict):
        del parent[parts[-1]]
    elif isinstance(parent, list):  # what _get found the path in: a map or a list
        del parent[int(parts[-1])]
    return doc


def json_patch(doc: Json, operations: Json) -> Json:
    """Apply a JSON patch (a list of operations) to a copy of ``doc``."""
    if not isinstance(operations, list):
        raise BadRequestError("a JSON patch must be a list of operations")
    result = clone(doc)
    for op in operations:
        if (
            not isinstance(op, dict)
            or "op" not in op
            or not isinstance(path := op.get("path"), str)
        ):
            raise BadRequestError(f"invalid JSON patch operation {op!r}")
        kind = op["op"]
        if kind == "add":
            result = _add(result, path, clone(op.get("value")))
        elif kind == "remove":
            result = _remove(result, path)
        elif kind == "replace":
            _get(result, path)
            result = _add(_remove(result, path), path, clone(op.get("value")))
        elif kind in ("move", "copy"):
            source = str(op.get("from", ""))
            value = clone(_get(result, source))
            if kind == "move":
                result = _remove(result, source)
            result = _add(result, path, value)
        elif kind == "test":
            if _get(result, path) != op.get("value"):
                raise InvalidError(f"the server rejected our request: test failed at {path!r}")
        else:
            raise BadRequestError(f"unknown JSON patch operation {kind!r}")
    return result

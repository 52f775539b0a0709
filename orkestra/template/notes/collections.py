"""List and map notes (``list``, ``dict``, ``listHas``, ``mapGet``, ``mapKeys`` ...) and
safe path access (``get``, ``getOr``, ``getStringOr``, ``getIntOr``, ``getBoolOr``).

Paths are either separate keys (``get .children.deployment "status" "readyReplicas"``) or
one dotted string (``getOr .children.deployment "status.readyReplicas" 0``); list elements
are addressed by number. A missing step yields nil (or the fallback), never an error.
"""

from __future__ import annotations

from typing import Any

from orkestra.template.functions import Func, P, func
from orkestra.template.notes.strings import to_str
from orkestra.template.notes.types import parse_bool, to_int

_ABSENT = object()


def lookup(obj: Any, keys: list[Any]) -> Any:
    """Walk ``keys`` into nested maps and lists; ``_ABSENT`` when a step is missing."""
    current = obj
    for key in keys:
        if isinstance(current, dict):
            current = current.get(to_str(key), _ABSENT)
        elif isinstance(current, list | tuple):
            try:
                index = int(key)
            except (TypeError, ValueError):
                return _ABSENT
            if not 0 <= index < len(current):
                return _ABSENT
            current = current[index]
        else:
            return _ABSENT
        if current is _ABSENT:
            return _ABSENT
    return current


def path_keys(path: Any) -> list[Any]:
    if isinstance(path, str):
        return [p for p in path.split(".") if p != ""]
    if isinstance(path, list | tuple):
        return list(path)
    return [path]


@func("get", P.ANY, variadic=P.ANY)
def get(obj: Any, *keys: Any) -> Any:
    """``get OBJ K1 K2 ...``: the value at that path, or nil."""
    flat: list[Any] = []
    for key in keys:
        flat.extend(path_keys(key) if isinstance(key, str) and "." in key else [key])
    found = lookup(obj, flat)
    return None if found is _ABSENT else found


@func("getOr", P.ANY, P.ANY, P.ANY)
def get_or(obj: Any, path: Any, fallback: Any) -> Any:
    found = lookup(obj, path_keys(path))
    return fallback if found is _ABSENT or found is None else found


@func("getStringOr", P.ANY, P.ANY, P.ANY)
def get_string_or(obj: Any, path: Any, fallback: Any) -> Any:
    found = lookup(obj, path_keys(path))
    return fallback if found is _ABSENT or found is None else to_str(found)


@func("getIntOr", P.ANY, P.ANY, P.ANY)
def get_int_or(obj: Any, path: Any, fallback: Any) -> Any:
    found = lookup(obj, path_keys(path))
    if found is _ABSENT or found is None:
        return fallback
    try:
        return to_int.impl(found)
    except ValueError:
        return fallback


@func("getBoolOr", P.ANY, P.ANY, P.ANY)
def get_bool_or(obj: Any, path: Any, fallback: Any) -> Any:
    found = lookup(obj, path_keys(path))
    if isinstance(found, bool):
        return found
    if isinstance(found, str):
        try:
            return parse_bool(found)
        except ValueError:
            return fallback
    return fallback


@func("list", variadic=P.ANY)
def list_(*items: Any) -> list[Any]:
    return list(items)


@func("dict", variadic=P.ANY)
def dict_(*pairs: Any) -> dict[str, object]:
    out: dict[str, object] = {}
    for i in range(0, len(pairs), 2):
        out[to_str(pairs[i])] = pairs[i + 1] if i + 1 < len(pairs) else ""
    return out


@func("hasKey", P.ANY, P.STR)
def has_key(mapping: Any, key: str) -> bool:
    if mapping is None:
        return False
    if not isinstance(mapping, dict):
        raise ValueError("hasKey needs a map")
    return key in mapping


@func("listHas", P.ANY, P.ANY)
def list_has(items: Any, item: Any) -> bool:
    """Whether ITEMS contains ITEM, compared as text (so 1 and "1" match)."""
    return isinstance(items, list | tuple) and any(to_str(x) == to_str(item) for x in items)


@func("listGet", P.ANY, P.ANY, variadic=P.ANY)
def list_get(items: Any, index: Any, *fallback: Any) -> Any:
    found = lookup(items, [index]) if isinstance(items, list | tuple) else _ABSENT
    if found is _ABSENT:
        return fallback[0] if fallback else None
    return found


@func("listLen", P.ANY)
def list_len(items: Any) -> int:
    return len(items) if isinstance(items, list | tuple) else 0


@func("first", P.ANY)
def first(items: Any) -> Any:
    return items[0] if isinstance(items, list | tuple) and items else None


@func("last", P.ANY)
def last(items: Any) -> Any:
    return items[-1] if isinstance(items, list | tuple) and items else None


@func("mapGet", P.ANY, P.ANY, variadic=P.ANY)
def map_get(mapping: Any, key: Any, *fallback: Any) -> Any:
    if isinstance(mapping, dict) and to_str(key) in mapping:
        return mapping[to_str(key)]
    return fallback[0] if fallback else None


@func("mapKeys", P.ANY)
def map_keys(mapping: Any) -> list[Any]:
    return sorted(mapping) if isinstance(mapping, dict) else []


@func("mapValues", P.ANY)
def map_values(mapping: Any) -> list[Any]:
    return [mapping[k] for k in sorted(mapping)] if isinstance(mapping, dict) else []


@func("mapPick", P.ANY, variadic=P.ANY)
def map_pick(mapping: Any, *keys: Any) -> dict[str, object]:
    if not isinstance(mapping, dict):
        return {}
    wanted = {to_str(k) for k in keys}
    return {k: v for k, v in mapping.items() if k in wanted}


@func("mapOmit", P.ANY, variadic=P.ANY)
def map_omit(mapping: Any, *keys: Any) -> dict[str, object]:
    if not isinstance(mapping, dict):
        return {}
    unwanted = {to_str(k) for k in keys}
    return {k: v for k, v in mapping.items() if k not in unwanted}


NOTES: tuple[Func, ...] = (
    get,
    get_or,
    get_string_or,
    get_int_or,
    get_bool_or,
    list_,
    dict_,
    has_key,
    list_has,
    list_get,
    list_len,
    first,
    last,
    map_get,
    map_keys,
    map_values,
    map_pick,
    map_omit,
)

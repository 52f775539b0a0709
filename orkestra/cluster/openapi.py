"""OpenAPI v3 structural schemas of CRDs: defaulting, pruning and validation.

What an API server does to a custom resource before storing it: fill in ``default``
values, drop fields the schema does not declare (unless
``x-kubernetes-preserve-unknown-fields``), then reject values that break the schema, with
messages in the API server's own wording (``spec.replicas: Invalid value: 100:
spec.replicas in body should be less than or equal to 50``). jsonschema was not used because
defaulting and pruning are not validation, and its messages differ from the API server's.
"""

from __future__ import annotations

import re
from typing import Any

from orkestra.cluster.data import clone

Schema = dict[str, Any]
_TYPES = {"object": dict, "array": list, "string": str, "boolean": bool}


def _is_type(value: Any, kind: str) -> bool:
    if kind == "integer":
        return isinstance(value, int) and not isinstance(value, bool)
    if kind == "number":
        return isinstance(value, int | float) and not isinstance(value, bool)
    expected = _TYPES.get(kind)
    return expected is None or isinstance(value, expected)


def apply_defaults(value: Any, schema: Schema | None) -> Any:
    """Fill absent properties that have a ``default`` (recursively)."""
    if not schema or not isinstance(value, dict | list):
        return value
    if isinstance(value, dict):
        for name, prop in (schema.get("properties") or {}).items():
            if name not in value and "default" in prop:
                value[name] = clone(prop["default"])
            if name in value:
                apply_defaults(value[name], prop)
        extra = schema.get("additionalProperties")
        if isinstance(extra, dict):
            declared = schema.get("properties") or {}
            for name, item in value.items():
                if name not in declared:
                    apply_defaults(item, extra)
    else:
        for item in value:
            apply_defaults(item, schema.get("items"))
    return value


def prune(value: Any, schema: Schema | None, *, root: bool = False) -> Any:
    """Drop undeclared fields, keeping apiVersion/kind/metadata at the root."""
    if not schema or schema.get("x-kubernetes-preserve-unknown-fields"):
        return value
    if isinstance(value, dict):
        props = schema.get("properties") or {}
        extra = schema.get("additionalProperties")
        if props or extra is not None or schema.get("type") == "object":
            for name in list(value):
                if root and name in ("apiVersion", "kind", "metadata"):
                    continue
                if name in props:
                    prune(value[name], props[name])
                elif isinstance(extra, dict):
                    prune(value[name], extra)
                elif extra is not True:
                    del value[name]
    elif isinstance(value, list):
        for item in value:
            prune(item, schema.get("items"))
    return value


def _show(value: Any) -> str:
    if isinstance(value, str):
        return f'"{value}"'
    if isinstance(value, bool):
        return "true" if value else "false"
    return "null" if value is None else str(value)


def validate(value: Any, schema: Schema | None, path: str = "") -> list[str]:
    """Schema violations, worded like the API server's field errors."""
    if not schema:
        return []
    errors: list[str] = []
    _check(value, schema, path, errors)
    return errors


def _check(value: Any, schema: Schema, path: str, errors: list[str]) -> None:
    where = path or "<root>"
    if value is None:
        if not schema.get("nullable") and schema.get("type"):
            errors.append(f"{where}: Invalid value: \"null\": {where} in body must be of type "
                          f"{schema['type']}: \"null\"")
        return
    kind = schema.get("type")
    if schema.get("x-kubernetes-int-or-string"):
        if not (isinstance(value, str) or _is_type(value, "integer")):
            errors.append(f"{where}: Invalid value: {_show(value)}: {where} in body must be "
                          "of type integer or string")
        return
    if kind and not _is_type(value, kind):
        errors.append(f"{where}: Invalid value: \"{type(value).__name__}\": {where} in body "
                      f"must be of type {kind}: \"{type(value).__name__}\"")
        return
    _check_scalar(value, schema, where, errors)
    if isinstance(value, dict):
        _check_object(value, schema, path, errors)
    elif isinstance(value, list):
        _check_array(value, schema, path, errors)
    for sub in schema.get("allOf") or []:
        _check(value, sub, path, errors)
    for key, want in (("anyOf", "at least one"), ("oneOf", "exactly one")):
        options = schema.get(key)
        if options:
            passing = sum(not validate(value, sub, path) for sub in options)
            if passing == 0 or (key == "oneOf" and passing != 1):
                errors.append(f"{where}: Invalid value: {_show(value)}: must match {want} "
                              f"schema in {key}")


def _check_scalar(value: Any, schema: Schema, where: str, errors: list[str]) -> None:
    if "enum" in schema and value not in schema["enum"]:
        allowed = ", ".join(_show(v) for v in schema["enum"])
        errors.append(f"{where}: Unsupported value: {_show(value)}: supported values: "
                      f"{allowed}")
    if isinstance(value, int | float) and not isinstance(value, bool):
        low, high = schema.get("minimum"), schema.get("maximum")
        if low is not None and value < low:
            errors.append(f"{where}: Invalid value: {_show(value)}: {where} in body should be "
                          f"greater than or equal to {low}")
        if high is not None and value > high:
            errors.append(f"{where}: Invalid value: {_show(value)}: {where} in body should be "
                          f"less than or equal to {high}")
    if isinstance(value, str):
        if "maxLength" in schema and len(value) > schema["maxLength"]:
            errors.append(f"{where}: Too long: may not be longer than {schema['maxLength']}")
        if "minLength" in schema and len(value) < schema["minLength"]:
            errors.append(f"{where}: Invalid value: {_show(value)}: {where} in body should be "
                          f"at least {schema['minLength']} chars long")
        if "pattern" in schema and re.search(schema["pattern"], value) is None:
            errors.append(f"{where}: Invalid value: {_show(value)}: {where} in body should "
                          f"match '{schema['pattern']}'")


def _check_object(value: dict[str, Any], schema: Schema, path: str, errors: list[str]) -> None:
    prefix = f"{path}." if path else ""
    for name in schema.get("required") or []:
        if name not in value:
            errors.append(f"{prefix}{name}: Required value")
    props = schema.get("properties") or {}
    extra = schema.get("additionalProperties")
    for name, item in value.items():
        if name in props:
            _check(item, props[name], f"{prefix}{name}", errors)
        elif isinstance(extra, dict):
            _check(item, extra, f"{prefix}{name}", errors)
    if "maxProperties" in schema and len(value) > schema["maxProperties"]:
        errors.append(f"{path}: Too many: {len(value)}: must have at most "
                      f"{schema['maxProperties']} items")


def _check_array(value: list[Any], schema: Schema, path: str, errors: list[str]) -> None:
    where = path or "<root>"
    if "maxItems" in schema and len(value) > schema["maxItems"]:
        errors.append(f"{where}: Too many: {len(value)}: must have at most "
                      f"{schema['maxItems']} items")
    if "minItems" in schema and len(value) < schema["minItems"]:
        errors.append(f"{where}: Invalid value: {len(value)}: {where} in body should have at "
                      f"least {schema['minItems']} items")
    items = schema.get("items")
    if isinstance(items, dict):
        for i, item in enumerate(value):
            _check(item, items, f"{path}[{i}]", errors)

"""The walk-the-schema-dict implementation of CRD defaulting, pruning and validation that
:class:`orkestra.cluster.openapi.Schema` replaced: the oracle its differential test compares
against (same messages, same order, same objects). The leaf helpers (type tests, reading a
key, quoting a value) are the module's own."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TypeVar

from orkestra.cluster.data import clone
from orkestra.cluster.openapi import _is_type, _number, _properties, _schemas, _show
from orkestra.kubeobjects import Json, JsonObject

V = TypeVar("V")


def apply_defaults(value: V, schema: Json) -> V:
    """Fill absent properties that have a ``default`` (recursively)."""
    if not isinstance(schema, dict) or not schema or not isinstance(value, dict | list):
        return value
    if isinstance(value, dict):
        for name, prop in _properties(schema).items():
            if name not in value and "default" in prop:
                value[name] = clone(prop["default"])
            if name in value:
                apply_defaults(value[name], prop)
        extra = schema.get("additionalProperties")
        if isinstance(extra, dict):
            declared = _properties(schema)
            for name, item in value.items():
                if name not in declared:
                    apply_defaults(item, extra)
    else:
        for item in value:
            apply_defaults(item, schema.get("items"))
    return value


def prune(value: V, schema: Json, *, root: bool = False) -> V:
    """Drop undeclared fields, keeping apiVersion/kind/metadata at the root."""
    if (
        not isinstance(schema, dict)
        or not schema
        or schema.get("x-kubernetes-preserve-unknown-fields")
    ):
        return value
    if isinstance(value, dict):
        props = _properties(schema)
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


def validate(value: object, schema: Json, path: str = "") -> list[str]:
    """Schema violations, worded like the API server's field errors."""
    if not isinstance(schema, dict) or not schema:
        return []
    errors: list[str] = []
    _check(value, schema, path, errors)
    return errors


def _check(value: object, schema: JsonObject, path: str, errors: list[str]) -> None:
    if not isinstance(schema, dict):
        return
    where = path or "<root>"
    if value is None:
        if not schema.get("nullable") and schema.get("type"):
            errors.append(
                f'{where}: Invalid value: "null": {where} in body must be of type '
                f'{schema["type"]}: "null"'
            )
        return
    kind = schema.get("type") if isinstance(schema.get("type"), str) else None
    if schema.get("x-kubernetes-int-or-string"):
        if not (isinstance(value, str) or _is_type(value, "integer")):
            errors.append(
                f"{where}: Invalid value: {_show(value)}: {where} in body must be "
                "of type integer or string"
            )
        return
    if kind and not _is_type(value, kind):
        errors.append(
            f'{where}: Invalid value: "{type(value).__name__}": {where} in body '
            f'must be of type {kind}: "{type(value).__name__}"'
        )
        return
    _check_scalar(value, schema, where, errors)
    if isinstance(value, dict):
        _check_object(value, schema, path, errors)
    elif isinstance(value, list):
        _check_array(value, schema, path, errors)
    for sub in _schemas(schema.get("allOf")):
        _check(value, sub, path, errors)
    for key, want in (("anyOf", "at least one"), ("oneOf", "exactly one")):
        options = _schemas(schema.get(key))
        if options:
            passing = sum(not validate(value, sub, path) for sub in options)
            if passing == 0 or (key == "oneOf" and passing != 1):
                errors.append(
                    f"{where}: Invalid value: {_show(value)}: must match {want} schema in {key}"
                )


def _check_scalar(value: object, schema: JsonObject, where: str, errors: list[str]) -> None:
    enum = schema.get("enum")
    if isinstance(enum, list) and value not in enum:
        allowed = ", ".join(_show(v) for v in enum)
        errors.append(f"{where}: Unsupported value: {_show(value)}: supported values: {allowed}")
    if isinstance(value, int | float) and not isinstance(value, bool):
        low, high = _number(schema, "minimum"), _number(schema, "maximum")
        if low is not None and value < low:
            errors.append(
                f"{where}: Invalid value: {_show(value)}: {where} in body should be "
                f"greater than or equal to {low}"
            )
        if high is not None and value > high:
            errors.append(
                f"{where}: Invalid value: {_show(value)}: {where} in body should be "
                f"less than or equal to {high}"
            )
    if isinstance(value, str):
        _check_string(value, schema, where, errors)


def _check_string(value: str, schema: JsonObject, where: str, errors: list[str]) -> None:
    longest, shortest = _number(schema, "maxLength"), _number(schema, "minLength")
    if longest is not None and len(value) > longest:
        errors.append(f"{where}: Too long: may not be longer than {longest}")
    if shortest is not None and len(value) < shortest:
        errors.append(
            f"{where}: Invalid value: {_show(value)}: {where} in body should be "
            f"at least {shortest} chars long"
        )
    pattern = schema.get("pattern")
    if isinstance(pattern, str):
        from orkestra.regex import RegexError, compile_regex  # RE2: only for a pattern

        try:
            matched = compile_regex(pattern).search(value)
        except RegexError as exc:
            errors.append(f"{where}: Invalid value: {_show(value)}: {exc.message}")
            return
        if not matched:
            errors.append(
                f"{where}: Invalid value: {_show(value)}: {where} in body should match '{pattern}'"
            )


def _check_object(
    value: Mapping[str, object], schema: JsonObject, path: str, errors: list[str]
) -> None:
    prefix = f"{path}." if path else ""
    required = schema.get("required")
    for name in required if isinstance(required, list) else []:
        if isinstance(name, str) and name not in value:
            errors.append(f"{prefix}{name}: Required value")
    props = _properties(schema)
    extra = schema.get("additionalProperties")
    for name, item in value.items():
        if name in props:
            _check(item, props[name], f"{prefix}{name}", errors)
        elif isinstance(extra, dict):
            _check(item, extra, f"{prefix}{name}", errors)
    most = _number(schema, "maxProperties")
    if most is not None and len(value) > most:
        errors.append(f"{path}: Too many: {len(value)}: must have at most {most} items")


def _check_array(value: Sequence[object], schema: JsonObject, path: str, errors: list[str]) -> None:
    where = path or "<root>"
    most, least = _number(schema, "maxItems"), _number(schema, "minItems")
    if most is not None and len(value) > most:
        errors.append(f"{where}: Too many: {len(value)}: must have at most {most} items")
    if least is not None and len(value) < least:
        errors.append(
            f"{where}: Invalid value: {len(value)}: {where} in body should have at "
            f"least {least} items"
        )
    items = schema.get("items")
    if isinstance(items, dict):
        for i, item in enumerate(value):
            _check(item, items, f"{path}[{i}]", errors)

"""OpenAPI v3 structural schemas of CRDs: defaulting, pruning and validation.

What an API server does to a custom resource before storing it: fill in ``default``
values, drop fields the schema does not declare (unless
``x-kubernetes-preserve-unknown-fields``), then reject values that break the schema, with
messages in the API server's own wording (``spec.replicas: Invalid value: 100:
spec.replicas in body should be less than or equal to 50``). jsonschema was not used because
defaulting and pruning are not validation, and its messages differ from the API server's.
``pattern`` is matched by RE2, as the API server's Go ``regexp`` does (:mod:`orkestra.regex`).
A schema is read into :class:`Schema` nodes, each looking its keys up once; a resource type
keeps its own, so a custom resource's writes do not read the schema dict again.

:func:`crd_problems` checks the shape of a CRD manifest before anything reads it, as the API
server's decoding does: ``spec`` a mapping, each schema (``openAPIV3Schema``, every
``properties`` value, ``items``, ``allOf`` ...) a mapping, ``additionalProperties`` a schema
or a boolean, bounds numbers, patterns valid RE2. The functions above skip what is not a
schema rather than fail, so a manifest that was never checked cannot crash them.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import TypeVar

from orkestra.cluster.data import clone
from orkestra.kubeobjects import Json, JsonDict, JsonObject

# What defaulting and pruning edit in place and hand back: any JSON value, a whole object too.
V = TypeVar("V")
_TYPES = {"object": dict, "array": list, "string": str, "boolean": bool}


def _is_type(value: object, kind: str) -> bool:
    if kind == "integer":
        return isinstance(value, int) and not isinstance(value, bool)
    if kind == "number":
        return isinstance(value, int | float) and not isinstance(value, bool)
    expected = _TYPES.get(kind)
    return expected is None or isinstance(value, expected)


def _properties(schema: JsonObject) -> dict[str, JsonObject]:
    """The declared properties that are schemas (anything else is ignored)."""
    props = schema.get("properties")
    if not isinstance(props, dict):
        return {}
    return {k: v for k, v in props.items() if isinstance(v, dict)}


def _number(schema: JsonObject, key: str) -> int | float | None:
    value = schema.get(key)
    return value if isinstance(value, int | float) and not isinstance(value, bool) else None


def _schemas(value: Json) -> list[JsonObject]:
    """The schemas of an ``allOf``/``anyOf``/``oneOf`` list (anything else is ignored)."""
    return [s for s in value if isinstance(s, dict)] if isinstance(value, list) else []


def _show(value: object) -> str:
    if isinstance(value, str):
        return f'"{value}"'
    if isinstance(value, bool):
        return "true" if value else "false"
    return "null" if value is None else str(value)


class Schema:
    """One node of a structural schema, with what defaulting, pruning and validation look
    up in it read once; the nodes under it are made when first needed.

    A resource type keeps the root of its schema (:attr:`ResourceType.rules
    <orkestra.cluster.resources.ResourceType.rules>`), so a custom resource's writes no
    longer read the schema's keys again at every node; the schema must not change once
    read. :class:`orkestra.cluster.kubeschema.SchemaNode` is the other reading of a schema
    (field ownership, patches, strict decoding), with another notion of children."""

    __slots__ = (
        "_children",
        "_extra",
        "_items",
        "_subschemas",
        "declared",
        "defaults",
        "enum",
        "extra_schema",
        "int_or_string",
        "keeps_extra",
        "keeps_unknown",
        "max_items",
        "max_length",
        "max_properties",
        "maximum",
        "min_items",
        "min_length",
        "minimum",
        "null_type",
        "nullable",
        "pattern",
        "prunes",
        "required",
        "schema",
        "type",
    )

    def __init__(self, schema: JsonObject) -> None:
        self.schema = schema
        self.declared = _properties(schema)
        self.defaults = [(k, v["default"]) for k, v in self.declared.items() if "default" in v]
        extra = schema.get("additionalProperties")
        self.extra_schema = extra if isinstance(extra, dict) else None
        self.keeps_extra = extra is True
        self.keeps_unknown = not schema or bool(schema.get("x-kubernetes-preserve-unknown-fields"))
        kind = schema.get("type")
        # pruning looks at a map's keys only under an object schema (declared or typed)
        self.prunes = bool(self.declared or extra is not None or kind == "object")
        self.nullable = bool(schema.get("nullable"))
        self.null_type = kind  # printed as it is by the null message
        self.type = kind if isinstance(kind, str) and kind else None
        self.int_or_string = bool(schema.get("x-kubernetes-int-or-string"))
        enum = schema.get("enum")
        self.enum = enum if isinstance(enum, list) else None
        self.minimum, self.maximum = _number(schema, "minimum"), _number(schema, "maximum")
        self.max_length = _number(schema, "maxLength")
        self.min_length = _number(schema, "minLength")
        pattern = schema.get("pattern")
        self.pattern = pattern if isinstance(pattern, str) else None
        required = schema.get("required")
        self.required = (
            [n for n in required if isinstance(n, str)] if isinstance(required, list) else []
        )
        self.max_properties = _number(schema, "maxProperties")
        self.max_items, self.min_items = _number(schema, "maxItems"), _number(schema, "minItems")
        self._children: dict[str, Schema] = {}
        self._extra: Schema | None = None
        self._items: Schema | None = None
        self._subschemas: dict[str, list[Schema]] = {}

    # -- the nodes under this one -----------------------------------------------------
    def child(self, name: str) -> Schema:
        """The node of a declared property."""
        found = self._children.get(name)
        if found is None:
            found = self._children[name] = Schema(self.declared[name])
        return found

    def extra(self) -> Schema | None:
        """The node of the undeclared keys (None when ``additionalProperties`` is not a
        schema)."""
        if self._extra is None:
            if self.extra_schema is None:
                return None
            self._extra = Schema(self.extra_schema)
        return self._extra

    def items(self) -> Schema | None:
        """The node of a list's items (None when ``items`` is not a schema)."""
        if self._items is None:
            items = self.schema.get("items")
            if not isinstance(items, dict):
                return None
            self._items = Schema(items)
        return self._items

    def subschemas(self, key: str) -> list[Schema]:
        """The nodes of ``allOf``, ``anyOf`` or ``oneOf``."""
        found = self._subschemas.get(key)
        if found is None:
            found = self._subschemas[key] = [Schema(s) for s in _schemas(self.schema.get(key))]
        return found

    # -- defaulting and pruning -------------------------------------------------------
    def apply_defaults(self, value: V) -> V:
        """Fill absent properties that have a ``default`` (recursively)."""
        if not self.schema:
            return value
        if isinstance(value, dict):
            for name, default in self.defaults:
                if name not in value:
                    value[name] = clone(default)
            declared = self.declared
            extra = self.extra()
            for name, item in value.items():
                if not isinstance(item, dict | list):
                    continue
                if name in declared:
                    self.child(name).apply_defaults(item)
                elif extra is not None:
                    extra.apply_defaults(item)
        elif isinstance(value, list):
            items = self.items()
            if items is not None:
                for item in value:
                    items.apply_defaults(item)
        return value

    def prune(self, value: V, *, root: bool = False) -> V:
        """Drop undeclared fields, keeping apiVersion/kind/metadata at the root."""
        if self.keeps_unknown:
            return value
        if isinstance(value, dict):
            if self.prunes:
                self._prune_fields(value, root)
        elif isinstance(value, list):
            items = self.items()
            if items is not None:
                for item in value:
                    items.prune(item)
        return value

    def _prune_fields(self, value: JsonDict, root: bool) -> None:
        declared, extra = self.declared, self.extra()
        for name in list(value):
            if root and name in ("apiVersion", "kind", "metadata"):
                continue
            if name in declared:
                self.child(name).prune(value[name])
            elif extra is not None:
                extra.prune(value[name])
            elif not self.keeps_extra:
                del value[name]

    # -- validation -------------------------------------------------------------------
    def validate(self, value: object, path: str = "") -> list[str]:
        """Schema violations, worded like the API server's field errors."""
        errors: list[str] = []
        self._check(value, path, errors)
        return errors

    def _check(self, value: object, path: str, errors: list[str]) -> None:
        where = path or "<root>"
        if value is None:
            if not self.nullable and self.null_type:
                errors.append(
                    f'{where}: Invalid value: "null": {where} in body must be of type '
                    f'{self.null_type}: "null"'
                )
            return
        if self.int_or_string:
            if not (isinstance(value, str) or _is_type(value, "integer")):
                errors.append(
                    f"{where}: Invalid value: {_show(value)}: {where} in body must be "
                    "of type integer or string"
                )
            return
        kind = self.type
        if kind and not _is_type(value, kind):
            errors.append(
                f'{where}: Invalid value: "{type(value).__name__}": {where} in body '
                f'must be of type {kind}: "{type(value).__name__}"'
            )
            return
        self._check_scalar(value, where, errors)
        if isinstance(value, dict):
            self._check_object(value, path, errors)
        elif isinstance(value, list):
            self._check_array(value, path, errors)
        for sub in self.subschemas("allOf"):
            sub._check(value, path, errors)
        for key, want in (("anyOf", "at least one"), ("oneOf", "exactly one")):
            options = self.subschemas(key)
            if options:
                passing = sum(not sub.validate(value, path) for sub in options)
                if passing == 0 or (key == "oneOf" and passing != 1):
                    errors.append(
                        f"{where}: Invalid value: {_show(value)}: must match {want} schema in {key}"
                    )

    def _check_scalar(self, value: object, where: str, errors: list[str]) -> None:
        enum = self.enum
        if enum is not None and value not in enum:
            allowed = ", ".join(_show(v) for v in enum)
            errors.append(
                f"{where}: Unsupported value: {_show(value)}: supported values: {allowed}"
            )
        if isinstance(value, int | float) and not isinstance(value, bool):
            low, high = self.minimum, self.maximum
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
            self._check_string(value, where, errors)

    def _check_string(self, value: str, where: str, errors: list[str]) -> None:
        longest, shortest = self.max_length, self.min_length
        if longest is not None and len(value) > longest:
            errors.append(f"{where}: Too long: may not be longer than {longest}")
        if shortest is not None and len(value) < shortest:
            errors.append(
                f"{where}: Invalid value: {_show(value)}: {where} in body should be "
                f"at least {shortest} chars long"
            )
        pattern = self.pattern
        if pattern is not None:
            from orkestra.regex import RegexError, compile_regex  # RE2: only for a pattern

            try:
                matched = compile_regex(pattern).search(value)
            except RegexError as exc:
                errors.append(f"{where}: Invalid value: {_show(value)}: {exc.message}")
                return
            if not matched:
                errors.append(
                    f"{where}: Invalid value: {_show(value)}: {where} in body should match "
                    f"'{pattern}'"
                )

    def _check_object(self, value: Mapping[str, object], path: str, errors: list[str]) -> None:
        prefix = f"{path}." if path else ""
        for name in self.required:
            if name not in value:
                errors.append(f"{prefix}{name}: Required value")
        declared = self.declared
        extra = self.extra()
        for name, item in value.items():
            if name in declared:
                self.child(name)._check(item, f"{prefix}{name}", errors)
            elif extra is not None:
                extra._check(item, f"{prefix}{name}", errors)
        most = self.max_properties
        if most is not None and len(value) > most:
            errors.append(f"{path}: Too many: {len(value)}: must have at most {most} items")

    def _check_array(self, value: Sequence[object], path: str, errors: list[str]) -> None:
        where = path or "<root>"
        most, least = self.max_items, self.min_items
        if most is not None and len(value) > most:
            errors.append(f"{where}: Too many: {len(value)}: must have at most {most} items")
        if least is not None and len(value) < least:
            errors.append(
                f"{where}: Invalid value: {len(value)}: {where} in body should have at "
                f"least {least} items"
            )
        items = self.items()
        if items is not None:
            for i, item in enumerate(value):
                items._check(item, f"{path}[{i}]", errors)


def apply_defaults(value: V, schema: Json) -> V:
    """Fill absent properties that have a ``default`` (recursively)."""
    if not isinstance(schema, dict) or not schema:
        return value
    return Schema(schema).apply_defaults(value)


def prune(value: V, schema: Json, *, root: bool = False) -> V:
    """Drop undeclared fields, keeping apiVersion/kind/metadata at the root."""
    if not isinstance(schema, dict):
        return value
    return Schema(schema).prune(value, root=root)


def validate(value: object, schema: Json, path: str = "") -> list[str]:
    """Schema violations, worded like the API server's field errors."""
    if not isinstance(schema, dict) or not schema:
        return []
    return Schema(schema).validate(value, path)


# -- the shape of a CRD manifest ---------------------------------------------------------

FieldPath = tuple[str | int, ...]
Finding = tuple[FieldPath, str]

_KINDS_OF = {
    dict: "a mapping",
    list: "a list",
    str: "a string",
    bool: "a boolean",
    int: "a number",
    float: "a number",
    type(None): "null",
}
_NUMBERS = ("minimum", "maximum", "multipleOf")
_COUNTS = ("maxLength", "minLength", "maxItems", "minItems", "maxProperties", "minProperties")
_FLAGS = (
    "nullable",
    "x-kubernetes-preserve-unknown-fields",
    "x-kubernetes-int-or-string",
    "x-kubernetes-embedded-resource",
    "uniqueItems",
    "exclusiveMinimum",
    "exclusiveMaximum",
)
_SCHEMA_TYPES = ("object", "array", "string", "integer", "number", "boolean")


def kind_of(value: object) -> str:
    """``a mapping``, ``a list``, ``a boolean`` ... for messages."""
    return _KINDS_OF.get(type(value), type(value).__name__)


def field_path(path: FieldPath) -> str:
    """``spec.versions[0].schema`` from its parts, as the API server writes field paths."""
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else ("." if out else "") + part
    return out


def crd_problems(crd: object) -> list[Finding]:
    """What makes a CustomResourceDefinition manifest one the API server would refuse to
    decode or admit (shape, schemas, patterns), as (field path, message) pairs."""
    return list(_crd(crd))


def _crd(crd: object) -> Iterator[Finding]:
    if not isinstance(crd, dict):
        yield (), f"a CustomResourceDefinition must be a mapping, not {kind_of(crd)}"
        return
    spec = crd.get("spec")
    if not isinstance(spec, dict):
        yield ("spec",), f"must be a mapping (CustomResourceDefinitionSpec), not {kind_of(spec)}"
        return
    for key in ("group", "scope"):
        if key in spec and not isinstance(spec[key], str):
            yield ("spec", key), f"must be a string, not {kind_of(spec[key])}"
    names = spec.get("names")
    if not isinstance(names, dict):
        yield ("spec", "names"), f"must be a mapping with kind and plural, not {kind_of(names)}"
    else:
        for key in ("kind", "plural", "singular", "listKind"):
            if key in names and not isinstance(names[key], str):
                yield ("spec", "names", key), f"must be a string, not {kind_of(names[key])}"
    versions = spec.get("versions")
    if not isinstance(versions, list):
        yield ("spec", "versions"), f"must be a list of versions, not {kind_of(versions)}"
        return
    for index, version in enumerate(versions):
        yield from _version(version, ("spec", "versions", index))


def _version(version: object, path: FieldPath) -> Iterator[Finding]:
    if not isinstance(version, dict):
        yield path, f"a version must be a mapping, not {kind_of(version)}"
        return
    if not isinstance(version.get("name"), str):
        yield path + ("name",), f"must be a string, not {kind_of(version.get('name'))}"
    for key in ("served", "storage"):
        if key in version and not isinstance(version[key], bool):
            yield path + (key,), f"must be true or false, not {kind_of(version[key])}"
    for key in ("schema", "subresources"):
        if key in version and not isinstance(version[key], dict | None):
            yield path + (key,), f"must be a mapping, not {kind_of(version[key])}"
    columns = version.get("additionalPrinterColumns")
    if columns is not None and (
        not isinstance(columns, list) or not all(isinstance(c, dict) for c in columns)
    ):
        yield path + ("additionalPrinterColumns",), "must be a list of mappings"
    schema = version.get("schema")
    if isinstance(schema, dict) and "openAPIV3Schema" in schema:
        yield from schema_problems(schema["openAPIV3Schema"], path + ("schema", "openAPIV3Schema"))


def schema_problems(schema: object, path: FieldPath = ()) -> Iterator[Finding]:
    """What makes ``schema`` not a JSONSchemaProps the API server accepts."""
    if not isinstance(schema, dict):
        yield path, f"must be a schema (a mapping), not {kind_of(schema)}"
        return
    yield from _scalars(schema, path)
    props = schema.get("properties")
    if props is not None and not isinstance(props, dict):
        yield path + ("properties",), f"must be a mapping of schemas, not {kind_of(props)}"
    elif props:
        for name, prop in props.items():
            yield from schema_problems(prop, path + ("properties", name))
    extra = schema.get("additionalProperties")
    if extra is not None and not isinstance(extra, bool):
        yield from schema_problems(extra, path + ("additionalProperties",))
    if "items" in schema:
        yield from schema_problems(schema["items"], path + ("items",))
    for key in ("allOf", "anyOf", "oneOf"):
        if key in schema and not isinstance(schema[key], list):
            yield path + (key,), f"must be a list of schemas, not {kind_of(schema[key])}"
        elif key in schema:
            for index, sub in enumerate(schema[key]):
                yield from schema_problems(sub, path + (key, index))
    if "not" in schema:
        yield from schema_problems(schema["not"], path + ("not",))


def _scalars(schema: JsonObject, path: FieldPath) -> Iterator[Finding]:
    kind = schema.get("type")
    if kind not in (None, "", *_SCHEMA_TYPES):
        yield (
            path + ("type",),
            f"{kind!r} is not a type; expected one of " + ", ".join(_SCHEMA_TYPES),
        )
    for key in _NUMBERS:
        if key in schema and _number(schema, key) is None:
            yield path + (key,), f"must be a number, not {kind_of(schema[key])}"
    for key in _COUNTS:
        value = schema.get(key)
        if key in schema and (not isinstance(value, int) or isinstance(value, bool) or value < 0):
            yield path + (key,), f"must be a non-negative integer, not {value!r}"
    for key in _FLAGS:
        if key in schema and not isinstance(schema[key], bool):
            yield path + (key,), f"must be true or false, not {kind_of(schema[key])}"
    for key in ("required", "enum"):
        if key in schema and not isinstance(schema[key], list):
            yield path + (key,), f"must be a list, not {kind_of(schema[key])}"
    required = schema.get("required")
    if isinstance(required, list) and not all(isinstance(r, str) for r in required):
        yield path + ("required",), "must be a list of field names (strings)"
    pattern = schema.get("pattern")
    if "pattern" in schema and not isinstance(pattern, str):
        yield path + ("pattern",), f"must be a string, not {kind_of(pattern)}"
    elif isinstance(pattern, str):
        from orkestra.regex import RegexError, compile_regex

        try:
            compile_regex(pattern)
        except RegexError as exc:
            yield (
                path + ("pattern",),
                f"must be a valid regular expression, but isn't: {exc.message}",
            )

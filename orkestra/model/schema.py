"""A small schema language for pattern files: strict checking plus JSON Schema export.

One declaration per format drives both what ``ork validate`` accepts and what
``ork schema`` exports for editors, so they cannot drift apart. Checking collects every
problem with its YAML path (positions come from the source document), rejects unknown keys
with a did-you-mean hint, and renames accepted alternative spellings (``anyOf`` for ``or``,
lowercase resource keys ...) to their canonical key. jsonschema was not used for checking
because its messages cannot carry the alias renaming, file positions and hints users need.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import TypeVar

from orkestra.cluster.data import clone
from orkestra.kubeobjects import Json, JsonDict
from orkestra.model.errors import Collector, YamlPath, did_you_mean
from orkestra.model.source import SourceDoc
from orkestra.units import is_duration

NodeT = TypeVar("NodeT", bound="Node")
_SCALAR_TYPES = (str, int, float, bool)  # a tuple: isinstance with a union is several times slower


def type_word(value: object) -> str:
    """How a YAML value's type is named in messages."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int):
        return "an integer"
    if isinstance(value, float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return type(value).__name__


def is_template(value: object) -> bool:
    return isinstance(value, str) and "{{" in value


class Context(Collector):
    """Collects problems while checking one document against a schema."""

    doc: SourceDoc

    def wrong_type(self, path: YamlPath, node: Node, value: object, hint: str = "") -> None:
        self.error(
            path,
            f"expected {node.expected}, got {type_word(value)}",
            expected=node.expected,
            hint=hint or _type_hint(node, value),
        )

    def for_keys(self) -> Context:
        """A context that reports on mapping keys rather than values."""
        return _KeyContext(self)


class _KeyContext(Context):
    def __init__(self, parent: Context) -> None:
        super().__init__(parent.doc)
        self.problems = parent.problems

    def error(
        self, path: YamlPath, message: str, *, expected: str = "", hint: str = "", key: bool = False
    ) -> None:
        super().error(path, f"key {message}", expected=expected, hint=hint, key=True)


def _type_hint(node: Node, value: object) -> str:
    if isinstance(value, int | float | bool) and node.accepts_strings:
        return "quote the value to make it a string"
    if value is None:
        return "give the key a value or remove it"
    return ""


class Node:
    """A schema node. Subclasses check values and describe themselves.

    ``check`` returns an accepted value in mappings and lists of its own, sharing none with
    the input, so later stages may change the model in place without touching the source
    document. A node with a ``ref`` name is exported once under ``$defs`` and referenced
    elsewhere.
    """

    expected = "a value"
    accepts_strings = False
    ref = ""
    description = ""

    def __init__(self, description: str = "") -> None:
        self.description = description

    def check(self, value: Json, path: YamlPath, ctx: Context) -> Json:
        raise NotImplementedError

    def schema(self, defs: JsonDict) -> JsonDict:
        raise NotImplementedError

    def json_schema(self, defs: JsonDict) -> JsonDict:
        if self.ref:
            if self.ref not in defs:
                defs[self.ref] = {}
                defs[self.ref] = self._own_schema(defs)
            return {"$ref": f"#/$defs/{self.ref}"}
        return self._own_schema(defs)

    def _own_schema(self, defs: JsonDict) -> JsonDict:
        out = self.schema(defs)
        if self.description:
            out = {**out, "description": self.description}
        return out


def named(node: NodeT, ref: str) -> NodeT:
    """Give ``node`` a ``$defs`` name for JSON Schema export."""
    node.ref = ref
    return node


def export_json_schema(node: Node, title: str) -> JsonDict:
    """A standalone JSON Schema (draft 2020-12) document for ``node``."""
    defs: JsonDict = {}
    body = node._own_schema(defs)
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": title,
        **body,
        "$defs": defs,
    }


class Str(Node):
    """A string, optionally from a fixed set or matching a pattern. Templates pass."""

    accepts_strings = True

    def __init__(
        self,
        description: str = "",
        *,
        enum: Sequence[str] = (),
        pattern: str | None = None,
        pattern_hint: str = "",
        templates: bool = True,
        nonempty: bool = False,
    ) -> None:
        super().__init__(description)
        self.enum = tuple(enum)
        self.pattern = pattern or None  # compiled on first use (re's cache), not at import
        self.pattern_hint = pattern_hint
        self.templates = templates
        self.nonempty = nonempty
        if self.enum:
            self.expected = "one of " + ", ".join(e or '""' for e in self.enum)
        else:
            self.expected = pattern_hint or "a string"

    def check(self, value: Json, path: YamlPath, ctx: Context) -> Json:
        if not isinstance(value, str):
            ctx.wrong_type(path, self, value)
            return value
        if self.templates and is_template(value):
            return value
        if self.nonempty and not value.strip():
            ctx.error(path, "must not be empty", expected="a non-empty string")
        elif self.enum and value not in self.enum:
            ctx.error(
                path,
                f'"{value}" is not allowed',
                expected=self.expected,
                hint=did_you_mean(value, self.enum),
            )
        elif self.pattern and not re.fullmatch(self.pattern, value):
            ctx.error(
                path,
                f'"{value}" is not valid',
                expected=self.pattern_hint or f"text matching {self.pattern}",
            )
        return value

    def schema(self, defs: JsonDict) -> JsonDict:
        out: JsonDict = {"type": "string"}
        if self.enum:
            out["enum"] = list(self.enum)
        elif self.pattern:
            out["pattern"] = f"^(?:{self.pattern})$"
        if self.templates and (self.enum or self.pattern):
            return {"anyOf": [out, {"type": "string", "pattern": r"\{\{"}]}
        return out


class Int(Node):
    """An integer within bounds; ``strings=True`` also takes numeric strings and templates
    (Kubernetes numbers that Orkestra declares as strings, such as ``replicas: "3"``)."""

    def __init__(
        self,
        description: str = "",
        *,
        minimum: int | None = None,
        maximum: int | None = None,
        strings: bool = False,
        percent: bool = False,
    ) -> None:
        super().__init__(description)
        self.minimum, self.maximum = minimum, maximum
        self.strings = strings
        self.percent = percent
        self.accepts_strings = strings
        self.expected = (
            "an integer"
            + (" or a percentage" if percent else "")
            + (" (or a template)" if strings else "")
        )

    def check(self, value: Json, path: YamlPath, ctx: Context) -> Json:
        number: int | None = None
        if isinstance(value, int) and not isinstance(value, bool):
            number = value
        elif self.strings and isinstance(value, str):
            text = value.strip()
            if is_template(text) or (self.percent and re.fullmatch(r"\d+%", text)):
                return value
            if re.fullmatch(r"-?\d+", text):
                number = int(text)
            else:
                ctx.error(path, f'"{value}" is not a number', expected=self.expected)
                return value
        else:
            ctx.wrong_type(path, self, value)
            return value
        if self.minimum is not None and number < self.minimum:
            ctx.error(
                path,
                f"{number} is below the minimum {self.minimum}",
                expected=f"at least {self.minimum}",
            )
        elif self.maximum is not None and number > self.maximum:
            ctx.error(
                path,
                f"{number} is above the maximum {self.maximum}",
                expected=f"at most {self.maximum}",
            )
        return value

    def schema(self, defs: JsonDict) -> JsonDict:
        number: JsonDict = {"type": "integer"}
        if self.minimum is not None:
            number["minimum"] = self.minimum
        if self.maximum is not None:
            number["maximum"] = self.maximum
        if self.strings:
            return {"anyOf": [number, {"type": "string"}]}
        return number


class Bool(Node):
    """A boolean; ``templates=True`` also takes "true"/"false" strings and templates."""

    def __init__(self, description: str = "", *, templates: bool = False) -> None:
        super().__init__(description)
        self.templates = templates
        self.accepts_strings = templates
        self.expected = "true or false" + (" (or a template)" if templates else "")

    def check(self, value: Json, path: YamlPath, ctx: Context) -> Json:
        if isinstance(value, bool):
            return value
        if (
            self.templates
            and isinstance(value, str)
            and (is_template(value) or value.lower() in ("true", "false"))
        ):
            return value
        hint = ""
        if isinstance(value, str) and value.lower() in ("true", "false"):
            hint = f'remove the quotes: {value.lower()} is a boolean, "{value}" a string'
        ctx.wrong_type(path, self, value, hint=hint)
        return value

    def schema(self, defs: JsonDict) -> JsonDict:
        if self.templates:
            return {"anyOf": [{"type": "boolean"}, {"type": "string"}]}
        return {"type": "boolean"}


class Duration(Node):
    """A duration such as ``30s``, ``1h30m``, ``7d`` (templates pass)."""

    expected = "a duration such as 30s, 5m, 1h30m, 7d"
    accepts_strings = True

    def check(self, value: Json, path: YamlPath, ctx: Context) -> Json:
        if isinstance(value, str):
            if is_template(value) or is_duration(value):
                return value
            ctx.error(path, f'"{value}" is not a duration', expected=self.expected)
        else:
            ctx.wrong_type(path, self, value)
        return value

    def schema(self, defs: JsonDict) -> JsonDict:
        return {"type": "string"}


class Scalar(Node):
    """A string, number or boolean."""

    expected = "a string, number or boolean"
    accepts_strings = True

    def check(self, value: Json, path: YamlPath, ctx: Context) -> Json:
        if not isinstance(value, _SCALAR_TYPES):
            ctx.wrong_type(path, self, value)
        return value

    def schema(self, defs: JsonDict) -> JsonDict:
        return {"type": ["string", "number", "boolean"]}


class AnyValue(Node):
    """Anything; used for free-form content such as a custom resource's ``spec``."""

    expected = "any value"

    def check(self, value: Json, path: YamlPath, ctx: Context) -> Json:
        return clone(value)

    def schema(self, defs: JsonDict) -> JsonDict:
        return {}


class Opaque(Node):
    """A mapping whose content Orkestra passes through without interpreting it."""

    expected = "a mapping"

    def check(self, value: Json, path: YamlPath, ctx: Context) -> Json:
        if not isinstance(value, dict):
            ctx.wrong_type(path, self, value)
            return value
        return clone(value)

    def schema(self, defs: JsonDict) -> JsonDict:
        return {"type": "object"}


class ListOf(Node):
    expected = "a list"

    def __init__(self, item: Node, description: str = "", *, min_items: int = 0) -> None:
        super().__init__(description)
        self.item = item
        self.min_items = min_items

    def check(self, value: Json, path: YamlPath, ctx: Context) -> Json:
        if not isinstance(value, list):
            ctx.wrong_type(path, self, value)
            return value
        if len(value) < self.min_items:
            ctx.error(
                path,
                f"needs at least {self.min_items} item(s)",
                expected=f"a list of {self.item.expected}",
            )
        return [self.item.check(v, path + (i,), ctx) for i, v in enumerate(value)]

    def schema(self, defs: JsonDict) -> JsonDict:
        out: JsonDict = {"type": "array", "items": self.item.json_schema(defs)}
        if self.min_items:
            out["minItems"] = self.min_items
        return out


class MapOf(Node):
    """A mapping with free keys (optionally checked) and values of one schema."""

    expected = "a mapping"

    def __init__(self, value: Node, description: str = "", *, key: Str | None = None) -> None:
        super().__init__(description)
        self.value = value
        self.key = key

    def check(self, value: Json, path: YamlPath, ctx: Context) -> Json:
        if not isinstance(value, dict):
            ctx.wrong_type(path, self, value)
            return value
        out: JsonDict = {}
        for k, v in value.items():
            if self.key is not None:
                self.key.check(k, path + (k,), ctx.for_keys())
            out[k] = self.value.check(v, path + (k,), ctx)
        return out

    def schema(self, defs: JsonDict) -> JsonDict:
        out: JsonDict = {"type": "object", "additionalProperties": self.value.json_schema(defs)}
        if self.key is not None and self.key.pattern is not None:
            out["propertyNames"] = {"pattern": f"^(?:{self.key.pattern})$"}
        return out


@dataclass
class F:
    """A field of an :class:`Obj`."""

    node: Node
    required: bool = False
    description: str = ""


@dataclass(kw_only=True)
class Obj(Node):
    """A mapping with known keys.

    ``aliases`` maps accepted alternative spellings to canonical keys; ``extra`` (if set)
    checks keys that are not declared, otherwise unknown keys are errors. ``ignored`` keys
    are accepted with a warning and dropped. ``finish`` (if set) runs on the checked mapping:
    rules between its keys, and defaults filled in so every consumer reads the same value.
    """

    fields: dict[str, F]
    description: str = ""
    aliases: dict[str, str] = field(default_factory=dict)
    extra: Node | None = None
    ignored: Mapping[str, str] = field(default_factory=dict)
    name: str = ""
    expected: str = "a mapping"
    ref: str = ""
    finish: Callable[[JsonDict, YamlPath, Context], None] | None = None

    @cached_property
    def required_fields(self) -> tuple[tuple[str, F, tuple[str, ...]], ...]:
        """The required fields, each with its other spellings (``fields`` and ``aliases``
        are not changed once declared)."""
        return tuple(
            (name, spec, tuple(a for a, target in self.aliases.items() if target == name))
            for name, spec in self.fields.items()
            if spec.required
        )

    def check(self, value: Json, path: YamlPath, ctx: Context) -> Json:
        if not isinstance(value, dict):
            ctx.wrong_type(path, self, value)
            return value
        return self.check_mapping(value, path, ctx)

    def check_mapping(self, value: JsonDict, path: YamlPath, ctx: Context) -> JsonDict:
        """:meth:`check` of a value known to be a mapping."""
        out: JsonDict = {}
        suggested: set[str] = set()
        for key, item in value.items():
            canonical = self.aliases.get(key) or str(key)
            if canonical in out:
                ctx.error(
                    path + (key,),
                    f'"{key}" repeats "{canonical}"',
                    key=True,
                    hint=f'"{key}" is another spelling of "{canonical}"; keep one',
                )
                continue
            spec = self.fields.get(canonical)
            if spec is not None:
                out[canonical] = spec.node.check(item, path + (key,), ctx)
            elif key in self.ignored:
                ctx.warn(
                    path + (key,),
                    f'"{key}" is accepted but ignored',
                    key=True,
                    hint=self.ignored[key],
                )
            elif self.extra is not None:
                out[key] = self.extra.check(item, path + (key,), ctx)
            else:
                suggested.add(self.unknown(key, path, ctx))
        for name, spec, spellings in self.required_fields:
            if name in suggested:
                continue  # the misspelt key already explains why it is missing
            if name not in out and not any(alias in value for alias in spellings):
                ctx.error(
                    path,
                    f'missing required key "{name}"',
                    expected=spec.description or spec.node.expected,
                )
        if self.finish is not None:
            self.finish(out, path, ctx)
        return out

    def unknown(self, key: str, path: YamlPath, ctx: Context) -> str:
        """Report an unknown key; returns the key it probably meant (or "")."""
        known = sorted(self.fields)
        shown = ", ".join(known) if len(known) <= 24 else ", ".join(known[:24]) + ", ..."
        where = f" in {self.name}" if self.name else ""
        hint = did_you_mean(key, [*self.fields, *self.aliases])
        ctx.error(
            path + (key,),
            f'unknown key "{key}"{where}',
            key=True,
            expected=f"one of {shown}",
            hint=hint,
        )
        meant = hint.split('"')[1] if hint else ""
        return str(self.aliases.get(meant, meant))

    def schema(self, defs: JsonDict) -> JsonDict:
        props = {name: _described(spec, defs) for name, spec in self.fields.items()}
        for alias, target in self.aliases.items():
            props[alias] = {
                **_described(self.fields[target], defs),
                "description": f'Alternative spelling of "{target}".',
            }
        for key, why in self.ignored.items():
            props[key] = {"description": f"Accepted but ignored: {why}"}
        out: JsonDict = {"type": "object", "properties": props}
        required = [n for n, s in self.fields.items() if s.required]
        if required:
            out["required"] = required
        out["additionalProperties"] = self.extra.json_schema(defs) if self.extra else False
        return out


def _described(spec: F, defs: JsonDict) -> JsonDict:
    out = spec.node.json_schema(defs)
    if spec.description:
        out = {**out, "description": spec.description}
    return out


class Shorthand(Node):
    """A word that stands for a longer value (``onLimit: drop`` is ``{drop: true}``)."""

    accepts_strings = True

    def __init__(self, words: Mapping[str, Json], description: str = "") -> None:
        super().__init__(description)
        self.words = dict(words)
        self.expected = "one of " + ", ".join(self.words)

    def check(self, value: Json, path: YamlPath, ctx: Context) -> Json:
        if isinstance(value, str) and value in self.words:
            return clone(self.words[value])
        if isinstance(value, str):
            ctx.error(
                path,
                f'"{value}" is not allowed',
                expected=self.expected,
                hint=did_you_mean(value, self.words),
            )
        else:
            ctx.wrong_type(path, self, value)
        return value

    def schema(self, defs: JsonDict) -> JsonDict:
        return {"type": "string", "enum": list(self.words)}


class Either(Node):
    """One of several shapes, chosen by the YAML type of the value."""

    def __init__(
        self, *options: tuple[Callable[[Json], bool], Node], description: str = ""
    ) -> None:
        super().__init__(description)
        self.options = options
        self.expected = " or ".join(node.expected for _, node in options)
        self.accepts_strings = any(node.accepts_strings for _, node in options)

    def check(self, value: Json, path: YamlPath, ctx: Context) -> Json:
        for matches, node in self.options:
            if matches(value):
                return node.check(value, path, ctx)
        ctx.wrong_type(path, self, value)
        return value

    def schema(self, defs: JsonDict) -> JsonDict:
        return {"anyOf": [node.json_schema(defs) for _, node in self.options]}


def is_map(v: object) -> bool:
    return isinstance(v, dict)


def is_list(v: object) -> bool:
    return isinstance(v, list)


def is_str(v: object) -> bool:
    return isinstance(v, str)


def is_bool(v: object) -> bool:
    return isinstance(v, bool)


def is_scalar(v: object) -> bool:
    return isinstance(v, _SCALAR_TYPES)

"""Rendering the fields of a resource declaration: text, numbers, booleans, trees.

A declaration's values are templates evaluated against the CR; numbers that Kubernetes
types as integers are declared as strings and parsed after rendering. Errors name the
field, so a cycle error reads ``deployments[0].replicas: "three" is not an integer``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import overload

from orkestra.errors import OrkError
from orkestra.kubeobjects import Json
from orkestra.template import Renderer, TemplateError
from orkestra.template.notes.types import parse_bool


class FieldError(OrkError):
    """A declaration field rendered to something unusable."""


class Fields:
    """Renders one declaration's fields against one template context."""

    def __init__(self, renderer: Renderer, data: Mapping[str, object], where: str) -> None:
        self.renderer = renderer
        self.data = data
        self.where = where

    def fail(self, field: str, message: str) -> FieldError:
        return FieldError(f"{self.where}.{field}: {message}")

    def text(self, value: object, field: str = "", default: str = "") -> str:
        if value is None:
            return default
        if isinstance(value, bool):
            return "true" if value else "false"
        if not isinstance(value, str):
            return str(value)
        try:
            return self.renderer.render(value, self.data)
        except TemplateError as exc:
            raise self.fail(field, str(exc)) from None

    @overload
    def integer(self, value: object, field: str, default: int) -> int: ...

    @overload
    def integer(self, value: object, field: str, default: None = None) -> int | None: ...

    def integer(self, value: object, field: str, default: int | None = None) -> int | None:
        if value is None:
            return default
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        text = self.text(value, field).strip()
        if text == "":
            return default
        try:
            return int(text)
        except ValueError:
            try:
                number = float(text)
            except ValueError:
                raise self.fail(field, f'"{text}" is not an integer') from None
            if not number.is_integer():
                raise self.fail(field, f'"{text}" is not an integer') from None
            return int(number)

    def int_or_percent(self, value: object, field: str) -> int | str | None:
        if value is None:
            return None
        text = self.text(value, field).strip()
        if text.endswith("%") and text[:-1].isdigit():
            return text
        return self.integer(text, field)

    def boolean(self, value: object, field: str, default: bool = False) -> bool:
        if value is None:
            return default
        if isinstance(value, bool):
            return value
        text = self.text(value, field).strip()
        if text == "":
            return default
        try:
            return parse_bool(text)
        except ValueError:
            raise self.fail(field, f'"{text}" is not true or false') from None

    def tree(self, value: Json, field: str, *, coerce: bool = False) -> Json:
        """Render every string in a nested structure; ``coerce`` types rendered values."""
        if isinstance(value, dict):
            return {
                self.text(k, field): self.tree(v, f"{field}.{k}", coerce=coerce)
                for k, v in value.items()
            }
        if isinstance(value, list):
            return [self.tree(v, f"{field}[{i}]", coerce=coerce) for i, v in enumerate(value)]
        if isinstance(value, str) and "{{" in value:
            rendered = self.text(value, field)
            return coerce_text(rendered) if coerce else rendered
        return value

    def strings(self, values: object, field: str) -> list[str]:
        return [self.text(v, f"{field}[{i}]") for i, v in enumerate(self.items(values, field))]

    def string_map(self, values: object, field: str) -> dict[str, str]:
        return {
            self.text(k, field): self.text(v, f"{field}.{k}")
            for k, v in self.mapping(values, field).items()
        }

    # The schema check made these values maps and lists; None and empty read as empty.
    def mapping(self, value: object, field: str) -> Mapping[str, object]:
        if not value:
            return {}
        if not isinstance(value, Mapping):
            raise self.fail(field, "expected a map")
        return value

    def items(self, value: object, field: str) -> Sequence[object]:
        if not value:
            return []
        if isinstance(value, str) or not isinstance(value, Sequence):
            raise self.fail(field, "expected a list")
        return value


def coerce_text(text: str) -> Json:
    """The original's value coercion for rendered custom-resource values: an integer, a
    float, a boolean (Go ParseBool spellings), a JSON object or array, else the text."""
    stripped = text.strip()
    try:
        return int(stripped)
    except ValueError:
        pass
    try:
        return float(stripped)
    except ValueError:
        pass
    try:
        return parse_bool(stripped)
    except ValueError:
        pass
    if stripped[:1] in ("{", "["):
        try:
            parsed: Json = json.loads(stripped)
            return parsed
        except json.JSONDecodeError:
            pass
    return text

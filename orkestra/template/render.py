"""Orkestra's template semantics on top of the Go engine.

A pattern value is a template only if it contains ``{{`` (anything else passes through
untouched). Templates render with ``missingkey=zero``; every ``<no value>`` in the output is
removed and the result is trimmed, as the original resolver does. User notes
(``notes.functions`` in a katalog) are zero-argument functions that render their own
expression against the current data, so notes can call each other in any order. Parsed
templates are cached per function table, so each distinct text compiles once, and texts of
one shape share that compile (:mod:`orkestra.template.shapes`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from orkestra.template.errors import TemplateExecError
from orkestra.template.functions import Func, FuncTable
from orkestra.template.notes import LIBRARY
from orkestra.template.shapes import Shapes
from orkestra.template.template import State, Template
from orkestra.template.values import NO_VALUE

GO_SPACE = (
    " \t\n\v\f\r\x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008"
    "\u2009\u200a\u2028\u2029\u202f\u205f\u3000"
)
MAX_NOTE_DEPTH = 32


def is_template(value: object) -> bool:
    return isinstance(value, str) and "{{" in value


def clean(output: str) -> str:
    """Strip ``<no value>`` and surrounding whitespace from rendered output."""
    if NO_VALUE in output:
        output = output.replace(NO_VALUE, "")
    return output.strip(GO_SPACE)


@dataclass(frozen=True)
class UserNote:
    """A ``notes.functions`` entry: a named zero-argument template function."""

    name: str
    expression: str
    description: str = ""


class Renderer:
    """Renders Orkestra template strings with the notes library plus user notes."""

    def __init__(self, user_notes: Iterable[UserNote] = ()) -> None:
        notes = tuple(user_notes)
        self.user_notes = {n.name: n for n in notes}
        if notes:
            key = ",".join(f"{n.name}={n.expression}" for n in notes)
            self.funcs = LIBRARY.extended((self._note_func(n) for n in notes), key)
        else:
            self.funcs = LIBRARY
        self._shapes = Shapes(self.funcs) if notes else None
        self._cache: dict[str, Template] = {}

    def _note_func(self, note: UserNote) -> Func:
        def evaluate(state: State) -> Any:
            depth = getattr(state.extras, "note_depth", 0) if state.extras else 0
            if depth >= MAX_NOTE_DEPTH:
                raise TemplateExecError(f"note {note.name!r} calls itself without end")
            result = self.render(note.expression, state.root, _NoteFrame(depth + 1))
            if result in ("true", "false"):
                return result == "true"
            return result

        return Func(note.name, evaluate, (), None, needs_state=True)

    def compile(self, text: str) -> Template:
        """The compiled template for ``text`` (cached); raises TemplateSyntaxError."""
        template = self._cache.get(text)
        if template is None:
            template = (
                self._shapes.template(text)
                if self._shapes is not None
                else _shared_cache(self.funcs, text)
            )
            self._cache[text] = template
        return template

    def render(self, text: str, data: Any, extras: Any = None) -> str:
        """Render one value with Orkestra semantics; non-templates are returned as is."""
        if "{{" not in text:
            return text
        return clean(self.compile(text).execute(data, extras))


class _NoteFrame:
    __slots__ = ("note_depth",)

    def __init__(self, depth: int) -> None:
        self.note_depth = depth


_SHARED: dict[tuple[str, str], Template] = {}
_SHARED_SHAPES: dict[str, Shapes] = {}


def _shared_cache(funcs: FuncTable, text: str) -> Template:
    """The template for ``text`` under a table without user notes, whose key names it."""
    key = (funcs.key, text)
    template = _SHARED.get(key)
    if template is None:
        if len(_SHARED) > 20000:
            _SHARED.clear()
        shapes = _SHARED_SHAPES.get(funcs.key)
        if shapes is None:
            shapes = _SHARED_SHAPES[funcs.key] = Shapes(funcs)
        template = shapes.template(text)
        _SHARED[key] = template
    return template


DEFAULT_RENDERER = Renderer()


def render(text: str, data: Any) -> str:
    """Render ``text`` against ``data`` with the standard library (no user notes)."""
    return DEFAULT_RENDERER.render(text, data)

"""Templates of one shape share one parse and one compile.

A katalog often lists values that differ only in the text around their actions:
``{{ .metadata.name }}-cm-0``, ``-cm-1`` and so on. Lexing, parsing and compiling depend on
the actions (what lies between ``{{`` and ``}}``) and on which texts are empty; the text
itself only fills the text nodes and moves every offset. So the first template of a shape
is compiled in full, and each later one runs the same code over its own text
(:func:`~orkestra.template.compiler.rebind`), its source map moved to its own offsets. It
is bound when it first runs: checking a katalog only asks whether its templates compile,
so a thousand such values cost one compile and a thousand splits.

The split is a plain search for ``{{ ... }}``, not Go's lexer (a quoted ``}}``, or a
comment holding one, ends it early), so a shape is kept only when the full compile agrees
with it: the same text nodes at the same offsets. Text the split cannot vouch for always
compiles in full: trim markers (they eat the text beside them), the words ``define`` and
``block`` (a tree of whitespace gives way to another, so the text would matter), and a
``{{`` left in the last text (an unclosed action, a syntax error; the search matches any
``{{`` that a ``}}`` follows).
"""

from __future__ import annotations

import re
from bisect import bisect_right
from functools import partial
from itertools import accumulate

from orkestra.template.compiler import Compiled, rebind
from orkestra.template.functions import FuncTable
from orkestra.template.template import Template

_ACTION = re.compile(r"(\{\{.*?\}\})", re.DOTALL)
_LIMIT = 20_000

# The actions, then whether each text is empty.
Key = tuple[str | bool, ...]
Spots = dict[int, tuple[int, int, str]]  # python line -> (action, offset inside it, context)


def _pieces(text: str) -> list[str] | None:
    """``text`` as texts and actions, alternating (texts at even indexes), or None when
    the split cannot be trusted."""
    if "{{-" in text or "-}}" in text or "define" in text or "block" in text:
        return None
    pieces = _ACTION.split(text)
    return None if "{{" in pieces[-1] else pieces


def _key(pieces: list[str]) -> Key:
    return (*pieces[1::2], *map(bool, pieces[0::2]))


def _action_starts(pieces: list[str]) -> list[int]:
    return list(accumulate(map(len, pieces), initial=0))[1::2]


class _Shape:
    """A template compiled in full and where its source positions sit in its actions."""

    __slots__ = ("compiled", "spots")

    def __init__(self, compiled: Compiled, spots: Spots) -> None:
        self.compiled = compiled
        self.spots = spots

    def bind(self, pieces: list[str]) -> Compiled:
        """The compiled template of the same shape whose split is ``pieces``."""
        starts = _action_starts(pieces)
        positions = {line: (starts[k] + at, ctx) for line, (k, at, ctx) in self.spots.items()}
        return rebind(self.compiled, [text for text in pieces[0::2] if text], positions)


def _learn(compiled: Compiled, pieces: list[str]) -> _Shape | None:
    """The shape of a template compiled in full, or None where the split disagrees."""
    starts = list(accumulate(map(len, pieces), initial=0))
    program = compiled.program
    made = [(at, program.namespace[name]) for name, at in program.texts]
    texts = [(starts[i], piece) for i, piece in enumerate(pieces) if piece and i % 2 == 0]
    if made != texts:
        return None
    # The texts are where the split has them, so every position is in an action.
    action_starts = starts[1::2]
    spots: Spots = {}
    for line, (at, ctx) in compiled.positions.items():
        k = bisect_right(action_starts, at) - 1
        spots[line] = (k, at - action_starts[k], ctx)
    return _Shape(compiled, spots)


class Shapes:
    """Compiled templates by shape, for one function table (see the module docstring)."""

    def __init__(self, funcs: FuncTable) -> None:
        self.funcs = funcs
        self._shapes: dict[Key, _Shape] = {}

    def template(self, text: str) -> Template:
        """``text`` compiled, reusing the compile of a template of the same shape."""
        pieces = _pieces(text)
        if pieces is None:
            return self._compile(text)
        key = _key(pieces)
        shape = self._shapes.get(key)
        if shape is not None:
            return Template.of(text, "t", partial(shape.bind, pieces))
        template = self._compile(text)
        learned = _learn(template.compiled, pieces)
        if learned is not None:
            if len(self._shapes) >= _LIMIT:
                self._shapes.clear()
            self._shapes[key] = learned
        return template

    def _compile(self, text: str) -> Template:
        return Template(text, self.funcs)

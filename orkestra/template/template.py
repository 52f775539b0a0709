"""A parsed and compiled template, and its execution state."""

from __future__ import annotations

import sys
from typing import Any

from orkestra.template.compiler import Compiled, TreeFunc, compile_trees
from orkestra.template.errors import TemplateExecError, TemplateSyntaxError
from orkestra.template.functions import FuncTable
from orkestra.template.parser import parse
from orkestra.template.values import MISSINGKEY_MODES

# Go allows 100000 nested template calls; Python's stack does not, so stop well before it.
MAX_TEMPLATE_DEPTH = 200


class State:
    """What one execution carries besides dot: the template set, call depth, the root data
    (for functions such as user notes that render against it) and caller extras."""

    __slots__ = ("depth", "extras", "functions", "root")

    def __init__(self, functions: dict[str, TreeFunc], root: Any, extras: Any) -> None:
        self.functions = functions
        self.depth = 0
        self.root = root
        self.extras = extras

    def call(self, name: str, dot: Any, write: Any) -> None:
        fn = self.functions.get(name)
        if fn is None:
            raise TemplateExecError(f'template "{name}" not defined')
        if self.depth >= MAX_TEMPLATE_DEPTH:
            raise TemplateExecError(f"exceeded maximum template depth ({MAX_TEMPLATE_DEPTH})")
        self.depth += 1
        try:
            fn(dot, write, self)
        finally:
            self.depth -= 1


class Template:
    """Go text/template source compiled once, executable many times.

    ``missingkey`` is Go's option: ``default`` (a missing key is an invalid value),
    ``zero`` (a missing key is nil; what Orkestra uses) or ``error``.
    """

    def __init__(self, text: str, funcs: FuncTable, *, name: str = "t",
                 missingkey: str = "zero") -> None:
        if missingkey not in MISSINGKEY_MODES:
            raise ValueError(f"missingkey must be one of {MISSINGKEY_MODES}")
        self.text = text
        self.name = name
        try:
            trees = parse(text, funcs, name)
        except RecursionError:
            raise TemplateSyntaxError("template nesting too deep") from None
        self._compiled: Compiled = compile_trees(trees, funcs, missingkey)
        self._entry = self._compiled.functions[name]

    def execute(self, data: Any, extras: Any = None) -> str:
        """Render with ``data`` as dot; raises TemplateExecError on failure."""
        out: list[str] = []
        state = State(self._compiled.functions, data, extras)
        try:
            self._entry(data, out.append, state)
        except TemplateExecError as exc:
            self._locate(exc)
            raise
        except RecursionError:
            raise TemplateExecError("template recursion too deep") from None
        return "".join(out)

    def _locate(self, exc: TemplateExecError) -> None:
        """Attach the template position of the failing action to the error."""
        if exc.pos is not None:
            return
        tb = sys.exc_info()[2]
        found: tuple[int, str] | None = None
        while tb is not None:
            code = tb.tb_frame.f_code
            if code.co_filename == self._compiled.filename:
                found = self._compiled.positions.get(tb.tb_lineno, found)
            tb = tb.tb_next
        if found is not None:
            exc.pos, exc.context = found
            exc.line = self.text.count("\n", 0, exc.pos) + 1

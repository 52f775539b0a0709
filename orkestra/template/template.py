"""A parsed and compiled template, and its execution state.

One execution is bounded (:mod:`orkestra.limits`): its output may not exceed
``ORK_MAX_RENDER_CHARS`` characters, and the ``range`` items it visits plus the templates it
calls may not exceed ``ORK_MAX_TEMPLATE_STEPS``; either ends the execution with a
:class:`TemplateExecError` naming the limit (the output is never silently truncated).
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sized
from typing import Any

from orkestra import limits
from orkestra.template.compiler import Compiled, TreeFunc, compile_trees
from orkestra.template.errors import TemplateExecError, TemplateSyntaxError
from orkestra.template.functions import FuncTable
from orkestra.template.parser import parse
from orkestra.template.values import MISSINGKEY_MODES

# Go allows 100000 nested template calls; Python's stack does not, so stop well before it.
MAX_TEMPLATE_DEPTH = 200


class State:
    """What one execution carries besides dot: the template set, call depth, the root data
    (for functions such as user notes that render against it), caller extras, the output
    written so far and the steps taken (both bounded, see :meth:`tick` and :meth:`check`)."""

    __slots__ = ("checked", "depth", "extras", "functions", "mark", "out", "root", "size", "steps")

    def __init__(
        self, functions: dict[str, TreeFunc], root: Any, extras: Any, out: list[str]
    ) -> None:
        self.functions = functions
        self.depth = 0
        self.root = root
        self.extras = extras
        self.out = out
        self.steps = 0
        self.mark = _CHECK_EVERY
        self.checked = self.size = 0

    def tick(self, items: Sized) -> None:
        """Charge a ``range`` over ``items`` to the step budget (before it iterates)."""
        self.steps += len(items)
        if self.steps > limits.TEMPLATE_STEPS.value:
            _over_budget()

    def check(self) -> None:
        """Count the output written since the last check; refuse it beyond the limit.

        Generated code calls this in every ``range`` iteration once ``mark`` parts have
        been written, so the output grows by at most a few parts past the limit."""
        out = self.out
        self.size += sum(len(part) for part in out[self.checked :])
        self.checked = len(out)
        self.mark = len(out) + _CHECK_EVERY
        if self.size > limits.RENDER_CHARS.value:
            _too_long()

    def call(self, name: str, dot: Any, write: Any) -> None:
        fn = self.functions.get(name)
        if fn is None:
            raise TemplateExecError(f'template "{name}" not defined')
        if self.depth >= MAX_TEMPLATE_DEPTH:
            raise TemplateExecError(f"exceeded maximum template depth ({MAX_TEMPLATE_DEPTH})")
        self.steps += 1
        if self.steps > limits.TEMPLATE_STEPS.value:
            _over_budget()
        if len(self.out) > self.mark:
            self.check()
        self.depth += 1
        try:
            fn(dot, write, self)
        finally:
            self.depth -= 1


_CHECK_EVERY = 16


def _over_budget() -> None:
    limit = limits.TEMPLATE_STEPS
    raise TemplateExecError(
        f"the template takes more than {limit.value} steps (range items "
        f"and template calls; {limit.variable})"
    )


def _too_long() -> None:
    limit = limits.RENDER_CHARS
    raise TemplateExecError(
        f"the output is longer than {limit.value} characters ({limit.variable})"
    )


class Template:
    """Go text/template source compiled once, executable many times.

    ``missingkey`` is Go's option: ``default`` (a missing key is an invalid value),
    ``zero`` (a missing key is nil; what Orkestra uses) or ``error``.
    """

    def __init__(
        self, text: str, funcs: FuncTable, *, name: str = "t", missingkey: str = "zero"
    ) -> None:
        if missingkey not in MISSINGKEY_MODES:
            raise ValueError(f"missingkey must be one of {MISSINGKEY_MODES}")
        self.text = text
        self.name = name
        try:
            trees = parse(text, funcs, name)
        except RecursionError:
            raise TemplateSyntaxError("template nesting too deep") from None
        self._pending: Callable[[], Compiled] | None = None
        self._entry: TreeFunc | None = None
        self._install(compile_trees(trees, funcs, missingkey))

    @classmethod
    def of(cls, text: str, name: str, bind: Callable[[], Compiled]) -> Template:
        """The template ``text``, known to compile, compiled by ``bind`` when first needed
        (:mod:`orkestra.template.shapes`: a check only asks whether it compiles)."""
        template = cls.__new__(cls)
        template.text = text
        template.name = name
        template._pending = bind
        template._entry = None
        return template

    @property
    def compiled(self) -> Compiled:
        if self._entry is None:
            self._bind()
        return self._compiled

    def _install(self, compiled: Compiled) -> TreeFunc:
        self._compiled = compiled
        self._entry = entry = compiled.functions[self.name]
        self._stateful = compiled.uses_state
        return entry

    def _bind(self) -> TreeFunc:
        """Compile a template made by :meth:`of`, on its first use."""
        assert self._pending is not None  # of() set it
        entry = self._install(self._pending())
        self._pending = None
        return entry

    def execute(self, data: Any, extras: Any = None) -> str:
        """Render with ``data`` as dot; raises TemplateExecError on failure."""
        entry = self._entry or self._bind()
        out: list[str] = []
        state = State(self._compiled.functions, data, extras, out) if self._stateful else None
        try:
            entry(data, out.append, state)
        except TemplateExecError as exc:
            self._locate(exc)
            raise
        except RecursionError:
            raise TemplateExecError("template recursion too deep") from None
        text = "".join(out)
        if len(text) > limits.RENDER_CHARS.value:
            _too_long()
        return text

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

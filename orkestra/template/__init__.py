"""Go ``text/template`` for Python, with Orkestra's function library.

This package owns template semantics: a lexer and parser that follow Go 1.19's
``text/template/parse``, a compiler that turns each template into a Python function, Go's
value rules (truth, nil versus missing, ``fmt`` printing) and the "notes" function library.
It was written here rather than taken from a library because the pre-1.0 Python ports tried
(see the dependency trials) disagree with Go on behaviour Orkestra patterns rely on, and
compiling to Python code is what makes rendering faster than Jinja2. Conformance is checked
against real Go by the differential suite in ``tests/template``.

Use :func:`render` / :class:`Renderer` for Orkestra semantics (``missingkey=zero``,
``<no value>`` stripped, output trimmed) and :class:`Template` for plain Go semantics.
Regular expressions are RE2, as Go's (:mod:`orkestra.regex`), and every execution is
bounded (:mod:`orkestra.limits`): its output, the range items and template calls it takes,
and the strings and printed values its functions make.
"""

from orkestra.template.errors import TemplateError, TemplateExecError, TemplateSyntaxError
from orkestra.template.functions import Func, FuncTable, P
from orkestra.template.notes import BUILTIN_TABLE, LIBRARY
from orkestra.template.render import Renderer, UserNote, clean, is_template, render
from orkestra.template.template import Template

__all__ = [
    "BUILTIN_TABLE",
    "LIBRARY",
    "Func",
    "FuncTable",
    "P",
    "Renderer",
    "Template",
    "TemplateError",
    "TemplateExecError",
    "TemplateSyntaxError",
    "UserNote",
    "clean",
    "is_template",
    "render",
]

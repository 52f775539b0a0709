"""CEL as admission uses it: compiled programs, Kubernetes' string functions, cel-go's
wording of errors, and matchConditions.

ValidatingAdmissionPolicies (:mod:`orkestra.cluster.policies`) and admission webhooks
(:mod:`orkestra.cluster.webhooks`) evaluate expressions here. CEL is cel-python's, a
pure-Python implementation of the language: another interpreter would be a project of its own
and cel-go is not reachable from Python; the Kubernetes string functions policies use most
are added to it. A program is compiled once per expression text (an LRU cache), so a write-time
check compiles what requests then reuse. Not modelled: type checking (a misspelt field fails
at evaluation, not at write time), ``authorizer`` and CEL optionals (``a.?b``). cel-python
is imported on first use: its import (pendulum, lark) costs more than the rest of the
cluster package, and most processes that load the store never evaluate an expression.
"""

from __future__ import annotations

import functools
import re
import string
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, cast

if TYPE_CHECKING:
    import celpy
    from celpy import celtypes
    from celpy.adapter import JSON
    from celpy.evaluation import CELEvalError, CELFunction
    from celpy.evaluation import Context as Activation  # variable name -> CEL value

_NO_SUCH_KEY = re.compile(r"no such member in mapping: '(.*)'")
_ASCII_LOWER = str.maketrans(string.ascii_uppercase, string.ascii_lowercase)
_ASCII_UPPER = str.maketrans(string.ascii_lowercase, string.ascii_uppercase)


class EvaluationError(Exception):
    """An expression that failed to evaluate, worded as the API server words it."""


def _text(value: object) -> str:
    if not isinstance(value, str):
        raise TypeError(f"expected a string, got {type(value).__name__}")
    return value


def _join(items: object, separator: object = "") -> celtypes.StringType:
    from celpy import celtypes

    if not isinstance(items, list):
        raise TypeError(f"expected a list, got {type(items).__name__}")
    return celtypes.StringType(_text(separator).join(_text(item) for item in items))


@functools.cache
def _extensions() -> dict[str, CELFunction]:
    """Part of Kubernetes' CEL string library (cel-go's strings extension)."""
    from celpy import celtypes

    return {
        "lowerAscii": lambda s: celtypes.StringType(_text(s).translate(_ASCII_LOWER)),
        "upperAscii": lambda s: celtypes.StringType(_text(s).translate(_ASCII_UPPER)),
        "trim": lambda s: celtypes.StringType(_text(s).strip()),
        "split": lambda s, sep: celtypes.ListType(
            [celtypes.StringType(p) for p in _text(s).split(_text(sep))]
        ),
        "replace": lambda s, old, new: celtypes.StringType(
            _text(s).replace(_text(old), _text(new))
        ),
        "join": _join,
    }


@functools.cache  # building the parser takes ~0.1 s: only when an expression first runs
def _environment() -> celpy.Environment:
    import celpy

    return celpy.Environment()


@functools.lru_cache(maxsize=1024)
def program(expression: str) -> celpy.Runner:
    """The compiled program of an expression (raises CELParseError)."""
    environment = _environment()
    return environment.program(environment.compile(expression), functions=_extensions())


def compile_problem(expression: str) -> str | None:
    """cel-go's wording of a syntax error (cel-python reports only where it is)."""
    from celpy.celparser import CELParseError

    try:
        program(expression)
    except CELParseError as exc:
        line, column = exc.line or 1, exc.column or 1
        lines = expression.splitlines() or [""]
        source = lines[min(line, len(lines)) - 1]
        return (
            f"compilation failed: ERROR: <input>:{line}:{column}: Syntax error\n"
            f" | {source}\n | {'.' * (column - 1)}^"
        )
    return None


def json_to_cel(value: object) -> celtypes.Value:
    """A JSON value (dicts, lists, scalars; a whole object too) as CEL values."""
    from celpy.adapter import json_to_cel as convert

    # celpy's JSON annotation names only dict/list/scalars; any JSON tree converts.
    return convert(cast("JSON", value))


def _error_text(exc: CELEvalError) -> str:
    text = str(exc.args[0]) if exc.args else "evaluation error"
    text = text.split(" (in activation", 1)[0]
    missing = _NO_SUCH_KEY.fullmatch(text)
    return f"no such key: {missing.group(1)}" if missing else text


def evaluate(expression: str, context: Activation) -> celtypes.Value:
    from celpy.evaluation import CELEvalError

    try:
        return program(expression).evaluate(context)
    except CELEvalError as exc:
        raise EvaluationError(
            f"expression '{expression}' resulted in error: {_error_text(exc)}"
        ) from None


def is_bool(value: object, wanted: bool) -> bool:
    from celpy import celtypes

    return isinstance(value, celtypes.BoolType) and bool(value) is wanted


def conditions_hold(conditions: Sequence[Mapping[str, object]], context: Activation) -> bool:
    """matchConditions: False when a condition is false (even if another failed); raises
    EvaluationError when none is false but some failed to evaluate (one error as it is,
    several as ``[a, b]``, as Go's aggregate error prints them)."""
    errors = []
    for condition in conditions:
        try:
            if is_bool(evaluate(str(condition.get("expression", "")), context), False):
                return False
        except EvaluationError as exc:
            errors.append(str(exc))
    if errors:
        raise EvaluationError(errors[0] if len(errors) == 1 else f"[{', '.join(errors)}]")
    return True


def variables(definitions: Sequence[Mapping[str, object]], context: Activation) -> celtypes.MapType:
    """``variables``, each seeing those before it. A variable that fails holds its error,
    which fails only the expressions that read it (as cel-go's lazy variables do)."""
    from celpy import celtypes
    from celpy.evaluation import CELEvalError

    values = celtypes.MapType()
    scope = {**context, "variables": values}
    for variable in definitions:
        name = celtypes.StringType(str(variable.get("name", "")))
        try:
            values[name] = program(str(variable.get("expression", ""))).evaluate(scope)
        except CELEvalError as exc:
            values[name] = exc  # type: ignore[assignment]  # an error value, as said above
    return values

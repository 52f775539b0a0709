"""Evaluating conditions: resource gates, status-field conditions, admission rules.

A field condition resolves ``field`` (a dot path into the template context, or a template
that is rendered), renders template comparison values, casts both sides by ``valueType``
and applies the operator (``regex`` is RE2, as in Go: :mod:`orkestra.regex`); ``negate``
inverts the result. Time conditions look at the clock (UTC): ``time`` windows,
``dayOfWeek`` and ``cron`` windows. A gate passes when every ``when`` condition passes
and, if there are ``or`` conditions, at least one of them does.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime

from orkestra.cron import CronError, Schedule
from orkestra.errors import OrkError
from orkestra.model.shapes import ConditionSpec, DayOfWeek, Gate, TimeWindow
from orkestra.regex import RegexError, compile_regex
from orkestra.template import Renderer
from orkestra.template.gofmt import format_value
from orkestra.template.notes.time import in_window
from orkestra.template.notes.types import parse_bool, type_of
from orkestra.units import DurationError, parse_duration

SHORTHAND_OPERATORS = {
    "equals": "equals",
    "notEquals": "notEquals",
    "contains": "contains",
    "notContains": "notContains",
    "prefix": "prefix",
    "notPrefix": "notPrefix",
    "suffix": "suffix",
    "notSuffix": "notSuffix",
    "regex": "regex",
    "exists": "exists",
    "notExists": "notExists",
    "greaterThan": "gt",
    "lessThan": "lt",
    "min": "gte",
    "greaterThanOrEqual": "gte",
    "max": "lte",
    "lessThanOrEqual": "lte",
    "between": "between",
    "notBetween": "notBetween",
    "in": "in",
    "notIn": "notIn",
}
_SPELLINGS = {"eq": "equals", "neq": "notEquals"}
# (actual, expected) -> result, for the operators that compare text
_STRING_CHECKS: dict[str, Callable[[str, str], bool]] = {
    "equals": str.__eq__,
    "notEquals": str.__ne__,
    "contains": lambda a, b: b in a,
    "notContains": lambda a, b: b not in a,
    "prefix": str.startswith,
    "notPrefix": lambda a, b: not a.startswith(b),
    "suffix": str.endswith,
    "notSuffix": lambda a, b: not a.endswith(b),
}
_WEEKDAYS = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
ABSENT = object()

UniqueCheck = Callable[[str, str], bool]


Clock = Callable[[], datetime]


def _utc_now() -> datetime:
    return datetime.now(UTC)


class Evaluation:
    """What conditions are evaluated against. ``unique``: (field, value) -> no other CR
    holds that value. ``now`` is fixed when given, else read from ``clock`` the first time
    it is needed: simulate tells a cycle that never looked at the time (and so repeats
    exactly a second later) from one that did."""

    def __init__(
        self,
        data: dict[str, object],
        renderer: Renderer | None = None,
        now: datetime | None = None,
        unique: UniqueCheck | None = None,
        *,
        clock: Clock = _utc_now,
    ) -> None:
        self.data = data
        self.renderer = renderer if renderer is not None else Renderer()
        self.unique = unique
        self._now = now
        self._clock = clock

    @property
    def now(self) -> datetime:
        if self._now is None:
            self._now = self._clock()
        return self._now

    def scoped(self, data: dict[str, object]) -> Evaluation:
        """The same evaluation over other data (a forEach copy), at the same moment."""
        return Evaluation(data, self.renderer, self._now, self.unique, clock=lambda: self.now)


class ConditionError(OrkError):
    """A condition could not be evaluated (a value does not cast to its valueType, a cron
    schedule, duration or time of day does not parse)."""


def lookup(data: object, path: str) -> object:
    """A dot path (``spec.replicas``, ``children.job.status.succeeded``, ``items.0``)."""
    current = data
    for part in path.split("."):
        if isinstance(current, dict):
            current = current.get(part, ABSENT)
        elif isinstance(current, list) and part.isdigit() and int(part) < len(current):
            current = current[int(part)]
        else:
            return ABSENT
        if current is ABSENT:
            return ABSENT
    return current


def text_of(value: object) -> str:
    """How a value compares as a string (as a template would print it)."""
    if value is None or value is ABSENT:
        return ""
    return value if isinstance(value, str) else format_value(value)


def _float(value: object) -> float:
    """``float(value)`` for the values a template context holds (TypeError otherwise)."""
    if isinstance(value, str | int | float):
        return float(value)
    raise TypeError(f"{type(value).__name__} is not a number")


def cast(value: object, value_type: str) -> str | float | bool:
    if value_type in ("", "string"):
        return text_of(value)
    if value_type in ("int", "float"):
        return _cast_number(value, value_type)
    if value is None or value is ABSENT or value == "":
        return False
    try:
        return value if isinstance(value, bool) else parse_bool(text_of(value).strip())
    except ValueError:
        raise ConditionError(f"{text_of(value)!r} is not a valid {value_type}") from None


def _cast_number(value: object, value_type: str) -> float:
    """``value`` as an ``int`` (``value_type`` int) or a ``float``."""
    if value is None or value is ABSENT or value == "":
        return 0
    try:
        if value_type == "int":
            return int(_float(value)) if not isinstance(value, bool) else int(value)
        return _float(value)
    except (TypeError, ValueError, OverflowError):  # OverflowError: int() of an infinity
        raise ConditionError(f"{text_of(value)!r} is not a valid {value_type}") from None


def _number(value: object) -> float:
    if value is None or value is ABSENT or value == "":
        return 0.0
    if isinstance(value, bool):
        return float(value)
    try:
        return _float(value)
    except (TypeError, ValueError):
        raise ConditionError(f"{text_of(value)!r} is not a number") from None


def _operator(cond: ConditionSpec) -> tuple[str, object]:
    if "operator" in cond:
        op = str(cond["operator"])
        return _SPELLINGS.get(op, op), cond.get("value")
    keys: Mapping[str, object] = cond  # the shorthand operators are keys of the condition
    for key, op in SHORTHAND_OPERATORS.items():
        if key in keys:
            return op, keys[key]
    return "", None


class _Evaluator:
    def __init__(self, ev: Evaluation) -> None:
        self.ev = ev

    def render(self, value: object) -> object:
        if isinstance(value, str) and "{{" in value:
            return self.ev.renderer.render(value, self.ev.data)
        return value

    def field(self, cond: ConditionSpec) -> object:
        name = cond.get("field")
        if not isinstance(name, str):
            return ABSENT
        if "{{" in name:
            return self.ev.renderer.render(name, self.ev.data)
        return lookup(self.ev.data, name)

    def condition(self, cond: ConditionSpec) -> bool:
        if "time" in cond:
            result = self.time_window(cond["time"])
        elif "dayOfWeek" in cond:
            result = self.day_of_week(cond["dayOfWeek"])
        elif "cron" in cond:
            result = self.cron(cond)
        else:
            op, raw = _operator(cond)
            result = self.compare(op, self.field(cond), self.render(raw), cond)
        return not result if cond.get("negate") else result

    def compare(self, op: str, actual: object, expected: object, cond: ConditionSpec) -> bool:
        value_type = str(cond.get("valueType", "string"))
        if op in ("exists", "notExists"):
            present = actual is not ABSENT and actual not in (None, "", [], {})
            wanted = expected is not False and text_of(expected) != "false"
            return present == wanted if op == "exists" else present != wanted
        if op in ("gt", "lt", "gte", "lte"):
            a, b = (
                (_cast_number(actual, value_type), _cast_number(expected, value_type))
                if value_type in ("int", "float")
                else (_number(actual), _number(expected))
            )
            return {"gt": a > b, "lt": a < b, "gte": a >= b, "lte": a <= b}[op]
        if op in ("between", "notBetween"):
            low, _, high = text_of(expected).partition(",")
            inside = _number(low.strip()) <= _number(actual) <= _number(high.strip())
            return inside if op == "between" else not inside
        if op in ("in", "notIn"):
            options = [o.strip() for o in text_of(expected).split(",")]
            member = text_of(actual) in options
            return member if op == "in" else not member
        if op == "unique":
            check = self.ev.unique
            return True if check is None else check(str(cond.get("field")), text_of(actual))
        if op.startswith("type"):
            kind = type_of(None if actual is ABSENT else actual)
            expected_kind = text_of(expected) if op == "typeOf" else op[4:].lower()
            return kind == expected_kind
        return self.string_compare(op, actual, expected, value_type)

    @staticmethod
    def string_compare(op: str, actual: object, expected: object, value_type: str) -> bool:
        if op in ("equals", "notEquals") and value_type != "string":
            same = cast(actual, value_type) == cast(expected, value_type)
            return same if op == "equals" else not same
        a, b = text_of(actual), text_of(expected)
        if op == "regex":
            try:
                return compile_regex(b).search(a)
            except RegexError as exc:
                raise ConditionError(exc.message) from None
        check = _STRING_CHECKS.get(op)
        if check is None:
            raise ConditionError(f"unknown operator {op!r}")
        return check(a, b)

    def cron(self, cond: ConditionSpec) -> bool:
        try:
            seconds = parse_duration(str(cond.get("duration", "60s")))
            schedule = Schedule.parse(str(cond["cron"]))
        except (DurationError, CronError) as exc:
            raise ConditionError(f"cron: {exc}") from None
        return schedule.window_open(self.ev.now, seconds)

    def time_window(self, window: TimeWindow) -> bool:
        try:
            return self._in_window(window)
        except ValueError as exc:  # in_window's: a time of day that is not HH:MM
            raise ConditionError(f"time: {exc}") from None

    def _in_window(self, window: TimeWindow) -> bool:
        after, before = window.get("after"), window.get("before")
        if after and before:
            return in_window(str(after), str(before), self.ev.now)
        if after:
            return not in_window("00:00", str(after), self.ev.now)
        if before:
            return in_window("00:00", str(before), self.ev.now)
        return True

    def day_of_week(self, spec: DayOfWeek) -> bool:
        today = _WEEKDAYS[self.ev.now.astimezone(UTC).weekday()]
        if "weekday" in spec:
            return (today not in ("saturday", "sunday")) == bool(spec["weekday"])
        if "weekend" in spec:
            return (today in ("saturday", "sunday")) == bool(spec["weekend"])
        names = [_day(str(d)) for d in spec.get("in", spec.get("notIn", []))]
        member = today in names
        return member if "in" in spec else not member


def _day(name: str) -> str:
    lowered = name.strip().lower()
    for day in _WEEKDAYS:
        if day.startswith(lowered[:3]):
            return day
    raise ConditionError(f"{name!r} is not a day of the week")


def evaluate(cond: ConditionSpec, ev: Evaluation) -> bool:
    """The result of one condition."""
    return _Evaluator(ev).condition(cond)


def passes(when: Sequence[ConditionSpec], any_of: Sequence[ConditionSpec], ev: Evaluation) -> bool:
    """AND of ``when``, and OR of ``any_of`` when it is not empty."""
    evaluator = _Evaluator(ev)
    for cond in when:
        if not evaluator.condition(cond):
            return False
    if not any_of:
        return True
    return any(evaluator.condition(c) for c in any_of)


def gate(item: Gate, ev: Evaluation) -> bool:
    """Whether a resource, status field or rule with ``when``/``or`` applies (the loader
    spells ``anyOf`` as ``or``)."""
    when, any_of = item.get("when"), item.get("or")
    if not when and not any_of:
        return True
    return passes(when or (), any_of or (), ev)

"""Time notes. Timestamps are RFC 3339 strings (as Kubernetes writes them); durations use
the units of :mod:`orkestra.units`; windows and weekdays are evaluated in UTC. ``timeFormat``
takes a Go reference layout (``2006-01-02T15:04:05Z07:00``)."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from orkestra.template.functions import Func, P, func
from orkestra.units import DurationError, format_duration, format_timestamp, parse_duration

Clock = Callable[[], datetime]


def _system_clock() -> datetime:
    return datetime.now(UTC)


clock: Clock = _system_clock  # replaced in tests to freeze time


def parse_time(value: Any) -> datetime:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if not isinstance(value, str) or not value:
        raise ValueError(f"expected an RFC 3339 timestamp, got {value!r}")
    try:
        parsed = datetime.fromisoformat(value.replace("z", "Z"))
    except ValueError:
        raise ValueError(f"expected an RFC 3339 timestamp, got {value!r}") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


_GO_LAYOUT = (  # compiled on first use (re's cache)
    r"2006|January|Jan|Monday|Mon|MST|Z07:00|-07:00|-0700|Z0700|\.000000|\.000|"
    r"01|02|_2|15|03|04|05|06|PM|pm|1|2|3|4|5"
)
_STRFTIME = {
    "2006": "%Y",
    "06": "%y",
    "January": "%B",
    "Jan": "%b",
    "01": "%m",
    "Monday": "%A",
    "Mon": "%a",
    "02": "%d",
    "15": "%H",
    "03": "%I",
    "04": "%M",
    "05": "%S",
    "PM": "%p",
    "MST": "%Z",
    "-0700": "%z",
}


def go_format(moment: datetime, layout: str) -> str:
    """Format with a Go reference layout."""

    def token(match: re.Match[str]) -> str:
        t = match.group(0)
        if t in _STRFTIME:
            return moment.strftime(_STRFTIME[t])
        simple = {
            "1": moment.month,
            "2": moment.day,
            "3": (moment.hour % 12) or 12,
            "4": moment.minute,
            "5": moment.second,
        }
        if t in simple:
            return str(simple[t])
        if t == "_2":
            return f"{moment.day:2d}"
        if t == "pm":
            return moment.strftime("%p").lower()
        if t in ("Z07:00", "Z0700") and moment.utcoffset() == timedelta(0):
            return "Z"
        if t in ("Z07:00", "-07:00"):
            z = moment.strftime("%z")
            return z[:3] + ":" + z[3:]
        if t == "Z0700":
            return moment.strftime("%z")
        return f".{moment.microsecond:06d}"[: len(t)]

    return re.sub(_GO_LAYOUT, token, layout)


@func("now")
def now() -> str:
    return format_timestamp(clock())


@func("timeSince", P.ANY)
def time_since(timestamp: Any) -> int:
    """Whole seconds elapsed since TIMESTAMP."""
    return int((clock() - parse_time(timestamp)).total_seconds())


@func("timeAgo", P.ANY)
def time_ago(timestamp: Any) -> str:
    """``5m``, ``2h``, ``3d``: how long ago TIMESTAMP was."""
    return format_duration(max((clock() - parse_time(timestamp)).total_seconds(), 0))


@func("timeFormat", P.STR, P.ANY)
def time_format(layout: str, timestamp: Any) -> str:
    return go_format(parse_time(timestamp), layout)


@func("isExpired", P.ANY, P.STR)
def is_expired(timestamp: Any, duration: str) -> bool:
    """True once TIMESTAMP + DURATION is in the past."""
    return clock() >= parse_time(timestamp) + timedelta(seconds=parse_duration(duration))


@func("durationSeconds", P.STR)
def duration_seconds(duration: str) -> int:
    return int(parse_duration(duration))


@func("durationAdd", P.ANY, P.STR)
def duration_add(timestamp: Any, duration: str) -> str:
    return format_timestamp(parse_time(timestamp) + timedelta(seconds=parse_duration(duration)))


@func("durationValid", P.STR)
def duration_valid(duration: str) -> bool:
    try:
        parse_duration(duration)
    except DurationError:
        return False
    return True


@func("weekday")
def weekday() -> str:
    return clock().strftime("%A")


def _minutes(hhmm: str) -> int:
    match = re.fullmatch(r"(\d{1,2}):(\d{2})", hhmm.strip())
    if match is None or int(match.group(1)) > 23 or int(match.group(2)) > 59:
        raise ValueError(f"expected HH:MM, got {hhmm!r}")
    return int(match.group(1)) * 60 + int(match.group(2))


def in_window(start: str, end: str, moment: datetime) -> bool:
    """Whether ``moment`` (UTC) is in [start, end); a window may wrap past midnight."""
    lo, hi = _minutes(start), _minutes(end)
    current = moment.astimezone(UTC)
    minute = current.hour * 60 + current.minute
    return lo <= minute < hi if lo <= hi else minute >= lo or minute < hi


@func("timeInWindow", P.STR, P.STR)
def time_in_window(start: str, end: str) -> bool:
    return in_window(start, end, clock())


NOTES: tuple[Func, ...] = (
    now,
    time_since,
    time_ago,
    time_format,
    is_expired,
    duration_seconds,
    duration_add,
    duration_valid,
    weekday,
    time_in_window,
)

"""Five-field cron schedules (minute hour day-of-month month day-of-week).

Supports ``*``, lists, ranges, steps (``*/15``, ``1-10/2``), month and weekday names and
7 as Sunday. As in standard cron, when both day fields are restricted a day matches if
either does. Written here because the only use is matching whole minutes, which a cron
library would not make simpler.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from orkestra.errors import OrkError

_MONTHS = {
    m: i
    for i, m in enumerate(
        ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"], 1
    )
}
_DAYS = {d: i for i, d in enumerate(["sun", "mon", "tue", "wed", "thu", "fri", "sat"])}
_BOUNDS = [(0, 59), (0, 23), (1, 31), (1, 12), (0, 7)]
MAX_WINDOW_MINUTES = 31 * 24 * 60


class CronError(OrkError):
    """Not a valid cron schedule."""


def _number(text: str, names: dict[str, int]) -> int:
    lowered = text.lower()
    if lowered in names:
        return names[lowered]
    if not text.isdigit():
        raise CronError(f"{text!r} is not a number")
    return int(text)


def _field(text: str, low: int, high: int, names: dict[str, int]) -> frozenset[int]:
    values: set[int] = set()
    for part in text.split(","):
        body, _, step_text = part.partition("/")
        step = int(step_text) if step_text.isdigit() and int(step_text) > 0 else None
        if step_text and step is None:
            raise CronError(f"bad step in {part!r}")
        if body == "*":
            start, end = low, high
        elif "-" in body:
            a, b = body.split("-", 1)
            start, end = _number(a, names), _number(b, names)
        else:
            start = end = _number(body, names)
            if step is not None:
                end = high
        if not (low <= start <= high and low <= end <= high) or start > end:
            raise CronError(f"{part!r} is outside {low}-{high}")
        values.update(range(start, end + 1, step or 1))
    return frozenset(values)


@dataclass(frozen=True, kw_only=True)
class Schedule:
    minutes: frozenset[int]
    hours: frozenset[int]
    days: frozenset[int]
    months: frozenset[int]
    weekdays: frozenset[int]
    day_restricted: bool
    weekday_restricted: bool

    @classmethod
    def parse(cls, text: str) -> Schedule:
        fields = text.split()
        if len(fields) != 5:
            raise CronError(f"{text!r} needs 5 fields (minute hour day month weekday)")
        names: list[dict[str, int]] = [{}, {}, {}, _MONTHS, _DAYS]
        parsed = [
            _field(f, lo, hi, n) for f, (lo, hi), n in zip(fields, _BOUNDS, names, strict=True)
        ]
        weekdays = frozenset(d % 7 for d in parsed[4])
        return cls(
            minutes=parsed[0],
            hours=parsed[1],
            days=parsed[2],
            months=parsed[3],
            weekdays=weekdays,
            day_restricted=fields[2] != "*",
            weekday_restricted=fields[4] != "*",
        )

    def fires_at(self, moment: datetime) -> bool:
        """Whether the schedule fires in the minute of ``moment``."""
        if (
            moment.minute not in self.minutes
            or moment.hour not in self.hours
            or moment.month not in self.months
        ):
            return False
        day_ok = moment.day in self.days
        weekday_ok = (moment.isoweekday() % 7) in self.weekdays
        if self.day_restricted and self.weekday_restricted:
            return day_ok or weekday_ok
        return day_ok and weekday_ok

    def window_open(self, now: datetime, seconds: float) -> bool:
        """Whether a fire happened within the last ``seconds`` (the window is open)."""
        start = now.replace(second=0, microsecond=0)
        minutes = min(int(seconds // 60), MAX_WINDOW_MINUTES)
        for back in range(minutes + 1):
            fire = start - timedelta(minutes=back)
            if self.fires_at(fire) and now < fire + timedelta(seconds=seconds):
                return True
        return False

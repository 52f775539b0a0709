"""Durations and timestamps as Orkestra writes them.

Durations take Go's ``time.ParseDuration`` units (``ns us ms s m h``) plus the calendar
units Orkestra adds for secret rotation and windows: ``d`` (day), ``w`` (week), ``mo`` (30
days), ``y`` (365 days). Components may repeat and carry decimals: ``1h30m``, ``1.5d``,
``2w3d``. Timestamps are RFC 3339 in UTC to the second, as Kubernetes writes them
(``2026-06-14T10:00:00Z``).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

from orkestra.errors import OrkError

_UNIT_SECONDS = {
    "ns": 1e-9,
    "us": 1e-6,
    "µs": 1e-6,
    "μs": 1e-6,
    "ms": 1e-3,
    "s": 1.0,
    "m": 60.0,
    "h": 3600.0,
    "d": 86400.0,
    "w": 604800.0,
    "mo": 2592000.0,
    "y": 31536000.0,
}
_COMPONENT = re.compile(r"(\d+(?:\.\d*)?|\.\d+)(mo|ns|us|µs|μs|ms|s|m|h|d|w|y)")


class DurationError(OrkError):
    """Not a valid duration."""


def parse_duration(text: str) -> float:
    """Seconds in ``text`` such as ``30s``, ``1h30m`` or ``30d``; raises DurationError."""
    s = text.strip()
    sign = 1.0
    if s[:1] in ("+", "-"):
        sign = -1.0 if s[0] == "-" else 1.0
        s = s[1:]
    if s == "0":
        return 0.0
    if not s:
        raise DurationError(f"invalid duration {text!r}")
    total = 0.0
    pos = 0
    while pos < len(s):
        match = _COMPONENT.match(s, pos)
        if match is None:
            raise DurationError(
                f"invalid duration {text!r} (expected a number and a unit such as 30s, 5m, "
                "1h30m, 7d, 2w, 1mo, 1y)"
            )
        total += float(match.group(1)) * _UNIT_SECONDS[match.group(2)]
        pos = match.end()
    return sign * total


def is_duration(text: str) -> bool:
    try:
        parse_duration(text)
    except DurationError:
        return False
    return True


def format_duration(seconds: float) -> str:
    """Short human form: ``14ms``, ``1.4s``, ``48s``, ``3m20s``, ``2h5m``, ``3d``."""
    if seconds < 1:
        return f"{round(seconds * 1000)}ms"
    if seconds < 10:
        return f"{seconds:.1f}s".replace(".0s", "s")
    if seconds < 60:
        return f"{round(seconds)}s"
    minutes, secs = divmod(round(seconds), 60)
    if minutes < 60:
        return f"{minutes}m{secs}s" if secs else f"{minutes}m"
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return f"{hours}h{minutes}m" if minutes else f"{hours}h"
    return f"{hours // 24}d"


def format_timestamp(moment: datetime) -> str:
    """``2026-06-14T10:00:00Z``: RFC 3339, UTC, whole seconds."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_timestamp(text: str) -> datetime | None:
    """An RFC 3339 timestamp (UTC when no offset is given), or None when it is not one."""
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def format_size(size: int) -> str:
    """Base-1024 sizes as the original tool prints them: ``512 B``, ``1.4 KB``, ``11.2 KB``."""
    if size < 1024:
        return f"{size} B"
    value = float(size)
    for unit in ("KB", "MB", "GB"):
        value /= 1024
        if value < 1024:
            return f"{value:.1f} {unit}"
    return f"{value:.1f} TB"

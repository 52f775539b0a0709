"""Durations."""

from __future__ import annotations

import pytest

from orkestra.units import DurationError, format_duration, parse_duration


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("30s", 30),
        ("5m", 300),
        ("1h30m", 5400),
        ("1.5h", 5400),
        ("7d", 604800),
        ("2w", 1209600),
        ("1mo", 2592000),
        ("1y", 31536000),
        ("250ms", 0.25),
        ("0", 0),
        ("-1m", -60),
        ("1d12h", 129600),
    ],
)
def test_parse(text: str, seconds: float) -> None:
    assert parse_duration(text) == pytest.approx(seconds)


@pytest.mark.parametrize("bad", ["", "soon", "30", "1x", "h", "30 s", "1.2.3s"])
def test_invalid(bad: str) -> None:
    with pytest.raises(DurationError):
        parse_duration(bad)


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (0.014, "14ms"),
        (1.4, "1.4s"),
        (48, "48s"),
        (200, "3m20s"),
        (7500, "2h5m"),
        (172800 * 2, "4d"),
    ],
)
def test_format(seconds: float, text: str) -> None:
    assert format_duration(seconds) == text

"""Terminal output: colour only on a TTY and never with NO_COLOR, errors on stderr."""

from __future__ import annotations

import json
import os
import sys
from typing import Any, TextIO

_CODES = {"red": "31", "green": "32", "yellow": "33", "blue": "34", "bold": "1", "dim": "2"}


def color_enabled(stream: TextIO) -> bool:
    if os.environ.get("NO_COLOR", "") != "":
        return False
    if os.environ.get("FORCE_COLOR", "") != "":
        return True
    return stream.isatty() and os.environ.get("TERM") != "dumb"


def style(text: str, color: str, stream: TextIO | None = None) -> str:
    if not color_enabled(stream or sys.stdout):
        return text
    return f"\033[{_CODES[color]}m{text}\033[0m"


def out(text: str = "") -> None:
    sys.stdout.write(text + "\n")


def err(text: str) -> None:
    sys.stderr.write(text + "\n")


def ok(text: str) -> None:
    out(style("✓", "green") + " " + text)


def warn(text: str) -> None:
    err(style("⚠", "yellow", sys.stderr) + " " + text)


def fail(text: str) -> None:
    err(style("✗", "red", sys.stderr) + " " + text)


def emit_json(value: Any) -> None:
    out(json.dumps(value, indent=2, ensure_ascii=False))

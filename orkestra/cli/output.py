"""Terminal output: colour only on a TTY and never with NO_COLOR, errors on stderr."""

from __future__ import annotations

import json
import os
import sys
import threading
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


class Spinner:
    """A one-line progress indicator on stderr, drawn only when stderr is a terminal."""

    FRAMES = "⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏"

    def __init__(self, text: str, stream: TextIO | None = None) -> None:
        self.text = text
        self.stream = stream or sys.stderr
        self.enabled = self.stream.isatty() and os.environ.get("TERM") != "dumb"
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def update(self, text: str) -> None:
        self.text = text

    def __enter__(self) -> Spinner:
        if self.enabled:
            self._thread = threading.Thread(target=self._spin, daemon=True)
            self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._thread is not None:
            self._stop.set()
            self._thread.join()
            self.stream.write("\r\033[K")
            self.stream.flush()

    def _spin(self) -> None:
        frame = 0
        while not self._stop.wait(0.08):
            self.stream.write(f"\r\033[K{self.FRAMES[frame % len(self.FRAMES)]} {self.text}")
            self.stream.flush()
            frame += 1

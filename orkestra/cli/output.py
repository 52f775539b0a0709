"""Terminal output: colour only on a TTY and never with NO_COLOR, errors on stderr.

The global ``--quiet`` keeps only errors and the output a command was asked for: the
progress, ``✓`` and ``⚠`` lines, notes and spinners go; ``--debug`` adds tracebacks and
debug logs (:func:`configure`, called for every command by the root group).
"""

from __future__ import annotations

import os
import sys
import threading
from typing import TYPE_CHECKING, Any, TextIO

if TYPE_CHECKING:
    import logging


# json, logging and yamltext load only when used: every command imports this module, and
# ``ork --help`` must stay fast.


class Settings:
    """This invocation's global flags, and the ``-o``/``--format`` the command was given
    (so that an error is printed in it too)."""

    __slots__ = ("answered", "debug", "format", "quiet")

    def __init__(self) -> None:
        self.quiet = False
        self.debug = False
        self.format = "text"
        self.answered = False  # a result was printed: a failure after it adds no second one


SETTINGS = Settings()
"""Reset by every ``main`` and set by the root group and the ``-o`` option."""

_DEBUG_LOGGERS = ("orkestra",)  # the registry logs each request at DEBUG
_debug_handler: logging.StreamHandler[TextIO] | None = None


def configure(*, quiet: bool, debug: bool) -> None:
    """Set this invocation's verbosity; ``debug`` also sends debug logs to stderr."""
    SETTINGS.quiet, SETTINGS.debug, SETTINGS.format = quiet, debug, "text"
    SETTINGS.answered = False
    if debug or _debug_handler is not None:
        _debug_logs(debug)


def _debug_logs(on: bool) -> None:
    global _debug_handler
    import logging

    if _debug_handler is None:
        _debug_handler = logging.StreamHandler(sys.stderr)
        _debug_handler.setFormatter(logging.Formatter("debug: %(name)s: %(message)s"))
    # The stderr of this invocation (setStream would flush the last one, maybe closed).
    _debug_handler.stream = sys.stderr
    for name in _DEBUG_LOGGERS:
        logger = logging.getLogger(name)
        logger.removeHandler(_debug_handler)
        if on:
            logger.addHandler(_debug_handler)
        logger.setLevel(logging.DEBUG if on else logging.NOTSET)


def effective_log_level(requested: str) -> str:
    """The level of a long-running command's logs: ``--debug`` and ``--quiet`` win."""
    return "debug" if SETTINGS.debug else "error" if SETTINGS.quiet else requested


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


def note(text: str) -> None:
    """Information about what a command chose for the user (stderr: never in its output)."""
    if not SETTINGS.quiet:
        err(style(text, "dim", sys.stderr))


def ok(text: str) -> None:
    if not SETTINGS.quiet:
        out(style("✓", "green") + " " + text)


def progress(text: str = "") -> None:
    """A line about what a command is doing, not what it was asked for (not with --quiet)."""
    if not SETTINGS.quiet:
        out(text)


def warn(text: str) -> None:
    if not SETTINGS.quiet:
        err(style("⚠", "yellow", sys.stderr) + " " + text)


def fail(text: str) -> None:
    err(style("✗", "red", sys.stderr) + " " + text)


def emit_json(value: Any) -> None:
    emit("json", value)


def emit(fmt: str, value: Any) -> None:
    """A command's result as ``json`` or ``yaml`` (``-o``); JSON is written as it is encoded,
    so a large result (simulate of 10,000 items: 18 MB) is never held whole as a string."""
    if fmt == "json":
        import json

        json.dump(value, sys.stdout, indent=2, ensure_ascii=False)
        sys.stdout.write("\n")
    else:
        sys.stdout.write(render(fmt, value))
    SETTINGS.answered = True


def render(fmt: str, value: Any) -> str:
    """``value`` as indented JSON or block YAML, ending in a newline."""
    if fmt == "yaml":
        from orkestra import yamltext

        return yamltext.block(value)
    import json

    return json.dumps(value, indent=2, ensure_ascii=False) + "\n"


class Spinner:
    """A one-line progress indicator on stderr, drawn only when stderr is a terminal."""

    FRAMES = "⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏"

    def __init__(self, text: str, stream: TextIO | None = None) -> None:
        self.text = text
        self.stream = stream or sys.stderr
        self.enabled = (
            self.stream.isatty() and os.environ.get("TERM") != "dumb" and not SETTINGS.quiet
        )
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

"""The root of every error Orkestra raises on purpose.

Library code raises subclasses of :class:`OrkError` for anything a user can cause (bad
pattern files, templates that do not parse, missing files). The CLI prints those as
clean messages and exits 1; anything else is a bug and keeps its traceback.
"""

from __future__ import annotations


class OrkError(Exception):
    """An error caused by user input, reported without a traceback, with an optional hint."""

    exit_code = 1

    def __init__(self, message: str = "", hint: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def render(self) -> str:
        """The full, possibly multi-line, message shown to a user."""
        return str(self) + (f"\n  hint: {self.hint}" if self.hint else "")


class UsageError(OrkError):
    """The command line itself is wrong (exit code 2)."""

    exit_code = 2

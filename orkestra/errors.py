"""The root of every error Orkestra raises on purpose.

Library code raises subclasses of :class:`OrkError` for anything a user can cause (bad
pattern files, templates that do not parse, missing files). The CLI prints those as
clean messages and exits 1; anything else is a bug and keeps its traceback.
"""

from __future__ import annotations


class OrkError(Exception):
    """An error caused by user input, reported without a traceback."""

    exit_code = 1

    def render(self) -> str:
        """The full, possibly multi-line, message shown to a user."""
        return str(self)


class UsageError(OrkError):
    """The command line itself is wrong (exit code 2)."""

    exit_code = 2

"""Errors raised while parsing or executing a template."""

from __future__ import annotations

from orkestra.errors import OrkError


class TemplateError(OrkError):
    """A template failed to parse or execute.

    ``line`` is 1-based within the template text, ``pos`` is the character offset of the
    offending token (``None`` when unknown).
    """

    def __init__(self, message: str, *, line: int = 0, pos: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.line = line
        self.pos = pos

    def column(self, text: str) -> int:
        """1-based column of ``pos`` within its line of ``text`` (0 when unknown)."""
        if self.pos is None:
            return 0
        return self.pos - (text.rfind("\n", 0, self.pos) + 1) + 1

    def __str__(self) -> str:
        if self.line:
            return f"line {self.line}: {self.message}"
        return self.message


class TemplateSyntaxError(TemplateError):
    """The template text is not valid Go template syntax."""


class TemplateExecError(TemplateError):
    """The template parsed but failed while rendering (e.g. nil pointer, bad function call)."""

    def __init__(
        self, message: str, *, line: int = 0, pos: int | None = None, context: str = ""
    ) -> None:
        super().__init__(message, line=line, pos=pos)
        self.context = context

    def __str__(self) -> str:
        where = f"line {self.line}: " if self.line else ""
        at = f"executing at <{self.context}>: " if self.context else ""
        return f"{where}{at}{self.message}"

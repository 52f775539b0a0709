"""Problems found in pattern files, and the error that carries them.

Every problem names the file, line and column, the YAML path, what was wrong, what was
expected and, where one exists, a hint (usually "did you mean ...?"). Loading collects all
problems of a file before failing, so one run shows every mistake.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol

from orkestra.errors import OrkError

YamlPath = tuple[str | int, ...]


def format_path(path: YamlPath) -> str:
    """``spec.crds.webapp.operatorBox.onReconcile.deployments[0].image``."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        elif part and all(c.isalnum() or c in "_-" for c in part):
            out += ("." if out else "") + part
        else:
            out += f'["{part}"]'
    return out or "(document)"


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """A ``did you mean "x"?`` hint, or ""."""
    import difflib  # only for a problem found

    options = list(choices)
    matches = difflib.get_close_matches(word, options, n=1, cutoff=0.6)
    if not matches:
        lowered = {c.lower(): c for c in options}
        if word.lower() in lowered:
            matches = [lowered[word.lower()]]
    return f'did you mean "{matches[0]}"?' if matches else ""


@dataclass(frozen=True, kw_only=True)
class Problem:
    """One finding in a pattern file."""

    file: str
    line: int
    column: int
    path: YamlPath
    message: str
    expected: str = ""
    hint: str = ""
    severity: str = "error"

    def render(self) -> str:
        where = self.file
        if self.line:
            where += f":{self.line}:{self.column}"
        head = f"{where}: {self.severity}: "
        if self.path:
            head += f"{format_path(self.path)}: "
        lines = [head + self.message]
        if self.expected:
            lines.append(f"  expected: {self.expected}")
        if self.hint:
            lines.append(f"  hint: {self.hint}")
        return "\n".join(lines)

    def sort_key(self) -> tuple[str, int, int]:
        return (self.file, self.line, self.column)


class PatternError(OrkError):
    """One or more problems made a pattern file unusable."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems = sorted(problems, key=Problem.sort_key)
        super().__init__(self.render())

    def render(self) -> str:
        errors = [p for p in self.problems if p.severity == "error"]
        text = "\n".join(p.render() for p in self.problems)
        if len(errors) > 1:
            text += f"\n{len(errors)} errors"
        return text


class ProblemSource(Protocol):
    """Anything that can place a problem at a YAML path (a source document, a model)."""

    def problem(
        self,
        path: YamlPath,
        message: str,
        *,
        expected: str = "",
        hint: str = "",
        key: bool = False,
        severity: str = "error",
    ) -> Problem: ...


class Collector:
    """Gathers the problems found about one document."""

    def __init__(self, doc: ProblemSource) -> None:
        self.doc = doc
        self.problems: list[Problem] = []

    def error(
        self, path: YamlPath, message: str, *, expected: str = "", hint: str = "", key: bool = False
    ) -> None:
        self.problems.append(self.doc.problem(path, message, expected=expected, hint=hint, key=key))

    def warn(self, path: YamlPath, message: str, *, hint: str = "", key: bool = False) -> None:
        self.problems.append(
            self.doc.problem(path, message, hint=hint, key=key, severity="warning")
        )

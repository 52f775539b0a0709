"""Markdown for CI job summaries (``$GITHUB_STEP_SUMMARY``, GitLab report artifacts).

The reports of ``ork validate``, ``simulate``, ``plan``, ``push`` and ``e2e`` build their
summaries from these pieces, so user text is escaped the same way everywhere: shown as is
(never read as HTML), ``|`` escaped in table cells, line breaks as ``<br>``, and code
fenced with a fence longer than any backtick run inside it.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

PASS_MARK, FAIL_MARK = "✓", "✗"


def text(value: str) -> str:
    """Text shown as is, not read as HTML."""
    import html  # loaded by the commands that write a report, not by every import

    return html.escape(value, quote=False)


def cell(value: str) -> str:
    """A table cell: HTML and ``|`` escaped, line breaks as ``<br>``."""
    return re.sub(r"\r?\n", "<br>", text(value).replace("|", "\\|"))


def row(cells: Sequence[str]) -> str:
    return "|" + "|".join(f" {cell(c)} " if c else " " for c in cells) + "|"


def table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    """A table's lines (headers and cells escaped)."""
    return [row(headers), "|" + "---|" * len(headers), *(row(r) for r in rows)]


def fenced(body: str) -> list[str]:
    """A code block that shows ``body`` whatever backticks it holds."""
    longest = max((len(run) for run in re.findall(r"`+", body)), default=0)
    fence = "`" * max(3, longest + 1)
    return [fence, body, fence]


def mark(passed: bool) -> str:
    return PASS_MARK if passed else FAIL_MARK


def plural(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"

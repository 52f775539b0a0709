"""File helpers for commands: atomic writes and pattern-file discovery."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import click

from orkestra.cli.output import ok, out
from orkestra.files import write_atomic, write_error

PATTERN_FILES = ("katalog.yaml", "komposer.yaml", "motif.yaml", "simulate.yaml", "e2e.yaml")


def write_text_atomic(path: str | Path, text: str) -> None:
    """Write through a temporary file and rename, so a failure leaves nothing half-written."""
    write_atomic(Path(path), text.encode("utf-8"))


def emit_text(text: str, output_file: str | None) -> None:
    """Print ``text``, or write it atomically to ``output_file`` and say so."""
    if output_file:
        write_text_atomic(output_file, text)
        ok(f"written to {output_file}")
    else:
        out(text.rstrip("\n"))


def discover(names: tuple[str, ...] = PATTERN_FILES, directory: Path | None = None) -> list[Path]:
    """Conventional pattern files present in ``directory`` (default: the current one)."""
    base = directory or Path.cwd()
    return [base / name for name in names if (base / name).is_file()]


def require_files(given: tuple[str, ...], names: tuple[str, ...] = PATTERN_FILES) -> list[Path]:
    """The files named with -f, or the conventional ones found here; a usage error if none."""
    if given:
        return [Path(f) for f in given]
    found = discover(names)
    if not found:
        raise click.UsageError(
            f"no pattern file in {Path.cwd()} (looked for "
            f"{', '.join(names)}); name one with -f FILE"
        )
    return found


def append_report(path: Path | None, markdown: str | Callable[[], str]) -> None:
    """Append a Markdown report (CI job summaries are appended to, never replaced); a
    failure is a :class:`~orkestra.files.FileWriteError` naming the file. ``markdown``
    may be a function making the report, called only when there is a file to write."""
    if path is None:
        return
    text = markdown if isinstance(markdown, str) else markdown()
    try:
        with path.open("a", encoding="utf-8") as handle:
            handle.write(text if text.endswith("\n") else text + "\n")
    except OSError as exc:
        raise write_error(path, exc) from None

"""Atomic file writes: a temporary file in the target's directory, renamed into place.

Every command that writes (``ork template -o``, ``ork pull``, ``ork push --update-meta``,
the embedded registry) goes through here, so a failure never leaves a half-written file:
a full disk, a read-only directory or missing permissions end in a :class:`FileWriteError`
naming the file, with the previous content (if any) untouched and the temporary file gone.

:class:`FileWriteError` is an ``OSError`` (this module sits below ``orkestra.errors`` in the
layers, as ``units`` does with ``DurationError``); it carries a message and a hint, and the
CLI prints it as it prints an ``OrkError``.
"""

from __future__ import annotations

import contextlib
import errno
import os
import tempfile
from pathlib import Path


class FileWriteError(OSError):
    """A file could not be written; nothing was changed. ``message`` and ``hint`` as an
    ``OrkError`` has them; ``errno`` and ``filename`` as the ``OSError`` behind it."""

    exit_code = 1

    def __init__(self, message: str, hint: str, cause: OSError, path: Path) -> None:
        super().__init__(cause.errno, cause.strerror, str(path))
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return self.message

    def render(self) -> str:
        return self.message + (f"\n  hint: {self.hint}" if self.hint else "")


def write_atomic(path: Path, data: bytes, mode: int = 0o644) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    except OSError as exc:
        raise write_error(path, exc) from None
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException as exc:
        with contextlib.suppress(OSError):
            Path(tmp).unlink(missing_ok=True)
        if isinstance(exc, OSError):
            raise write_error(path, exc) from None
        raise


def write_error(path: Path, exc: OSError, what: str = "") -> FileWriteError:
    """The error for ``exc`` raised while writing ``path`` (``what`` names it otherwise)."""
    reason = exc.strerror or str(exc)
    return FileWriteError(f"cannot write {what or shown(path)}: {reason}",
                          _write_hint(path, exc), exc, path)


def _write_hint(path: Path, exc: OSError) -> str:
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return "the disk is full; free some space and run the command again (nothing was " \
               "changed)"
    if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return f"{shown(path.parent)} is not writable; choose another location or fix " \
               "its permissions"
    return "nothing was changed; check the path and run the command again"


def shown(path: Path) -> str:
    """A path as the user should see it: relative to the current directory when inside it."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except (ValueError, OSError):
        return str(path)

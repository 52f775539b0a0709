"""Atomic file writes: a temporary file in the target's directory, renamed into place.

Every command that writes (``ork template --output-file``, ``ork pull``, ``ork push --update-meta``,
the embedded registry) goes through here, so a failure never leaves a half-written file:
a full disk, a read-only directory or missing permissions end in a :class:`FileWriteError`
naming the file, with the previous content (if any) untouched and the temporary file gone.

:class:`FileWriteError` is an :class:`~orkestra.errors.OrkError` (the CLI prints its message
and hint and exits 1) and also an ``OSError`` (callers that turn a failed write into an
error of their own still catch it as one).
"""

from __future__ import annotations

import contextlib
import errno
import os
from pathlib import Path

from orkestra.errors import OrkError


class FileWriteError(OrkError, OSError):
    """A file could not be written; nothing was changed. ``message`` and ``hint`` as every
    ``OrkError`` has them; ``errno`` and ``filename`` as the ``OSError`` behind it."""

    def __init__(self, message: str, hint: str, cause: OSError, path: Path) -> None:
        OSError.__init__(self, cause.errno, cause.strerror, str(path))
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return self.message


def write_atomic(path: Path, data: bytes, mode: int = 0o644) -> None:
    import tempfile  # only a command that writes a file needs it

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
    return FileWriteError(
        f"cannot write {what or shown(path)}: {reason}", _write_hint(path, exc), exc, path
    )


def _write_hint(path: Path, exc: OSError) -> str:
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return "the disk is full; free some space and run the command again (nothing was changed)"
    if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return (
            f"{shown(path.parent)} is not writable; choose another location or fix its permissions"
        )
    return "nothing was changed; check the path and run the command again"


def shown(path: Path) -> str:
    """A path as the user should see it: relative to the current directory when inside it."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except (ValueError, OSError):
        return str(path)

"""Running programs: kubectl, helm, kind and the suites' own shell commands.

Everything e2e does to a cluster goes through :class:`Commands`, so the kind path (which
needs docker, unavailable on some machines) can be tested against a recording stand-in.
A program that outlives its timeout is killed with its whole process group (``sh -c
"sleep 100"`` leaves no ``sleep`` behind).
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass


@dataclass(frozen=True, kw_only=True)
class Completed:
    argv: tuple[str, ...]
    returncode: int
    stdout: str
    stderr: str
    timed_out: bool = False

    @property
    def ok(self) -> bool:
        return self.returncode == 0 and not self.timed_out

    @property
    def output(self) -> str:
        """stdout and stderr together, as a user reading a terminal sees them."""
        return self.stdout + self.stderr

    def message(self) -> str:
        """stderr (else stdout) without surrounding blank lines: what went wrong."""
        text = (self.stderr or self.stdout).strip()
        if self.timed_out:
            return f"{self.argv[0]} timed out" + (f": {text}" if text else "")
        return text or f"{' '.join(self.argv)} exited with {self.returncode}"


class Commands:
    """Runs programs; ``env`` adds to the environment."""

    def __init__(self, env: Mapping[str, str] | None = None) -> None:
        self.env = dict(env or {})

    def run(
        self, argv: Sequence[str], *, input: str | None = None, timeout: float | None = 120.0
    ) -> Completed:
        process = subprocess.Popen(
            list(argv),
            stdin=subprocess.PIPE if input is not None else subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env={**os.environ, **self.env},
            start_new_session=True,
        )
        try:
            stdout, stderr = process.communicate(input, timeout=timeout)
        except subprocess.TimeoutExpired:
            _kill_group(process)
            stdout, stderr = process.communicate()
            return Completed(
                argv=tuple(argv), returncode=-9, stdout=stdout, stderr=stderr, timed_out=True
            )
        except BaseException:
            _kill_group(process)  # Ctrl-C: nothing keeps running behind our back
            process.communicate()
            raise
        return Completed(
            argv=tuple(argv), returncode=process.returncode, stdout=stdout, stderr=stderr
        )

    def shell(self, script: str, *, timeout: float | None) -> Completed:
        return self.run(["sh", "-c", script], timeout=timeout)


def _kill_group(process: subprocess.Popen[str]) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)

"""CI integration of the commands: GitHub Actions annotations at the YAML line.

On GitHub Actions (``GITHUB_ACTIONS=true``) every problem a command reports is also written
as a workflow command on stderr, ``::error file=F,line=L,col=C,title=T::message`` (warnings
as ``::warning``), so a failing gate shows in the pull request on the line to fix. Paths
are made relative to ``GITHUB_WORKSPACE`` (the action may run in a sub-directory). A
failure without a place in a file still gets an ``::error`` with its title. Anywhere else
nothing is written. Values are escaped as the runner expects (``%``, CR and LF in the
message; also ``:`` and ``,`` in properties).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable, Mapping
from pathlib import Path

from orkestra.errors import OrkError
from orkestra.model.errors import Problem, format_path


def enabled(env: Mapping[str, str] | None = None) -> bool:
    return (os.environ if env is None else env).get("GITHUB_ACTIONS") == "true"


def annotate(problems: Iterable[Problem], title: str) -> None:
    """One workflow command per problem (only on GitHub Actions)."""
    if not enabled():
        return
    for problem in problems:
        sys.stderr.write(command(problem, title) + "\n")


def annotate_error(message: str, title: str) -> None:
    """An error with no place in a file."""
    if enabled():
        sys.stderr.write(f"::error title={_property(title)}::{_data(message)}\n")


def command(problem: Problem, title: str, env: Mapping[str, str] | None = None) -> str:
    level = "error" if problem.severity == "error" else "warning"
    props = {"file": workspace_path(problem.file, env)}
    if problem.line:
        props.update(line=str(problem.line), col=str(problem.column or 1))
    props["title"] = title
    message = problem.message
    if problem.path:
        message = f"{format_path(problem.path)}: {message}"
    details = [f"expected: {problem.expected}"] * bool(problem.expected) + [
        f"hint: {problem.hint}"
    ] * bool(problem.hint)
    text = "\n".join([message, *details])
    listed = ",".join(f"{k}={_property(v)}" for k, v in props.items() if v)
    return f"::{level} {listed}::{_data(text)}"


def workspace_path(file: str, env: Mapping[str, str] | None = None) -> str:
    """``file`` (as shown, relative to the working directory) relative to the workspace."""
    env = os.environ if env is None else env
    workspace = env.get("GITHUB_WORKSPACE")
    path = Path(file)
    if not workspace or not path.exists():
        return file
    try:
        return path.resolve().relative_to(Path(workspace).resolve()).as_posix()
    except ValueError:
        return file


def _data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _property(text: str) -> str:
    return _data(text).replace(":", "%3A").replace(",", "%2C")


def annotate_failure(exc: OrkError, title: str) -> None:
    """A command's error: its problems at their lines (pattern errors, a failed gate's
    checks), and the error itself when none of them has a place."""
    problems: list[Problem] = list(getattr(exc, "problems", None) or [])
    annotate(problems, title)
    if not any(p.line for p in problems):
        annotate_error(exc.message.splitlines()[0] if exc.message else str(exc), title)

"""Click parameters shared by the commands: durations such as ``30s`` or ``5m``, the
``--trust-hooks`` flag of every command that may run a pattern's Python hooks, the
``--report-file`` of every gate (a Markdown summary appended for CI), and the
``--timeout`` of every command that talks to registries, and ``-o``: always the output
format (``--format`` is the same option), except where the seeds fix it otherwise
(``ork pull -o DIR``, ``ork generate bundle -o FILE``)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click
from click.core import ParameterSource

from orkestra.cli.output import SETTINGS
from orkestra.units import DurationError, parse_duration


def duration(_: click.Context, param: click.Parameter, value: str | None) -> float | None:
    """``--resync 30s`` → 30.0 seconds (None stays None); a usage error otherwise."""
    if value is None:
        return None
    try:
        return parse_duration(value)
    except DurationError as exc:
        raise click.BadParameter(str(exc), param=param) from None


def positive_duration(ctx: click.Context, param: click.Parameter, value: str) -> float:
    """A duration that must be longer than zero."""
    seconds = duration(ctx, param, value)
    if seconds is None or seconds <= 0:
        raise click.BadParameter("must be longer than 0s", param=param)
    return seconds


def optional_positive_duration(
    ctx: click.Context, param: click.Parameter, value: str | None
) -> float | None:
    """A duration longer than zero, or None when not given."""
    return None if value is None else positive_duration(ctx, param, value)


timeout_option = click.option(
    "--timeout",
    callback=optional_positive_duration,
    metavar="DURATION",
    help="The most time to wait on registries in all, e.g. 5m (default: $ORK_TIMEOUT, "
    "else 10m; one request: at most 2m).",
)

trust_hooks_option = click.option(
    "--trust-hooks",
    is_flag=True,
    help="Run the Python hooks of pulled patterns (their code is never executed otherwise).",
)

report_file_option = click.option(
    "--report-file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Also append a Markdown report (e.g. $GITHUB_STEP_SUMMARY).",
)


FORMATS = ("text", "json", "yaml")
_F = TypeVar("_F", bound=Callable[..., Any])


def _record_format(ctx: click.Context, param: click.Parameter, value: str) -> str:
    """Remember a format given on the command line, so that an error is printed in it too
    (not a default one: ``ork template`` fails in text, not as a YAML document)."""
    assert param.name is not None
    if ctx.get_parameter_source(param.name) is not ParameterSource.DEFAULT:
        SETTINGS.format = value
    return value


def format_option(formats: tuple[str, ...] = FORMATS) -> Callable[[_F], _F]:
    """``-o/--output/--format FORMAT`` (the first of ``formats`` is the default)."""
    return click.option(
        "-o",
        "--output",
        "--format",
        "output",
        type=click.Choice(formats),
        default=formats[0],
        show_default=True,
        callback=_record_format,
        is_eager=True,
        help=f"Output format: {', '.join(formats)} (-o is always the format; --format "
        "is the same option).",
    )


output_file_option = click.option(
    "--output-file",
    "output_file",
    type=click.Path(dir_okay=False),
    metavar="FILE",
    help="Write to FILE (atomically) instead of stdout.",
)

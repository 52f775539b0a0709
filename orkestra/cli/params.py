"""Click parameters shared by the commands: durations such as ``30s`` or ``5m``, the
``--trust-hooks`` flag of every command that may run a pattern's Python hooks, the
``--report-file`` of every gate (a Markdown summary appended for CI), and the
``--timeout`` of every command that talks to registries."""

from __future__ import annotations

from pathlib import Path

import click

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


def optional_positive_duration(ctx: click.Context, param: click.Parameter,
                               value: str | None) -> float | None:
    """A duration longer than zero, or None when not given."""
    return None if value is None else positive_duration(ctx, param, value)


timeout_option = click.option(
    "--timeout", callback=optional_positive_duration, metavar="DURATION",
    help="The most time to wait on registries in all, e.g. 5m (default: $ORK_TIMEOUT, "
         "else 10m; one request: at most 2m).")

trust_hooks_option = click.option(
    "--trust-hooks", is_flag=True,
    help="Run the Python hooks of pulled patterns (their code is never executed otherwise).")

report_file_option = click.option(
    "--report-file", type=click.Path(dir_okay=False, path_type=Path),
    help="Also append a Markdown report (e.g. $GITHUB_STEP_SUMMARY).")

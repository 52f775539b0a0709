"""``ork version``."""

from __future__ import annotations

import platform

import click

from orkestra import __version__
from orkestra.cli.output import emit, out
from orkestra.cli.params import format_option


@click.command("version")
@format_option()
def command(output: str) -> int:
    """Print the version of ork and of the Python running it."""
    info = {"version": __version__, "python": platform.python_version()}
    if output != "text":
        emit(output, info)
    else:
        out(f"ork v{info['version']} (python {info['python']})")
    return 0

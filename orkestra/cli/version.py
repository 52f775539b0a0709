"""``ork version``."""

from __future__ import annotations

import platform

import click

from orkestra import __version__
from orkestra.cli.output import emit_json, out


@click.command("version")
@click.option("-o", "--output", type=click.Choice(["text", "json"]), default="text",
              help="Output format.")
def command(output: str) -> int:
    """Print the version of ork and of the Python running it."""
    info = {"version": __version__, "python": platform.python_version()}
    if output == "json":
        emit_json(info)
    else:
        out(f"ork v{info['version']} (python {info['python']})")
    return 0

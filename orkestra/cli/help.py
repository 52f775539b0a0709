"""``ork help [COMMAND [SUBCOMMAND]]``: the help of one command, as ``--help`` prints it."""

from __future__ import annotations

import click

from orkestra.cli.completion import complete_command_path
from orkestra.cli.groups import resolve_path
from orkestra.cli.output import out


@click.command("help")
@click.argument(
    "words", nargs=-1, metavar="[COMMAND [SUBCOMMAND]]", shell_complete=complete_command_path
)
@click.pass_context
def command(ctx: click.Context, words: tuple[str, ...]) -> int:
    """Print the help of COMMAND (of ork without one).

    \b
    ork help push
    ork help simulate init
    """
    found, found_ctx = resolve_path(ctx.find_root(), words)
    out(found.get_help(found_ctx))
    return 0

"""``ork completion SHELL``: shell completion scripts (as kubectl and helm provide)."""

from __future__ import annotations

import click
from click.shell_completion import get_completion_class

from orkestra.cli.output import out


@click.command("completion")
@click.argument("shell", type=click.Choice(["bash", "zsh", "fish"]))
def command(shell: str) -> int:
    """Print the completion script for SHELL.

    \b
    bash:  source <(ork completion bash)
    zsh:   ork completion zsh > "${fpath[1]}/_ork"
    fish:  ork completion fish > ~/.config/fish/completions/ork.fish
    """
    from orkestra.cli.app import cli

    cls = get_completion_class(shell)
    assert cls is not None
    out(cls(cli, {}, "ork", "_ORK_COMPLETE").source())
    return 0

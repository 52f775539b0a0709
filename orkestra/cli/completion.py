"""``ork completion SHELL``: shell completion scripts (as kubectl and helm provide), and
the completion of pattern names and tags from the configured registry.

Commands and flags complete through click. A ``NAME[:VERSION]`` argument completes the
names listed in the registry's index and, after the colon, that pattern's tags (highest
version first), from ``$ORK_REGISTRY`` (``$ORK_MOTIFS_REGISTRY`` with ``--motif``).
Completion must never get in the way of typing: a registry that cannot be reached, or
answers slowly, completes nothing, without a word, within :data:`REGISTRY_SECONDS`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import click
from click.shell_completion import CompletionItem, get_completion_class

from orkestra.cli.output import out
from orkestra.errors import OrkError

if TYPE_CHECKING:
    from orkestra.registry.client import RegistryClient

REGISTRY_SECONDS = 2.0
"""The most a completion waits on the registry, all requests together."""

# Bash splits words at ':' by default, so NAME:VERSION would reach ork as three words.
_BASH_WORDBREAKS = 'COMP_WORDBREAKS="${COMP_WORDBREAKS//:/}"\n'


@click.command("completion")
@click.argument("shell", type=click.Choice(["bash", "zsh", "fish"]))
def command(shell: str) -> int:
    """Print the completion script for SHELL.

    \b
    bash:  source <(ork completion bash)
    zsh:   ork completion zsh > "${fpath[1]}/_ork"
    fish:  ork completion fish > ~/.config/fish/completions/ork.fish

    Pattern names and tags complete from $ORK_REGISTRY (bash: ':' stops being a word
    break in the shell that sources the script, so NAME:VERSION is one word).
    """
    from orkestra.cli.app import cli

    cls = get_completion_class(shell)
    assert cls is not None
    source = cls(cli, {}, "ork", "_ORK_COMPLETE").source()
    out(source + ("\n" + _BASH_WORDBREAKS if shell == "bash" else ""))
    return 0


def complete_ref(ctx: click.Context, _: click.Parameter, incomplete: str) -> list[CompletionItem]:
    """Pattern names, or ``NAME:TAG`` once a colon is typed; nothing when the registry
    does not answer in time (or for ``--oci-layout``, a directory)."""
    if ctx.params.get("oci_layout"):
        return [CompletionItem(incomplete, type="dir")]
    kind = "Motif" if ctx.params.get("motif") else "Katalog"
    try:
        words = _tags(incomplete, kind) if ":" in incomplete else _names(incomplete, kind)
    except (OrkError, OSError):
        return []
    return [CompletionItem(word) for word in words]


def _client() -> RegistryClient:
    from orkestra.registry.client import RegistryClient
    from orkestra.registry.retry import Deadlines, RetryPolicy

    return RegistryClient(
        retry=RetryPolicy(attempts=1),
        deadlines=Deadlines(command=REGISTRY_SECONDS, request=REGISTRY_SECONDS),
    )


def _names(prefix: str, kind: str) -> list[str]:
    from orkestra.registry.refs import resolve

    client = _client()
    index = client.read_index(resolve(f"{client.bases.for_kind(kind)}/index:latest"))
    names = {entry.name for entry in index.entries} if index is not None else set()
    return sorted(name for name in names if name.startswith(prefix))


def _tags(incomplete: str, kind: str) -> list[str]:
    from orkestra.semver import latest_key

    name, _, prefix = incomplete.rpartition(":")
    client = _client()
    ref = client.resolve(name, kind)
    tags = [
        tag
        for tag in client.backend(ref).tags(ref.repository)
        if tag.startswith(prefix) and not tag.startswith("sha256-")
    ]
    return [f"{name}:{tag}" for tag in sorted(tags, key=latest_key, reverse=True)]


def complete_command_path(
    ctx: click.Context, _: click.Parameter, incomplete: str
) -> list[CompletionItem]:
    """``ork help [COMMAND [SUBCOMMAND]]``: the subcommands at the path typed so far."""
    from orkestra.cli.groups import resolve_path

    try:
        group, group_ctx = resolve_path(ctx.find_root(), ctx.params.get("words") or ())
    except click.UsageError:
        return []
    if not isinstance(group, click.Group):
        return []
    return [
        CompletionItem(name)
        for name in group.list_commands(group_ctx)
        if name.startswith(incomplete)
    ]

"""Command groups: did-you-mean for mistyped (sub)commands, and groups with a default
subcommand (``ork simulate ARGS`` is ``ork simulate run ARGS``) whose help shows the
default's options."""

from __future__ import annotations

import os
from typing import NoReturn

import click


def did_you_mean(word: str, names: list[str]) -> str:
    """``; did you mean push?`` for the closest of ``names``, or ""."""
    import difflib  # only on a typo: startup stays light

    close = difflib.get_close_matches(word, names, n=1, cutoff=0.6)
    return f"; did you mean {close[0]}?" if close else ""


def no_such_command(ctx: click.Context, group: click.Group, word: str) -> NoReturn:
    """A usage error (exit 2) naming the closest subcommand of ``group``."""
    names = group.list_commands(ctx)
    raise click.UsageError(f"no such command {word!r}{did_you_mean(word, names)}", ctx)


def resolve_path(
    root: click.Context, words: tuple[str, ...] | list[str]
) -> tuple[click.Command, click.Context]:
    """The command ``words`` name below ``root`` (``["simulate", "init"]``) and a context
    for it; a usage error for an unknown word (with did-you-mean)."""
    command, ctx = root.command, root
    for word in words:
        if not isinstance(command, click.Group):
            raise click.UsageError(f"{ctx.command_path} has no subcommands", ctx)
        found = command.get_command(ctx, word)
        if found is None:
            no_such_command(ctx, command, word)
        command, ctx = found, click.Context(found, info_name=word, parent=ctx)
    return command, ctx


class SuggestingGroup(click.Group):
    """A group whose unknown subcommand errors suggest the closest one."""

    def resolve_command(
        self, ctx: click.Context, args: list[str]
    ) -> tuple[str | None, click.Command | None, list[str]]:
        word = args[0]
        if (
            not ctx.resilient_parsing
            and not word.startswith("-")
            and self.get_command(ctx, word) is None
        ):
            no_such_command(ctx, self, word)
        return super().resolve_command(ctx, args)


class DefaultRun(SuggestingGroup):
    """``ork GROUP [ARGS]`` runs the ``run`` subcommand unless ARGS starts with another
    subcommand; the group's help shows ``run``'s options, so they are not hidden."""

    default = "run"

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if args in (["--help"], ["-h"]):
            return super().parse_args(ctx, args)
        if args and args[0] not in self.commands:
            self._check_typo(ctx, args[0])
        if not args or args[0] not in self.commands:
            args = [self.default, *args]
        return super().parse_args(ctx, args)

    def _check_typo(self, ctx: click.Context, word: str) -> None:
        """A word that is no option, no path and close to a subcommand is a typo."""
        others = [name for name in self.commands if name != self.default]
        if word.startswith("-") or "/" in word or "." in word or os.path.exists(word):
            return
        if did_you_mean(word, others):
            no_such_command(ctx, self, word)

    def collect_usage_pieces(self, ctx: click.Context) -> list[str]:
        run = self.commands[self.default]
        return [*run.collect_usage_pieces(ctx), "|", "COMMAND [ARGS]..."]

    def format_options(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        run = self.commands[self.default]
        rows = [
            row
            for param in run.get_params(ctx)
            if isinstance(param, click.Option) and (row := param.get_help_record(ctx)) is not None
        ]
        with formatter.section("Options"):
            formatter.write_dl(rows)
        self.format_commands(ctx, formatter)

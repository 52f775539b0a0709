"""The root ``ork`` group, lazy command loading and error handling.

:func:`main` is the error boundary of every command: an :class:`OrkError` is printed as its
message and hint (exit 1, or 2 for usage errors), click's usage errors exit 2, Ctrl-C 130,
a closed pipe 0, and anything else (a bug) one line ``error: <type>: <message>`` with a
hint to run again with ``ork --debug`` (or ``ORK_DEBUG=1``), which prints the traceback.
"""

from __future__ import annotations

import contextlib
import gc
import importlib
import os
import sys
from typing import Any, NoReturn

import click

from orkestra import __version__
from orkestra.cli.groups import SuggestingGroup
from orkestra.cli.output import SETTINGS, configure, emit
from orkestra.errors import OrkError

# name -> (module, short help); modules load only when their command runs. The command is the
# module's ``command``, or the attribute named after a colon (``module:attribute``).
COMMANDS: dict[str, tuple[str, str]] = {
    "init": ("orkestra.cli.init", "Write an example pack to disk."),
    "build": ("orkestra.cli.build", "Build a runtime image with a pattern's hook code."),
    "cluster": ("orkestra.cli.cluster", "Run the embedded Kubernetes API server."),
    "run": ("orkestra.cli.run", "Run the operator runtime against a cluster."),
    "validate": (
        "orkestra.cli.validate",
        "Check pattern files (katalog, motif, komposer, simulate, e2e).",
    ),
    "template": ("orkestra.cli.template", "Print the fully expanded katalog."),
    "gateway": (
        "orkestra.cli.gateway",
        "Serve admission webhooks: validation, mutation, deletion protection.",
    ),
    "generate": ("orkestra.cli.generate", "Generate the RBAC and katalog bundle to deploy."),
    "e2e": ("orkestra.cli.e2e", "Run the pattern's CR on a cluster and check e2e.yaml."),
    "simulate": ("orkestra.cli.simulate", "Reconcile in memory and check the assertions."),
    "inspect": ("orkestra.cli.inspect", "Show a pushed pattern's metadata and proof."),
    "key": ("orkestra.cli.key", "Manage the keys that sign and verify gate reports."),
    "login": ("orkestra.cli.login", "Check and store credentials for a registry."),
    "logout": (
        "orkestra.cli.login:logout_command",
        "Remove the credentials stored for a registry.",
    ),
    "patterns": ("orkestra.cli.patterns", "List the patterns published to a registry."),
    "plan": (
        "orkestra.cli.plan",
        "Everything a pattern can create; diff and risks between versions.",
    ),
    "pull": ("orkestra.cli.pull", "Download a pattern (and its imports) to the cache."),
    "push": ("orkestra.cli.push", "Gate a pattern and publish it with the result."),
    "schema": ("orkestra.cli.schema", "Print the JSON Schema of a pattern kind."),
    "version": ("orkestra.cli.version", "Print the version."),
    "completion": ("orkestra.cli.completion", "Print a shell completion script."),
    "help": ("orkestra.cli.help", "Show the help of a command: ork help COMMAND [SUBCOMMAND]."),
}


class LazyGroup(SuggestingGroup):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        entry = COMMANDS.get(cmd_name)
        if entry is None:
            return None
        module, _, attribute = entry[0].partition(":")
        command = getattr(importlib.import_module(module), attribute or "command")
        assert isinstance(command, click.Command)
        _collect_from_here()
        return command

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = [(name, help_text) for name, (_, help_text) in sorted(COMMANDS.items())]
        with formatter.section("Commands"):
            formatter.write_dl(rows)

    def invoke(self, ctx: click.Context) -> Any:
        """Run the command; a reader that closed the pipe (``ork … | head``) is not an
        error (click would exit 1)."""
        try:
            return super().invoke(ctx)
        except BrokenPipeError:
            _quiet_stdout()
            return 0


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "--version", prog_name="ork", message="%(prog)s v%(version)s")
@click.option("--debug", is_flag=True, help="Print tracebacks and debug logs (also ORK_DEBUG=1).")
@click.option(
    "-q",
    "--quiet",
    is_flag=True,
    help="Print only errors and the output asked for (no progress, ✓ or ⚠ lines).",
)
def cli(debug: bool, quiet: bool) -> None:
    """Declarative Kubernetes operators, published as OCI artifacts with their proof.

    \b
    Start with:  ork init --pack registry-guide
    Then:        ork validate   ork simulate   ork push   ork inspect
    Help:        ork help COMMAND [SUBCOMMAND]
    """
    configure(quiet=quiet, debug=debug or debug_from_env())


def _title(argv: list[str] | None) -> str:
    """``ork <command>``, for CI annotations."""
    words = [a for a in (sys.argv[1:] if argv is None else argv) if not a.startswith("-")]
    return f"ork {words[0]}" if words else "ork"


def debug_from_env() -> bool:
    return os.environ.get("ORK_DEBUG", "").strip().lower() not in ("", "0", "false", "no", "off")


def debug_requested(args: list[str]) -> bool:
    """``--debug`` among the global options (before the command), or ``ORK_DEBUG`` set."""
    if debug_from_env():
        return True
    for arg in args:
        if not arg.startswith("-") or arg == "--":
            return False
        if arg == "--debug":
            return True
    return False


def console() -> NoReturn:
    """The ``ork`` console script: :func:`main`, then exit.

    The garbage collector is off until the command's module is imported: what start-up
    allocates (modules, classes, functions) lives as long as the process, and collecting it
    again and again while importing cost 5-13 ms of a short command (``ork pull``, ``ork
    push``, counted with ``gc.callbacks``). :func:`_collect_from_here` then freezes that
    heap and turns collection on for the command. The heap is frozen again before exit, so
    that the interpreter's collection at exit has nothing to scan (about 15 ms of a short
    command such as ``ork validate``). In-process callers of ``main`` keep collecting."""
    gc.disable()
    code = main()
    gc.freeze()
    sys.exit(code)


def _collect_from_here() -> None:
    """Start collecting, if :func:`console` held it back, with the start-up heap frozen."""
    if not gc.isenabled():
        gc.freeze()
        gc.enable()


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``ork`` console script, and the error boundary of every command."""
    args = list(sys.argv[1:] if argv is None else argv)
    debug = debug_requested(args)
    configure(quiet=False, debug=False)  # until the root group reads the flags
    try:
        result: Any = cli.main(args=args, prog_name="ork", standalone_mode=False)
    except (click.exceptions.Abort, KeyboardInterrupt):
        sys.stderr.write("Aborted.\n")
        return 130
    except click.ClickException as exc:
        exc.show()
        _error_result(exc.format_message(), "", "UsageError", exc.exit_code)
        return exc.exit_code
    except OrkError as exc:
        if debug:
            _print_traceback()
        sys.stderr.write(exc.render() + "\n")
        _error_result(exc.message, exc.hint, type(exc).__name__, exc.exit_code)
        _annotate(exc, args)
        return exc.exit_code
    except BrokenPipeError:
        _quiet_stdout()
        return 0
    except Exception as exc:  # the boundary: a bug, shown in one line
        return _unexpected(exc, args, debug)
    return result if isinstance(result, int) else 0


def _unexpected(exc: Exception, args: list[str], debug: bool) -> int:
    """An error no code meant to raise: one line, and the traceback only under --debug."""
    if debug:
        _print_traceback()
    text = " ".join(str(exc).split())
    line = f"error: {type(exc).__name__}" + (f": {text}" if text else "")
    sys.stderr.write(line + "\n")
    if not debug:
        sys.stderr.write(
            f"  hint: this is a bug in ork; run `ork --debug {_command(args)}` "
            "(or set ORK_DEBUG=1) to see the traceback, and report it\n"
        )
    _error_result(line, "this is a bug in ork", "InternalError", 1)
    _annotate(OrkError(line), args)
    return 1


def _error_result(message: str, hint: str, kind: str, exit_code: int) -> None:
    """With ``-o json``/``yaml`` given, a failure still prints a result: the error object
    (``ork schema --result error``), so scripts never parse an empty stdout."""
    if SETTINGS.format == "text" or SETTINGS.answered:
        return
    with contextlib.suppress(OSError):
        emit(
            SETTINGS.format,
            {
                "error": {
                    "message": message,
                    "hint": hint or None,
                    "kind": kind,
                    "exitCode": exit_code,
                }
            },
        )


def _print_traceback() -> None:
    """The traceback of the error being handled (``--debug``); loaded only then."""
    import traceback

    traceback.print_exc()


def _annotate(exc: OrkError, args: list[str]) -> None:
    """The error as a CI annotation (GitHub Actions); never a second failure."""
    from orkestra.cli.ci import annotate_failure  # only on errors: startup stays light

    with contextlib.suppress(Exception):  # the error itself is already printed
        annotate_failure(exc, _title(args))


def _command(args: list[str]) -> str:
    words = [a for a in args if a not in ("--debug", "-q", "--quiet")]
    return " ".join(words[:3]) + (" …" if len(words) > 3 else "") if words else "<command>"


def _quiet_stdout() -> None:
    """Point stdout at /dev/null, so the interpreter's final flush into the closed pipe
    does not fail again."""
    with contextlib.suppress(OSError, ValueError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())

"""The root ``ork`` group, lazy command loading and error handling."""

from __future__ import annotations

import importlib
import sys
from typing import Any

import click

from orkestra import __version__
from orkestra.errors import OrkError

# name -> (module, short help); modules load only when their command runs. The command is the
# module's ``command``, or the attribute named after a colon (``module:attribute``).
COMMANDS: dict[str, tuple[str, str]] = {
    "init": ("orkestra.cli.init", "Write an example pack to disk."),
    "build": ("orkestra.cli.build", "Build a runtime image with a pattern's hook code."),
    "cluster": ("orkestra.cli.cluster", "Run the embedded Kubernetes API server."),
    "run": ("orkestra.cli.run", "Run the operator runtime against a cluster."),
    "validate": ("orkestra.cli.validate", "Check pattern files (katalog, motif, komposer, "
                                          "simulate, e2e)."),
    "template": ("orkestra.cli.template", "Print the fully expanded katalog."),
    "gateway": ("orkestra.cli.gateway", "Serve admission webhooks: validation, mutation, "
                                        "deletion protection."),
    "generate": ("orkestra.cli.generate", "Generate the RBAC and katalog bundle to deploy."),
    "e2e": ("orkestra.cli.e2e", "Run the pattern's CR on a cluster and check e2e.yaml."),
    "simulate": ("orkestra.cli.simulate", "Reconcile in memory and check the assertions."),
    "inspect": ("orkestra.cli.inspect", "Show a pushed pattern's metadata and proof."),
    "login": ("orkestra.cli.login", "Check and store credentials for a registry."),
    "logout": ("orkestra.cli.login:logout_command", "Remove the credentials stored for a "
                                                     "registry."),
    "patterns": ("orkestra.cli.patterns", "List the patterns published to a registry."),
    "plan": ("orkestra.cli.plan", "Everything a pattern can create; diff and risks between "
                                  "versions."),
    "pull": ("orkestra.cli.pull", "Download a pattern (and its imports) to the cache."),
    "push": ("orkestra.cli.push", "Gate a pattern and publish it with the result."),
    "schema": ("orkestra.cli.schema", "Print the JSON Schema of a pattern kind."),
    "version": ("orkestra.cli.version", "Print the version."),
    "completion": ("orkestra.cli.completion", "Print a shell completion script."),
}


class LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        entry = COMMANDS.get(cmd_name)
        if entry is None:
            return None
        module, _, attribute = entry[0].partition(":")
        command = getattr(importlib.import_module(module), attribute or "command")
        assert isinstance(command, click.Command)
        return command

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = [(name, help_text) for name, (_, help_text) in sorted(COMMANDS.items())]
        with formatter.section("Commands"):
            formatter.write_dl(rows)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "--version", prog_name="ork", message="%(prog)s v%(version)s")
def cli() -> None:
    """Declarative Kubernetes operators, published as OCI artifacts with their proof.

    \b
    Start with:  ork init --pack registry-guide
    Then:        ork validate   ork simulate   ork push   ork inspect
    """


def _title(argv: list[str] | None) -> str:
    """``ork <command>``, for CI annotations."""
    words = [a for a in (sys.argv[1:] if argv is None else argv) if not a.startswith("-")]
    return f"ork {words[0]}" if words else "ork"


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``ork`` console script."""
    try:
        result: Any = cli.main(args=argv, prog_name="ork", standalone_mode=False)
    except click.exceptions.Abort:
        sys.stderr.write("Aborted.\n")
        return 130
    except click.ClickException as exc:
        exc.show()
        return exc.exit_code
    except OrkError as exc:
        sys.stderr.write(exc.render() + "\n")
        from orkestra.cli.ci import annotate_failure  # only on errors: startup stays light

        annotate_failure(exc, _title(argv))
        return exc.exit_code
    except BrokenPipeError:
        return 0
    return result if isinstance(result, int) else 0

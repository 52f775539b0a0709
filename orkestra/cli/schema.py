"""``ork schema KIND``: the JSON Schema editors can use to validate pattern files; and
``ork schema --result NAME``: the schema of what a command prints with ``-o json``."""

from __future__ import annotations

import click

from orkestra.cli.files import emit_text
from orkestra.cli.output import out, render
from orkestra.cli.params import format_option, output_file_option
from orkestra.cli.results import RESULTS, result_schema
from orkestra.kubeobjects import JsonDict
from orkestra.model.formats import KINDS, kind_json_schema


@click.command("schema")
@click.argument("kind", required=False)
@click.option(
    "--result",
    "result",
    type=click.Choice(sorted(RESULTS)),
    help="The schema of a command's -o json output instead of a pattern kind.",
)
@click.option("--list", "list_kinds", is_flag=True, help="List the kinds and the results.")
@format_option(("json", "yaml"))
@output_file_option
def command(
    kind: str | None, result: str | None, list_kinds: bool, output: str, output_file: str | None
) -> int:
    """Print the JSON Schema (draft 2020-12) of KIND: katalog, motif, komposer, simulate, e2e;
    or, with --result, of a command's -o json output (ork schema --list names them).

    \b
    Example (VS Code YAML extension, in .vscode/settings.json):
      "yaml.schemas": {"./katalog.schema.json": "katalog.yaml"}
    ork schema --result simulate       what ork simulate -o json prints
    """
    if list_kinds:
        _list()
        return 0
    if result is not None and kind is not None:
        raise click.UsageError("give KIND or --result NAME, not both")
    schema = result_schema(result) if result is not None else _kind_schema(kind)
    emit_text(render(output, schema), output_file)
    return 0


def _kind_schema(kind: str | None) -> JsonDict:
    names = ", ".join(k.lower() for k in KINDS)
    if kind is None:
        raise click.UsageError(f"missing KIND (one of: {names}) or --result NAME")
    match = {k.lower(): k for k in KINDS}.get(kind.lower())
    if match is None:
        raise click.BadParameter(
            f"{kind!r} is not a pattern kind; use one of {names}", param_hint="KIND"
        )
    return kind_json_schema(match)


def _list() -> None:
    for name in KINDS:
        out(name.lower())
    width = max(len(name) for name in RESULTS)
    for name, (description, _) in sorted(RESULTS.items()):
        out(f"--result {name:<{width}}  {description}")

"""``ork schema KIND``: the JSON Schema editors can use to validate pattern files."""

from __future__ import annotations

import json

import click

from orkestra.cli.files import emit_text
from orkestra.cli.output import out
from orkestra.model.formats import KINDS, kind_json_schema


@click.command("schema")
@click.argument("kind", required=False)
@click.option("--list", "list_kinds", is_flag=True, help="List the kinds.")
@click.option("-o", "--output", "output_file", type=click.Path(dir_okay=False),
              help="Write to this file instead of stdout.")
def command(kind: str | None, list_kinds: bool, output_file: str | None) -> int:
    """Print the JSON Schema (draft 2020-12) of KIND: katalog, motif, komposer, simulate, e2e.

    \b
    Example (VS Code YAML extension, in .vscode/settings.json):
      "yaml.schemas": {"./katalog.schema.json": "katalog.yaml"}
    """
    if list_kinds:
        for name in KINDS:
            out(name.lower())
        return 0
    if kind is None:
        raise click.UsageError("missing KIND (one of: "
                               + ", ".join(k.lower() for k in KINDS) + ")")
    match = {k.lower(): k for k in KINDS}.get(kind.lower())
    if match is None:
        raise click.BadParameter(f"{kind!r} is not a pattern kind; use one of "
                                 + ", ".join(k.lower() for k in KINDS), param_hint="KIND")
    emit_text(json.dumps(kind_json_schema(match), indent=2) + "\n", output_file)
    return 0

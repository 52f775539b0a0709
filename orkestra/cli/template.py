"""``ork template``: print the fully expanded katalog (G2 layout), as the runtime sees it."""

from __future__ import annotations

import click

from orkestra import yamltext
from orkestra.cli.files import emit_text, require_files
from orkestra.cli.params import format_option, output_file_option
from orkestra.compose import Composed, MotifResolver, compose_file
from orkestra.errors import OrkError
from orkestra.files import shown
from orkestra.model.errors import PatternError, Problem
from orkestra.model.shapes import Katalog


@click.command("template")
@click.option(
    "-f",
    "--file",
    "files",
    multiple=True,
    type=click.Path(dir_okay=False),
    help="Katalog or komposer file (repeatable; CRDs are merged). Default: "
    "katalog.yaml or komposer.yaml here.",
)
@format_option(("yaml", "json"))
@click.option("-c", "--crd", "crd", help="Only this CRD.")
@output_file_option
@click.option(
    "--no-validate", is_flag=True, help="Skip semantic checks (the schema is still enforced)."
)
def command(
    files: tuple[str, ...], output: str, crd: str | None, output_file: str | None, no_validate: bool
) -> int:
    """Print the katalog with every motif and include expanded, in the current layout.

    \b
    ork template                        katalog.yaml or komposer.yaml here, as YAML
    ork template -o json -c webapp      one CRD, as JSON
    ork template --output-file out.yaml
    """
    paths = require_files(files, ("katalog.yaml", "komposer.yaml"))
    resolver = MotifResolver(checks=not no_validate)
    composed = [compose_file(p, shown(p), checks=not no_validate, motifs=resolver) for p in paths]
    view = _merge(composed)
    if crd is not None:
        if crd not in view["spec"]["crds"]:
            raise OrkError(
                f'CRD "{crd}" not found; available: ' + ", ".join(sorted(view["spec"]["crds"]))
            )
        view["spec"]["crds"] = {crd: view["spec"]["crds"][crd]}
    emit_text(_text(view, output), output_file)
    return 0


def _text(view: Katalog, output: str) -> str:
    if output == "json":
        import json  # only for -o json

        return json.dumps(view, indent=2, ensure_ascii=False) + "\n"
    return "---\n" + yamltext.block(view)


def _merge(composed: list[Composed]) -> Katalog:
    first = composed[0].as_katalog()
    crds = first["spec"]["crds"]
    problems: list[Problem] = []
    for other in composed[1:]:
        for name, entry in other.as_katalog()["spec"]["crds"].items():
            if name in crds:
                problems.append(
                    other.origins.problem(
                        ("spec", "crds", name),
                        f'CRD "{name}" is also defined in {composed[0].source.display}',
                        key=True,
                    )
                )
            crds[name] = entry
    if problems:
        raise PatternError(problems)
    return first

"""``ork build runtime``: the runtime image with a pattern's hook code installed
(:mod:`orkestra.runtime.image`)."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from orkestra.cli.groups import SuggestingGroup
from orkestra.cli.output import emit, err, progress, style
from orkestra.cli.params import format_option
from orkestra.kubeobjects import JsonDict
from orkestra.runtime.hookcode import HookCode, collect
from orkestra.runtime.image import (
    HOOKS_DIR,
    BuildOptions,
    Built,
    ImageTag,
    build_runtime_image,
)


@click.group("build", cls=SuggestingGroup)
def command() -> None:
    """Build what runs a pattern."""


@command.command("runtime", short_help="The runtime image with the pattern's hooks installed.")
@click.argument(
    "directory", default=".", type=click.Path(exists=True, file_okay=False, path_type=Path)
)
@click.option(
    "-t",
    "--tag",
    required=True,
    metavar="REPO:TAG",
    help="Name of the image, e.g. ghcr.io/myorg/database-operator:v1.0.0.",
)
@click.option(
    "--base",
    metavar="IMAGE",
    help="Build FROM this image: an OCI layout "
    "(DIR[:TAG] or oci:DIR:TAG) or a registry image. Default: the checkout's "
    "runtime image, dist/image/oci:<version>, built with tools/image/build.sh "
    "when missing.",
)
@click.option(
    "--rebuild-base",
    is_flag=True,
    help="Run tools/image/build.sh first even when "
    "the default base exists (it is cached: quick when nothing changed).",
)
@click.option(
    "--layout",
    type=click.Path(file_okay=False, path_type=Path),
    metavar="DIR",
    help="Also write the image to this OCI layout (tag: the image's). Default: "
    "~/.cache/orkestra/runtime-images/<repository>.",
)
@click.option("--push", is_flag=True, help="Push the image to the registry its tag names.")
@click.option(
    "--tls-verify/--no-tls-verify",
    default=None,
    help="Verify the TLS certificate of the registry pushed to (and of the "
    "base's) [default: on, except for 127.0.0.1 and localhost, spoken to "
    "over plain HTTP].",
)
@click.option(
    "--trust-hooks",
    is_flag=True,
    help="Also install the code of patterns pulled from a registry (read it first).",
)
@format_option()
def runtime(
    directory: Path,
    tag: str,
    base: str | None,
    rebuild_base: bool,
    layout: Path | None,
    push: bool,
    tls_verify: bool | None,
    trust_hooks: bool,
    output: str,
) -> int:
    """Build the runtime image FROM the project's, with the hook code of the katalog (or
    komposer) in DIR (default: here): the top-level packages its CRDs' hooks and CR models
    name, and the requirements of its requirements.txt or pyproject.toml, from wheels.
    The hooks are loaded inside the image, as its user, before it is kept or pushed.

    \b
    ork build runtime --tag ghcr.io/myorg/database-operator:v1.0.0 --push
    ork build runtime ./database --tag 127.0.0.1:5000/database-operator:dev --push

    Needs root and buildah (apt-get install buildah debootstrap).
    """
    image = ImageTag.parse(tag)
    code = collect(directory, trust_hooks=trust_hooks)
    options = BuildOptions(
        tag=image,
        base=base,
        rebuild_base=rebuild_base,
        layout=layout,
        push=push,
        tls_verify=tls_verify,
    )
    built = build_runtime_image(code, options, _progress)
    if output != "text":
        emit(output, _json(built, code))
    else:
        _summary(built, code, image)
    return 0


def _progress(line: str) -> None:
    err(style(line, "dim", sys.stderr))


def _summary(built: Built, code: HookCode, image: ImageTag) -> None:
    tick = style("✓", "green")
    progress(
        f"{tick} Built {built.image} in {built.seconds:.0f}s "
        f"({code.kind.lower()} {code.name} {code.version})".rstrip()
    )
    progress(f"  From:     {built.base}")
    progress(f"  Hooks:    {', '.join(code.modules)} (loaded inside the image)")
    if code.packages:
        progress(f"  Packages: {', '.join(code.package_names)} in {HOOKS_DIR}")
    if requirements := code.requirements.lines():
        progress(f"  Requires: {', '.join(requirements)}")
    progress(f"  Layout:   {built.layout}")
    if built.pushed:
        progress(f"  {tick} Pushed {built.image}@{built.digest}")
    progress()
    progress("Run it with the chart:")
    progress(
        f"  --set runtime.image.repository={image.repository} --set runtime.image.tag={image.tag}"
    )


def _json(built: Built, code: HookCode) -> JsonDict:
    return {
        "image": built.image,
        "digest": built.digest,
        "base": built.base,
        "layout": built.layout,
        "pushed": built.pushed,
        "labels": built.labels,
        "pattern": {
            "file": str(code.pattern),
            "kind": code.kind,
            "name": code.name,
            "version": code.version,
        },
        "modules": list(code.modules),
        "packages": [{"name": p.name, "source": str(p.source)} for p in code.packages],
        "requirements": code.requirements.lines(),
        "seconds": round(built.seconds, 1),
    }

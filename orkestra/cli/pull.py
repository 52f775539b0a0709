"""``ork pull``: download a pattern (or everything a katalog/komposer imports) to the cache.

The files are the artifact's layers under their relative paths (a typed katalog's hook
sources in their packages); its Python code runs only under ``--trust-hooks``.

A cached copy is verified against its manifest before it is used, and one that was changed
is downloaded again (with a warning). ``NAME:TAG`` asks the registry where the tag points
now and says so when it moved; a digest reference that is cached needs no network, nor
does anything under ``--offline`` (the cache only, verified).
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from orkestra.cli.completion import complete_ref
from orkestra.cli.output import Spinner, err, progress, style, warn
from orkestra.cli.params import timeout_option
from orkestra.cli.refs import (
    insecure_option,
    layout_option,
    motif_option,
    reference,
    registry_hints,
    require_out_for_layout,
)
from orkestra.errors import UsageError
from orkestra.files import shown
from orkestra.registry.artifact import PYTHON_LAYER_TYPE
from orkestra.registry.client import Pulled, RegistryClient, write_files
from orkestra.registry.refs import Reference
from orkestra.units import format_size

_WITH_SHOWN = 2


@click.command("pull")
@click.argument("ref", required=False, metavar="NAME:VERSION", shell_complete=complete_ref)
@click.option(
    "-o",
    "--out",
    "out_dir",
    type=click.Path(file_okay=False),
    metavar="DIR",
    help="Also write the files into DIR (here -o is a directory, as in oras pull).",
)
@click.option(
    "-f",
    "--file",
    "file",
    type=click.Path(dir_okay=False, exists=True),
    help="Pull everything this katalog or komposer imports.",
)
@click.option("--refresh", is_flag=True, help="Download again even when cached.")
@click.option("--offline", is_flag=True, help="Use the local cache only (verified); no network.")
@click.option(
    "--update",
    is_flag=True,
    help="With -f: re-resolve tags and version "
    "constraints instead of the digests in komposer.lock.",
)
@click.option(
    "--allow-unverified",
    is_flag=True,
    help="With --update: accept versions whose gates were skipped or that reached end of life.",
)
@motif_option
@layout_option
@insecure_option
@timeout_option
def command(
    ref: str | None,
    out_dir: str | None,
    file: str | None,
    refresh: bool,
    offline: bool,
    update: bool,
    allow_unverified: bool,
    motif: bool,
    oci_layout: bool,
    insecure: bool,
    timeout: float | None,
) -> int:
    """Download a pattern to ~/.orkestra/registry (digests verified), or a file's imports.

    \b
    ork pull webapp-operator:v1.0.0
    ork pull web-service:v1.0.0 --motif
    ork pull cache-operator:v1.0.0 -o ./local
    ork pull -f komposer.yaml          writes komposer.lock; then everything works offline
    ork pull -f komposer.yaml --update re-resolve tags and constraints (@^1.2)
    ork pull webapp-operator:v1.0.0 --offline   the cached copy, verified, no network
    """
    if file and ref:
        raise UsageError("give a reference or --file, not both")
    if not file and not ref:
        raise UsageError("provide a reference (e.g. postgres:v14) or --file <katalog.yaml>")
    if offline and (refresh or update):
        raise UsageError("--offline cannot be combined with --refresh or --update")
    client = RegistryClient(insecure=insecure, timeout=timeout)
    if file:
        return _pull_imports(client, Path(file), refresh, update, allow_unverified, offline)
    assert ref is not None
    target = reference(client.resolve, ref, motif=motif, oci_layout=oci_layout)
    require_out_for_layout(oci_layout, out_dir)
    if oci_layout and offline:
        raise UsageError("--oci-layout reads the layout directly; --offline does not apply")
    with registry_hints(client, target, motif):
        if oci_layout:
            assert out_dir is not None
            write_files(Path(out_dir), client.fetch(target).files)
            progress(style("  ✓", "green") + f" Extracted to {out_dir}")
            return 0
        pulled = _pull_one(client, target, refresh, offline)
    if out_dir:
        write_files(
            Path(out_dir), {name: (pulled.directory / name).read_bytes() for name in _files(pulled)}
        )
        progress(style("  ✓", "green") + f" Extracted to {out_dir}")
        return 0
    _suggest(pulled)
    if pulled.info.kind == "Katalog":
        return _pull_dependencies(client, pulled, refresh, offline)
    return 0


def _pull_one(client: RegistryClient, target: Reference, refresh: bool, offline: bool) -> Pulled:
    """The pattern in the cache: verified, and (online, for a tag) what the tag names now."""
    with Spinner("Checking the cache..." if offline else "Pulling..."):
        pulled = client.pull(target, refresh=refresh, offline=offline, check_tag=True)
    if pulled.from_cache:
        progress(style("  ✓", "green") + " Already cached")
        progress(f"  → {pulled.directory}")
        return pulled
    if pulled.replaced:
        warn(f"{pulled.replaced}; downloaded it again")
    progress(f"Pulling {target.short_name}")
    progress(f"  → {target}")
    if pulled.moved_from:
        progress(
            style("  ⚠", "yellow") + f" tag {target.tag} moved from {pulled.moved_from} to "
            f"{pulled.info.digest}"
        )
    progress(style("  ✓", "green") + f" Cached at {pulled.directory}")
    return pulled


def _files(pulled: Pulled) -> list[str]:
    """The artifact's files in the entry (not what running its code added, __pycache__)."""
    return [layer.title for layer in pulled.info.files]


def _suggest(pulled: Pulled) -> None:
    directory, info = pulled.directory, pulled.info
    progress()
    progress("  Files:")
    for name in _files(pulled):
        progress(f"    {name:<30} {format_size((directory / name).stat().st_size)}")
    primary = directory / ("katalog.yaml" if info.kind == "Katalog" else "motif.yaml")
    code = any(layer.media_type == PYTHON_LAYER_TYPE for layer in info.files)
    progress()
    progress("Validate the pattern:")
    progress(f"  ork validate -f {primary}")
    if (directory / "simulate.yaml").is_file():
        progress(
            "Re-run the author's assertions"
            + (" (this runs its Python code: read it first):" if code else ":")
        )
        progress(
            f"  ork simulate -f {directory / 'simulate.yaml'}" + (" --trust-hooks" if code else "")
        )
    progress()
    if info.kind == "Katalog":
        progress("Reference in a Komposer:")
        progress("  imports:")
        progress("    registry:")
        progress(f"      - url: {info.ref}")
        if info.typed.any:
            progress(style("  ↳", "yellow") + " Typed operator — requires a custom runtime image")
        return
    progress("Reference in a Katalog:")
    progress("  imports:")
    progress(f"    - motif: {info.ref}")
    _motif_inputs(primary)


def _motif_inputs(path: Path) -> None:
    from orkestra.compose.pulling import first_document

    inputs = first_document(path).get("inputs") or []
    if not isinstance(inputs, list) or not inputs:
        return
    progress("      with:")
    for spec in inputs[:_WITH_SHOWN]:
        if not isinstance(spec, dict):
            continue
        note = (
            "# required" if spec.get("required") else f"# defaults to: {spec.get('default', '')!s}"
        )
        progress(f'        {spec.get("name")}: ""   {note}')
    if len(inputs) > _WITH_SHOWN:
        more = len(inputs) - _WITH_SHOWN
        progress(f"        # ...and {more} more input{'s' if more != 1 else ''}")


def _pull_dependencies(client: RegistryClient, pulled: Pulled, refresh: bool, offline: bool) -> int:
    """Pull the motifs a katalog imports; a failure here only warns (retried on use)."""
    from orkestra.compose.pulling import pull_motif, registry_motifs

    imports = registry_motifs(pulled.directory / "katalog.yaml")
    if not imports:
        return 0
    progress()
    progress("Pulling motif dependencies...")
    for imp in imports:
        dependency = pull_motif(client, imp, refresh=refresh, offline=offline)
        if dependency.ref is None:
            err(
                style("  ⚠", "yellow", sys.stderr) + f" {dependency.name} (pull failed — will "
                f"retry on next use): {dependency.error}"
            )
        else:
            progress(style("  ✓", "green") + f" {dependency.ref}")
    return 0


def _pull_imports(
    client: RegistryClient,
    file: Path,
    refresh: bool,
    update: bool,
    allow_unverified: bool,
    offline: bool,
) -> int:
    """``-f``: pull every registry import the file reaches; for a komposer, check and write
    ``komposer.lock``."""
    from orkestra.compose.pulling import pull_imports

    progress(f"Pulling the registry imports of {shown(file)}")
    result = pull_imports(
        client,
        file,
        refresh=refresh,
        update=update,
        allow_unverified=allow_unverified,
        offline=offline,
        on_pull=lambda ref: progress(f"  ↓ {ref}"),
    )
    for ref, pulled_now in result.located:
        progress(style("  ✓", "green") + f" {ref}  ({'pulled' if pulled_now else 'cached'})")
    for note in result.notes:
        err(style("⚠", "yellow", sys.stderr) + f" {note}")
    if result.problems:
        count = len(result.problems)
        err(f"{count} pull(s) failed:" if result.unresolved_only else f"{count} problem(s):")
        for text in result.problems:
            err("  " + text.replace("\n", "\n  "))
        return 1
    count = len(result.located)
    progress(
        f"{count} pattern{'s' if count != 1 else ''} ready in {client.cache.root}"
        if count
        else "no registry imports"
    )
    if result.lock is not None:
        pinned = result.lock.pinned
        progress(
            f"Wrote {shown(result.lock.path)} ({pinned} import{'s' if pinned != 1 else ''} pinned)"
        )
        for line in result.lock.changes:
            progress(f"  {line}")
    return 0

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
from orkestra.errors import OrkError, UsageError
from orkestra.files import shown
from orkestra.kubeobjects import JsonDict
from orkestra.model.errors import PatternError
from orkestra.model.imports import motif_imports
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
    inputs = _yaml(path).get("inputs") or []
    if not isinstance(inputs, list) or not inputs:
        return
    progress("      with:")
    for spec in inputs[:_WITH_SHOWN]:
        note = (
            "# required" if spec.get("required") else f"# defaults to: {spec.get('default', '')!s}"
        )
        progress(f'        {spec.get("name")}: ""   {note}')
    if len(inputs) > _WITH_SHOWN:
        more = len(inputs) - _WITH_SHOWN
        progress(f"        # ...and {more} more input{'s' if more != 1 else ''}")


def _yaml(path: Path) -> JsonDict:
    """A pulled file's first document, for the hints (validation happens on use)."""
    import yaml

    from orkestra.model.source import LOADER

    try:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=LOADER)
    except (OSError, yaml.YAMLError, UnicodeDecodeError):
        return {}
    return data if isinstance(data, dict) else {}


def _pull_dependencies(client: RegistryClient, pulled: Pulled, refresh: bool, offline: bool) -> int:
    """Pull the motifs a katalog imports; a failure here only warns (retried on use)."""
    imports = [
        imp for imp in motif_imports(_yaml(pulled.directory / "katalog.yaml")) if imp.is_registry
    ]
    if not imports:
        return 0
    progress()
    progress("Pulling motif dependencies...")
    for imp in imports:
        try:
            ref = client.resolve_import(imp.ref, "Motif", imp.version)
            client.pull(ref, refresh=refresh, offline=offline, check_tag=True)
        except OrkError as exc:
            err(
                style("  ⚠", "yellow", sys.stderr) + f" {imp.ref} (pull failed — will retry "
                f"on next use): {exc.message}"
            )
            continue
        progress(style("  ✓", "green") + f" {ref}")
    return 0


def _pull_imports(
    client: RegistryClient,
    file: Path,
    refresh: bool,
    update: bool,
    allow_unverified: bool,
    offline: bool,
) -> int:
    """``-f``: compose the file while pulling every registry import it reaches; for a
    komposer, check and write ``komposer.lock``."""
    from orkestra.compose import MotifResolver
    from orkestra.compose.load import compose_file
    from orkestra.model.loader import detect_kind
    from orkestra.model.source import load_documents
    from orkestra.registry.lock import LockFile, changes
    from orkestra.registry.sources import RegistrySource

    komposer = detect_kind(load_documents(file, display=shown(file))[0]) == "Komposer"
    old = LockFile.beside(file) if komposer else None
    progress(f"Pulling the registry imports of {shown(file)}")
    source = RegistrySource(
        client=client,
        refresh=refresh,
        on_pull=lambda ref: progress(f"  ↓ {ref}"),
        lock=old if old is not None and old.entries else None,
        check_tags=True,
        update=update,
        allow_unverified=allow_unverified,
        offline=offline,
        repair=True,
    )
    failures: list[str] = []
    try:
        compose_file(file, shown(file), motifs=MotifResolver(registry=source))
    except PatternError as exc:
        failures = [p.render() for p in exc.problems]
    for located in source.located.values():
        state = "pulled" if located.ref in source.pulled else "cached"
        progress(style("  ✓", "green") + f" {located.ref}  ({state})")
    for note in source.notes:
        err(style("⚠", "yellow", sys.stderr) + f" {note}")
    if failures:
        err(
            f"{len(failures)} pull(s) failed:"
            if all("cannot resolve" in f for f in failures)
            else f"{len(failures)} problem(s):"
        )
        for text in failures:
            err("  " + text.replace("\n", "\n  "))
        return 1
    count = len(source.located)
    progress(
        f"{count} pattern{'s' if count != 1 else ''} ready in {client.cache.root}"
        if count
        else "no registry imports"
    )
    if old is not None:
        new = source.lock_file(old.path)
        new.save(file.name)
        progress(
            f"Wrote {shown(old.path)} ({len(new.entries)} import"
            f"{'s' if len(new.entries) != 1 else ''} pinned)"
        )
        for line in changes(old, new) if old.entries else []:
            progress(f"  {line}")
    return 0

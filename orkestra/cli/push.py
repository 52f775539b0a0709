"""``ork push``: gate a pattern and publish it with its proof."""

from __future__ import annotations

import datetime
import sys
from pathlib import Path
from typing import Any

import click

from orkestra.cli.deprecation import deprecation_block
from orkestra.cli.files import append_report
from orkestra.cli.output import Spinner, emit_json, err, out, style
from orkestra.cli.params import report_file_option, timeout_option
from orkestra.cli.quality import gate_status
from orkestra.errors import OrkError, UsageError
from orkestra.gates.push import (
    AlsoPushingMotif,
    Deprecated,
    Event,
    FileChecked,
    GatePassed,
    GateRunning,
    GateSkipped,
    MetaUpdated,
    NoAssertions,
    Published,
    PushOptions,
    Replacing,
    Started,
    Uploading,
    Warned,
    markdown,
    markdown_blocked,
    publish,
)
from orkestra.registry.client import RegistryClient
from orkestra.units import format_size


class _Printer:
    """Turns pipeline events into the lines ``ork push`` prints."""

    def __init__(self, spinner: Spinner, quiet: bool) -> None:
        self.spinner = spinner
        self.quiet = quiet

    def __call__(self, event: Event) -> None:
        if isinstance(event, Warned):
            err(style("Warning:", "yellow", sys.stderr) + f" {event.text}")
        elif isinstance(event, Uploading):
            self.spinner.update(f"Uploading {event.name} ({format_size(event.size)})")
        elif not self.quiet:
            for line in self.lines(event):
                out(line)

    @staticmethod
    def lines(event: Event) -> list[str]:
        tick = style("✓", "green")
        if isinstance(event, Started):
            return [f"Pushing {event.shown_ref} ({event.kind}) to {event.registry}..."]
        if isinstance(event, FileChecked):
            return [f"  {tick} {event.name:<20} {event.note}"]
        if isinstance(event, Deprecated):
            return deprecation_block(event.notice, datetime.date.today())
        if isinstance(event, GateSkipped):
            return [f"  ~ {event.gate} skipped"]
        if isinstance(event, NoAssertions):
            return [f"  {style('⚠', 'yellow')} {event.file} has no assertions — add expect: to "
                    "enforce behavior"]
        if isinstance(event, GateRunning):
            return ["", f"Running {event.gate.lower() if event.gate == 'Simulate' else event.gate}"
                        f" gate ({event.file})..."]
        if isinstance(event, GatePassed):
            where = f" · {event.where}" if event.where else ""
            return [f"  {tick} {event.gate} passed ({event.duration}){where}"]
        if isinstance(event, MetaUpdated):
            return [f'updated {event.file}: metadata.version -> "{event.version}"']
        if isinstance(event, Replacing):
            what = "a draft" if event.draft else "the artifact published before"
            return [f"  Replaced {what}: {event.previous}",
                    f"    still pullable as {event.ref.name}@{event.previous}"]
        if isinstance(event, AlsoPushingMotif):
            return ["", f"Also pushing motif.yaml to {event.registry}..."]
        return []


@click.command("push")
@click.argument("args", nargs=-1, metavar="[NAME:VERSION] DIR")
@click.option("--force", is_flag=True, help="Allow a tag/version mismatch and skip both gates "
              "(recorded in the artifact as skipped).")
@click.option("--update-meta", is_flag=True, help="Write the tag into metadata.version "
              "(comments kept) once the push succeeds.")
@click.option("--no-simulate", is_flag=True, help="Skip the simulate gate (recorded).")
@click.option("--no-e2e", is_flag=True, help="Skip the e2e gate (recorded).")
@click.option("--e2e", "e2e_file", metavar="FILE", help="E2E spec (default: e2e.yaml in DIR).")
@click.option("--e2e-cluster", type=click.Choice(["embedded", "kind", "existing"]),
              help="Where the e2e gate runs [default: $ORK_E2E_CLUSTER, else embedded: the "
                   "embedded API server, no kubelet; existing: the current context].")
@click.option("--overwrite", is_flag=True, help="Replace a published version even when the "
              "push changes its behaviour, drops its deprecation or is a draft (the old "
              "artifact stays pullable by digest).")
@click.option("--insecure", is_flag=True, help="Allow plain HTTP and unverified TLS.")
@timeout_option
@click.option("-o", "--output", type=click.Choice(["text", "json"]), default="text",
              help="json: the result as one JSON object.")
@report_file_option
def command(args: tuple[str, ...], force: bool, update_meta: bool, no_simulate: bool,
            no_e2e: bool, e2e_file: str | None, e2e_cluster: str | None, overwrite: bool,
            insecure: bool, timeout: float | None, output: str,
            report_file: Path | None) -> int:
    """Gate a pattern (validate, simulate, e2e) and push it with the result.

    \b
    ork push DIR                 push as metadata.name:metadata.version
    ork push NAME:VERSION DIR    the tag must equal metadata.version (unless --force)

    Katalogs go to $ORK_REGISTRY, motifs to $ORK_MOTIFS_REGISTRY; unset, the embedded
    registry on this machine (oci://local/...).

    Pushing a version that exists replaces a draft, or re-publishes the same behaviour
    (say, with a deprecation notice added); anything else needs --overwrite.
    """
    if not args or len(args) > 2:
        raise UsageError("ork push takes [NAME:VERSION] DIR", hint="e.g. ork push . or "
                                                                   "ork push web:v1.0.0 ./web")
    ref_text, directory = (None, args[0]) if len(args) == 1 else args
    options = PushOptions(force, update_meta, no_simulate, no_e2e, e2e_file, e2e_cluster,
                          overwrite)
    client = RegistryClient(insecure=insecure, timeout=timeout)
    try:
        with Spinner("Pushing...") as spinner:
            result = publish(Path(directory), ref_text, options,
                             _Printer(spinner, quiet=output == "json"), client)
    except OrkError as exc:
        append_report(report_file, markdown_blocked(Path(directory), exc))
        raise
    append_report(report_file, markdown(result))
    if output == "json":
        emit_json(_json(result))
    else:
        _summary(result)
    return 0


def _summary(result: Published) -> None:
    out()
    out(style("✓", "green") + f" Pushed: {result.ref}")
    out(f"  Digest: {result.digest}")
    if result.kind == "Katalog":
        out(f"  Simulate: {gate_status('Simulate', result.simulate, detailed=False)}")
        out(f"  E2E:      {gate_status('E2E', result.e2e, detailed=False)}")
    if result.motif is not None:
        out(style("✓", "green") + f" Pushed motif: {result.motif.ref}")
    out()
    if result.kind == "Katalog":
        out("To import in a Komposer:")
        out("  imports:")
        out("    registry:")
        out(f"      - url: {result.ref}")
    else:
        out("To import in a Katalog:")
        out("  imports:")
        out(f"    - motif: {result.ref}")


def _json(result: Published) -> dict[str, Any]:
    out_: dict[str, Any] = {
        "ref": str(result.ref), "kind": result.kind, "digest": result.digest,
        "size": result.size, "files": [{"name": n, "size": s} for n, s in result.files],
        "simulate": result.simulate.to_json() if result.simulate else None,
        "e2e": result.e2e.to_json() if result.e2e else None,
        "replaced": result.replaced or None, "warnings": result.warnings}
    if result.motif is not None:
        out_["motif"] = _json(result.motif)
    return out_

"""``ork push``: gate a pattern and publish it with its proof."""

from __future__ import annotations

import datetime
import sys
from functools import partial
from pathlib import Path

import click

from orkestra.cli.deprecation import deprecation_block
from orkestra.cli.files import append_report
from orkestra.cli.output import Spinner, emit, err, out, progress, style
from orkestra.cli.params import format_option, report_file_option, timeout_option
from orkestra.cli.quality import gate_status
from orkestra.errors import OrkError, UsageError
from orkestra.gates.push import (
    AlsoPushingMotif,
    Deprecated,
    Event,
    FileChecked,
    GateFailedError,
    GatePassed,
    GateRecorded,
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
from orkestra.kubeobjects import JsonDict
from orkestra.registry.artifact import GateRecord
from orkestra.registry.client import RegistryClient
from orkestra.registry.oci import Descriptor
from orkestra.units import format_size


class _Printer:
    """Turns pipeline events into the lines ``ork push`` prints, keeping what a push that
    stops is reported with: where it was going and what each gate recorded."""

    def __init__(self, spinner: Spinner, quiet: bool, dry_run: bool) -> None:
        self.spinner = spinner
        self.quiet = quiet
        self.dry_run = dry_run
        self.started: Started | None = None
        self.records: dict[str, GateRecord] = {}

    def __call__(self, event: Event) -> None:
        if isinstance(event, Started) and self.started is None:
            self.started = event
        elif isinstance(event, GateRecorded):
            self.records[event.gate] = event.record
        if isinstance(event, Warned):
            err(style("Warning:", "yellow", sys.stderr) + f" {event.text}")
        elif isinstance(event, Uploading):
            self.spinner.update(f"Uploading {event.name} ({format_size(event.size)})")
        elif not self.quiet:
            for line in self.lines(event):
                progress(line)

    def lines(self, event: Event) -> list[str]:
        tick = style("✓", "green")
        if isinstance(event, Started):
            dry_run = " (dry run: nothing is uploaded)" if self.dry_run else ""
            return [f"Pushing {event.shown_ref} ({event.kind}) to {event.registry}{dry_run}..."]
        if isinstance(event, FileChecked):
            return [f"  {tick} {event.name:<20} {event.note}"]
        if isinstance(event, Deprecated):
            return deprecation_block(event.notice, datetime.date.today())
        if isinstance(event, GateSkipped):
            return [f"  ⊘ {event.gate} skipped"]
        if isinstance(event, NoAssertions):
            return [
                f"  {style('⚠', 'yellow')} {event.file} has no assertions — add expect: to "
                "enforce behavior"
            ]
        if isinstance(event, GateRunning):
            return [
                "",
                f"Running {event.gate.lower() if event.gate == 'Simulate' else event.gate}"
                f" gate ({event.file})...",
            ]
        if isinstance(event, GatePassed):
            where = f" · {event.where}" if event.where else ""
            return [f"  {tick} {event.gate} passed ({event.duration}){where}"]
        if isinstance(event, MetaUpdated):
            return [f'updated {event.file}: metadata.version -> "{event.version}"']
        if isinstance(event, Replacing):
            what = "a draft" if event.draft else "the artifact published before"
            return [
                f"  Replaced {what}: {event.previous}",
                f"    still pullable as {event.ref.name}@{event.previous}",
            ]
        if isinstance(event, AlsoPushingMotif):
            return ["", f"Also pushing motif.yaml to {event.registry}..."]
        return []


@click.command("push")
@click.argument("args", nargs=-1, metavar="[NAME:VERSION] DIR")
@click.option(
    "--force",
    is_flag=True,
    help="Skip both gates (recorded in the artifact as "
    "skipped). A version/tag mismatch is never overridden.",
)
@click.option(
    "-m",
    "--motif",
    is_flag=True,
    help="Push the motif (motif.yaml). Not needed: "
    "the kind is read from the file; picks the motif where DIR holds both.",
)
@click.option(
    "--dry-run",
    is_flag=True,
    help="Run the gates and build the artifact, upload "
    "nothing: print the layers and annotations that would be pushed.",
)
@click.option(
    "--update-meta",
    is_flag=True,
    help="Write the tag into metadata.version (comments kept) once the push succeeds.",
)
@click.option("--no-simulate", is_flag=True, help="Skip the simulate gate (recorded).")
@click.option("--no-e2e", is_flag=True, help="Skip the e2e gate (recorded).")
@click.option("--e2e", "e2e_file", metavar="FILE", help="E2E spec (default: e2e.yaml in DIR).")
@click.option(
    "--e2e-cluster",
    type=click.Choice(["embedded", "kind", "existing"]),
    help="Where the e2e gate runs [default: $ORK_E2E_CLUSTER, else embedded: the "
    "embedded API server, no kubelet; existing: the current context].",
)
@click.option(
    "--overwrite",
    is_flag=True,
    help="Replace a published version even when the "
    "push changes its behaviour, drops its deprecation or is a draft (the old "
    "artifact stays pullable by digest).",
)
@click.option("--insecure", is_flag=True, help="Allow plain HTTP and unverified TLS.")
@timeout_option
@format_option()
@report_file_option
def command(
    args: tuple[str, ...],
    force: bool,
    motif: bool,
    dry_run: bool,
    update_meta: bool,
    no_simulate: bool,
    no_e2e: bool,
    e2e_file: str | None,
    e2e_cluster: str | None,
    overwrite: bool,
    insecure: bool,
    timeout: float | None,
    output: str,
    report_file: Path | None,
) -> int:
    """Gate a pattern (validate, simulate, e2e) and push it with the result.

    \b
    ork push DIR                 push as metadata.name:metadata.version
    ork push NAME:VERSION DIR    the tag must equal metadata.version (a hard error
                                 otherwise; --update-meta writes the tag into the file)

    The kind (katalog or motif) is read from DIR's katalog.yaml or motif.yaml. Katalogs go
    to $ORK_REGISTRY, motifs to $ORK_MOTIFS_REGISTRY; unset, the embedded registry on this
    machine (oci://local/...).

    Pushing a version that exists replaces a draft, or re-publishes the same behaviour
    (say, with a deprecation notice added); anything else needs --overwrite.
    """
    if not args or len(args) > 2:
        raise UsageError(
            "ork push takes [NAME:VERSION] DIR", hint="e.g. ork push . or ork push web:v1.0.0 ./web"
        )
    ref_text, directory = (None, args[0]) if len(args) == 1 else args
    options = PushOptions(
        force=force,
        update_meta=update_meta,
        no_simulate=no_simulate,
        no_e2e=no_e2e,
        e2e_file=e2e_file,
        e2e_cluster=e2e_cluster,
        overwrite=overwrite,
        dry_run=dry_run,
    )
    client = RegistryClient(insecure=insecure, timeout=timeout)
    spinner = Spinner("Pushing...")
    printer = _Printer(spinner, quiet=output != "text", dry_run=dry_run)
    try:
        with spinner:
            result = publish(
                Path(directory), ref_text, options, printer, client, kind="Motif" if motif else None
            )
    except OrkError as exc:
        append_report(report_file, partial(markdown_blocked, Path(directory), exc))
        if output != "text":
            emit(output, _blocked_json(printer, exc, dry_run))
        raise
    append_report(report_file, partial(markdown, result))
    if output != "text":
        emit(output, _json(result))
    else:
        _summary(result)
    return 0


def _summary(result: Published) -> None:
    out()
    if result.dry_run:
        _dry_run(result)
    else:
        out(style("✓", "green") + f" Pushed: {result.ref}")
        out(f"  Digest: {result.digest}")
    if result.kind == "Katalog":
        out(f"  Simulate: {gate_status('Simulate', result.simulate, detailed=False)}")
        out(f"  E2E:      {gate_status('E2E', result.e2e, detailed=False)}")
    if result.motif is not None and result.dry_run:
        out()
        _dry_run(result.motif)
    elif result.motif is not None:
        out(style("✓", "green") + f" Pushed motif: {result.motif.ref}")
    if not result.dry_run:
        _import_hint(result)


def _import_hint(result: Published) -> None:
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


def _dry_run(result: Published) -> None:
    """What the push would upload: the tag, the config and layers, the annotations."""
    manifest = result.manifest
    out(f"Dry run: nothing was uploaded. Would push {result.ref}")
    out(f"  Tag: {result.ref.tag}")
    config = manifest.config
    out(f"  Config: {config.media_type}  {format_size(config.size)}  {config.digest}")
    width = max(len(d.title) for d in manifest.layers)
    types = max(len(d.media_type) for d in manifest.layers)
    out("  Layers:")
    for layer in manifest.layers:
        out(
            f"    {layer.title:<{width}}  {layer.media_type:<{types}}  "
            f"{format_size(layer.size):>9}  {layer.digest}"
        )
    out("  Annotations:")
    for key, value in sorted(manifest.annotations.items()):
        out(f"    {key}: {value}")


def _json(result: Published) -> JsonDict:
    """The result object of a push, or of a dry run (``dryRun``: nothing was uploaded).
    Keys without a value (a motif's gates, ``replaced`` on a first push) are left out."""
    manifest = result.manifest
    out_: JsonDict = {
        "pushed": not result.dry_run,
        "dryRun": result.dry_run,
        "ref": str(result.ref),
        "tag": result.ref.tag,
        "kind": result.kind,
        "digest": result.digest,
        "size": result.size,
        "config": _descriptor(manifest.config),
        "layers": [{"title": d.title, **_descriptor(d)} for d in manifest.layers],
        "annotations": dict(sorted(manifest.annotations.items())),
        "files": [{"name": n, "size": s} for n, s in result.files],
        "simulate": _gate_json(result.simulate),
        "e2e": _gate_json(result.e2e),
        "replaced": result.replaced,
        "signedBy": result.signed_by,
        "warnings": result.warnings,
        "motif": _json(result.motif) if result.motif is not None else None,
    }
    return _filled(out_)


def _blocked_json(printer: _Printer, error: OrkError, dry_run: bool) -> JsonDict:
    """The result object of a push that stopped: where it was going, what each gate
    recorded before it stopped, the gate that blocked it with its failures, the error."""
    started = printer.started
    gates = {gate: _gate_json(record) for gate, record in printer.records.items()}
    blocked_by = ""
    if isinstance(error, GateFailedError):
        blocked_by = error.gate
        gates[error.gate] = {
            "status": "failed",
            "failures": [line.strip() for line in error.details],
        }
    return _filled(
        {
            "pushed": False,
            "dryRun": dry_run,
            "ref": str(started.ref) if started else None,
            "tag": started.ref.tag if started else None,
            "kind": started.kind if started else None,
            "simulate": gates.get("Simulate"),
            "e2e": gates.get("E2E"),
            "blockedBy": blocked_by.lower(),
            "error": _filled({"message": error.message, "hint": error.hint}),
        }
    )


def _descriptor(descriptor: Descriptor) -> JsonDict:
    return {
        "mediaType": descriptor.media_type,
        "size": descriptor.size,
        "digest": descriptor.digest,
    }


def _gate_json(record: GateRecord | None) -> JsonDict | None:
    """A gate's record without the fields it did not fill (a simulate gate has no
    runner; a skipped gate no duration)."""
    return _filled(record.to_json()) if record is not None else None


def _filled(value: JsonDict) -> JsonDict:
    """``value`` without the keys whose value is None, "" or 0 (booleans and lists
    stay)."""
    return {k: v for k, v in value.items() if isinstance(v, bool | list) or v not in (None, "", 0)}

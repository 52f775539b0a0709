"""``ork inspect``: what was verified, when and by which runner — before pulling anything."""

from __future__ import annotations

import datetime
import json
import sys
import textwrap
from typing import Any

import click

from orkestra.cli.deprecation import inspect_deprecation
from orkestra.cli.output import emit_json, err, out, style
from orkestra.cli.quality import ago, gate_status
from orkestra.cli.refs import (
    insecure_option,
    layout_option,
    motif_option,
    reference,
    registry_hints,
)
from orkestra.errors import OrkError
from orkestra.registry.artifact import CLUSTER_LABELS, REPORT_TYPE, GateRecord
from orkestra.registry.client import RegistryClient
from orkestra.registry.info import PatternInfo
from orkestra.registry.oci import Descriptor, Manifest
from orkestra.registry.refs import Reference
from orkestra.units import format_size, format_timestamp


@click.command("inspect")
@click.argument("ref", metavar="NAME:VERSION")
@motif_option
@click.option("--view", metavar="FILE[,FILE]", help="Print these files from the artifact.")
@click.option("--versions", is_flag=True, help="List the pushed versions (newest first).")
@click.option("--report", is_flag=True, help="Print the gate report attached at push time.")
@layout_option
@insecure_option
@click.option("-o", "--output", type=click.Choice(["text", "json"]), default="text")
def command(ref: str, motif: bool, view: str | None, versions: bool, report: bool,
            oci_layout: bool, insecure: bool, output: str) -> int:
    """Show a pushed pattern's metadata and quality signal (only the manifest is read).

    \b
    ork inspect webapp-operator:v1.0.0
    ork inspect web-service:v1.0.0 --motif
    ork inspect postgres:v1.0.0 --view katalog.yaml,simulate.yaml
    """
    client = RegistryClient(insecure=insecure)
    target = reference(client.resolve, ref, motif=motif, oci_layout=oci_layout)
    with registry_hints(target, motif):
        if versions:
            return _versions(client, target, output)
        manifest, descriptor, _ = client.manifest(target)
        info = PatternInfo.read(target, manifest, descriptor)
        if view:
            return _view(client, target, manifest, view)
        attached = client.referrers(target, descriptor.digest)
        if report:
            return _report(client, target, attached, output)
    if output == "json":
        emit_json({**info.to_json(), "referrers": [_referrer_json(d) for d in attached]})
    else:
        _print(info, attached, ref)
    return 0


def _print(info: PatternInfo, attached: list[Descriptor], shown_ref: str) -> None:
    today = datetime.date.today()
    meta = info.metadata
    if meta.deprecation is not None:
        for line in inspect_deprecation(meta.deprecation, today):
            out(line)
    out(style(f"{meta.name}:{info.ref.tag if not info.ref.digest else meta.version}", "bold"))
    rows = [("Registry", info.ref.location), ("Kind", meta.kind),
            ("Digest", info.digest[:19] + "..."),
            ("Pushed", f"{format_timestamp(info.created)} ({ago(info.created)})"
             if info.created else "unknown"),
            ("Size", format_size(info.manifest_size))]
    _rows(rows)
    out()
    described = textwrap.wrap(meta.description, 55) or [""]
    rows = [("Description", described[0])] + [("", line) for line in described[1:]]
    rows += [(label, value) for label, value in (("Tags", ", ".join(meta.tags)),
                                                 ("Author", meta.author),
                                                 ("License", meta.license)) if value]
    rows.append(("Simulate", gate_status("Simulate", info.simulate)))
    if meta.kind != "Motif":
        rows.append(("E2E", gate_status("E2E", info.e2e)))
    if info.typed.any:
        kinds = [k for k, on in (("hooks", info.typed.hooks),
                                 ("constructor", info.typed.constructor)) if on]
        rows.append(("Typed", style("✓", "green") + f" Has {', '.join(kinds)} · requires "
                                                    "custom runtime"))
    if info.runtime_version:
        rows.append(("Runtime", info.runtime_version))
    reports = [d for d in attached if d.artifact_type == REPORT_TYPE]
    if reports:
        rows.append(("Report", style("✓", "green") + f" gate report attached (ork inspect "
                                                     f"{shown_ref} --report)"))
    others = [d for d in attached if d.artifact_type != REPORT_TYPE]
    if others:
        rows.append(("Referrers", ", ".join(sorted({d.artifact_type or d.media_type
                                                     for d in others}))))
    _rows(rows)
    out()
    out("  Files:")
    for layer in info.files:
        out(f"    {layer.title:<30} {format_size(layer.size)}")
    out()
    pull = f"{'ork pull ' if not info.ref.layout else 'ork pull --oci-layout '}{shown_ref}"
    out("To pull:")
    out(f"  {pull}" + (" --motif" if meta.kind == "Motif" and not info.ref.layout else ""))
    if not info.ref.layout:
        out()
        out("To import:")
        out("  imports:")
        if meta.kind == "Motif":
            out(f"    - motif: {info.ref}")
        else:
            out("    registry:")
            out(f"      - url: {info.ref}")


def _rows(rows: list[tuple[str, str]]) -> None:
    for label, value in rows:
        out(f"  {(label + ':') if label else '':<12} {value}".rstrip())


def _view(client: RegistryClient, ref: Reference, manifest: Manifest, names: str) -> int:
    available = [layer.title for layer in manifest.layers]
    missing = 0
    for name in (n.strip() for n in names.split(",") if n.strip()):
        layer = manifest.layer(name)
        if layer is None:
            err(style("⚠", "yellow", sys.stderr) + f' "{name}" not in artifact (available: '
                f'{", ".join(available)})')
            missing += 1
            continue
        out(f"# ── {name} ──")
        sys.stdout.write(client.blob(ref, layer).decode("utf-8", errors="replace"))
        sys.stdout.flush()
    return 1 if missing else 0


def _versions(client: RegistryClient, ref: Reference, output: str) -> int:
    found = client.versions(ref)
    if output == "json":
        emit_json([i.to_json() for i in found])
        return 0
    if not found:
        raise OrkError(f"no versions of {ref.name} in {ref.location}",
                       hint="ork patterns lists what is published")
    out(f"{ref.name} — {len(found)} version{'s' if len(found) != 1 else ''} in "
        f"{ref.location} (newest first)")
    for i, info in enumerate(found):
        columns = [f"  {info.ref.tag:<10}", f"{_short('Simulate', info.simulate):<28}"]
        if info.kind != "Motif":
            columns.append(f"{_short('E2E', info.e2e):<46}")
        columns.append(info.digest[:19])
        columns.append(f"{ago(info.created):>8}" if info.created else "")
        if info.metadata.deprecation is not None:
            columns.append(style("⚠ deprecated", "yellow"))
        if i == 0:
            columns.append("← latest")
        out("  ".join(columns).rstrip())
    return 0


def _short(gate: str, record: GateRecord | None) -> str:
    if record is None:
        return f"- {gate}"
    if record.status == "passed":
        parts = [f"{record.assertions} assertions"] if gate == "Simulate" else \
            [record.duration, CLUSTER_LABELS.get(record.cluster, record.cluster)]
        return " · ".join([f"✓ {gate}", *(p for p in parts if p)])
    if record.status == "skipped":
        return f"⊘ {gate} skipped"
    if record.status == "no-assertion":
        return f"⚠ {gate}: no assertions"
    return f"✗ {gate}: {record.status}"


def _report(client: RegistryClient, ref: Reference, attached: list[Descriptor],
            output: str) -> int:
    reports = sorted((d for d in attached if d.artifact_type == REPORT_TYPE),
                     key=lambda d: d.annotations.get("org.opencontainers.image.created", ""))
    if not reports:
        raise OrkError(f"{ref} has no gate report attached",
                       hint="reports are attached when a gate runs at push time; skipped "
                            "gates leave none")
    report_ref = ref.with_digest(reports[-1].digest)
    manifest, _, _ = client.manifest(report_ref)
    data = json.loads(client.blob(ref, manifest.layers[0]))
    if output == "json":
        emit_json(data)
        return 0
    _print_report(data)
    return 0


def _print_report(data: dict[str, Any]) -> None:
    out(f"Gate report: {data.get('pattern')}:{data.get('version')} (ork {data.get('ork')}, "
        f"runner {data.get('runner')})")
    simulate = data.get("simulate") or {}
    out(f"Simulate: {simulate.get('status')} · {simulate.get('assertions')} assertions · "
        f"{simulate.get('duration')}")
    for run in simulate.get("runs") or []:
        steady = run.get("steadyAt")
        out(f"  {run.get('crd')}/{run.get('cr')}" + (f" · steady at cycle {steady}"
                                                      if steady else ""))
        for check in run.get("checks") or []:
            out(f"    {check.get('line')}")


def _referrer_json(descriptor: Descriptor) -> dict[str, Any]:
    return {"artifactType": descriptor.artifact_type, "digest": descriptor.digest,
            "size": descriptor.size, "annotations": descriptor.annotations}

"""``ork inspect``: what was verified, when and by which runner — before pulling anything.

Besides the manifest, inspect reads the signed gate report layer and checks it
(:mod:`orkestra.registry.trust.verify`); the ``Signed:`` row says by which key and whether
you trust it, and the gate lines read ``✓ Verified`` only when the signature is valid, the
artifact matches it and the key is trusted (see :func:`orkestra.cli.quality.gate_status`).
"""

from __future__ import annotations

import datetime
import sys
import textwrap
from collections.abc import Mapping

import click

from orkestra.cli.completion import complete_ref
from orkestra.cli.deprecation import inspect_deprecation
from orkestra.cli.output import emit, err, note, out, style
from orkestra.cli.params import format_option, timeout_option
from orkestra.cli.quality import ago, gate_status, printable
from orkestra.cli.refs import (
    insecure_option,
    layout_option,
    motif_option,
    reference,
    registry_hints,
)
from orkestra.errors import OrkError
from orkestra.kubeobjects import JsonDict
from orkestra.registry.artifact import CLUSTER_LABELS, GateRecord
from orkestra.registry.client import RegistryClient
from orkestra.registry.info import PatternInfo
from orkestra.registry.inspection import (
    GateReport,
    Inspection,
    checked_versions,
    gate_report,
    inspect,
    latest_position,
    latest_version,
)
from orkestra.registry.oci import Descriptor
from orkestra.registry.refs import Reference, tag_of
from orkestra.registry.trust.verify import (
    TAMPERED,
    UNSIGNED,
    VERIFIED,
    SignedStatement,
    Verification,
)
from orkestra.units import format_size, format_timestamp


@click.command("inspect")
@click.argument("ref", metavar="NAME[:VERSION]", shell_complete=complete_ref)
@motif_option
@click.option("--view", metavar="FILE[,FILE]", help="Print these files from the artifact.")
@click.option("--versions", is_flag=True, help="List the pushed versions (newest first).")
@click.option(
    "--report",
    is_flag=True,
    help="Print the signed gate report (every assertion of the gates that ran at push).",
)
@layout_option
@insecure_option
@timeout_option
@format_option()
def command(
    ref: str,
    motif: bool,
    view: str | None,
    versions: bool,
    report: bool,
    oci_layout: bool,
    insecure: bool,
    timeout: float | None,
    output: str,
) -> int:
    """Show a pushed pattern's metadata and quality signal, checked against its signed
    gate report (only the manifest and the report are read; nothing is pulled).

    \b
    \b
    ork inspect webapp-operator:v1.0.0
    ork inspect webapp-operator          the latest version (stable beats pre-release)
    ork inspect web-service:v1.0.0 --motif
    ork inspect postgres:v1.0.0 --view katalog.yaml,simulate.yaml
    """
    client = RegistryClient(insecure=insecure, timeout=timeout)
    target = reference(client.resolve, ref, motif=motif, oci_layout=oci_layout)
    with registry_hints(client, target, motif):
        if versions:
            return _versions(client, target, output)
        if not target.digest and not tag_of(ref):
            target = _latest(client, target)
            ref = f"{ref}:{target.tag}"
        if view:
            return _view(client, target, view)
        found = inspect(client, target)
        if report:
            _report(gate_report(client, target, found), found.proof, output)
            return 0
    if output != "text":
        emit(
            output,
            {
                **_json(found.info, found.proof),
                "referrers": [_referrer_json(d) for d in found.attached],
            },
        )
    else:
        _print(found, ref)
    return 0


def _latest(client: RegistryClient, target: Reference) -> Reference:
    """The latest version, said on stderr."""
    latest = latest_version(client, target)
    note(
        f"{target.name}: no tag given, inspecting {latest.ref.tag} (the latest of "
        f"{latest.tags} tag{'s' if latest.tags != 1 else ''}; ork inspect {target.name} "
        "--versions lists them)"
    )
    return latest.ref


def _json(info: PatternInfo, proof: Verification) -> JsonDict:
    """The manifest's fields, the signature check, and per gate whether it is proven."""
    data = info.to_json()
    for gate, record in (("simulate", info.simulate), ("e2e", info.e2e)):
        if record is not None:
            data[gate] = {**record.to_json(), "verified": proof.proven}
    data["signature"] = proof.to_json()
    return data


def _signed_rows(proof: Verification) -> list[tuple[str, str]]:
    """``Signed: ✓ by SHA256:… (trusted)`` and, when it does not hold, why."""
    if proof.state == VERIFIED:
        whose = "trusted" if proof.trusted else "not in your trusted keys"
        rows = [("Signed", style("✓", "green") + f" by {proof.key_id} ({whose})")]
        if not proof.trusted:
            rows.append(("", "to trust it: ork key trust FILE (the publisher's public key)"))
        return rows
    if proof.state == UNSIGNED:
        return [
            ("Signed", style("⚠", "yellow") + " Unsigned (no signed gate report in the artifact)")
        ]
    by = f" (signed by {proof.key_id})" if proof.key_id else ""
    return [("Signed", style("✗", "red") + f" Tampered{by}")] + [
        ("", f"- {printable(reason)}") for reason in proof.reasons
    ]


def _print(found: Inspection, shown_ref: str) -> None:
    info, proof = found.info, found.proof
    today = datetime.date.today()
    meta = info.metadata
    if meta.deprecation is not None:
        for line in inspect_deprecation(meta.deprecation, today):
            out(line)
    out(style(f"{meta.name}:{info.ref.tag if not info.ref.digest else meta.version}", "bold"))
    rows = [
        ("Registry", info.ref.location),
        ("Kind", meta.kind),
        ("Digest", info.digest[:19] + "..."),
        (
            "Pushed",
            f"{format_timestamp(info.created)} ({ago(info.created)})"
            if info.created
            else "unknown",
        ),
        ("Size", format_size(info.manifest_size)),
    ]
    _rows(rows)
    out()
    described = textwrap.wrap(meta.description, 55) or [""]
    rows = [("Description", described[0])] + [("", line) for line in described[1:]]
    rows += [
        (label, value)
        for label, value in (
            ("Tags", ", ".join(meta.tags)),
            ("Author", meta.author),
            ("License", meta.license),
        )
        if value
    ]
    rows += _signed_rows(proof)
    rows.append(("Simulate", gate_status("Simulate", info.simulate, proof=proof)))
    if meta.kind != "Motif":
        rows.append(("E2E", gate_status("E2E", info.e2e, proof=proof)))
    if info.typed.any:
        kinds = [
            k
            for k, on in (("hooks", info.typed.hooks), ("constructor", info.typed.constructor))
            if on
        ]
        rows.append(
            ("Typed", style("✓", "green") + f" Has {', '.join(kinds)} · requires custom runtime")
        )
    if info.runtime_version:
        rows.append(("Runtime", info.runtime_version))
    if proof.state == VERIFIED:
        rows.append(
            (
                "Report",
                style("✓", "green") + f" gate report attached (ork inspect {shown_ref} --report)",
            )
        )
    elif found.unsigned_reports and proof.state == UNSIGNED:
        rows.append(
            (
                "Report",
                style("⚠", "yellow") + f" unsigned gate report attached (ork "
                f"inspect {shown_ref} --report)",
            )
        )
    others = found.other_referrers
    if others:
        rows.append(
            ("Referrers", ", ".join(sorted({d.artifact_type or d.media_type for d in others})))
        )
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


def _view(client: RegistryClient, ref: Reference, names: str) -> int:
    manifest, _, _ = client.manifest(ref)
    available = [layer.title for layer in manifest.layers]
    missing = 0
    for name in (n.strip() for n in names.split(",") if n.strip()):
        layer = manifest.layer(name)
        if layer is None:
            err(
                style("⚠", "yellow", sys.stderr) + f' "{name}" not in artifact (available: '
                f"{', '.join(available)})"
            )
            missing += 1
            continue
        out(f"# ── {name} ──")
        sys.stdout.write(client.blob(ref, layer).decode("utf-8", errors="replace"))
        sys.stdout.flush()
    return 1 if missing else 0


def _versions(client: RegistryClient, ref: Reference, output: str) -> int:
    checked = checked_versions(client, ref)
    if output != "text":
        emit(output, [_json(info, proof) for info, proof in checked])
        return 0
    if not checked:
        raise OrkError(
            f"no versions of {ref.name} in {ref.location}",
            hint="ork patterns lists what is published",
        )
    out(
        f"{ref.name} — {len(checked)} version{'s' if len(checked) != 1 else ''} in "
        f"{ref.location} (newest first)"
    )
    latest = latest_position([info for info, _ in checked])
    for i, (info, proof) in enumerate(checked):
        columns = [f"  {info.ref.tag:<10}", f"{_short('Simulate', info.simulate, proof):<28}"]
        if info.kind != "Motif":
            columns.append(f"{_short('E2E', info.e2e, proof):<46}")
        columns.append(info.digest[:19])
        columns.append(f"{ago(info.created):>8}" if info.created else "")
        if info.metadata.deprecation is not None:
            columns.append(style("⚠ deprecated", "yellow"))
        if i == latest:
            columns.append("← latest")
        out("  ".join(columns).rstrip())
    return 0


def _short(gate: str, record: GateRecord | None, proof: Verification) -> str:
    if proof.state == UNSIGNED:
        return f"⚠ {gate} unverifiable"
    if proof.state == TAMPERED:
        return f"✗ {gate} tampered"
    if record is None:
        return f"- {gate}"
    if record.status == "passed":
        parts = (
            [f"{record.assertions} assertions"]
            if gate == "Simulate"
            else [record.duration, CLUSTER_LABELS.get(record.cluster, record.cluster)]
        )
        mark = f"✓ {gate}" if proof.proven else f"⚠ {gate} (signer not trusted)"
        return " · ".join([mark, *(p for p in parts if p)])
    if record.status == "skipped":
        return f"⊘ {gate} skipped"
    if record.status == "no-assertion":
        return f"⚠ {gate}: no assertions"
    return f"✗ {gate}: {record.status}"


def _report(found: GateReport, proof: Verification, output: str) -> None:
    if found.signed is not None:
        if output != "text":
            emit(output, {"signature": proof.to_json(), "statement": found.signed})
        else:
            _print_signed(found.signed, proof)
        return
    if output != "text":
        emit(output, {"signature": proof.to_json(), "report": found.unsigned})
        return
    out(style("⚠", "yellow") + " Unsigned report: nothing vouches for it")
    _print_report(_dict(found.unsigned))


def _print_signed(statement: SignedStatement, proof: Verification) -> None:
    """The signed statement. It may come from a key nobody trusts, so every value is
    treated as untrusted input: any shape, and printed without control characters."""
    predicate = _dict(statement.get("predicate"))
    pattern, tool = _dict(predicate.get("pattern")), _dict(predicate.get("tool"))
    gates = _dict(predicate.get("gates"))
    out(
        f"Gate report: {printable(pattern.get('name'))}:{printable(pattern.get('version'))} (ork "
        f"{printable(tool.get('version'))}, runner {printable(predicate.get('runner'))})"
    )
    whose = "trusted" if proof.trusted else "not in your trusted keys"
    out(f"Signed: {style('✓', 'green')} by {proof.key_id} ({whose})")
    validate = _dict(gates.get("validate"))
    out(
        f"Validate: {printable(validate.get('status'))} · "
        f"{', '.join(printable(f) for f in _list(validate.get('files')))}"
    )
    simulate = _dict(gates.get("simulate"))
    if simulate:
        out(f"Simulate: {_gate_summary(simulate, 'assertions')}")
        _print_runs([_dict(run) for run in _list(simulate.get("runs"))])
    e2e = _dict(gates.get("e2e"))
    if e2e:
        cluster = printable(e2e.get("cluster"))
        where = CLUSTER_LABELS.get(cluster, cluster)
        out(f"E2E: {_gate_summary(e2e, 'expectations')}" + (f" · {where}" if where else ""))
        for line in _list(e2e.get("checks")):
            out(f"  {printable(line)}")
    out("Files:")
    for subject in (_dict(s) for s in _list(statement.get("subject"))):
        digest = printable(_dict(subject.get("digest")).get("sha256"))
        out(f"  {printable(subject.get('name')):<30} sha256:{digest[:12]}…")


def _gate_summary(gate: Mapping[str, object], unit: str) -> str:
    parts = [printable(gate.get("status"))]
    if gate.get("assertions"):
        parts.append(f"{printable(gate['assertions'])} {unit}")
    if gate.get("duration"):
        parts.append(printable(gate["duration"]))
    return " · ".join(parts)


def _dict(value: object) -> Mapping[str, object]:
    return value if isinstance(value, dict) else {}


def _list(value: object) -> list[object]:
    return value if isinstance(value, list) else []


def _print_report(data: Mapping[str, object]) -> None:
    out(
        f"Gate report: {data.get('pattern')}:{data.get('version')} (ork {data.get('ork')}, "
        f"runner {data.get('runner')})"
    )
    simulate = _dict(data.get("simulate"))
    out(
        f"Simulate: {simulate.get('status')} · {simulate.get('assertions')} assertions · "
        f"{simulate.get('duration')}"
    )
    _print_runs([_dict(run) for run in _list(simulate.get("runs"))])


def _print_runs(runs: list[Mapping[str, object]]) -> None:
    for run in runs:
        steady = printable(run.get("steadyAt"))
        out(
            f"  {printable(run.get('crd'))}/{printable(run.get('cr'))}"
            + (f" · steady at cycle {steady}" if steady else "")
        )
        for line in _list(run.get("checks")):
            out(f"    {printable(_dict(line).get('line'))}")


def _referrer_json(descriptor: Descriptor) -> JsonDict:
    return {
        "artifactType": descriptor.artifact_type,
        "digest": descriptor.digest,
        "size": descriptor.size,
        "annotations": descriptor.annotations,
    }

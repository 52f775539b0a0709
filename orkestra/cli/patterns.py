"""``ork patterns``: the patterns published to a registry, from its index artifact.

The index only says which patterns exist; nothing in it is taken on trust. Each listed
pattern's manifest and signed gate report are fetched (in parallel, at most
:data:`MAX_CHECKED` patterns per listing) and checked like ``ork inspect`` does: the
SIM/E2E columns show the artifact's own gate results, ``✓`` only when its signed report
verifies with a trusted key (``?`` for a pass nobody you trust vouches for, ``✗`` when the
artifact or the index entry disagrees with the signed report), and the SIGNED column and
the notes under the table say which.
"""

from __future__ import annotations

import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace

import click

from orkestra.cli.output import emit, err, out, style
from orkestra.cli.params import format_option, timeout_option
from orkestra.cli.quality import ago, printable
from orkestra.cli.refs import insecure_option
from orkestra.errors import OrkError
from orkestra.kubeobjects import JsonDict
from orkestra.registry.client import RegistryClient
from orkestra.registry.errors import ArtifactNotFoundError
from orkestra.registry.index import IndexEntry, RegistryIndex
from orkestra.registry.info import PatternInfo
from orkestra.registry.refs import Reference, resolve
from orkestra.registry.trust.verify import (
    TAMPERED,
    UNSIGNED,
    Verification,
    check,
    trusted_ids,
)
from orkestra.units import parse_timestamp

_MARKS = {"passed": "✓", "skipped": "⊘", "no-assertion": "⚠"}
_RULE = "─" * 57
MAX_CHECKED = 100
"""Patterns verified per listing (two requests each); the rest are listed unchecked."""
_WORKERS = 8


@click.command("patterns")
@click.argument("registry", required=False, metavar="[REGISTRY]")
@click.option("-t", "--tag", "tag", help="Only patterns with this tag (case-insensitive).")
@click.option("-k", "--katalogs", is_flag=True, help="Only the katalog registry.")
@click.option("-m", "--motifs", is_flag=True, help="Only the motif registry.")
@insecure_option
@timeout_option
@format_option()
def command(
    registry: str | None,
    tag: str | None,
    katalogs: bool,
    motifs: bool,
    insecure: bool,
    timeout: float | None,
    output: str,
) -> int:
    """List published patterns (name, latest version, gate results, tags).

    Without REGISTRY: $ORK_REGISTRY and $ORK_MOTIFS_REGISTRY (unset: the embedded registry).
    """
    client = RegistryClient(insecure=insecure, timeout=timeout)
    sources = _sources(client, registry, katalogs, motifs)
    listed: list[tuple[str, RegistryIndex]] = []
    failures: list[tuple[str, OrkError]] = []
    for label, base in sources:
        try:
            index = client.index(index_of(base))
        except OrkError as exc:
            failures.append((label, exc))
            continue
        listed.append((base, index or RegistryIndex()))
    for label, failure in failures:
        err(
            style("warning:", "yellow", sys.stderr)
            + f" registry listing failed: {label}: "
            + failure.render().replace("\n", "\n  ")
        )
    if failures and not listed:
        return 1
    pairs = [
        (base, e)
        for base, index in listed
        for e in index.entries
        if not tag or tag.lower() in (t.lower() for t in e.tags)
    ]
    checked = verify_entries(client, pairs)
    if output != "text":
        emit(
            output,
            {
                "registries": [base for base, _ in listed],
                "patterns": [c.to_json() for c in checked],
            },
        )
        return 0
    title = (
        "Orkestra Motifs"
        if motifs and not katalogs
        else "Orkestra Katalogs"
        if katalogs and not motifs
        else "Orkestra Registry"
    )
    _table(title, checked, [index for _, index in listed], [base for base, _ in listed])
    return 0


@dataclass(frozen=True)
class Checked:
    """An index entry and what its artifact says: ``entry`` carries the artifact's own
    description, tags and gate statuses when it could be read; ``proof`` is None when it
    was not checked (``note`` says why)."""

    claimed: IndexEntry
    entry: IndexEntry
    proof: Verification | None
    note: str = ""

    def to_json(self) -> JsonDict:
        signature = (
            self.proof.to_json()
            if self.proof is not None
            else {
                "status": "unchecked",
                "trusted": False,
                "keyId": None,
                "publicKey": None,
                "reasons": [self.note],
            }
        )
        return {
            **self.claimed.to_json(),
            "signature": signature,
            "verified": self.proof is not None and self.proof.proven,
            "artifact": {
                "simulateStatus": self.entry.simulateStatus,
                "e2eStatus": self.entry.e2eStatus,
            }
            if self.proof
            else None,
        }


def verify_entries(client: RegistryClient, pairs: list[tuple[str, IndexEntry]]) -> list[Checked]:
    """Check each listed pattern against its artifact (bounded, in parallel)."""
    trusted = trusted_ids(client)
    head = pairs[:MAX_CHECKED]
    with ThreadPoolExecutor(max_workers=max(1, min(_WORKERS, len(head)))) as pool:
        done = list(pool.map(lambda pair: _verify(client, pair[0], pair[1], trusted), head))
    skipped = (
        f"not checked (more than {MAX_CHECKED} patterns listed; ork inspect "
        "NAME:VERSION checks one)"
    )
    return done + [Checked(e, e, None, skipped) for _, e in pairs[MAX_CHECKED:]]


def _verify(client: RegistryClient, base: str, entry: IndexEntry, trusted: set[str]) -> Checked:
    try:
        ref = resolve(f"{base}/{entry.name}:{entry.latestVersion}")
        manifest, descriptor, _ = client.manifest(ref)
        info = PatternInfo.read(ref, manifest, descriptor)
        proof = check(client, ref, manifest, trusted)
    except ArtifactNotFoundError:
        return Checked(
            entry,
            entry,
            Verification(
                state=TAMPERED,
                reasons=(
                    f"the index lists {entry.name}:{entry.latestVersion}, which the registry does "
                    "not have",
                ),
            ),
        )
    except OrkError as exc:
        return Checked(entry, entry, None, f"not checked ({exc.message})")
    meta = info.metadata
    actual = replace(
        entry,
        kind=info.kind,
        description=meta.description,
        tags=meta.tags,
        simulateStatus=info.simulate.status if info.simulate else "",
        e2eStatus=info.e2e.status if info.e2e else "",
    )
    disagree = _disagreements(entry, info)
    if disagree:
        proof = Verification(
            state=TAMPERED,
            trusted=proof.trusted,
            key_id=proof.key_id,
            public_key=proof.public_key,
            reasons=tuple(disagree) + proof.reasons,
        )
    return Checked(entry, actual, proof)


def _disagreements(entry: IndexEntry, info: PatternInfo) -> list[str]:
    """What the index entry claims that the artifact does not say."""
    actual = (
        ("name", info.metadata.name),
        ("version", info.metadata.version),
        ("kind", info.kind),
        ("simulate", info.simulate.status if info.simulate else "none"),
        ("e2e", info.e2e.status if info.e2e else "none"),
    )
    claimed = (
        entry.name,
        entry.latestVersion,
        entry.kind,
        entry.simulateStatus or "none",
        entry.e2eStatus or "none",
    )
    return [
        f"the index says {what} {said}, the artifact says {value}"
        for (what, value), said in zip(actual, claimed, strict=True)
        if said != value
    ]


def _sources(
    client: RegistryClient, registry: str | None, katalogs: bool, motifs: bool
) -> list[tuple[str, str]]:
    if registry:
        return [(registry, registry.strip().removeprefix("oci://").rstrip("/"))]
    both = not katalogs and not motifs
    chosen = []
    if katalogs or both:
        chosen.append(("patterns", client.bases.katalogs))
    if motifs or both:
        chosen.append(("motifs", client.bases.motifs))
    return chosen


def index_of(base: str) -> Reference:
    """``<base>/index:latest`` for a registry base (``host/path``)."""
    return resolve(f"{base}/index:latest")


def _table(
    title: str, checked: list[Checked], indexes: list[RegistryIndex], bases: list[str]
) -> None:
    entries = [c.entry for c in checked]
    out()
    out(title)
    out(_RULE)
    if not entries:
        out(f"No patterns published in {', '.join(bases)} yet.")
        out()
        out("To publish one:")
        out("  ork push DIR")
        return
    rows = [["", "NAME", "LATEST", "KIND", "SIM", "E2E", "SIGNED", "TAGS", "DESCRIPTION"]]
    for item in checked:
        entry = item.entry
        flag = "⚠" if entry.deprecated or entry.deprecatedVersions else ""
        rows.append(
            [
                flag,
                entry.name,
                entry.latestVersion,
                entry.kind,
                _gate_mark(entry.simulateStatus, item.proof),
                _gate_mark(entry.e2eStatus, item.proof),
                _signed_mark(item.proof),
                _cut(", ".join(entry.tags), 22),
                _cut(entry.description, 30),
            ]
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    widths[0] = 1
    for row in rows:
        cells = [cell.ljust(widths[i]) for i, cell in enumerate(row)]
        line = cells[0] + "  " + "  ".join(cells[1:])
        out(style(line, "yellow") if row[0] == "⚠" else line.rstrip())
    for entry in entries:
        older = [v for v in entry.deprecatedVersions if v != entry.latestVersion]
        if older:
            out(
                style(
                    f"⚠  {entry.name}: {', '.join(older)} deprecated — ork inspect "
                    f"{entry.name}:{older[-1]}",
                    "yellow",
                )
            )
    for item in checked:
        note = _trust_note(item)
        if note:
            out(note)
    updated = [m for m in (parse_timestamp(i.updatedAt) for i in indexes if i.updatedAt) if m]
    out()
    count = f"{len(entries)} pattern{'s' if len(entries) != 1 else ''}"
    out(count + (f"  ·  Updated {ago(max(updated))}" if updated else ""))
    out()
    out("To pull:")
    out(
        "  ork pull <name>:<version>"
        + ("   (motifs: --motif)" if any(e.kind == "Motif" for e in entries) else "")
    )
    out()
    out("To filter:")
    out("  ork patterns --katalogs")
    out("  ork patterns --motifs")
    out("  ork patterns --tag <tag>")


def _gate_mark(status: str, proof: Verification | None) -> str:
    """``✓`` only for a pass a trusted signer vouches for."""
    if proof is not None and proof.state == TAMPERED:
        return "✗"
    if status == "passed" and (proof is None or not proof.proven):
        return "?"
    return _MARKS.get(status, "-")


def _signed_mark(proof: Verification | None) -> str:
    if proof is None:
        return "?"
    if proof.state == TAMPERED:
        return "✗"
    if proof.state == UNSIGNED:
        return "-"
    return "✓" if proof.trusted else "?"


def _trust_note(item: Checked) -> str:
    """A line under the table for every pattern that is not signed by a trusted key."""
    name = printable(f"{item.entry.name}:{item.entry.latestVersion}")
    proof = item.proof
    if proof is None:
        return style(f"?  {name}: {printable(item.note)}", "yellow")
    if proof.state == TAMPERED:
        return style(f"✗  {name}: tampered — {printable(proof.reason)}", "red")
    if proof.state == UNSIGNED:
        return style(f"⚠  {name}: unsigned — its gate results cannot be verified", "yellow")
    if not proof.trusted:
        return style(f"?  {name}: signed by {proof.key_id} (not in your trusted keys)", "yellow")
    return ""


def _cut(text: str, limit: int) -> str:
    """Cut to ``limit - 3`` characters plus ``...`` when longer than ``limit``."""
    return text if len(text) <= limit else text[: limit - 3] + "..."

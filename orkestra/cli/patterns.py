"""``ork patterns``: the patterns published to a registry, from its index artifact."""

from __future__ import annotations

import sys

import click

from orkestra.cli.output import emit_json, err, out, style
from orkestra.cli.quality import ago
from orkestra.cli.refs import insecure_option
from orkestra.errors import OrkError
from orkestra.registry.client import RegistryClient
from orkestra.registry.index import IndexEntry, RegistryIndex
from orkestra.registry.refs import Reference, resolve
from orkestra.units import parse_timestamp

_MARKS = {"passed": "✓", "skipped": "~", "no-assertion": "⚠"}
_RULE = "─" * 57


@click.command("patterns")
@click.argument("registry", required=False, metavar="[REGISTRY]")
@click.option("-t", "--tag", "tag", help="Only patterns with this tag (case-insensitive).")
@click.option("-k", "--katalogs", is_flag=True, help="Only the katalog registry.")
@click.option("-m", "--motifs", is_flag=True, help="Only the motif registry.")
@insecure_option
@click.option("-o", "--output", type=click.Choice(["text", "json"]), default="text")
def command(registry: str | None, tag: str | None, katalogs: bool, motifs: bool,
            insecure: bool, output: str) -> int:
    """List published patterns (name, latest version, gate results, tags).

    Without REGISTRY: $ORK_REGISTRY and $ORK_MOTIFS_REGISTRY (unset: the embedded registry).
    """
    client = RegistryClient(insecure=insecure)
    sources = _sources(client, registry, katalogs, motifs)
    listed: list[tuple[str, RegistryIndex]] = []
    failures: list[tuple[str, OrkError]] = []
    for label, base in sources:
        try:
            index = client.read_index(index_of(base))
        except OrkError as exc:
            failures.append((label, exc))
            continue
        listed.append((base, index or RegistryIndex()))
    for label, failure in failures:
        err(style("warning:", "yellow", sys.stderr) + f" registry listing failed: {label}: "
            + failure.render().replace("\n", "\n  "))
    if failures and not listed:
        return 1
    entries = [e for _, index in listed for e in index.entries
               if not tag or tag.lower() in (t.lower() for t in e.tags)]
    if output == "json":
        emit_json({"registries": [base for base, _ in listed],
                   "patterns": [e.to_json() for e in entries]})
        return 0
    title = "Orkestra Motifs" if motifs and not katalogs else \
        "Orkestra Katalogs" if katalogs and not motifs else "Orkestra Registry"
    _table(title, entries, [index for _, index in listed], [base for base, _ in listed])
    return 0


def _sources(client: RegistryClient, registry: str | None, katalogs: bool,
             motifs: bool) -> list[tuple[str, str]]:
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


def _table(title: str, entries: list[IndexEntry], indexes: list[RegistryIndex],
           bases: list[str]) -> None:
    out()
    out(title)
    out(_RULE)
    if not entries:
        out(f"No patterns published in {', '.join(bases)} yet.")
        out()
        out("To publish one:")
        out("  ork push DIR")
        return
    rows = [["", "NAME", "LATEST", "KIND", "SIM", "E2E", "TAGS", "DESCRIPTION"]]
    for entry in entries:
        flag = "⚠" if entry.deprecated or entry.deprecatedVersions else ""
        rows.append([flag, entry.name, entry.latestVersion, entry.kind,
                     _MARKS.get(entry.simulateStatus, "-"), _MARKS.get(entry.e2eStatus, "-"),
                     _cut(", ".join(entry.tags), 22), _cut(entry.description, 30)])
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    widths[0] = 1
    for row in rows:
        cells = [cell.ljust(widths[i]) for i, cell in enumerate(row)]
        line = cells[0] + "  " + "  ".join(cells[1:])
        out(style(line, "yellow") if row[0] == "⚠" else line.rstrip())
    for entry in entries:
        older = [v for v in entry.deprecatedVersions if v != entry.latestVersion]
        if older:
            out(style(f"⚠  {entry.name}: {', '.join(older)} deprecated — ork inspect "
                      f"{entry.name}:{older[-1]}", "yellow"))
    updated = [m for m in (parse_timestamp(i.updatedAt) for i in indexes if i.updatedAt) if m]
    out()
    count = f"{len(entries)} pattern{'s' if len(entries) != 1 else ''}"
    out(count + (f"  ·  Updated {ago(max(updated))}" if updated else ""))
    out()
    out("To pull:")
    out("  ork pull <name>:<version>" + ("   (motifs: --motif)" if any(
        e.kind == "Motif" for e in entries) else ""))
    out()
    out("To filter:")
    out("  ork patterns --katalogs")
    out("  ork patterns --motifs")
    out("  ork patterns --tag <tag>")


def _cut(text: str, limit: int) -> str:
    """Cut to ``limit - 3`` characters plus ``...`` when longer than ``limit``."""
    return text if len(text) <= limit else text[:limit - 3] + "..."

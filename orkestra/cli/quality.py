"""How the quality signal reads in a terminal: gate statuses and how long ago.

Shared by ``ork push`` (the summary after a push), ``ork inspect`` and ``ork patterns``, so
a status reads the same wherever it appears. A record read from a registry is only a claim
until its signed report is checked (:mod:`orkestra.registry.trust.verify`): ``✓ Verified``
needs a valid signature by a trusted key; a valid signature by a key the reader does not
trust reads ``⚠ Passed (signer not trusted)``, an unsigned artifact ``⚠ Unverifiable
(unsigned)`` and one that disagrees with its signed report ``✗ Tampered (…)``.
"""

from __future__ import annotations

import datetime
from typing import Any

from orkestra.cli.output import style
from orkestra.registry.artifact import CLUSTER_LABELS, GateRecord
from orkestra.registry.trust.verify import TAMPERED, UNSIGNED, Verification
from orkestra.units import parse_timestamp

_SKIP_FLAGS = {"Simulate": "--no-simulate", "E2E": "--no-e2e"}
_MISSING = {"Simulate": "no simulate.yaml in artifact", "E2E": "no e2e.yaml in artifact"}


def gate_status(
    gate: str,
    record: GateRecord | None,
    *,
    detailed: bool = True,
    now: datetime.datetime | None = None,
    proof: Verification | None = None,
) -> str:
    """``✓ Verified · 2 assertions · 14ms · tested 2d ago``, ``⊘ Skipped (…)`` …

    ``proof``: how the artifact's signed report checked out; None for a record this
    process just produced and signed (the push summary)."""
    if proof is not None and proof.state == UNSIGNED:
        return style("⚠", "yellow") + " Unverifiable (unsigned)"
    if proof is not None and proof.state == TAMPERED:
        return style("✗", "red") + f" Tampered ({printable(proof.about(gate.lower()))})"
    if record is None:
        return style("-", "dim") + " Not verified" + (f" ({_MISSING[gate]})" if detailed else "")
    if record.status == "skipped":
        return (
            style("⊘", "yellow")
            + " Skipped"
            + (f" (pushed with --force or {_SKIP_FLAGS[gate]})" if detailed else "")
        )
    if record.status == "no-assertion":
        return (
            style("⚠", "yellow")
            + " No assertions"
            + (" (simulate.yaml present, no expect: block)" if detailed else "")
        )
    if record.status != "passed":
        return style("✗", "red") + f" {record.status}"
    parts = [
        style("✓", "green") + " Verified"
        if proof is None or proof.proven
        else style("⚠", "yellow") + " Passed (signer not trusted)"
    ]
    if record.assertions and gate == "Simulate":
        parts.append(f"{record.assertions} assertion{'s' if record.assertions != 1 else ''}")
    if detailed and record.duration:
        parts.append(record.duration)
    if record.cluster:  # where e2e ran, always: the embedded server is a weaker proof
        parts.append(CLUSTER_LABELS.get(record.cluster, record.cluster))
    if detailed:
        tested = parse_timestamp(record.tested_at) if record.tested_at else None
        if tested is not None:
            parts.append(f"tested {ago(tested, now)}")
        if record.runner and record.runner != "local":
            parts.append(f"on {record.runner}")
    return " · ".join(parts)


def printable(value: Any) -> str:
    """A value read from a registry as one safe line: control characters (a terminal escape
    in a forged annotation or report) are shown escaped, never sent to the terminal."""
    text = "" if value is None else str(value)
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


def ago(moment: datetime.datetime, now: datetime.datetime | None = None) -> str:
    """``12s ago``, ``5m ago``, ``3h ago``, ``2d ago``."""
    seconds = max(0, int(((now or datetime.datetime.now(datetime.UTC)) - moment).total_seconds()))
    for size, unit in ((86400, "d"), (3600, "h"), (60, "m")):
        if seconds >= size:
            return f"{seconds // size}{unit} ago"
    return f"{seconds}s ago"

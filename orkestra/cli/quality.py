"""How the quality signal reads in a terminal: gate statuses and deprecation blocks.

Shared by ``ork push`` (the summary after a push), ``ork inspect``, ``ork patterns`` and
``ork validate``, so a status reads the same wherever it appears.
"""

from __future__ import annotations

import datetime

from orkestra.cli.output import style
from orkestra.model.deprecation import Deprecation
from orkestra.registry.artifact import GateRecord, parse_rfc3339

_SKIP_FLAGS = {"Simulate": "--no-simulate", "E2E": "--no-e2e"}
_MISSING = {"Simulate": "no simulate.yaml in artifact", "E2E": "no e2e.yaml in artifact"}


def gate_status(gate: str, record: GateRecord | None, *, detailed: bool = True,
                now: datetime.datetime | None = None) -> str:
    """``✓ Verified · 2 assertions · 14ms · tested 2d ago``, ``⊘ Skipped (…)`` …"""
    if record is None:
        return style("-", "dim") + " Not verified" + (f" ({_MISSING[gate]})" if detailed
                                                      else "")
    if record.status == "skipped":
        return style("⊘", "yellow") + " Skipped" + (
            f" (pushed with --force or {_SKIP_FLAGS[gate]})" if detailed else "")
    if record.status == "no-assertion":
        return style("⚠", "yellow") + " No assertions" + (
            " (simulate.yaml present, no expect: block)" if detailed else "")
    if record.status != "passed":
        return style("✗", "red") + f" {record.status}"
    parts = [style("✓", "green") + " Verified"]
    if record.assertions:
        parts.append(f"{record.assertions} assertion{'s' if record.assertions != 1 else ''}")
    if detailed:
        if record.duration:
            parts.append(record.duration)
        tested = parse_rfc3339(record.tested_at) if record.tested_at else None
        if tested is not None:
            parts.append(f"tested {ago(tested, now)}")
        if record.runner and record.runner != "local":
            parts.append(f"on {record.runner}")
    return " · ".join(parts)


def ago(moment: datetime.datetime, now: datetime.datetime | None = None) -> str:
    """``12s ago``, ``5m ago``, ``3h ago``, ``2d ago``."""
    seconds = max(0, int(((now or datetime.datetime.now(datetime.UTC)) - moment)
                         .total_seconds()))
    for size, unit in ((86400, "d"), (3600, "h"), (60, "m")):
        if seconds >= size:
            return f"{seconds // size}{unit} ago"
    return f"{seconds}s ago"


def deprecation_block(notice: Deprecation, today: datetime.date) -> list[str]:
    """The warning ``ork validate`` and ``ork push`` print for a deprecated pattern."""
    eol = notice.state(today) == "eol"
    lines = [""]
    if eol:
        lines.append(style("✗  END OF LIFE", "red"))
        lines.append(f"  This pattern reached end of life on {notice.end_of_life}.")
    else:
        lines.append(style("⚠  DEPRECATION WARNING", "yellow"))
        if notice.end_of_life is not None:
            days = (notice.end_of_life - today).days
            lines.append(f"  End of life in {days} day{'s' if days != 1 else ''} "
                         f"({notice.end_of_life}).")
    if notice.message:
        lines.append(f"  {notice.message}")
    if notice.migrated_to:
        lines.append(f"  Migrate to:  {notice.migrated_to}")
    return lines


def inspect_deprecation(notice: Deprecation, today: datetime.date) -> list[str]:
    """The block ``ork inspect`` prints above the pattern's name."""
    eol = notice.state(today) == "eol"
    head = (style("✗", "red") + "  This pattern reached end of life." if eol
            else style("⚠", "yellow") + "  This pattern is deprecated.")
    lines = [head]
    if notice.migrated_to:
        lines.append(f"  Migrate to:  {notice.migrated_to}")
    if notice.message:
        lines.append(f"  Note:        {notice.message}")
    if notice.end_of_life is not None:
        lines.append(f"  End of life: {notice.end_of_life}")
    return lines + [""]

"""Deprecation notices on patterns and their state on a given day.

A notice comes from ``metadata.deprecation`` (what the original docs and examples use) or
``lifecycle.deprecation`` (its newer code). States: ``none`` (no notice), ``warning``
(deprecated, end of life not reached; this includes the time before ``timeline.from``, so
consumers hear about a scheduled end of life early) and ``eol`` (on or after
``timeline.to``). Old versions are never deleted; consumers migrate on their own timeline.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Deprecation:
    message: str
    migrated_to: str = ""
    starts: datetime.date | None = None
    end_of_life: datetime.date | None = None
    accept_before_eol: bool = False
    accept_eol: bool = False

    def state(self, today: datetime.date) -> str:
        if self.end_of_life is not None and today >= self.end_of_life:
            return "eol"
        return "warning"

    def describe(self, today: datetime.date) -> list[str]:
        """Lines that explain the notice (for validate and inspect)."""
        lines = []
        if self.migrated_to:
            lines.append(f"migrate to: {self.migrated_to}")
        if self.starts or self.end_of_life:
            span = f"{self.starts or '…'} → {self.end_of_life or '…'}"
            if self.end_of_life is not None:
                days = (self.end_of_life - today).days
                span += (f" (end of life in {days} day{'s' if days != 1 else ''})" if days > 0
                         else f" (end of life reached {-days} days ago)" if days < 0
                         else " (end of life today)")
            lines.append(f"timeline: {span}")
        return lines


def _date(text: Any) -> datetime.date | None:
    try:
        return datetime.date.fromisoformat(str(text)) if text else None
    except ValueError:
        return None


def deprecation_of(data: dict[str, Any]) -> Deprecation | None:
    """The notice in a pattern document, or None."""
    block = (data.get("metadata") or {}).get("deprecation") or \
        (data.get("lifecycle") or {}).get("deprecation")
    if not isinstance(block, dict):
        return None
    timeline = block.get("timeline") or {}
    accept = block.get("accept") or {}
    return Deprecation(str(block.get("message", "")), str(block.get("migratedTo", "")),
                       _date(timeline.get("from")), _date(timeline.get("to")),
                       bool(accept.get("beforeEol")), bool(accept.get("eol")))

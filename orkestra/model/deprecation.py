"""Deprecation notices on patterns and their state on a given day.

A notice comes from ``metadata.deprecation`` (what the original docs and examples use) or
``lifecycle.deprecation`` (its newer code); ``lifecycle.maturity: deprecated`` alone is a
notice without a message. States: ``none`` (no notice), ``warning``
(deprecated, end of life not reached; this includes the time before ``timeline.from``, so
consumers hear about a scheduled end of life early) and ``eol`` (on or after
``timeline.to``). Old versions are never deleted; consumers migrate on their own timeline.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the shapes are types only; registry commands need no pattern shapes
    from orkestra.model.shapes import Lifecycle, PatternData


@dataclass(frozen=True, kw_only=True)
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


def _date(text: str | None) -> datetime.date | None:
    try:
        return datetime.date.fromisoformat(str(text)) if text else None
    except ValueError:
        return None


def lifecycle_of(data: PatternData) -> Lifecycle:
    """A pattern document's ``lifecycle`` ({} when it has none, as simulations and e2e
    files never do)."""
    if data["kind"] == "Simulate" or data["kind"] == "E2E":
        return {}
    return data.get("lifecycle") or {}


def deprecation_of(data: PatternData) -> Deprecation | None:
    """The notice in a pattern document, or None."""
    lifecycle = lifecycle_of(data)
    block = (data.get("metadata") or {}).get("deprecation") or lifecycle.get("deprecation")
    if not isinstance(block, dict):
        return Deprecation(message="") if lifecycle.get("maturity") == "deprecated" else None
    timeline = block.get("timeline") or {}
    accept = block.get("accept") or {}
    return Deprecation(
        message=str(block.get("message", "")),
        migrated_to=str(block.get("migratedTo", "")),
        starts=_date(timeline.get("from")),
        end_of_life=_date(timeline.get("to")),
        accept_before_eol=bool(accept.get("beforeEol")),
        accept_eol=bool(accept.get("eol")),
    )

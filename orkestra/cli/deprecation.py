"""How a deprecation notice reads in a terminal: the warning ``ork validate`` and
``ork push`` print, and the block ``ork inspect`` puts above a pattern's name."""

from __future__ import annotations

import datetime

from orkestra.cli.output import style
from orkestra.model.deprecation import Deprecation


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
            lines.append(
                f"  End of life in {days} day{'s' if days != 1 else ''} ({notice.end_of_life})."
            )
    if notice.message:
        lines.append(f"  {notice.message}")
    if notice.migrated_to:
        lines.append(f"  Migrate to:  {notice.migrated_to}")
    return lines


def inspect_deprecation(notice: Deprecation, today: datetime.date) -> list[str]:
    """The block ``ork inspect`` prints above the pattern's name."""
    eol = notice.state(today) == "eol"
    head = (
        style("✗", "red") + "  This pattern reached end of life."
        if eol
        else style("⚠", "yellow") + "  This pattern is deprecated."
    )
    lines = [head]
    if notice.migrated_to:
        lines.append(f"  Migrate to:  {notice.migrated_to}")
    if notice.message:
        lines.append(f"  Note:        {notice.message}")
    if notice.end_of_life is not None:
        lines.append(f"  End of life: {notice.end_of_life}")
    return lines + [""]

"""How gate statuses and deprecation notices read."""

from __future__ import annotations

import datetime

import pytest

from orkestra.cli.deprecation import deprecation_block, inspect_deprecation
from orkestra.cli.quality import ago, gate_status
from orkestra.model.deprecation import Deprecation
from orkestra.registry.artifact import GateRecord

NOW = datetime.datetime(2026, 6, 16, 10, 0, tzinfo=datetime.UTC)


@pytest.fixture(autouse=True)
def no_color(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NO_COLOR", "1")


@pytest.mark.parametrize(
    ("gate", "record", "text"),
    [
        (
            "Simulate",
            GateRecord(
                status="passed", duration="14ms", tested_at="2026-06-14T10:00:00Z", assertions=2
            ),
            "✓ Verified · 2 assertions · 14ms · tested 2d ago",
        ),
        (
            "E2E",
            GateRecord(
                status="passed",
                duration="48s",
                tested_at="2026-06-16T07:00:00Z",
                runner="github-actions",
            ),
            "✓ Verified · 48s · tested 3h ago · on github-actions",
        ),
        (
            "Simulate",
            GateRecord(status="skipped"),
            "⊘ Skipped (pushed with --force or --no-simulate)",
        ),
        ("E2E", GateRecord(status="skipped"), "⊘ Skipped (pushed with --force or --no-e2e)"),
        (
            "Simulate",
            GateRecord(status="no-assertion"),
            "⚠ No assertions (simulate.yaml present, no expect: block)",
        ),
        ("Simulate", None, "- Not verified (no simulate.yaml in artifact)"),
        ("E2E", None, "- Not verified (no e2e.yaml in artifact)"),
        ("E2E", GateRecord(status="forced"), "✗ forced"),
    ],
)
def test_gate_status(gate: str, record: GateRecord | None, text: str) -> None:
    assert gate_status(gate, record, now=NOW) == text


def test_short_forms() -> None:
    assert (
        gate_status(
            "Simulate",
            GateRecord(status="passed", duration="1ms", tested_at="", assertions=1),
            detailed=False,
        )
        == "✓ Verified · 1 assertion"
    )
    assert gate_status("E2E", GateRecord(status="skipped"), detailed=False) == "⊘ Skipped"
    assert gate_status("E2E", None, detailed=False) == "- Not verified"


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(5, "5s ago"), (125, "2m ago"), (7300, "2h ago"), (200000, "2d ago"), (-30, "0s ago")],
)
def test_ago(seconds: int, text: str) -> None:
    assert ago(NOW - datetime.timedelta(seconds=seconds), NOW) == text


def test_deprecation_blocks() -> None:
    today = datetime.date(2026, 5, 16)
    notice = Deprecation(
        message="v1 is end-of-life",
        migrated_to="webapp-operator:v2.0.0",
        starts=datetime.date(2026, 1, 1),
        end_of_life=datetime.date(2026, 6, 30),
    )
    assert deprecation_block(notice, today) == [
        "",
        "⚠  DEPRECATION WARNING",
        "  End of life in 45 days (2026-06-30).",
        "  v1 is end-of-life",
        "  Migrate to:  webapp-operator:v2.0.0",
    ]
    assert deprecation_block(notice, datetime.date(2026, 7, 1))[1:3] == [
        "✗  END OF LIFE",
        "  This pattern reached end of life on 2026-06-30.",
    ]
    assert inspect_deprecation(notice, today) == [
        "⚠  This pattern is deprecated.",
        "  Migrate to:  webapp-operator:v2.0.0",
        "  Note:        v1 is end-of-life",
        "  End of life: 2026-06-30",
        "",
    ]
    assert deprecation_block(Deprecation(message=""), today) == ["", "⚠  DEPRECATION WARNING"]

"""Every hostile input of ``benchmarks/hostile.py`` through the real CLI (``ork validate``,
``ork simulate``, ``ork template`` in their own process): the command must end within 30 s,
with its clear error and exit code, and without a traceback."""

from __future__ import annotations

from pathlib import Path

import pytest

from benchmarks.hostile import CASES, Case, reference, run_case

DEADLINE = 30.0


@pytest.mark.integration
@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_hostile_input_ends_with_a_clear_error(case: Case, tmp_path: Path) -> None:
    outcome = run_case(case, tmp_path, timeout=DEADLINE)
    assert not outcome.timed_out, f"still running after {DEADLINE:.0f} s"
    assert "Traceback" not in outcome.output, outcome.output
    assert case.expect in outcome.output, outcome.output
    assert outcome.code == case.code, outcome.output


@pytest.mark.integration
def test_the_reference_passes(tmp_path: Path) -> None:
    outcome = reference(tmp_path)
    assert outcome.code == 0, outcome.output

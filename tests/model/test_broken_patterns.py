"""Table-driven: each broken pattern yields exactly these errors, lines and hints."""

from __future__ import annotations

from pathlib import Path

import pytest

from orkestra.gates.validate import validate_file
from tests.model.broken_cases import CASES, Case


def test_enough_cases() -> None:
    assert len(CASES) >= 40
    assert len({c.id for c in CASES}) == len(CASES)


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_broken_pattern(case: Case, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    for name, text in case.files.items():
        Path(name).write_text(text)
    entry = next(iter(case.files))
    reports = validate_file(Path(entry), entry)
    rendered = "".join(p.render() + "\n" for r in reports for p in r.errors)
    assert rendered == case.errors
    assert not any(r.ok for r in reports)

"""Honest summaries: ``ork simulate DIR/...`` ends with a totals line and fails when anything
failed or nothing was found; a reconcile error fails the run; ``-o json`` always prints a
result that matches its published schema, failures included; colour only on a terminal."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from tests.conftest import run


@pytest.fixture
def pack(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> Path:
    assert run(capsys, "init", "--pack", "registry-guide", "-d", str(tmp_path / "rg"))[0] == 0
    monkeypatch.chdir(tmp_path / "rg")
    return tmp_path / "rg"


def _schema(capsys: pytest.CaptureFixture[str], name: str) -> dict[str, Any]:
    code, out, _ = run(capsys, "schema", "--result", name)
    assert code == 0
    schema: dict[str, Any] = json.loads(out)
    jsonschema.Draft202012Validator.check_schema(schema)
    return schema


def test_a_tree_ends_with_totals_and_passes_only_when_all_passed(
    pack: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(capsys, "simulate", "official/...")
    assert code == 0
    assert re.search(r"\n  7 files: 7 passed · 7 CRs · (\d+)/\1 assertions passed · PASS\n$", out)
    code, out, err = run(capsys, "simulate", "./...", "--skip", "official")
    assert code == 1
    totals = out.splitlines()[-1]
    assert re.fullmatch(
        r"  \d+ files: \d+ passed, 1 failed, \d+ could not run · \d+ CRs · "
        r"\d+/\d+ assertions passed · FAIL",
        totals,
    )
    assert "  03-katalog-cache/simulate.yaml" in out and "✗ failed" in out
    assert "ork simulate -f 03-katalog-cache/simulate.yaml" in err


def test_nothing_found_is_a_failure(pack: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "simulate", "nowhere/...")
    assert (code, out) == (2, "")
    assert "nowhere: no such directory" in err
    Path("empty").mkdir()
    code, _, err = run(capsys, "simulate", "empty/...")
    assert code == 1
    assert "no simulate.yaml below empty" in err
    code, _, err = run(capsys, "simulate", "./...", "--skip", "/")
    assert code == 1
    assert "no simulate.yaml below . (after --skip /)" in err


def test_a_reconcile_error_fails_unless_the_file_expects_errors(
    pack: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    denied = pack / "04-katalog-platform" / "simulate-denied.yaml"
    assert run(capsys, "simulate", "-f", str(denied))[0] == 0  # noErrors: false
    denied.write_text(denied.read_text().replace("    noErrors: false\n", ""))
    code, out, _ = run(capsys, "simulate", "-f", str(denied))
    assert code == 1
    assert "    ✗ validation denied" in out
    assert out.endswith("  2/2 assertions passed, 3 cycles failed to reconcile\n  FAIL\n")


def test_json_results_match_their_published_schemas(
    pack: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    single, tree, error = (_schema(capsys, name) for name in ("simulate", "simulate-tree", "error"))
    for args, code in (
        (["-f", "02-katalog-api/simulate.yaml"], 0),
        (["-f", "03-katalog-cache/simulate.yaml"], 1),
    ):
        result = run(capsys, "simulate", *args, "-o", "json")
        assert result[0] == code
        jsonschema.validate(json.loads(result[1]), single)
    code, out, _ = run(capsys, "simulate", "./...", "--format", "json")
    assert code == 1
    document = json.loads(out)
    jsonschema.validate(document, tree)
    assert document["totals"]["failed"] == 1 and not document["totals"]["ok"]
    for args in (
        ["simulate", "nowhere/...", "-o", "json"],
        ["inspect", "nothing", "-o", "json"],
        ["inspect", "-o", "json"],
        ["template", "-f", "nothing.yaml", "-o", "json"],
    ):
        code, out, err = run(capsys, *args)
        assert code in (1, 2) and err
        document = json.loads(out)
        jsonschema.validate(document, error)
        assert document["error"]["exitCode"] == code


def test_an_error_in_yaml_when_yaml_was_asked(
    pack: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(capsys, "inspect", "nothing", "-o", "yaml")
    assert code == 1
    assert out.startswith("error:\n  message: no versions of nothing in local/katalogs\n")


def test_text_output_stays_text_on_failure(pack: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, "inspect", "nothing")[1] == ""
    assert run(capsys, "template", "-f", "nothing.yaml")[1] == ""  # default yaml: not asked


@pytest.mark.parametrize(
    ("env", "coloured"),
    [
        ({}, False),  # not a terminal
        ({"FORCE_COLOR": "1"}, True),
        ({"FORCE_COLOR": "1", "NO_COLOR": "1"}, False),
    ],
)
def test_colour_only_when_wanted(
    pack: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    env: dict[str, str],
    coloured: bool,
) -> None:
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.delenv("FORCE_COLOR", raising=False)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    _, out, _ = run(capsys, "simulate", "official/...")
    assert ("\x1b[" in out) == coloured
    assert "✓ passed" in re.sub(r"\x1b\[\d+m", "", out)

"""Differential conformance: our engine against real Go text/template.

The expected answers were produced by Go (tools/regen_template_golden.py runs the
gotmpl oracle); a case passes when both produced the same output or both failed.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from orkestra.template import BUILTIN_TABLE, LIBRARY, Template, TemplateError
from orkestra.template import nodes as n
from orkestra.template.parser import parse
from tests.template import differential_cases as dc

GOLDEN = json.loads((Path(__file__).parent / "golden" / "differential.json").read_text())


def test_golden_matches_case_list() -> None:
    cases = dc.cases()
    assert len(cases) >= 300
    assert [(c["template"], c["missingkey"]) for c in cases] == [
        (g["template"], g["missingkey"]) for g in GOLDEN
    ], "golden file is stale: run tools/regen_template_golden.py"


def _identifiers(node: Any) -> set[str]:
    found: set[str] = set()
    if isinstance(node, n.IdentifierNode):
        found.add(node.name)
    for attr in ("nodes", "args", "cmds", "body", "else_body", "pipe", "node"):
        child = getattr(node, attr, None)
        if isinstance(child, list):
            for item in child:
                found |= _identifiers(item)
        elif child is not None:
            found |= _identifiers(child)
    return found


@pytest.mark.parametrize(
    "entry", [g for g in GOLDEN if g["lib"] == "sprig"], ids=lambda g: g["template"][:40]
)
def test_sprig_cases_only_use_shared_functions(entry: dict[str, Any]) -> None:
    trees = parse(entry["template"], LIBRARY)
    used = set().union(*(_identifiers(tree) for tree in trees.values()))
    assert used - set(BUILTIN_TABLE) <= dc.SHARED_WITH_SPRIG


@pytest.mark.parametrize("entry", GOLDEN, ids=lambda g: f"{g['lib']}:{g['template'][:50]}")
def test_same_as_go(entry: dict[str, Any]) -> None:
    table = BUILTIN_TABLE if entry["lib"] == "go" else LIBRARY
    try:
        output = Template(entry["template"], table, missingkey=entry["missingkey"]).execute(dc.DATA)
    except TemplateError as exc:
        assert "error" in entry, f"Go rendered {entry.get('output')!r}, we failed: {exc}"
        return
    assert "error" not in entry, f"Go failed ({entry['error']}), we rendered {output!r}"
    assert output == entry["output"]

#!/usr/bin/env python3
"""Regenerate the Go golden answers for the template differential suite.

Runs every case in tests/template/differential_cases.py through the gotmpl oracle (real
Go text/template + Sprig) and writes tests/template/golden/differential.json. The oracle is
taken from $GOTMPL_ORACLE, or built from its source directory ($GOTMPL_ORACLE_SRC, default
../shared/tools/gotmpl-oracle) with its build.sh, which needs Debian's golang-go and
golang-github-masterminds-sprig-dev packages.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests" / "template"))

import differential_cases  # noqa: E402

GOLDEN = ROOT / "tests" / "template" / "golden" / "differential.json"


def oracle_binary() -> str:
    given = os.environ.get("GOTMPL_ORACLE")
    if given:
        return given
    src = Path(os.environ.get("GOTMPL_ORACLE_SRC", ROOT.parent / "shared/tools/gotmpl-oracle"))
    out = Path(tempfile.gettempdir()) / "gotmpl-oracle"
    if not out.exists():
        subprocess.run(["bash", str(src / "build.sh"), str(out)], check=True)
    return str(out)


def main() -> int:
    cases = differential_cases.cases()
    request = "".join(json.dumps(case) + "\n" for case in cases)
    result = subprocess.run(
        [oracle_binary()], input=request, capture_output=True, text=True, check=True
    )
    answers = [json.loads(line) for line in result.stdout.splitlines()]
    if len(answers) != len(cases):
        print(f"oracle answered {len(answers)} of {len(cases)} cases", file=sys.stderr)
        return 1
    golden = []
    for case, answer in zip(cases, answers, strict=True):
        entry = {
            "template": case["template"],
            "missingkey": case["missingkey"],
            "lib": "go" if case["nosprig"] else "sprig",
        }
        entry.update(answer)
        golden.append(entry)
    GOLDEN.write_text(json.dumps(golden, indent=1, ensure_ascii=False) + "\n")
    errors = sum("error" in g for g in golden)
    print(f"wrote {len(golden)} answers ({errors} errors) to {GOLDEN.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

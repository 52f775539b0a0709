"""Checking a run against ``expect``: op rules, absent rules, steady, steadyAt, noErrors.

The assertion count (what ``io.orkestra.simulate.assertions`` records) is the number of op
and absent rules; ``steady``, ``steadyAt`` and ``noErrors`` are checked and reported on
their own lines. In rules, ``apply`` matches a create or an update, ``patch`` an update or a
patch; an absent rule without ``cycle`` or ``verb`` covers every cycle or verb.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field, replace

from orkestra.model.shapes import CrdExpectations, Expectations, OpRule
from orkestra.simulate.runner import Op, Run

_VERB_MATCHES = {
    "apply": ("create", "update", "patch"),
    "patch": ("update", "patch"),
    "update": ("update", "patch"),
}


@dataclass(frozen=True, kw_only=True)
class Check:
    passed: bool
    line: str  # what the report prints
    counted: bool  # an op or absent rule (part of "N/M assertions")
    rule: OpRule | CrdExpectations | None = field(default=None, compare=False)  # what was checked
    key: str = ""  # else the key of the expect block (steady, steadyAt, noErrors)


def matches(rule: OpRule, op: Op) -> bool:
    """Whether an ops rule (cycle, verb, resource, name) matches one recorded op."""
    if "cycle" in rule and op.cycle != rule["cycle"]:
        return False
    verb = rule.get("verb")
    if verb and op.verb not in _VERB_MATCHES.get(verb, (verb,)):
        return False
    if rule.get("resource") and op.resource != rule["resource"]:
        return False
    return not rule.get("name") or op.name == rule["name"]


def _target(rule: OpRule) -> str:
    return f"{rule['resource']}/{rule['name']}" if rule.get("name") else str(rule["resource"])


def check_op(rule: OpRule, ops: list[Op]) -> Check:
    found = [op for op in ops if matches(rule, op)]
    verb = rule.get("verb", "any op")
    cycle = rule.get("cycle")
    wanted = rule.get("count") or 0
    label = f"{verb} {_target(rule)} (cycle {cycle})"
    if not found:
        if rule.get("name"):
            return Check(
                passed=False,
                line=f"✗ {_target(rule)} not found (expected cycle {cycle} {verb})",
                counted=True,
            )
        return Check(
            passed=False, line=f"✗ no {verb} of {rule['resource']} in cycle {cycle}", counted=True
        )
    if wanted and len(found) != wanted:
        return Check(
            passed=False,
            line=f"✗ {label}: expected {wanted} op{'s' if wanted != 1 else ''}, found {len(found)}",
            counted=True,
        )
    return Check(passed=True, line=f"✓ {label}", counted=True)


def check_absent(rule: OpRule, ops: list[Op]) -> Check:
    found = [op for op in ops if matches(rule, op)]
    verb = rule.get("verb", "any op")
    where = f"cycle {rule['cycle']}" if "cycle" in rule else "any cycle"
    if found:
        op = found[0]
        return Check(
            passed=False,
            line=f"✗ {op.resource}/{op.name}: {op.verb} in cycle {op.cycle} "
            f"(expected no {verb} of {_target(rule)} in {where})",
            counted=True,
        )
    return Check(passed=True, line=f"✓ absent: {verb} {_target(rule)} ({where})", counted=True)


def check(expect: CrdExpectations, run: Run, cycles: int) -> list[Check]:
    """Every check an ``expect`` block asks for, in report order."""
    checks = [replace(c, rule=expect, key=key) for key, c in _block_checks(expect, run, cycles)]
    ops = run.ops
    checks.extend(replace(check_op(rule, ops), rule=rule) for rule in expect.get("ops") or [])
    checks.extend(
        replace(check_absent(rule, ops), rule=rule) for rule in expect.get("absent") or []
    )
    return checks


def _block_checks(expect: CrdExpectations, run: Run, cycles: int) -> Iterator[tuple[str, Check]]:
    """``steady``, ``steadyAt`` and ``noErrors``, each with its key."""
    if expect.get("steady"):
        yield (
            "steady",
            (
                Check(passed=True, line=f"✓ steady at cycle {run.steady_at}", counted=False)
                if run.steady_at is not None
                else Check(passed=False, line=f"✗ not steady within {cycles} cycles", counted=False)
            ),
        )
    if "steadyAt" in expect:
        limit = expect["steadyAt"]
        ok = run.steady_at is not None and run.steady_at <= limit
        reached = f"at cycle {run.steady_at}" if run.steady_at else "never"
        yield (
            "steadyAt",
            Check(
                passed=ok,
                line=f"{'✓' if ok else '✗'} steady by cycle {limit} (reached {reached})",
                counted=False,
            ),
        )
    if expect.get("noErrors"):
        failing = run.errors
        yield (
            "noErrors",
            (
                Check(passed=True, line="✓ no errors", counted=False)
                if not failing
                else Check(
                    passed=False,
                    line=f"✗ errors in cycle {failing[0].number}: {failing[0].error}",
                    counted=False,
                )
            ),
        )


def expectations_for(expect: Expectations, crd: str) -> CrdExpectations:
    """A CRD's own block under ``crds:`` replaces the top-level one."""
    return (expect.get("crds") or {}).get(crd, expect)


def assertion_count(expect: Expectations | None) -> int:
    """Op and absent rules, counted through ``crds:`` (what the artifact records)."""
    if not expect:
        return 0
    blocks: list[CrdExpectations] = [expect, *(expect.get("crds") or {}).values()]
    return sum(len(block.get("ops") or []) + len(block.get("absent") or []) for block in blocks)

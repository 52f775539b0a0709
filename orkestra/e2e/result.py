"""What an e2e run found: per expectation, per suite, per run (read by the reports and the
push gate)."""

from __future__ import annotations

from dataclasses import dataclass, field

from orkestra.registry.artifact import CLUSTER_LABELS, EMBEDDED, EXISTING, KIND

__all__ = [
    "CLUSTER_LABELS",
    "EMBEDDED",
    "EXISTING",
    "KIND",
    "CheckResult",
    "ExpectationResult",
    "RunResult",
    "SuiteResult",
]


@dataclass
class CheckResult:
    """One check of an expectation at its last poll."""

    label: str
    passed: bool
    detail: str = ""


@dataclass(kw_only=True)
class ExpectationResult:
    name: str
    after: str
    timeout: float
    passed: bool = False
    seconds: float = 0.0
    timed_out: bool = False
    checks: list[CheckResult] = field(default_factory=list)
    #: The runtime's own account when it denied or failed the CR (status, Events).
    denial: str = ""

    @property
    def reason(self) -> str:
        """Why it failed: the first failing check's detail."""
        failing = [c for c in self.checks if not c.passed]
        return (failing[0].detail or failing[0].label) if failing else ""


@dataclass(kw_only=True)
class SuiteResult:
    name: str
    file: str
    cluster: str
    expectations: list[ExpectationResult] = field(default_factory=list)
    seconds: float = 0.0
    #: A step outside the expectations failed (setup, applying the CRD or the CR ...).
    error: str = ""
    #: Objects still in the cluster after teardown, as ``kind/namespace/name``.
    leftovers: list[str] = field(default_factory=list)
    skipped: bool = False

    @property
    def passed(self) -> bool:
        return not self.error and not self.leftovers and all(e.passed for e in self.expectations)

    @property
    def total(self) -> int:
        return len(self.expectations)


@dataclass
class RunResult:
    suites: list[SuiteResult] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def passed(self) -> bool:
        return all(s.passed for s in self.suites if not s.skipped)

    @property
    def total(self) -> int:
        return sum(s.total for s in self.suites)

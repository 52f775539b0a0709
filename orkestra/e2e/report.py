"""How an e2e run is shown: the terminal lines the CLI prints as it goes, a Markdown report
for ``$GITHUB_STEP_SUMMARY``, JUnit XML for CI test views (GitHub, GitLab, Jenkins; it
validates against the Jenkins xUnit plugin's ``junit-10.xsd``), and the ``-o json``
document. Every format names the cluster a suite ran on with :data:`CLUSTER_LABELS`, so a
run on the embedded API server (no kubelet, a weaker proof) is never taken for a real
cluster. Nothing here colours or prints: the CLI does.
"""

from __future__ import annotations

import re
import socket
import xml.etree.ElementTree as ET
from datetime import UTC, datetime

from orkestra import markdown as md
from orkestra.e2e.result import (
    CLUSTER_LABELS,
    EMBEDDED,
    CheckResult,
    ExpectationResult,
    RunResult,
    SuiteResult,
)
from orkestra.kubeobjects import JsonDict
from orkestra.markdown import mark, plural
from orkestra.units import format_duration, format_timestamp

#: Characters XML 1.0 cannot carry at all (terminal colour codes in a command's output ...).
NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
INDENT = "   "
SETUP_CASE = "setup"
RUN_ERROR_CASE = "steps outside the expectations"
LEFTOVERS_CASE = "teardown: no leftovers"


# -- shared wording --------------------------------------------------------------------------
def cluster_label(cluster: str) -> str:
    """How the cluster kind is named to people (``kind``, ``embedded API server ...``)."""
    return CLUSTER_LABELS.get(cluster, cluster)


def _status(suite: SuiteResult) -> str:
    if suite.skipped:
        return "SKIP"
    return "PASS" if suite.passed else "FAIL"


def _time(result: ExpectationResult) -> str:
    """``12s``, or ``TIMEOUT after 60s`` when the expectation ran out of time."""
    if result.timed_out:
        return f"TIMEOUT after {format_duration(result.timeout)}"
    return format_duration(result.seconds)


def _explanation(result: ExpectationResult) -> list[str]:
    """Why an expectation failed: its reason, then the runtime's denial when it said one."""
    if result.passed:
        return []
    said = [result.reason] if result.reason else []
    return said + ([f"denied by the runtime: {result.denial}"] if result.denial else [])


# -- terminal --------------------------------------------------------------------------------
def expectation_line(result: ExpectationResult, width: int) -> list[str]:
    """``✓  name  (12s)``, ``✗  name  TIMEOUT after 60s`` or ``✗  name  FAILED (3s)``, then
    the reason and the denial on indented lines."""
    if result.passed:
        outcome = f"({format_duration(result.seconds)})"
    elif result.timed_out:
        outcome = _time(result)
    else:
        outcome = f"FAILED ({format_duration(result.seconds)})"
    first = f"{mark(result.passed)}  {result.name:<{width}}  {outcome}"
    return [first] + [INDENT + line for text in _explanation(result) for line in text.splitlines()]


def suite_line(result: SuiteResult) -> str:
    """``PASS  name  (87s) · kind``; a skipped suite has no duration."""
    line = f"{_status(result)}  {result.name}"
    if not result.skipped:
        line += f"  ({format_duration(result.seconds)})"
    label = cluster_label(result.cluster)
    return f"{line} · {label}" if label else line


# -- Markdown --------------------------------------------------------------------------------
def markdown(run: RunResult) -> str:
    """The run as Markdown for ``$GITHUB_STEP_SUMMARY``: a section per suite."""
    verdict = "PASS" if run.passed else "FAIL"
    head = [
        f"## ork e2e: {verdict}",
        "",
        f"{plural(len(run.suites), 'suite')}, {plural(run.total, 'expectation')}, "
        f"{format_duration(run.seconds)}.",
        "",
    ]
    return "\n".join(head + [line for suite in run.suites for line in _md_suite(suite)])


def _md_suite(suite: SuiteResult) -> list[str]:
    status = _status(suite)
    sign = "⊘" if suite.skipped else mark(suite.passed)
    lines = [f"### {sign} {status} · {md.text(suite.name)}", "", _md_where(suite), ""]
    if suite.skipped:
        return lines
    if suite.cluster == EMBEDDED:
        lines += [
            "> The embedded API server runs no kubelet: no pod ever runs, so this is a "
            "weaker proof than a real cluster.",
            "",
        ]
    if suite.expectations:
        lines += _md_table(suite.expectations) + [""]
    return lines + _md_error(suite.error) + _md_leftovers(suite.leftovers)


def _md_where(suite: SuiteResult) -> str:
    if suite.skipped:
        return f"Skipped · {md.text(suite.file)}"
    return (
        f"Ran on **{md.text(cluster_label(suite.cluster))}** · {md.text(suite.file)} · "
        f"{format_duration(suite.seconds)}"
    )


def _md_table(results: list[ExpectationResult]) -> list[str]:
    rows = [
        [mark(r.passed), r.name, r.after, _time(r), "\n".join(_explanation(r))] for r in results
    ]
    return md.table(["", "Expectation", "After", "Time", "Details"], rows)


def _md_error(error: str) -> list[str]:
    return ["**Error:**", "", *md.fenced(error), ""] if error else []


def _md_leftovers(leftovers: list[str]) -> list[str]:
    if not leftovers:
        return []
    return [
        "**Left in the cluster after teardown:**",
        "",
        *(f"- {md.text(item)}" for item in leftovers),
        "",
    ]


# -- JUnit XML -------------------------------------------------------------------------------
def junit(run: RunResult, *, started: datetime | None = None, hostname: str | None = None) -> str:
    """The run as JUnit XML: a ``<testsuite>`` per suite, a ``<testcase>`` per expectation,
    plus a ``setup`` error case and a ``teardown: no leftovers`` failure where they apply.
    ``started`` (default: now) and ``hostname`` (default: this host) stamp every suite."""
    stamp = format_timestamp(started or datetime.now(UTC))
    host = hostname or socket.gethostname() or "localhost"
    root = ET.Element("testsuites", name="ork e2e")
    suites = [_junit_suite(root, suite, stamp, host) for suite in run.suites]
    for key in ("tests", "failures", "errors"):
        root.set(key, str(sum(int(s.get(key, "0")) for s in suites)))
    root.set("time", _seconds(run.seconds))
    _xml_safe(root)
    ET.indent(root)
    document: bytes = ET.tostring(root, encoding="UTF-8", xml_declaration=True)
    return document.decode() + "\n"


def _xml_safe(root: ET.Element) -> None:
    """Replace, everywhere in the tree, the characters an XML parser would refuse."""
    for element in root.iter():
        if element.text:
            element.text = NOT_XML.sub("\ufffd", element.text)
        for key, value in element.attrib.items():
            element.set(key, NOT_XML.sub("\ufffd", value))


def _junit_suite(parent: ET.Element, suite: SuiteResult, stamp: str, host: str) -> ET.Element:
    element = ET.SubElement(parent, "testsuite", name=suite.name)
    properties = ET.SubElement(element, "properties")
    for name, value in (
        ("cluster", suite.cluster),
        ("clusterLabel", cluster_label(suite.cluster)),
        ("file", suite.file),
    ):
        ET.SubElement(properties, "property", name=name, value=value)
    cases = (
        [_skipped_case(element, suite)]
        if suite.skipped
        else [_expectation_case(element, suite.name, r) for r in suite.expectations]
        + _suite_cases(element, suite)
    )
    counts = {
        "tests": len(cases),
        "failures": _count(cases, "failure"),
        "errors": _count(cases, "error"),
        "skipped": _count(cases, "skipped"),
    }
    for key, number in counts.items():
        element.set(key, str(number))
    element.set("time", _seconds(suite.seconds))
    element.set("timestamp", stamp)
    element.set("hostname", host)
    return element


def _count(cases: list[ET.Element], tag: str) -> int:
    return sum(1 for case in cases if case.find(tag) is not None)


def _testcase(parent: ET.Element, name: str, classname: str, seconds: float) -> ET.Element:
    return ET.SubElement(parent, "testcase", name=name, classname=classname, time=_seconds(seconds))


def _expectation_case(parent: ET.Element, suite: str, result: ExpectationResult) -> ET.Element:
    case = _testcase(parent, result.name, suite, result.seconds)
    if not result.passed:
        message = "\n".join(_explanation(result)) or "failed"
        if result.timed_out:
            message = f"{_time(result)}: {message}"
        failure = ET.SubElement(
            case, "failure", message=message, type="timeout" if result.timed_out else "failed"
        )
        failure.text = _checks_text(result)
    return case


def _checks_text(result: ExpectationResult) -> str:
    lines = [_check_text(check) for check in result.checks]
    if result.denial:
        lines.append(f"denied by the runtime: {result.denial}")
    return "\n".join(lines)


def _check_text(check: CheckResult) -> str:
    line = f"{mark(check.passed)} {check.label}"
    return f"{line}: {check.detail}" if check.detail else line


def _suite_cases(parent: ET.Element, suite: SuiteResult) -> list[ET.Element]:
    cases = []
    if suite.error:
        name = RUN_ERROR_CASE if suite.expectations else SETUP_CASE
        case = _testcase(parent, name, suite.name, 0.0)
        ET.SubElement(
            case, "error", message=suite.error.splitlines()[0], type="error"
        ).text = suite.error
        cases.append(case)
    if suite.leftovers:
        case = _testcase(parent, LEFTOVERS_CASE, suite.name, 0.0)
        ET.SubElement(
            case,
            "failure",
            type="leftovers",
            message=f"{plural(len(suite.leftovers), 'object')} left in the cluster after teardown",
        ).text = "\n".join(suite.leftovers)
        cases.append(case)
    return cases


def _skipped_case(parent: ET.Element, suite: SuiteResult) -> ET.Element:
    case = _testcase(parent, suite.name, suite.name, 0.0)
    ET.SubElement(case, "skipped", message="suite skipped")
    return case


def _seconds(seconds: float) -> str:
    return f"{seconds:.3f}"


# -- JSON ------------------------------------------------------------------------------------
def to_json(run: RunResult) -> JsonDict:
    """The run for ``-o json`` (camelCase keys; ``clusterLabel`` names the cluster kind)."""
    return {
        "suites": [_json_suite(suite) for suite in run.suites],
        "passed": run.passed,
        "total": run.total,
        "seconds": round(run.seconds, 3),
    }


def _json_suite(suite: SuiteResult) -> JsonDict:
    return {
        "name": suite.name,
        "file": suite.file,
        "cluster": suite.cluster,
        "clusterLabel": cluster_label(suite.cluster),
        "passed": suite.passed,
        "skipped": suite.skipped,
        "seconds": round(suite.seconds, 3),
        "error": suite.error,
        "leftovers": list(suite.leftovers),
        "expectations": [_json_expectation(r) for r in suite.expectations],
    }


def _json_expectation(result: ExpectationResult) -> JsonDict:
    return {
        "name": result.name,
        "after": result.after,
        "passed": result.passed,
        "seconds": round(result.seconds, 3),
        "timeout": result.timeout,
        "timedOut": result.timed_out,
        "reason": result.reason,
        "denial": result.denial,
        "checks": [
            {"label": c.label, "passed": c.passed, "detail": c.detail} for c in result.checks
        ],
    }

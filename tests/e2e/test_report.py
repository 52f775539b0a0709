"""The e2e reports: terminal lines, Markdown, JUnit XML (validated against the Jenkins
xUnit plugin's junit-10.xsd) and JSON, for passing, failing (timeout or not), setup errors,
leftovers and skipped suites, with whatever a name or a detail may contain escaped."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from datetime import UTC, datetime
from pathlib import Path

import pytest
import xmlschema

from orkestra.e2e import report
from orkestra.e2e.result import (
    EMBEDDED,
    EXISTING,
    KIND,
    CheckResult,
    ExpectationResult,
    RunResult,
    SuiteResult,
)

SCHEMA = Path(__file__).parent / "data" / "junit-10.xsd"
STARTED = datetime(2026, 6, 14, 10, 0, 0, tzinfo=UTC)
DENIAL = "admission webhook denied the request: replicas must be <= 5"


def passing(name: str = "Deployment ready", seconds: float = 12.2) -> ExpectationResult:
    return ExpectationResult(
        name=name,
        after="cr-applied",
        timeout=60.0,
        passed=True,
        seconds=seconds,
        checks=[CheckResult("Deployment hello-website ready", True)],
    )


def timed_out(denial: str = "") -> ExpectationResult:
    return ExpectationResult(
        name="Service exists",
        after="cr-applied",
        timeout=60.0,
        seconds=60.4,
        timed_out=True,
        denial=denial,
        checks=[
            CheckResult("Deployment hello-website exists", True),
            CheckResult(
                "Service hello-website exists", False, "Service hello-website not found in default"
            ),
        ],
    )


def failed() -> ExpectationResult:
    return ExpectationResult(
        name="CR accepted",
        after="cr-applied",
        timeout=30.0,
        seconds=3.0,
        checks=[CheckResult("apply the CR", False, "kubectl apply -f cr.yaml: the CR is invalid")],
    )


def suite(*results: ExpectationResult, cluster: str = KIND, **extra: object) -> SuiteResult:
    made = SuiteResult(
        name="hello-website-e2e",
        file="e2e/hello/e2e.yaml",
        cluster=cluster,
        expectations=list(results),
        seconds=87.0,
    )
    for key, value in extra.items():
        setattr(made, key, value)
    return made


def setup_error() -> SuiteResult:
    return suite(error="apply the CRDs: error: no matches for kind\nsecond line")


def leftovers() -> SuiteResult:
    return suite(passing(), leftovers=["Deployment/default/hello", "Service/default/hello"])


def skipped() -> SuiteResult:
    return SuiteResult(name="later-e2e", file="e2e/later/e2e.yaml", cluster="", skipped=True)


SCENARIOS = {
    "passing": RunResult([suite(passing(), passing("Service ready", 2.0))], 88.0),
    "timeout": RunResult([suite(passing(), timed_out(DENIAL))], 88.0),
    "failed": RunResult([suite(failed())], 4.0),
    "setup error": RunResult([setup_error()], 3.0),
    "leftovers": RunResult([leftovers()], 90.0),
    "skipped": RunResult([suite(passing()), skipped()], 88.0),
    "embedded": RunResult([suite(passing(), cluster=EMBEDDED)], 88.0),
    "empty": RunResult(),
}


# -- terminal ----------------------------------------------------------------------------------
def test_expectation_line_passing() -> None:
    assert report.expectation_line(passing(), 22) == ["✓  Deployment ready        (12s)"]


def test_expectation_line_timeout_gives_reason_and_denial() -> None:
    assert report.expectation_line(timed_out(DENIAL), 22) == [
        "✗  Service exists          TIMEOUT after 1m",
        "   Service hello-website not found in default",
        f"   denied by the runtime: {DENIAL}",
    ]


def test_expectation_line_timeout_without_denial() -> None:
    assert report.expectation_line(timed_out(), 14) == [
        "✗  Service exists  TIMEOUT after 1m",
        "   Service hello-website not found in default",
    ]


def test_expectation_line_failed_before_its_timeout() -> None:
    assert report.expectation_line(failed(), 11) == [
        "✗  CR accepted  FAILED (3s)",
        "   kubectl apply -f cr.yaml: the CR is invalid",
    ]


def test_expectation_line_indents_every_line_of_a_long_reason() -> None:
    result = ExpectationResult(
        name="x",
        after="cr-applied",
        timeout=5.0,
        seconds=1.5,
        checks=[CheckResult("command", False, "exit 1\nno such pod")],
    )
    assert report.expectation_line(result, 1) == [
        "✗  x  FAILED (1.5s)",
        "   exit 1",
        "   no such pod",
    ]


def test_suite_line_pass_and_fail_name_the_cluster() -> None:
    assert report.suite_line(suite(passing())) == "PASS  hello-website-e2e  (1m27s) · kind"
    assert (
        report.suite_line(suite(timed_out(), cluster=EXISTING))
        == "FAIL  hello-website-e2e  (1m27s) · existing cluster"
    )


def test_suite_line_never_hides_the_embedded_server() -> None:
    assert (
        report.suite_line(suite(passing(), cluster=EMBEDDED))
        == "PASS  hello-website-e2e  (1m27s) · embedded API server (no kubelet)"
    )


def test_suite_line_errors_leftovers_and_skipped() -> None:
    assert report.suite_line(setup_error()).startswith("FAIL  ")
    assert report.suite_line(leftovers()).startswith("FAIL  ")
    assert report.suite_line(skipped()) == "SKIP  later-e2e"


# -- Markdown ----------------------------------------------------------------------------------
def table_rows(text: str) -> list[list[str]]:
    """The cells of every table row (the header and the separator included), split on the
    ``|`` that are not escaped."""
    return [
        [cell.strip() for cell in re.split(r"(?<!\\)\|", line)[1:-1]]
        for line in text.splitlines()
        if line.startswith("|")
    ]


def test_markdown_passing_suite() -> None:
    text = report.markdown(SCENARIOS["passing"])
    assert text.startswith("## ork e2e: PASS\n\n1 suite, 2 expectations, 1m28s.\n")
    assert "### ✓ PASS · hello-website-e2e\n\nRan on **kind** · e2e/hello/e2e.yaml · 1m27s" in text
    assert table_rows(text) == [
        ["", "Expectation", "After", "Time", "Details"],
        ["---"] * 5,
        ["✓", "Deployment ready", "cr-applied", "12s", ""],
        ["✓", "Service ready", "cr-applied", "2s", ""],
    ]
    assert "embedded" not in text


def test_markdown_timeout_row_gives_reason_and_denial() -> None:
    rows = table_rows(report.markdown(SCENARIOS["timeout"]))
    assert rows[-1] == [
        "✗",
        "Service exists",
        "cr-applied",
        "TIMEOUT after 1m",
        "Service hello-website not found in default<br>"
        "denied by the runtime: admission webhook denied the request: "
        "replicas must be &lt;= 5",
    ]
    assert report.markdown(SCENARIOS["timeout"]).startswith("## ork e2e: FAIL\n")


def test_markdown_failed_row_shows_its_time() -> None:
    assert table_rows(report.markdown(SCENARIOS["failed"]))[-1] == [
        "✗",
        "CR accepted",
        "cr-applied",
        "3s",
        "kubectl apply -f cr.yaml: the CR is invalid",
    ]


def test_markdown_labels_the_embedded_server() -> None:
    text = report.markdown(SCENARIOS["embedded"])
    assert "Ran on **embedded API server (no kubelet)**" in text
    assert "\n> The embedded API server runs no kubelet" in text


def test_markdown_escapes_cells() -> None:
    result = ExpectationResult(
        name="a | b",
        after="cr-applied",
        timeout=10.0,
        seconds=10.0,
        timed_out=True,
        checks=[CheckResult("cmd", False, "line 1\r\nx | y <z>\n")],
    )
    rows = table_rows(report.markdown(RunResult([suite(result)])))
    assert rows[-1] == [
        "✗",
        "a \\| b",
        "cr-applied",
        "TIMEOUT after 10s",
        "line 1<br>x \\| y &lt;z&gt;<br>",
    ]


def test_markdown_setup_error_is_fenced_below() -> None:
    run = RunResult([suite(error="apply the CRDs failed\n```\nkubectl said | no")])
    text = report.markdown(run)
    assert "**Error:**\n\n````\napply the CRDs failed\n```\nkubectl said | no\n````\n" in text
    assert table_rows(text) == []
    assert "### ✗ FAIL · hello-website-e2e" in text


def test_markdown_lists_leftovers_below_the_table() -> None:
    text = report.markdown(SCENARIOS["leftovers"])
    assert text.index("| ✓ | Deployment ready") < text.index(
        "**Left in the cluster after teardown:**\n\n- Deployment/default/hello\n"
        "- Service/default/hello\n"
    )
    assert "### ✗ FAIL" in text


def test_markdown_skipped_suite() -> None:
    text = report.markdown(SCENARIOS["skipped"])
    assert "### ⊘ SKIP · later-e2e\n\nSkipped · e2e/later/e2e.yaml\n" in text
    assert text.startswith("## ork e2e: PASS\n")
    assert len(table_rows(text)) == 3


# -- JUnit XML ---------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def schema() -> xmlschema.XMLSchema:
    return xmlschema.XMLSchema(SCHEMA)


def junit(run: RunResult) -> str:
    return report.junit(run, started=STARTED, hostname="ci-runner")


def parse(run: RunResult) -> ET.Element:
    return ET.fromstring(junit(run).encode())


def cases(root: ET.Element) -> list[tuple[str, str, str]]:
    """(classname, name, outcome) of each testcase, outcome the child's tag or "passed"."""
    return [
        (case.get("classname", ""), case.get("name", ""), case[0].tag if len(case) else "passed")
        for case in root.iter("testcase")
    ]


def counts(element: ET.Element) -> dict[str, str]:
    return {key: element.get(key, "") for key in ("tests", "failures", "errors", "skipped")}


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_junit_validates_against_the_jenkins_schema(
    scenario: str, schema: xmlschema.XMLSchema
) -> None:
    schema.validate(junit(SCENARIOS[scenario]))


def test_the_schema_check_can_fail(schema: xmlschema.XMLSchema) -> None:
    text = junit(SCENARIOS["passing"]).replace(' name="Deployment ready"', "")
    assert not schema.is_valid(text)


def test_junit_document_shape() -> None:
    text = junit(SCENARIOS["passing"])
    assert text.startswith("<?xml version='1.0' encoding='UTF-8'?>\n<testsuites ")
    assert "\n  <testsuite " in text and "\n    <testcase " in text
    root = ET.fromstring(text.encode())
    assert root.attrib == {
        "name": "ork e2e",
        "tests": "2",
        "failures": "0",
        "errors": "0",
        "time": "88.000",
    }
    (element,) = root
    assert element.attrib == {
        "name": "hello-website-e2e",
        "tests": "2",
        "failures": "0",
        "errors": "0",
        "skipped": "0",
        "time": "87.000",
        "timestamp": "2026-06-14T10:00:00Z",
        "hostname": "ci-runner",
    }
    assert {p.get("name"): p.get("value") for p in element.iter("property")} == {
        "cluster": "kind",
        "clusterLabel": "kind",
        "file": "e2e/hello/e2e.yaml",
    }
    assert cases(root) == [
        ("hello-website-e2e", "Deployment ready", "passed"),
        ("hello-website-e2e", "Service ready", "passed"),
    ]
    assert [c.get("time") for c in root.iter("testcase")] == ["12.200", "2.000"]


def test_junit_timeout_is_a_failure_with_the_checks() -> None:
    root = parse(SCENARIOS["timeout"])
    assert counts(root[0]) == {"tests": "2", "failures": "1", "errors": "0", "skipped": "0"}
    failure = root.find("testsuite/testcase[@name='Service exists']/failure")
    assert failure is not None
    assert failure.attrib == {
        "type": "timeout",
        "message": "TIMEOUT after 1m: Service hello-website not found in "
        f"default\ndenied by the runtime: {DENIAL}",
    }
    assert failure.text == (
        "✓ Deployment hello-website exists\n"
        "✗ Service hello-website exists: Service hello-website not "
        f"found in default\ndenied by the runtime: {DENIAL}"
    )


def test_junit_failure_before_the_timeout() -> None:
    root = parse(SCENARIOS["failed"])
    failure = root.find("testsuite/testcase/failure")
    assert failure is not None
    assert failure.attrib == {
        "type": "failed",
        "message": "kubectl apply -f cr.yaml: the CR is invalid",
    }
    assert root.get("failures") == "1"


def test_junit_setup_error_is_an_error_case() -> None:
    root = parse(SCENARIOS["setup error"])
    assert cases(root) == [("hello-website-e2e", "setup", "error")]
    assert counts(root[0]) == {"tests": "1", "failures": "0", "errors": "1", "skipped": "0"}
    assert (root.get("tests"), root.get("errors")) == ("1", "1")
    error = root.find("testsuite/testcase/error")
    assert error is not None
    assert error.get("message") == "apply the CRDs: error: no matches for kind"
    assert error.text == "apply the CRDs: error: no matches for kind\nsecond line"


def test_junit_error_after_some_expectations_is_not_called_setup() -> None:
    root = parse(RunResult([suite(passing(), error="kubectl: connection refused")]))
    assert cases(root) == [
        ("hello-website-e2e", "Deployment ready", "passed"),
        ("hello-website-e2e", report.RUN_ERROR_CASE, "error"),
    ]


def test_junit_leftovers_fail_a_teardown_case() -> None:
    root = parse(SCENARIOS["leftovers"])
    assert cases(root) == [
        ("hello-website-e2e", "Deployment ready", "passed"),
        ("hello-website-e2e", "teardown: no leftovers", "failure"),
    ]
    assert counts(root[0]) == {"tests": "2", "failures": "1", "errors": "0", "skipped": "0"}
    failure = root.find("testsuite/testcase[@name='teardown: no leftovers']/failure")
    assert failure is not None
    assert failure.get("message") == "2 objects left in the cluster after teardown"
    assert failure.text == "Deployment/default/hello\nService/default/hello"


def test_junit_skipped_suite() -> None:
    root = parse(SCENARIOS["skipped"])
    later = root.find("testsuite[@name='later-e2e']")
    assert later is not None
    assert counts(later) == {"tests": "1", "failures": "0", "errors": "0", "skipped": "1"}
    assert cases(later) == [("later-e2e", "later-e2e", "skipped")]
    assert root.get("tests") == "2"


def test_junit_names_the_embedded_server() -> None:
    root = parse(SCENARIOS["embedded"])
    label = root.find("testsuite/properties/property[@name='clusterLabel']")
    assert label is not None
    assert label.get("value") == "embedded API server (no kubelet)"


def test_junit_escapes_names_and_details(schema: xmlschema.XMLSchema) -> None:
    name = 'a <b> & "c" ✓'
    result = ExpectationResult(
        name=name,
        after="cr-applied",
        timeout=5.0,
        seconds=5.0,
        timed_out=True,
        checks=[CheckResult("cmd", False, "]]> <x/> &amp;")],
    )
    run = RunResult(
        [SuiteResult(name="s & <t>", file="f.yaml", cluster=KIND, expectations=[result])]
    )
    schema.validate(junit(run))
    root = parse(run)
    assert cases(root) == [("s & <t>", name, "failure")]
    failure = root.find("testsuite/testcase/failure")
    assert failure is not None
    assert failure.text == "✗ cmd: ]]> <x/> &amp;"


def test_junit_replaces_characters_xml_cannot_carry(schema: xmlschema.XMLSchema) -> None:
    result = ExpectationResult(
        name="colour\x1b",
        after="cr-applied",
        timeout=5.0,
        checks=[CheckResult("cmd", False, "\x1b[31mred\x1b[0m\x00 tab\tok")],
    )
    run = RunResult([suite(result)])
    schema.validate(junit(run))
    failure = parse(run).find("testsuite/testcase[@name='colour\ufffd']/failure")
    assert failure is not None
    assert failure.text == "✗ cmd: \ufffd[31mred\ufffd[0m\ufffd tab\tok"


def test_junit_stamps_now_and_this_host_by_default() -> None:
    root = ET.fromstring(report.junit(SCENARIOS["passing"]).encode())
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", root[0].get("timestamp", ""))
    assert root[0].get("hostname")


# -- JSON --------------------------------------------------------------------------------------
def test_to_json_failing_run() -> None:
    data = report.to_json(RunResult([suite(timed_out(DENIAL), cluster=EMBEDDED)], 88.12345))
    assert json.loads(json.dumps(data)) == data
    assert data == {
        "suites": [
            {
                "name": "hello-website-e2e",
                "file": "e2e/hello/e2e.yaml",
                "cluster": "embedded",
                "clusterLabel": "embedded API server (no kubelet)",
                "passed": False,
                "skipped": False,
                "seconds": 87.0,
                "error": "",
                "leftovers": [],
                "expectations": [
                    {
                        "name": "Service exists",
                        "after": "cr-applied",
                        "passed": False,
                        "seconds": 60.4,
                        "timeout": 60.0,
                        "timedOut": True,
                        "reason": "Service hello-website not found in default",
                        "denial": DENIAL,
                        "checks": [
                            {
                                "label": "Deployment hello-website exists",
                                "passed": True,
                                "detail": "",
                            },
                            {
                                "label": "Service hello-website exists",
                                "passed": False,
                                "detail": "Service hello-website not found in default",
                            },
                        ],
                    }
                ],
            }
        ],
        "passed": False,
        "total": 1,
        "seconds": 88.123,
    }


def test_to_json_error_leftovers_and_skipped() -> None:
    run = RunResult([setup_error(), leftovers(), skipped()])
    error, left, later = report.to_json(run)["suites"]
    assert (error["passed"], error["error"], error["expectations"]) == (
        False,
        "apply the CRDs: error: no matches for kind\nsecond line",
        [],
    )
    assert (left["passed"], left["leftovers"]) == (
        False,
        ["Deployment/default/hello", "Service/default/hello"],
    )
    assert (later["skipped"], later["clusterLabel"]) == (True, "")
    assert report.to_json(SCENARIOS["passing"])["passed"] is True

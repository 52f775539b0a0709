"""The e2e pipeline on the embedded API server with the real kubectl: every expectation
type passing and failing, the runtime's denial shown, teardown and leftovers."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from orkestra.e2e.result import ExpectationResult, RunResult
from orkestra.e2e.runner import Options, run
from orkestra.e2e.spec import Suite, load_suite
from orkestra.e2e.targets import Cluster
from orkestra.model.errors import PatternError

pytestmark = pytest.mark.integration


class Recorder:
    """A Progress that keeps what the runner reported."""

    def __init__(self) -> None:
        self.lines: list[str] = []

    def step(self, text: str) -> None:
        self.lines.append(f"step {text}")

    def done(self, text: str) -> None:
        self.lines.append(f"done {text}")

    def expectation(self, result: ExpectationResult) -> None:
        self.lines.append(f"expectation {result.name} {result.passed}")

    def suite(self, suite: Suite, cluster: Cluster) -> None:
        self.lines.append(f"suite {suite.name} {cluster.kind}")


def suite_in(directory: Path, expect: str, *, cr: str = "./cr.yaml", setup: str = "") -> Path:
    """An e2e.yaml with these expectations for the pack step in ``directory`` (its
    katalog.yaml, crd.yaml and, unless told, cr.yaml)."""
    text = (
        textwrap.dedent("""\
        apiVersion: orkestra.orkspace.io/v1
        kind: E2E
        metadata: {name: test-e2e}
        spec:
          katalog: ./katalog.yaml
          crd: ./crd.yaml
          cr: CR
        SETUP  expect:
        """)
        .replace("CR", cr)
        .replace("SETUP", setup)
    )
    path = directory / "test-e2e.yaml"
    path.write_text(text + textwrap.indent(textwrap.dedent(expect), "    "))
    return path


def execute(path: Path, **options: float) -> tuple[RunResult, Recorder]:
    progress = Recorder()
    result = run(
        load_suite(path),
        Options(cluster_kind="embedded", poll=0.2, settle=options.pop("settle", 5.0)),
        progress,
    )
    return result, progress


@pytest.fixture
def api(pack_copy: Path) -> Path:
    return pack_copy / "02-katalog-api"


def test_the_02_suite_passes_and_leaves_nothing(api: Path) -> None:
    result, progress = execute(api / "e2e.yaml")
    suite = result.suites[0]
    assert result.passed and suite.cluster == "embedded" and suite.total == 5
    assert [e.name for e in suite.expectations] == [
        "WebApp created",
        "Deployment ready",
        "Service routes to the pods",
        "WebApp reports Ready",
        "Cleanup",
    ]
    assert progress.lines[0] == "step Starting a cluster (embedded)..."
    assert "done Orkestra runtime ready" in progress.lines
    assert progress.lines[-1] == "done nothing left behind"
    assert (
        progress.lines.index("step Applying CR...")
        < progress.lines.index("expectation WebApp created True")
        < progress.lines.index("step Deleting CR...")
        < progress.lines.index("expectation Cleanup True")
    )


def test_resource_checks_fail_with_the_reason(api: Path) -> None:
    path = suite_in(
        api,
        """\
        - name: Wrong name
          timeout: 1s
          resources: [{kind: Deployment, name: nope}]
        - name: Wrong count
          timeout: 1s
          resources: [{kind: Service, count: 2}]
        - name: Must be gone
          timeout: 1s
          resources: [{kind: Deployment, name: my-webapp, count: 0}]
        - name: Other namespace
          timeout: 1s
          resources: [{kind: Deployment, name: my-webapp, namespace: kube-system}]
        - name: Any and exact
          resources: [{kind: Deployment}, {kind: Service, count: 1}, {kind: WebApp, ready: true}]
        """,
    )
    result, _ = execute(path)
    reasons = {e.name: (e.passed, e.timed_out, e.reason) for e in result.suites[0].expectations}
    assert reasons == {
        "Wrong name": (False, True, "Deployment nope not found in default"),
        "Wrong count": (False, True, "1 Service in default, expected 2"),
        "Must be gone": (False, True, "Deployment my-webapp still exists in default"),
        "Other namespace": (False, True, "Deployment my-webapp not found in kube-system"),
        "Any and exact": (True, False, ""),
    }
    assert not result.passed


def test_commands_exit_codes_output_and_timeouts(api: Path) -> None:
    path = suite_in(
        api,
        """\
        - name: Output matches
          commands:
            - run: kubectl get deploy my-webapp -o name
              outputContains: deployment.apps/my-webapp
            - {run: "echo oops >&2; exit 3", exitCode: 3, outputContains: oops}
        - name: Wrong exit code
          timeout: 1s
          commands: [{run: "echo nope; exit 1"}]
        - name: Missing output
          timeout: 1s
          commands: [{run: "echo something", outputContains: else}]
        - name: Hangs
          timeout: 2s
          commands: [{run: "sleep 60"}]
        """,
    )
    result, _ = execute(path)
    outcome = {e.name: e for e in result.suites[0].expectations}
    assert outcome["Output matches"].passed
    assert outcome["Wrong exit code"].reason == "exit code 1, expected 0: nope"
    assert outcome["Missing output"].reason == "output does not contain 'else': something"
    hang = outcome["Hangs"]
    assert not hang.passed and hang.reason.startswith("killed after")
    assert hang.seconds < 10  # killed at its timeout, not after sleep's 60 s


def test_field_checks(api: Path) -> None:
    path = suite_in(
        api,
        """\
        - name: Equal
          kubectl:
            get: [{kind: Deployment, name: my-webapp, field: .spec.replicas, equals: 2}]
        - name: Not equal
          timeout: 1s
          kubectl:
            get: [{kind: Deployment, name: my-webapp, field: .spec.replicas, equals: "3"}]
        - name: Present
          kubectl:
            get: [{kind: Service, name: my-webapp-svc, field: "{.spec.ports[0].port}"}]
        - name: Absent object
          timeout: 1s
          kubectl:
            get: [{kind: Service, name: nope, field: .spec.type, equals: ClusterIP}]
        """,
    )
    result, _ = execute(path)
    outcome = {e.name: e for e in result.suites[0].expectations}
    assert outcome["Equal"].passed and outcome["Present"].passed
    assert outcome["Not equal"].reason == '.spec.replicas is "2", expected "3"'
    assert 'services "nope" not found' in outcome["Absent object"].reason


def test_a_denied_cr_shows_the_runtime_s_message(pack_copy: Path) -> None:
    platform = pack_copy / "04-katalog-platform"
    path = suite_in(
        platform,
        """\
        - name: Deployment ready
          timeout: 2s
          resources: [{kind: Deployment, name: my-denied-app, ready: true}]
        """,
        cr="./cr-denied.yaml",
    )
    result, _ = execute(path)
    expectation = result.suites[0].expectations[0]
    assert not expectation.passed and expectation.timed_out
    assert expectation.reason == "Deployment my-denied-app not found in default"
    assert expectation.denial == (
        'ValidationFailed: validation denied: field "spec.image": image must be pulled from '
        'the internal registry (ghcr.io/orkspace/) (got "docker.io/nginx:1.25")'
    )


def test_setup_is_applied_then_removed_and_leftovers_fail_the_suite(api: Path) -> None:
    (api / "setup.yaml").write_text(
        textwrap.dedent("""\
        apiVersion: v1
        kind: ConfigMap
        metadata: {name: platform-settings, namespace: default}
        data: {tier: gold}
        """)
    )
    path = suite_in(
        api,
        """\
        - name: Setup applied
          resources: [{kind: ConfigMap, name: platform-settings}]
        - name: Hold the Deployment
          commands:
            - run: >-
                kubectl patch deployment my-webapp --type merge
                -p '{"metadata":{"finalizers":["e2e.test/hold"]}}'
        - name: Cleanup
          after: cr-deleted
          timeout: 1s
          resources: [{kind: WebApp, name: my-webapp, count: 0}]
        """,
        setup="  setup: {apply: [./setup.yaml]}\n",
    )
    result, progress = execute(path, settle=1.0)
    suite = result.suites[0]
    assert [e.passed for e in suite.expectations] == [True, True, True]
    assert suite.leftovers == ["Deployment/default/my-webapp"]
    assert not suite.passed and not result.passed
    assert progress.lines[-1] == "done left behind: Deployment/default/my-webapp"


def test_what_the_hooks_made_is_checked_for_leftovers(pack_copy: Path) -> None:
    path = suite_in(
        pack_copy / "10-hooks-katalog",
        """\
        - name: The hooks made the Secret
          resources: [{kind: Secret, name: my-db-credentials}]
        - name: Hold the Secret
          commands:
            - run: >-
                kubectl patch secret my-db-credentials --type merge
                -p '{"metadata":{"finalizers":["e2e.test/hold"]}}'
        - name: Cleanup
          after: cr-deleted
          timeout: 1s
          resources: [{kind: Database, name: my-db, count: 0}]
        """,
    )
    result, _ = execute(path, settle=1.0)
    suite = result.suites[0]
    assert [e.passed for e in suite.expectations] == [True, True, True]
    assert suite.leftovers == ["Secret/default/my-db-credentials"]


def test_a_rejected_cr_fails_its_expectations_at_once(api: Path) -> None:
    (api / "cr-invalid.yaml").write_text(
        (api / "cr.yaml").read_text().replace("replicas: 2", "replicas: many")
    )
    path = suite_in(
        api,
        """\
        - name: Created
          timeout: 60s
          resources: [{kind: WebApp, name: my-webapp}]
        - name: Ready
          timeout: 60s
          resources: [{kind: Deployment, name: my-webapp, ready: true}]
        """,
        cr="./cr-invalid.yaml",
    )
    result, _ = execute(path)
    first, second = result.suites[0].expectations
    assert not first.passed and not first.timed_out
    assert first.reason.startswith("kubectl apply -f cr-invalid.yaml: ")
    assert "spec.replicas" in first.reason
    assert second.reason == "not run: the CR was rejected (see above)"
    assert result.suites[0].seconds < 30


def test_an_aggregator_runs_its_imports_sharing_a_cluster_unless_fresh(api: Path) -> None:
    quick = suite_in(
        api,
        """\
        - name: Deployment exists
          resources: [{kind: Deployment, name: my-webapp}]
        """,
    )
    (api / "suite.yaml").write_text(
        textwrap.dedent(f"""\
        apiVersion: orkestra.orkspace.io/v1
        kind: E2E
        metadata: {{name: all}}
        imports:
          - ./{quick.name}
          - {{path: ./{quick.name}, wait: 100ms}}
          - {{path: ./{quick.name}, freshCluster: true}}
        """)
    )
    result, progress = execute(api / "suite.yaml")
    assert result.passed and [s.name for s in result.suites] == ["test-e2e"] * 3
    clusters = [line for line in progress.lines if line.startswith("step Starting a cluster")]
    assert len(clusters) == 2  # the first two imports share one, the fresh one gets its own


def test_a_broken_katalog_fails_before_a_cluster_starts(api: Path) -> None:
    katalog = api / "katalog.yaml"
    katalog.write_text(katalog.read_text().replace("workers: 2", "wrokers: 2"))
    progress = Recorder()
    with pytest.raises(PatternError, match='did you mean "workers"'):
        run(load_suite(api / "e2e.yaml"), Options(cluster_kind="embedded"), progress)
    assert progress.lines == []

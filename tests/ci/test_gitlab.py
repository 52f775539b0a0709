"""The GitLab CI template ci/gitlab/orkestra.gitlab-ci.yml: GitLab's schema, the jobs its
rules select, and a tag pipeline run line by line in bash against a real registry.

GitLab cannot run here, so the pipeline is resolved the way GitLab resolves it, for the
subset of GitLab CI the template uses and nothing more: ``include: local`` (deep merge, the
including file wins), ``extends`` (deep merge, base first), ``!reference`` tags (script
arrays flattened), ``rules:`` whose ``if:`` is made of ``$VAR``, ``==``/``!=`` against a
string or another variable, ``&&`` and ``||`` (no parentheses), and ``stages:`` order. Each
job then runs as GitLab Runner's bash runs it: ``before_script`` and ``script`` in one
shell with ``set -eo pipefail``, from a fresh copy of the project (a fresh checkout; the
template asks for no earlier artifacts) and a fresh HOME (a fresh container: nothing
cached, no Docker credentials), with ``CI=true GITLAB_CI=true`` and GitLab's predefined
variables. What ``artifacts:`` names is collected after each job.
"""

from __future__ import annotations

import base64
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
import xml.etree.ElementTree as ET
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.conftest import use_published_motifs
from tests.gates.test_push import push_motifs
from tests.registry.server import PASSWORD, USER, DistributionRegistry

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "ci" / "gitlab" / "orkestra.gitlab-ci.yml"
VENV_BIN = Path(sys.executable).parent

Config = dict[str, Any]

#: A project's .gitlab-ci.yml using the template, with every step on.
EXAMPLE = """\
include:
  - local: ci/gitlab/orkestra.gitlab-ci.yml

variables:
  ORK_WORKING_DIRECTORY: 02-katalog-api
  ORK_VALIDATE_DEPTH: full
  ORK_PLAN: "true"
  ORK_TEMPLATE: "true"
  ORK_GENERATE_BUNDLE: "true"
  ORK_E2E: "true"
  ORK_PUSH_REF: webapp-operator:$CI_COMMIT_TAG
"""

#: Top-level keys that are not jobs.
KEYWORDS = {
    "stages",
    "variables",
    "include",
    "default",
    "workflow",
    "image",
    "services",
    "cache",
    "before_script",
    "after_script",
}
SCRIPTS = ("before_script", "script", "after_script")


# -- the GitLab CI subset ------------------------------------------------------------------


@dataclass(frozen=True)
class Reference:
    """``!reference [job, key, ...]``."""

    path: tuple[str, ...]


class GitLabLoader(yaml.SafeLoader):
    """YAML with GitLab's ``!reference`` tag."""


def _reference(loader: yaml.SafeLoader, node: yaml.Node) -> Reference:
    assert isinstance(node, yaml.SequenceNode)
    return Reference(tuple(str(item) for item in loader.construct_sequence(node)))


GitLabLoader.add_constructor("!reference", _reference)


def deep_merge(base: Any, over: Any) -> Any:
    if isinstance(base, dict) and isinstance(over, dict):
        merged = dict(base)
        for key, value in over.items():
            merged[key] = deep_merge(base[key], value) if key in base else value
        return merged
    return over


def load(path: Path, project: Path) -> Config:
    """A configuration with its ``include: local`` files merged in."""
    data: Config = yaml.load(path.read_text(), Loader=GitLabLoader)  # a SafeLoader
    includes = data.pop("include", [])
    merged: Config = {}
    for item in includes if isinstance(includes, list) else [includes]:
        local = item if isinstance(item, str) else item["local"]
        merged = deep_merge(merged, load(project / local.lstrip("/"), project))
    result: Config = deep_merge(merged, data)
    return result


def _extended(config: Config, name: str) -> Config:
    job: Config = config[name]
    bases = job.get("extends", [])
    out: Config = {}
    for base in [bases] if isinstance(bases, str) else bases:
        out = deep_merge(out, _extended(config, base))
    result: Config = deep_merge(out, {k: v for k, v in job.items() if k != "extends"})
    return result


def _dereferenced(value: Any, config: Config) -> Any:
    if isinstance(value, Reference):
        target: Any = config
        for key in value.path:
            target = target[key]
        return _dereferenced(target, config)
    if isinstance(value, dict):
        return {k: _dereferenced(v, config) for k, v in value.items()}
    if isinstance(value, list):
        return [_dereferenced(v, config) for v in value]
    return value


def _flat(lines: list[Any]) -> list[str]:
    out: list[str] = []
    for line in lines:
        out += _flat(line) if isinstance(line, list) else [str(line)]
    return out


def jobs(config: Config) -> dict[str, Config]:
    """The visible jobs, with ``extends`` and ``!reference`` resolved, in file order."""
    out: dict[str, Config] = {}
    for name in config:
        if name in KEYWORDS or name.startswith("."):
            continue
        job: Config = _dereferenced(_extended(config, name), config)
        for key in SCRIPTS:
            if key in job:
                job[key] = _flat(job[key])
        out[name] = job
    return out


_VARIABLE = re.compile(r"\$(?:\{(\w+)\}|(\w+))")


def expand(value: str, env: Mapping[str, str]) -> str:
    return _VARIABLE.sub(lambda m: env.get(m[1] or m[2], ""), value)


def variables(config: Config, job: Config, predefined: Mapping[str, str]) -> dict[str, str]:
    """Predefined, then global, then job variables (the later win), each expanded."""
    env = dict(predefined)
    for scope in (config.get("variables", {}), job.get("variables", {})):
        for name, value in scope.items():
            raw = value["value"] if isinstance(value, dict) else value
            env[name] = expand(str(raw), env)
    return env


_TERM = re.compile(r'\$(\w+)\s*(==|!=)\s*(?:"([^"]*)"|\$(\w+))')


def _term(term: str, env: Mapping[str, str]) -> bool:
    compared = _TERM.fullmatch(term)
    if compared is not None:
        left = env.get(compared[1])
        right = env.get(compared[4]) if compared[4] else compared[3]
        return (left == right) == (compared[2] == "==")
    alone = re.fullmatch(r"\$(\w+)", term)
    if alone is None:
        raise ValueError(f"a rule outside the subset this test implements: {term!r}")
    return bool(env.get(alone[1]))


def condition(expression: str, env: Mapping[str, str]) -> bool:
    return any(
        all(_term(term.strip(), env) for term in alternative.split("&&"))
        for alternative in expression.split("||")
    )


def selected(job: Config, env: Mapping[str, str]) -> bool:
    """GitLab's rules: the first rule that matches decides; none matching: not added."""
    rules = job.get("rules")
    if rules is None:
        return True
    for rule in rules:
        if "if" not in rule or condition(rule["if"], env):
            return bool(rule.get("when", "on_success") != "never")
    return False


def pipeline(config: Config, predefined: Mapping[str, str]) -> list[str]:
    """The jobs a pipeline with these predefined variables runs, in stage order."""
    stages: list[str] = config["stages"]
    chosen = [
        (name, job)
        for name, job in jobs(config).items()
        if selected(job, variables(config, job, predefined))
    ]
    return [name for name, _ in sorted(chosen, key=lambda nj: stages.index(nj[1]["stage"]))]


# -- running it ------------------------------------------------------------------------------


@dataclass
class JobRun:
    name: str
    returncode: int
    output: str
    artifacts: dict[str, Path] = field(default_factory=dict)  # artifacts:paths
    reports: dict[str, Path] = field(default_factory=dict)  # artifacts:reports, found
    seconds: float = 0.0


def artifact_files(job: Config, checkout: Path) -> dict[str, Path]:
    """The files ``artifacts:paths`` (directories or files) picks up, by relative name."""
    found: dict[str, Path] = {}
    for entry in job.get("artifacts", {}).get("paths", []):
        target = checkout / entry
        files = (
            sorted(p for p in target.rglob("*") if p.is_file())
            if target.is_dir()
            else [target]
            if target.is_file()
            else []
        )
        found.update({p.relative_to(checkout).as_posix(): p for p in files})
    return found


def report_files(job: Config, checkout: Path) -> dict[str, Path]:
    """The ``artifacts:reports`` files (one path each here) that exist."""
    reports: dict[str, str] = job.get("artifacts", {}).get("reports", {})
    return {kind: checkout / path for kind, path in reports.items() if (checkout / path).is_file()}


def run_job(name: str, job: Config, env: Mapping[str, str], checkout: Path) -> JobRun:
    lines = [*job.get("before_script", []), *job["script"]]
    script = ["set -eo pipefail"]
    for line in lines:
        script += [f"printf '%s\\n' {shlex.quote('$ ' + line)}", line]
    (checkout.parent / f"{name}.sh").write_text("\n".join(script) + "\n")
    started = time.monotonic()
    done = subprocess.run(
        ["bash", str(checkout.parent / f"{name}.sh")],
        cwd=checkout,
        env=dict(env),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        timeout=600,
    )
    return JobRun(
        name,
        done.returncode,
        done.stdout,
        artifact_files(job, checkout),
        report_files(job, checkout),
        time.monotonic() - started,
    )


def run_pipeline(
    project: Path,
    predefined: dict[str, str],
    builds: Path,
    *,
    settings: Mapping[str, str] | None = None,
    only: Collection[str] | None = None,
) -> list[JobRun]:
    """Every job of the pipeline (or ``only`` these) in stage order, each from a fresh copy
    of ``project``; stops after a failed job (later stages run on success only).
    ``settings`` are the project's CI/CD variables: they win over the YAML's."""
    config = load(project / ".gitlab-ci.yml", project)
    runs: list[JobRun] = []
    all_jobs = jobs(config)
    for name in pipeline(config, predefined):
        if only is not None and name not in only:
            continue
        job = all_jobs[name]
        checkout = builds / name / "project"
        shutil.copytree(project, checkout)
        home = builds / name / "home"
        home.mkdir()
        env = {
            "PATH": f"{VENV_BIN}:{os.environ['PATH']}",
            "HOME": str(home),
            "LANG": "C.UTF-8",
            "TMPDIR": os.environ.get("TMPDIR", "/tmp"),
        }
        env |= variables(
            config,
            job,
            predefined
            | {"CI_PROJECT_DIR": str(checkout), "CI_JOB_NAME": name, "CI_JOB_STAGE": job["stage"]},
        )
        env |= settings or {}
        runs.append(run_job(name, job, env, checkout))
        if runs[-1].returncode != 0:
            break
    return runs


def tag_variables(registry_host: str, image: str, tag: str) -> dict[str, str]:
    """GitLab's predefined variables of a tag pipeline (the ones the template reads, and
    the ones that tell a CI tag build)."""
    return {
        "CI": "true",
        "GITLAB_CI": "true",
        "CI_SERVER": "yes",
        "CI_PIPELINE_SOURCE": "push",
        "CI_DEFAULT_BRANCH": "main",
        "CI_COMMIT_TAG": tag,
        "CI_COMMIT_REF_NAME": tag,
        "CI_PROJECT_PATH": image.split("/", 1)[1],
        "CI_REGISTRY": registry_host,
        "CI_REGISTRY_IMAGE": image,
        "CI_REGISTRY_USER": USER,
        "CI_REGISTRY_PASSWORD": PASSWORD,
        "CI_JOB_TOKEN": PASSWORD,
    }


def branch_variables(branch: str) -> dict[str, str]:
    return {
        "CI": "true",
        "GITLAB_CI": "true",
        "CI_PIPELINE_SOURCE": "push",
        "CI_DEFAULT_BRANCH": "main",
        "CI_COMMIT_BRANCH": branch,
        "CI_COMMIT_REF_NAME": branch,
        "CI_REGISTRY": "registry.example.com",
        "CI_REGISTRY_IMAGE": "registry.example.com/group/project",
    }


def log(runs: list[JobRun]) -> str:
    return "\n".join(
        f"--- {r.name} (exit {r.returncode}, {r.seconds:.1f}s)\n{r.output}" for r in runs
    )


def manifest_annotations(server: DistributionRegistry, repository: str, tag: str) -> dict[str, str]:
    request = urllib.request.Request(
        f"http://{server.host}/v2/{repository}/manifests/{tag}",
        headers={
            "Accept": "application/vnd.oci.image.manifest.v1+json",
            "Authorization": "Basic " + base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode(),
        },
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        annotations: dict[str, str] = json.load(response)["annotations"]
    return annotations


# -- the template as a file ------------------------------------------------------------------


def check_jsonschema() -> str:
    found = VENV_BIN / "check-jsonschema"
    if not found.exists():
        pytest.fail("check-jsonschema is a dev dependency: pip install check-jsonschema")
    return str(found)


def example_project(tmp_path: Path) -> Path:
    project = tmp_path / "project"
    (project / "ci" / "gitlab").mkdir(parents=True)
    shutil.copy(TEMPLATE, project / "ci" / "gitlab" / TEMPLATE.name)
    (project / ".gitlab-ci.yml").write_text(EXAMPLE)
    return project


def test_the_template_passes_gitlabs_schema(tmp_path: Path) -> None:
    project = example_project(tmp_path)
    config = load(project / ".gitlab-ci.yml", project)
    merged = tmp_path / "merged.gitlab-ci.yml"  # what GitLab runs once it has resolved it
    merged.write_text(
        yaml.safe_dump(
            {"stages": config["stages"], "variables": config["variables"]} | jobs(config),
            sort_keys=False,
        )
    )
    # The template has !reference tags: check-jsonschema's gitlab-ci transform reads them.
    done = subprocess.run(
        [
            check_jsonschema(),
            "--builtin-schema",
            "vendor.gitlab-ci",
            "--data-transform",
            "gitlab-ci",
            str(TEMPLATE),
            str(project / ".gitlab-ci.yml"),
            str(merged),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    broken = tmp_path / "broken.yml"  # the schema does catch a misspelt keyword
    broken.write_text(TEMPLATE.read_text().replace("  rules:\n", "  rulez:\n", 1))
    done = subprocess.run(
        [
            check_jsonschema(),
            "--builtin-schema",
            "vendor.gitlab-ci",
            "--data-transform",
            "gitlab-ci",
            str(broken),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 1 and "'rulez' was unexpected" in done.stdout


def test_every_job_keeps_its_reports_and_installs_ork_first() -> None:
    config = load(TEMPLATE, ROOT)
    assert config["stages"] == [
        "validate",
        "simulate",
        "plan",
        "template",
        "generate",
        "e2e",
        "registry",
    ]
    for name, job in jobs(config).items():
        assert job["artifacts"]["when"] == "always", name
        assert job["artifacts"]["paths"] == ["ork-reports/"], name
        assert job["before_script"][0] == config[".ork-install"]["before_script"][0], name
        assert job["before_script"][-1] == 'cd "$ORK_WORKING_DIRECTORY"', name
        assert (
            job["image"] == "$ORK_IMAGE" and config["variables"]["ORK_IMAGE"] == "python:3.11-slim"
        )
        assert any("ork login" in line for line in job["before_script"]), name
    assert jobs(config)["ork-e2e"]["artifacts"]["reports"] == {"junit": "ork-reports/e2e.xml"}


@pytest.mark.parametrize(
    ("predefined", "overrides", "expected"),
    [
        (branch_variables("feature"), {}, ["ork-validate", "ork-simulate"]),
        (branch_variables("main"), {}, ["ork-validate", "ork-simulate"]),
        (
            branch_variables("main"),
            {"ORK_PUSH_ON_DEFAULT_BRANCH": "true"},
            ["ork-validate", "ork-simulate", "ork-push"],
        ),
        (
            branch_variables("feature"),
            {"ORK_PUSH_ON_DEFAULT_BRANCH": "true"},
            ["ork-validate", "ork-simulate"],
        ),
        (
            tag_variables("r.example.com", "r.example.com/g/p", "v1.0.0"),
            {},
            ["ork-validate", "ork-simulate", "ork-push"],
        ),
        (
            tag_variables("r.example.com", "r.example.com/g/p", "v1.0.0"),
            {
                "ORK_PUSH": "false",
                "ORK_VALIDATE": "false",
                "ORK_SIMULATE": "",
                "ORK_PLAN": "true",
                "ORK_E2E": "e2e.yaml",
            },
            ["ork-plan", "ork-e2e"],
        ),
        (
            tag_variables("r.example.com", "r.example.com/g/p", "v1.0.0"),
            {"ORK_TEMPLATE": "true", "ORK_GENERATE_BUNDLE": "katalog.yaml"},
            ["ork-validate", "ork-simulate", "ork-template", "ork-generate", "ork-push"],
        ),
    ],
)
def test_rules_run_the_enabled_steps_and_push_on_tags(
    predefined: dict[str, str], overrides: dict[str, str], expected: list[str]
) -> None:
    config = load(TEMPLATE, ROOT)
    config["variables"] |= overrides  # as a project's variables: would
    assert pipeline(config, predefined) == expected


def test_install_asks_for_ork_install_or_uses_the_images_ork(tmp_path: Path) -> None:
    install = jobs(
        load(TEMPLATE, ROOT) | {"probe": {"extends": ".ork-install", "script": ["true"]}}
    )["probe"]
    env = {"PATH": f"{VENV_BIN}:{os.environ['PATH']}", "HOME": str(tmp_path)}
    placeholder = load(TEMPLATE, ROOT)["variables"]["ORK_INSTALL"]
    tmp_path.joinpath("project").mkdir()
    run = run_job("probe", install, env | {"ORK_INSTALL": placeholder}, tmp_path / "project")
    assert run.returncode == 1
    assert "Set ORK_INSTALL: see the top of orkestra.gitlab-ci.yml" in run.output
    run = run_job("probe", install, env | {"ORK_INSTALL": ""}, tmp_path / "project")
    assert run.returncode == 0 and "ork v" in run.output, run.output


# -- a tag pipeline against the local registry ---------------------------------------------


def gitlab_project(
    tmp_path: Path, pack: Path, server: DistributionRegistry, monkeypatch: pytest.MonkeyPatch
) -> tuple[Path, str]:
    """The example project with the pack's 02-katalog-api importing its motif from the
    registry, the motifs published there first (as the pack's README asks)."""
    image = f"{server.host}/group/p{uuid.uuid4().hex[:10]}"  # CI_REGISTRY_IMAGE
    monkeypatch.setenv("ORK_REGISTRY", f"{image}/katalogs")
    monkeypatch.setenv("ORK_MOTIFS_REGISTRY", f"{image}/motifs")
    monkeypatch.setenv("ORK_REGISTRY_USERNAME", USER)
    monkeypatch.setenv("ORK_REGISTRY_PASSWORD", PASSWORD)
    push_motifs(pack)
    use_published_motifs(pack / "02-katalog-api" / "katalog.yaml")
    project = example_project(tmp_path)
    shutil.copytree(pack / "02-katalog-api", project / "02-katalog-api")
    # How ork gets into a job: here the venv's ork, on PATH, instead of a pip install of
    # ORK_INSTALL (no network for pip; the install lines are run above with an empty and
    # a placeholder ORK_INSTALL), overridden the way the template says a project does it.
    with (project / ".gitlab-ci.yml").open("a") as example:
        example.write("\n.ork-install:\n  before_script: [ork version]\n")
    return project, image


PIPELINE = [
    "ork-validate",
    "ork-simulate",
    "ork-plan",
    "ork-template",
    "ork-generate",
    "ork-e2e",
    "ork-push",
]
REPORTS = {
    "ork-validate": {"validate.md"},
    "ork-simulate": {"simulate.md"},
    "ork-plan": {"plan.md", "plan.txt"},
    "ork-template": {"template.yaml", "template.json"},
    "ork-generate": {"bundle.yaml"},
    "ork-e2e": {"e2e.xml", "e2e.md"},
    "ork-push": {"push.md"},
}


@pytest.mark.integration
def test_a_tag_pipeline_publishes_02_with_runner_gitlab_ci(
    tmp_path: Path,
    pack_copy: Path,
    distribution_basic: DistributionRegistry,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    project, image = gitlab_project(tmp_path, pack_copy, distribution_basic, monkeypatch)
    runs = run_pipeline(
        project, tag_variables(distribution_basic.host, image, "v1.0.0"), tmp_path / "builds"
    )
    assert [(r.name, r.returncode) for r in runs] == [(n, 0) for n in PIPELINE], log(runs)
    for run in runs:
        assert {Path(name).name for name in run.artifacts} == REPORTS[run.name], run.name
        assert all(name.startswith("ork-reports/") for name in run.artifacts)
        assert "Login Succeeded" in run.output, run.output
    by_name = {r.name: r for r in runs}
    assert {name: list(r.reports) for name, r in by_name.items() if r.reports} == {
        "ork-e2e": ["junit"]
    }
    junit = ET.parse(by_name["ork-e2e"].reports["junit"]).getroot()
    suites = [junit] if junit.tag == "testsuite" else list(junit)
    assert sum(int(s.get("tests", "0")) for s in suites) >= 4
    assert sum(int(s.get("failures", "0")) + int(s.get("errors", "0")) for s in suites) == 0
    push_md = by_name["ork-push"].artifacts["ork-reports/push.md"].read_text()
    assert "webapp-operator" in push_md and "v1.0.0" in push_md
    assert "System RBAC" in by_name["ork-validate"].output  # ORK_VALIDATE_DEPTH: full

    annotations = manifest_annotations(
        distribution_basic, f"{image.split('/', 1)[1]}/katalogs/webapp-operator", "v1.0.0"
    )
    assert annotations["io.orkestra.pattern.version"] == "v1.0.0"
    assert (
        annotations["io.orkestra.simulate.status"],
        annotations["io.orkestra.e2e.status"],
        annotations["io.orkestra.e2e.runner"],
    ) == ("passed", "passed", "gitlab-ci")


@pytest.mark.integration
def test_a_tag_that_is_not_the_version_fails_the_registry_job(
    tmp_path: Path,
    pack_copy: Path,
    distribution_basic: DistributionRegistry,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    project, image = gitlab_project(tmp_path, pack_copy, distribution_basic, monkeypatch)
    runs = run_pipeline(
        project, tag_variables(distribution_basic.host, image, "v9.9.9"), tmp_path / "builds"
    )
    assert [(r.name, r.returncode) for r in runs] == [(n, 0) for n in PIPELINE[:-1]] + [
        ("ork-push", 1)
    ], log(runs)
    push = runs[-1]
    assert 'git tag "v9.9.9" does not match metadata.version "v1.0.0"' in push.output
    assert "ork-reports/push.md" in push.artifacts  # when: always
    assert "v9.9.9" in push.artifacts["ork-reports/push.md"].read_text()
    forced = run_pipeline(
        project,
        tag_variables(distribution_basic.host, image, "v9.9.9"),
        tmp_path / "forced",
        settings={"ORK_PUSH_FORCE": "true"},
        only={"ork-push"},
    )
    assert [(r.name, r.returncode) for r in forced] == [("ork-push", 1)], log(forced)
    assert "--force does not override this in CI" in forced[0].output
    with pytest.raises(urllib.error.HTTPError) as missing:
        manifest_annotations(
            distribution_basic, f"{image.split('/', 1)[1]}/katalogs/webapp-operator", "v9.9.9"
        )
    assert missing.value.code == 404

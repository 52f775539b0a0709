"""CI integration: GitHub annotations at the YAML line, Markdown job summaries for every
gate, and the tag rule of tag builds."""

from __future__ import annotations

from pathlib import Path

import pytest

from orkestra.cli.ci import command, workspace_path
from orkestra.model.errors import Problem
from tests.conftest import run, use_published_motifs
from tests.gates.test_push import push_motifs


def test_a_problem_becomes_an_escaped_workflow_command(tmp_path: Path) -> None:
    (tmp_path / "dir").mkdir()
    (tmp_path / "dir" / "k.yaml").write_text("")
    problem = Problem(
        file=str(tmp_path / "dir" / "k.yaml"),
        line=3,
        column=5,
        path=("spec", "crds"),
        message="bad: 100%\nreally",
        hint="fix, then retry",
    )
    env = {"GITHUB_WORKSPACE": str(tmp_path)}
    assert command(problem, "ork validate", env) == (
        "::error file=dir/k.yaml,line=3,col=5,title=ork validate::spec.crds: bad: 100%25"
        "%0Areally%0Ahint: fix, then retry"
    )
    warning = Problem(
        file="elsewhere.yaml", line=0, column=0, path=(), message="odd", severity="warning"
    )
    assert command(warning, "t,x:y", env) == "::warning file=elsewhere.yaml,title=t%2Cx%3Ay::odd"
    assert workspace_path("/nowhere/x.yaml", env) == "/nowhere/x.yaml"


@pytest.fixture
def github(monkeypatch: pytest.MonkeyPatch, pack_copy: Path) -> Path:
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    monkeypatch.setenv("GITHUB_WORKSPACE", str(pack_copy.parent))
    monkeypatch.chdir(pack_copy)
    return pack_copy


def test_validate_annotates_and_summarises(
    github: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    katalog = github / "02-katalog-api" / "katalog.yaml"
    katalog.write_text(katalog.read_text().replace("plural: webapps", "plural: Web_Apps"))
    summary = github / "summary.md"
    code, _, err = run(
        capsys, "validate", "-f", "02-katalog-api/katalog.yaml", "--report-file", str(summary)
    )
    assert code == 1
    [annotation] = [line for line in err.splitlines() if line.startswith("::error")]
    line = next(
        i for i, text in enumerate(katalog.read_text().splitlines(), 1) if "Web_Apps" in text
    )
    assert annotation.startswith(
        f"::error file=registry-guide/02-katalog-api/katalog.yaml,line={line},"
    )
    text = summary.read_text()
    assert text.startswith("## ork validate: FAIL\n")
    assert "| ✗ | 02-katalog-api/katalog.yaml | | | | 1 error |" in text  # it did not load
    assert f"| ✗ | 02-katalog-api/katalog.yaml:{line} |" in text


def test_a_failing_simulate_points_at_its_assertion(
    github: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    summary = github / "summary.md"
    code, _, err = run(
        capsys, "simulate", "-f", "03-katalog-cache/simulate.yaml", "--report-file", str(summary)
    )
    assert code == 1
    lines = (github / "03-katalog-cache" / "simulate.yaml").read_text().splitlines()
    name = next(i for i, text in enumerate(lines) if "name: my-cache-config" in text)
    line = next(i for i in range(name, 0, -1) if lines[i].lstrip().startswith("- ")) + 1
    assert f"::error file=registry-guide/03-katalog-cache/simulate.yaml,line={line}," in err
    assert "title=ork simulate::spec.expect.ops[" in err
    text = summary.read_text()
    assert text.startswith("## ork simulate: FAIL\n")
    assert (
        f"| 03-katalog-cache/simulate.yaml:{line} | simulate cache-sim: "
        "configmaps/my-cache-config not found (expected cycle 1 create) |" in text
    )


def test_summaries_append_and_plan_marks_what_is_unproven(
    github: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    summary = github / "summary.md"
    summary.write_text("# Earlier step\n")
    assert (
        run(
            capsys, "simulate", "-f", "02-katalog-api/simulate.yaml", "--report-file", str(summary)
        )[0]
        == 0
    )
    assert run(capsys, "plan", "02-katalog-api", "--report-file", str(summary))[0] == 0
    text = summary.read_text()
    assert text.startswith("# Earlier step\n## ork simulate: PASS\n")
    assert "## ork plan: webapp-operator v1.0.0" in text
    assert (
        "| webapp | onReconcile | Ingress | {{ .metadata.name }}-ingress | namespaced | "
        "⚠ not in the author's proof |" in text
    )


def test_a_tag_build_of_another_version_is_refused_even_with_force(
    github: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    push_motifs(github)
    use_published_motifs(github / "02-katalog-api" / "katalog.yaml")
    monkeypatch.setenv("GITHUB_REF_TYPE", "tag")
    monkeypatch.setenv("GITHUB_REF_NAME", "v1.0.1")
    summary = github / "summary.md"
    code, _, err = run(capsys, "push", "--force", "02-katalog-api", "--report-file", str(summary))
    assert code == 1
    assert (
        'git tag "v1.0.1" does not match metadata.version "v1.0.0" of '
        "02-katalog-api/katalog.yaml" in err
    )
    assert "::error file=registry-guide/02-katalog-api/katalog.yaml,line=" in err
    assert summary.read_text().startswith("## ork push: blocked (02-katalog-api)\n")
    assert run(capsys, "inspect", "webapp-operator:v1.0.0")[0] == 1  # nothing was pushed
    monkeypatch.setenv("GITHUB_REF_NAME", "1.0.0")  # the same version, without its v
    code, _, err = run(capsys, "push", "--no-e2e", "02-katalog-api", "--report-file", str(summary))
    assert code == 0, err
    text = summary.read_text()
    assert "## ork push: pushed oci://local/katalogs/webapp-operator:v1.0.0" in text
    assert "| Simulate | ✓ passed | 2 |" in text and "| E2E | ⊘ skipped |" in text
    monkeypatch.setenv("GITHUB_REF_TYPE", "branch")  # branch builds are not affected
    monkeypatch.setenv("GITHUB_REF_NAME", "main")
    assert run(capsys, "push", "--force", "02-katalog-api")[0] == 0


def test_gitlab_tag_builds_follow_the_same_rule(
    pack_copy: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("CI_COMMIT_TAG", "v2.0.0")
    code, _, err = run(capsys, "push", str(pack_copy / "01-motifs" / "web-service"))
    assert code == 1 and 'git tag "v2.0.0" does not match metadata.version "v1.0.0"' in err
    assert "::error" not in err  # annotations are GitHub's

"""``ork e2e`` through the entry point: --dry-run, file discovery, usage errors (exit 2),
bad files (exit 1), ``ork e2e init``, and real runs on the embedded API server."""

from __future__ import annotations

import json
import shutil
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest
import yaml

from orkestra.cli import main
from orkestra.e2e.targets import KindTarget

EMBEDDED_LABEL = "embedded API server (no kubelet)"
PACK_E2E = [
    "02-katalog-api/e2e.yaml",
    "04-katalog-platform/e2e.yaml",
    "10-hooks-katalog/e2e.yaml",
    "11-typed-komposer/webapp-operator-v2.0.0/e2e.yaml",
    "12-ork-action/database-operator/e2e.yaml",
    "12-ork-action/webapp-operator/e2e.yaml",
    "official/deployment-stack/e2e.yaml",
    "official/kafka/e2e.yaml",
    "official/mongodb/e2e.yaml",
    "official/mysql/e2e.yaml",
    "official/postgres/e2e.yaml",
    "official/rabbitmq/e2e.yaml",
    "official/redis/e2e.yaml",
]


@pytest.fixture
def api(pack_copy: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """02-katalog-api of a private pack copy, as the current directory."""
    monkeypatch.chdir(pack_copy / "02-katalog-api")
    return pack_copy / "02-katalog-api"


@pytest.fixture
def no_cluster(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fail the test if anything would start a suite on a cluster."""

    def refuse(*_: Any, **__: Any) -> None:
        raise AssertionError("a dry run started a suite")

    monkeypatch.setattr("orkestra.cli.e2e.run", refuse)


def listed(out: str) -> list[str]:
    """The files a text dry run listed."""
    return [line.split(": ", 1)[0].removeprefix("✓ ") for line in out.splitlines()]


# -- dry runs -----------------------------------------------------------------------------


@pytest.mark.usefixtures("no_cluster")
def test_dry_run_checks_the_file_here(api: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["e2e", "--dry-run"]) == 0
    captured = capsys.readouterr()
    assert captured.out == "✓ e2e.yaml: webapp-e2e, 5 expectation(s)\n"
    assert captured.err == ""
    # The same file named three ways.
    for argv in (
        ["e2e", "e2e.yaml", "--dry-run"],
        ["e2e", "-f", "e2e.yaml", "--dry-run"],
        ["e2e", "run", ".", "--dry-run"],
    ):
        assert main(argv) == 0
        assert capsys.readouterr().out == "✓ e2e.yaml: webapp-e2e, 5 expectation(s)\n"


@pytest.mark.usefixtures("no_cluster")
def test_dry_run_below_a_directory_lists_and_skips(
    pack_copy: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(pack_copy)
    assert main(["e2e", "./...", "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert listed(out) == PACK_E2E
    assert (
        out.splitlines()[1] == "✓ 04-katalog-platform/e2e.yaml: platform-app-e2e, 4 expectation(s)"
    )
    assert main(["e2e", "./...", "--dry-run", "--skip", "official"]) == 0
    assert listed(capsys.readouterr().out) == PACK_E2E[:6]
    assert (
        main(
            [
                "e2e",
                "./...",
                "--dry-run",
                "--skip",
                "official",
                "--skip",
                "04-katalog-platform",
                "--skip",
                "1",
            ]
        )
        == 0
    )
    assert listed(capsys.readouterr().out) == PACK_E2E[:1]
    monkeypatch.chdir(pack_copy.parent)
    assert main(["e2e", "registry-guide/official/...", "--dry-run"]) == 0
    assert listed(capsys.readouterr().out) == [f"registry-guide/{p}" for p in PACK_E2E[6:]]


@pytest.mark.usefixtures("no_cluster")
def test_skip_matches_a_path_containing_the_text(
    pack_copy: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(pack_copy)
    assert main(["e2e", "./...", "--dry-run", "--skip", "official/redis"]) == 0
    assert "official/redis/e2e.yaml" not in listed(capsys.readouterr().out)


@pytest.mark.usefixtures("no_cluster")
def test_dry_run_json(
    pack_copy: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(pack_copy)
    (pack_copy / "all.yaml").write_text(
        "apiVersion: orkestra.orkspace.io/v1\nkind: E2E\nmetadata: {name: all}\n"
        "imports: [./02-katalog-api/e2e.yaml, {path: ./04-katalog-platform/e2e.yaml, "
        "freshCluster: true}]\n"
    )
    assert main(["e2e", "-f", "all.yaml", "--dry-run", "-o", "json"]) == 0
    assert json.loads(capsys.readouterr().out) == {
        "files": [
            {
                "file": "all.yaml",
                "name": "all",
                "expectations": 0,
                "imports": ["02-katalog-api/e2e.yaml", "04-katalog-platform/e2e.yaml"],
            }
        ]
    }
    assert main(["e2e", "-f", "all.yaml", "--dry-run"]) == 0
    assert capsys.readouterr().out == "✓ all.yaml: all, 0 expectation(s), 2 import(s)\n"
    assert main(["e2e", "./...", "--dry-run", "-o", "json", "--skip", "official"]) == 0
    files = json.loads(capsys.readouterr().out)["files"]
    assert [(f["file"], f["name"], f["expectations"]) for f in files] == [
        ("02-katalog-api/e2e.yaml", "webapp-e2e", 5),
        ("04-katalog-platform/e2e.yaml", "platform-app-e2e", 4),
        ("10-hooks-katalog/e2e.yaml", "database-e2e", 5),
        ("11-typed-komposer/webapp-operator-v2.0.0/e2e.yaml", "webapp-v2-e2e", 6),
        ("12-ork-action/database-operator/e2e.yaml", "database-e2e", 5),
        ("12-ork-action/webapp-operator/e2e.yaml", "webapp-e2e", 5),
    ]


# -- refusals -----------------------------------------------------------------------------

USAGE = [
    (
        ["--use-current", "--cluster-kind", "kind"],
        "--use-current and --cluster run on an existing cluster; drop --cluster-kind",
    ),
    (["--cluster", "x", "--cluster-kind", "embedded"], "drop --cluster-kind"),
    (["--use-current", "--cluster", "x"], "give --use-current or --cluster CONTEXT, not both"),
    (["e2e.yaml", "-f", "e2e.yaml"], "give a file or -f FILE, not both"),
    (["--poll", "5"], "Invalid value for '--poll': invalid duration '5'"),
    (["--wait", "soon"], "Invalid value for '--wait': invalid duration 'soon'"),
    (["--cluster-kind", "docker"], "Invalid value for '--cluster-kind'"),
    (["--workers", "0"], "Invalid value for '--workers'"),
]


@pytest.mark.usefixtures("no_cluster")
@pytest.mark.parametrize(("argv", "message"), USAGE, ids=[" ".join(a) for a, _ in USAGE])
def test_usage_errors_exit_2(
    api: Path, capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    assert main(["e2e", *argv, "--dry-run"]) == 2
    assert message in capsys.readouterr().err


@pytest.mark.usefixtures("no_cluster")
def test_no_e2e_file_is_a_usage_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(["e2e"]) == 2
    assert (
        capsys.readouterr().err == "e2e.yaml not found; name the file with -f FILE, or "
        "run 'ork e2e init' to write one\n"
    )
    assert main(["e2e", "-f", "other.yaml", "--dry-run"]) == 2
    assert capsys.readouterr().err.startswith("other.yaml not found")
    assert main(["e2e", "./...", "--dry-run"]) == 2
    assert capsys.readouterr().err == "no e2e.yaml below .\n"


@pytest.mark.usefixtures("no_cluster")
def test_a_bad_file_exits_1_naming_file_and_line(
    api: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = (api / "e2e.yaml").read_text()
    (api / "e2e.yaml").write_text(text.replace("timeout: 30s", "timeout: 5 minutes", 1))
    line = text.splitlines().index("      timeout: 30s") + 1
    assert main(["e2e", "--dry-run"]) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.startswith(
        f'e2e.yaml:{line}:16: error: spec.expect[0].timeout: "5 minutes" is not a duration'
    )
    assert main(["e2e"]) == 1  # the file is read before any cluster is chosen
    assert "e2e.yaml:" in capsys.readouterr().err


@pytest.mark.usefixtures("no_cluster")
def test_a_bad_file_below_a_directory_is_named(
    pack_copy: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(pack_copy)
    target = pack_copy / "04-katalog-platform" / "e2e.yaml"
    target.write_text(target.read_text().replace("cr: ./cr.yaml", "cr: ./nope.yaml"))
    assert main(["e2e", "./...", "--dry-run"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("04-katalog-platform/e2e.yaml:")
    assert 'spec.cr: file "./nope.yaml" does not exist' in err
    assert main(["e2e", "./...", "--dry-run", "--skip", "04-katalog-platform"]) == 0


# -- ork e2e init -------------------------------------------------------------------------


def test_init_dry_run_prints_yaml(api: Path, capsys: pytest.CaptureFixture[str]) -> None:
    before = (api / "e2e.yaml").read_text()
    assert main(["e2e", "init", "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("# Generated by `ork e2e init`")
    document = yaml.safe_load(out)
    assert (document["kind"], document["spec"]["katalog"], document["spec"]["cr"]) == (
        "E2E",
        "./katalog.yaml",
        "./cr.yaml",
    )
    assert document["spec"]["expect"][0]["name"] == "WebApp created"
    assert (api / "e2e.yaml").read_text() == before  # printed, not written


def test_init_refuses_to_overwrite_without_force(
    api: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (api / "e2e.yaml").unlink()
    assert main(["e2e", "init"]) == 0
    assert capsys.readouterr().out.startswith("✓ Generated e2e.yaml\n")
    (api / "e2e.yaml").write_text((api / "e2e.yaml").read_text() + "# reviewed\n")
    assert main(["e2e", "init"]) == 1
    err = capsys.readouterr().err
    assert "e2e.yaml already exists" in err and "--force" in err
    assert (api / "e2e.yaml").read_text().endswith("# reviewed\n")
    assert main(["e2e", "init", "--force"]) == 0
    assert not (api / "e2e.yaml").read_text().endswith("# reviewed\n")
    capsys.readouterr()
    assert main(["e2e", "--dry-run"]) == 0  # what init writes is a valid suite
    assert capsys.readouterr().out.startswith("✓ e2e.yaml: ")


# -- real runs on the embedded API server -------------------------------------------------

needs_kubectl = pytest.mark.skipif(
    shutil.which("kubectl") is None, reason="e2e drives the cluster with kubectl"
)


@pytest.fixture
def without_kind(monkeypatch: pytest.MonkeyPatch) -> None:
    """As on a machine without docker or kind: the file's `provider: kind` falls back to
    the embedded API server (the same here and where kind exists)."""
    monkeypatch.setattr(KindTarget, "available", staticmethod(lambda: False))


@pytest.mark.integration
@needs_kubectl
@pytest.mark.usefixtures("without_kind")
def test_a_real_run_writes_json_junit_and_markdown(
    api: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    junit, summary = tmp_path / "junit.xml", tmp_path / "summary.md"
    summary.write_text("# Earlier step\n")
    assert (
        main(
            [
                "e2e",
                "-f",
                str(api / "e2e.yaml"),
                "--poll",
                "200ms",
                "--junit",
                str(junit),
                "--report-file",
                str(summary),
                "-o",
                "json",
            ]
        )
        == 0
    )
    report = json.loads(capsys.readouterr().out)
    assert report["passed"] is True and report["total"] == 5
    (suite,) = report["suites"]
    assert (suite["name"], suite["file"], suite["cluster"], suite["clusterLabel"]) == (
        "webapp-e2e",
        "e2e.yaml",
        "embedded",
        EMBEDDED_LABEL,
    )
    assert suite["leftovers"] == [] and suite["error"] == ""
    assert [e["passed"] for e in suite["expectations"]] == [True] * 5

    root = ET.parse(junit).getroot()
    cases = root.findall("./testsuite/testcase")
    assert [c.get("name") for c in cases] == [
        "WebApp created",
        "Deployment ready",
        "Service routes to the pods",
        "WebApp reports Ready",
        "Cleanup",
    ]
    assert (root.get("tests"), root.get("failures"), root.get("errors")) == ("5", "0", "0")

    markdown = summary.read_text()
    assert markdown.startswith("# Earlier step\n## ork e2e: PASS\n")  # appended
    assert "| | Expectation | After | Time | Details |" in markdown
    assert "| ✓ | Deployment ready | cr-applied |" in markdown
    assert f"Ran on **{EMBEDDED_LABEL}**" in markdown


@pytest.mark.integration
@needs_kubectl
@pytest.mark.usefixtures("without_kind")
def test_a_failing_run_exits_1(api: Path, capsys: pytest.CaptureFixture[str]) -> None:
    text = (api / "e2e.yaml").read_text()
    failing = text.replace(
        "      timeout: 30s\n      resources:\n        - {kind: WebApp, name: my-webapp, ",
        "      timeout: 1s\n      resources:\n        - {kind: WebApp, name: not-my-webapp, ",
        1,
    )
    assert failing != text
    (api / "failing.yaml").write_text(failing)
    assert main(["e2e", "-f", "failing.yaml", "--poll", "200ms"]) == 1
    out = capsys.readouterr().out
    assert "Running E2E: webapp-e2e  (embedded API server (no kubelet))" in out
    assert "✗  WebApp created" in out and "TIMEOUT after 1s" in out
    assert "WebApp not-my-webapp not found in default" in out
    assert "✓  Deployment ready" in out  # the others still run
    assert out.rstrip().splitlines()[-1].startswith("FAIL  webapp-e2e  (")
    assert out.rstrip().endswith(f"· {EMBEDDED_LABEL}")


@pytest.mark.usefixtures("no_cluster")
def test_a_templated_duration_that_is_none_is_a_clean_error(
    api: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A template passes the schema's duration check (other kinds render templates); an
    e2e file renders none, so it is a problem with its position: exit 1, not the boundary's
    'a bug in ork'."""
    text = (api / "e2e.yaml").read_text()
    (api / "e2e.yaml").write_text(text.replace("timeout: 30s", 'timeout: "{{ .soon }}"', 1))
    assert main(["e2e", "--dry-run"]) == 1
    err = capsys.readouterr().err
    assert err.startswith(
        'e2e.yaml:18:16: error: spec.expect[0].timeout: "{{ .soon }}" is not a duration\n'
    )
    assert "templates are not rendered in an e2e file" in err and "bug in ork" not in err

"""ork simulate: the pack's stories, the report format, assertion semantics, init,
discovery, and the promise that a simulation touches neither network nor disk."""

from __future__ import annotations

import json
import os
import socket
from pathlib import Path
from typing import Any

import pytest

from orkestra.cli import main
from orkestra.simulate.assertions import check_absent, check_op
from orkestra.simulate.runner import Cycle, Op, steady_cycle
from tests.conftest import WriteFiles


@pytest.fixture
def pack(tmp_path: Path) -> Path:
    assert main(["init", "--pack", "registry-guide", "-d", str(tmp_path / "rg")]) == 0
    return tmp_path / "rg"


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    code = main(["simulate", *args])
    return code, capsys.readouterr().out


def test_02_passes_with_the_cycle_listing(
    pack: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(pack / "02-katalog-api")
    code, out = run(capsys)
    assert code == 0
    assert out == (
        "Simulating webapp/my-webapp\n"
        "  Cycle 1:\n"
        "    + deployments/my-webapp\n"
        "    + services/my-webapp-svc\n"
        "    ~ status/my-webapp\n"
        "  Cycle 2:\n"
        "    ~ status/my-webapp\n"
        "\n"
        "  ✓ steady at cycle 3\n"
        "  ✓ no errors\n"
        "\n"
        "  2/2 assertions passed\n"
        "  PASS\n"
    )


def test_03_fails_exactly_as_the_seed_shows(
    pack: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(pack / "03-katalog-cache")
    code, out = run(capsys)
    assert code == 1
    assert out.endswith(
        "    ~ status/my-cache\n"
        "\n"
        "  ✗ configmaps/my-cache-config not found (expected cycle 1 create)\n"
        "\n"
        "  3/4 assertions passed, 1 failed\n"
        "  FAIL\n"
    )
    assert (
        "  Cycle 1:\n    + statefulsets/my-cache\n    + services/my-cache-headless\n"
        "    + services/my-cache-svc\n    ~ status/my-cache\n" in out
    )


def test_04_denied_creates_nothing(
    pack: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(pack / "04-katalog-platform")
    code, out = run(capsys, "-f", "simulate-denied.yaml")
    assert code == 0
    assert (
        '    ✗ validation denied: field "spec.image": image must be pulled from the '
        'internal registry (ghcr.io/orkspace/) (got "docker.io/nginx:1.25")\n' in out
    )
    assert "+ " not in out
    code, out = run(capsys, "-f", "simulate-denied.yaml", "-o", "json")
    report = json.loads(out)
    creates = [op for c in report["runs"][0]["cycles"] for op in c["ops"] if op["verb"] == "create"]
    assert creates == [] and report["status"] == "passed"


def test_verbose_json_and_debug_ops(
    pack: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(pack / "02-katalog-api")
    _, out = run(capsys, "-v", "--debug-ops")
    assert "  ✓ create deployments/my-webapp (cycle 1)\n" in out
    assert "  ✓ create services/my-webapp-svc (cycle 1)\n" in out
    assert "[debug-ops] cycle=1   verb=get" in out
    _, out = run(capsys, "-o", "json")
    report = json.loads(out)
    assert (report["status"], report["assertions"]) == ("passed", 2)
    assert report["runs"][0]["steadyAt"] == 3


def test_op_print_mode_and_file_kinds(
    pack: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(pack / "02-katalog-api")
    code, out = run(capsys, "-f", "katalog.yaml", "--cr", "cr-with-ingress.yaml", "--cycles", "4")
    assert code == 0 and "+ ingresses/my-webapp-ingress" in out
    assert "Steady state at cycle 3" in out
    code = main(["simulate", "-f", "../04-katalog-platform/e2e.yaml"])
    assert code == 1
    assert "is an E2E file — use 'ork e2e'" in capsys.readouterr().err
    assert main(["simulate", "./nope"]) == 2


def test_discovery_runs_every_simulate_file(
    pack: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(pack)
    code = main(["simulate", "./..."])
    captured = capsys.readouterr()
    assert code == 1
    lines = captured.out.splitlines()
    assert lines[0].startswith("  02-katalog-api/simulate.yaml") and "✓ passed" in lines[0]
    assert "03-katalog-cache/no-assertions/simulate.yaml" in lines[1]
    assert "03-katalog-cache/simulate.yaml" in lines[2] and "✗ failed" in lines[2]
    # 03's no-assertions example, 06 to 09, 11 and 12's webapp-operator import published
    # patterns, which this fresh machine does not have yet
    assert "  20 files: 11 passed, 1 failed, 8 could not run · 12 CRs · " in captured.out
    assert "    ork simulate -f 03-katalog-cache/simulate.yaml" in captured.err
    unpublished = [
        "--skip",
        "06-pattern-zoo",
        "--skip",
        "07-upgrade",
        "--skip",
        "08-bad-actor",
        "--skip",
        "09-deprecation",
        "--skip",
        "11-typed-komposer",
        "--skip",
        "12-ork-action/webapp-operator",
    ]
    assert main(["simulate", "./...", "--skip", "03-katalog-cache", *unpublished]) == 0


def test_init_scaffolds_a_passing_contract(
    pack: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(pack / "04-katalog-platform")
    assert main(["simulate", "init"]) == 1
    assert "simulate.yaml already exists — use --force to overwrite" in capsys.readouterr().err
    os.remove("simulate.yaml")
    assert main(["simulate", "init"]) == 0
    out = capsys.readouterr().out
    assert out == (
        "✓ Generated simulate.yaml\n  1 CRD(s), 2 op rule(s)\n  Run ork simulate to verify.\n"
    )
    text = Path("simulate.yaml").read_text()
    assert text.startswith("# Generated by `ork simulate init`")
    assert "    # absent:" in text
    assert main(["simulate"]) == 0
    assert main(["validate", "-f", "simulate.yaml"]) == 0
    assert main(["simulate", "init", "--dry-run", "--cr", "cr-denied.yaml"]) == 0


def test_simulation_uses_no_network_and_writes_nothing(
    pack: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def refuse(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("network access during a simulation")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    before = {p: p.stat().st_mtime_ns for p in pack.rglob("*")}
    monkeypatch.chdir(pack)
    main(["simulate", "./..."])
    after = {p: p.stat().st_mtime_ns for p in pack.rglob("*")}
    assert after == before


def test_no_cr_for_the_crd_and_crd_filter(
    write: WriteFiles, capsys: pytest.CaptureFixture[str]
) -> None:
    write(
        **{
            "katalog.yaml": """
        apiVersion: orkestra.orkspace.io/v1
        kind: Katalog
        metadata: {name: k}
        spec:
          crds:
            web:
              apiTypes: {group: g.io, version: v1, kind: Web, plural: webs}
              operatorBox:
                onReconcile:
                  configMaps: [{name: "{{ .metadata.name }}-cfg"}]
            job:
              apiTypes: {group: g.io, version: v1, kind: Job2, plural: job2s}
        """,
            "cr.yaml": """
        apiVersion: g.io/v1
        kind: Other
        metadata: {name: x}
        """,
        }
    )
    assert main(["simulate", "-f", "katalog.yaml", "--crd", "web"]) == 1
    assert 'no CR found for CRD "web" (kind: Web) in cr.yaml' in capsys.readouterr().err
    assert main(["simulate", "-f", "katalog.yaml", "--crd", "nope"]) == 1
    assert 'CRD "nope" not found; available: job, web' in capsys.readouterr().err


def test_multi_document_cr_files_and_per_crd_expectations(
    write: WriteFiles, capsys: pytest.CaptureFixture[str]
) -> None:
    write(
        **{
            "katalog.yaml": """
        apiVersion: orkestra.orkspace.io/v1
        kind: Katalog
        metadata: {name: k}
        spec:
          crds:
            web:
              apiTypes: {group: g.io, version: v1, kind: Web, plural: webs}
              validation:
                rules:
                  - {field: spec.host, operator: unique, message: host taken}
              operatorBox:
                onReconcile:
                  configMaps: [{name: "{{ .metadata.name }}-cfg"}]
            db:
              apiTypes: {group: g.io, version: v1, kind: Db, plural: dbs}
              operatorBox:
                onReconcile:
                  services: [{name: "{{ .metadata.name }}"}]
        """,
            "crs.yaml": """
        apiVersion: g.io/v1
        kind: Web
        metadata: {name: first}
        spec: {host: a}
        ---
        apiVersion: g.io/v1
        kind: Web
        metadata: {name: second}
        spec: {host: b}
        ---
        apiVersion: g.io/v1
        kind: Db
        metadata: {name: main}
        """,
            "ops.yaml": """
        ops:
          - {cycle: 1, verb: apply, resource: configmaps, name: first-cfg}
        """,
            "simulate.yaml": """
        apiVersion: orkestra.orkspace.io/v1
        kind: Simulate
        spec:
          katalog: ./katalog.yaml
          cr: ./crs.yaml
          cycles: 3
          expect:
            noErrors: true
            crds:
              web:
                ops:
                  - include: ./ops.yaml
                absent:
                  - {verb: create, resource: configmaps, name: second-cfg}
              db:
                steady: true
                ops:
                  - {cycle: 1, verb: create, resource: services, name: main, count: 1}
        """,
        }
    )
    code = main(["simulate"])
    out = capsys.readouterr().out
    assert code == 0, out
    assert "Simulating web/first" in out and "Simulating db/main" in out
    assert "2/2 assertions passed" in out and "1/1 assertions passed" in out
    # the second Web pre-exists: taking its host violates `unique`
    Path("crs.yaml").write_text(Path("crs.yaml").read_text().replace("host: b", "host: a"))
    assert main(["simulate"]) == 1
    out = capsys.readouterr().out
    assert 'validation denied: field "spec.host": host taken (got "a")' in out


@pytest.mark.parametrize(
    ("rule", "passed"),
    [
        ({"cycle": 1, "verb": "apply", "resource": "deployments", "name": "web"}, True),
        ({"cycle": 2, "verb": "apply", "resource": "deployments", "name": "web"}, True),
        ({"cycle": 2, "verb": "patch", "resource": "deployments"}, True),
        ({"cycle": 2, "verb": "create", "resource": "deployments"}, False),
        ({"cycle": 1, "resource": "status"}, True),
        ({"cycle": 1, "verb": "create", "resource": "services", "count": 2}, True),
        ({"cycle": 1, "verb": "create", "resource": "services", "count": 1}, False),
        ({"cycle": 1, "verb": "create", "resource": "services", "count": 0}, True),
        ({"cycle": 3, "verb": "delete", "resource": "services"}, False),
    ],
)
def test_op_rules(rule: dict[str, Any], passed: bool) -> None:
    ops = [
        Op(cycle=1, verb="create", resource="deployments", name="web", namespace="default"),
        Op(cycle=1, verb="create", resource="services", name="a", namespace="default"),
        Op(cycle=1, verb="create", resource="services", name="b", namespace="default"),
        Op(cycle=1, verb="update", resource="status", name="cr", namespace="default"),
        Op(cycle=2, verb="update", resource="deployments", name="web", namespace="default"),
    ]
    assert check_op(rule, ops).passed is passed


def test_absent_rules_cover_all_cycles_without_cycle() -> None:
    ops = [Op(cycle=3, verb="delete", resource="services", name="a", namespace="default")]
    assert not check_absent({"verb": "delete", "resource": "services"}, ops).passed
    assert check_absent({"cycle": 1, "verb": "delete", "resource": "services"}, ops).passed
    assert check_absent({"verb": "delete", "resource": "services", "name": "b"}, ops).passed
    line = check_absent({"resource": "services"}, ops).line
    assert line == ("✗ services/a: delete in cycle 3 (expected no any op of services in any cycle)")


def test_steady_is_the_first_empty_or_repeated_cycle() -> None:
    def cycle(n: int, *writes: tuple[str, str]) -> Cycle:
        return Cycle(
            number=n,
            ops=[Op(cycle=n, verb=v, resource=r, name="x", namespace="") for v, r in writes],
        )

    assert steady_cycle([cycle(1, ("create", "a")), cycle(2, ("update", "status")), cycle(3)]) == 3
    assert steady_cycle([cycle(1, ("update", "status")), cycle(2, ("update", "status"))]) == 2
    assert (
        steady_cycle(
            [cycle(1, ("create", "a")), cycle(2, ("update", "b")), cycle(3, ("update", "c"))]
        )
        is None
    )


def test_aggregators_run_their_imports_in_dependency_order(
    pack: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(pack)
    Path("suite.yaml").write_text(
        "apiVersion: orkestra.orkspace.io/v1\nkind: Simulate\nmetadata: {name: suite}\n"
        "imports: [./02-katalog-api/simulate.yaml, ./04-katalog-platform/simulate.yaml]\n"
    )
    assert main(["simulate", "-f", "suite.yaml"]) == 0
    out = capsys.readouterr().out
    assert out.index("Simulating webapp/my-webapp") < out.index("Simulating platformapp/")
    katalog = Path("04-katalog-platform/katalog.yaml")
    katalog.write_text(
        katalog.read_text().replace(
            "      crdFile: ./crd.yaml\n", "      crdFile: ./crd.yaml\n      dependsOn: [audit]\n"
        )
        + (
            "    audit:\n      apiTypes: {group: rkguide.demo, version: v1, kind: Audit, "
            "plural: audits}\n      operatorBox:\n        onReconcile:\n"
            "          configMaps: [{name: audit-log}]\n"
        )
    )
    Path("04-katalog-platform/cr.yaml").write_text(
        Path("04-katalog-platform/cr.yaml").read_text()
        + "---\napiVersion: rkguide.demo/v1\nkind: Audit\nmetadata: {name: audit}\n"
    )
    assert main(["simulate", "-f", "04-katalog-platform/katalog.yaml", "--cr", "cr.yaml"]) == 0
    out = capsys.readouterr().out
    assert out.index("Simulating audit/audit") < out.index("Simulating platformapp/")

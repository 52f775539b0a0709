"""The typed steps of the registry-guide pack: 10 (database-operator, Python hooks) and 11
(typed and declarative katalogs in one komposer).

Step 10 validates and simulates with no build step (ork imports dbhooks/ from the step's
directory); its hooks create the objects its contract names, with the args rendered and
the status written. Step 11's katalogs are published to the embedded registry the way the
READMEs say, pulled, and simulated: the pulled hooks run only with --trust-hooks.
(The runtime reconciling step 10 on the embedded API server is tested in tests/runtime.)
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from orkestra.compose import compose_file
from orkestra.packs import pack_files
from orkestra.simulate.runner import Simulation
from orkestra.simulate.spec import load_specs
from tests.conftest import PACK, publishing_pack, run, use_published_motifs
from tests.gates.test_push import push, push_motifs

Obj = dict[str, Any]
STEP10 = "10-hooks-katalog"
STEP11 = "11-typed-komposer"


def creates(cycle: Obj) -> set[tuple[str, str]]:
    return {(op["resource"], op["name"]) for op in cycle["ops"] if op["verb"] == "create"}


# -- 10-hooks-katalog ----------------------------------------------------------------


@pytest.fixture
def step10(pack_copy: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(pack_copy / STEP10)
    return pack_copy / STEP10


def test_the_pack_ships_the_typed_steps() -> None:
    names = {rel for rel, _ in pack_files("registry-guide")}
    for required in (
        "katalog.yaml",
        "crd.yaml",
        "cr.yaml",
        "simulate.yaml",
        "e2e.yaml",
        "values.yaml",
        "Makefile",
        "requirements.txt",
        "pyproject.toml",
        "README.md",
        "dbhooks/database.py",
        "dbhooks/api/v1alpha1.py",
    ):
        assert f"{STEP10}/{required}" in names, required
    for required in (
        "komposer.yaml",
        "simulate.yaml",
        "cr-database.yaml",
        "README.md",
        "webapp-operator-v2.0.0/katalog.yaml",
    ):
        assert f"{STEP11}/{required}" in names, required
    # ork init never writes __init__.py files (names starting with "__" are skipped):
    # the hook code is namespace packages, importable without them.
    assert not [n for n in names if n.startswith(STEP10) and "/__" in n]


def test_10_validate_needs_no_build(step10: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "validate")
    assert code == 0, out + err
    assert "mode: typed / workers: 3 / resync: 30s" in out
    assert "1 CRD valid (0 built-in, 1 custom)" in out
    assert "simulate database-hooks-sim valid (4 op rules, 2 absent rules" in out
    assert "warning" not in out + err


def test_10_legacy_hooks_placement_is_read(step10: Path) -> None:
    """operatorBox.default/hooks and CRD-level workers/resync (the Go original's layout)
    end up where the current layout has them."""
    entry = compose_file(step10 / "katalog.yaml", "katalog.yaml").crds["database"]
    reconcile = entry["operatorBox"]["reconcile"]
    assert reconcile["default"] is True
    assert reconcile["workers"] == 3 and reconcile["resync"] == "30s"
    hooks = reconcile["hooks"]
    assert (hooks["module"], hooks["function"]) == ("dbhooks.database", "database_hooks")
    assert [r["kind"] for r in hooks["resources"]] == [
        "StatefulSet",
        "Service",
        "Secret",
        "CronJob",
    ]
    assert hooks["args"]["readReplicaCount"] == 1


def test_10_simulate_creates_the_hook_objects_on_cycle_1(
    step10: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(capsys, "simulate")
    assert code == 0, out + err
    assert "6/6 assertions passed" in out and "PASS" in out
    code, out, _ = run(capsys, "simulate", "-o", "json")
    assert code == 0
    report = json.loads(out)
    assert report["status"] == "passed" and report["assertions"] == 6
    cycles = report["runs"][0]["cycles"]
    assert {
        ("statefulsets", "my-db"),
        ("services", "my-db-headless"),
        ("cronjobs", "my-db-backup"),
        ("secrets", "my-db-credentials"),
    } <= creates(cycles[0])
    assert not any(creates(c) for c in cycles[1:])
    assert report["runs"][0]["steadyAt"] == 3


def test_10_backups_off_means_no_cronjob(step10: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "simulate", "-f", "simulate-no-backup.yaml", "-o", "json")
    assert code == 0, out + err
    first = creates(json.loads(out)["runs"][0]["cycles"][0])
    assert ("statefulsets", "scratch-db") in first
    assert not [c for c in first if c[0] == "cronjobs"]


def _simulation(step: Path) -> tuple[Simulation, Any]:
    sim = Simulation(load_specs(step / "simulate.yaml")[0])
    sim.seed()
    return sim, sim.engines.reconciler("database", sim.cluster, sim.clock)


def test_10_hooks_render_args_and_write_status(step10: Path) -> None:
    sim, reconciler = _simulation(step10)
    first = reconciler.reconcile("my-db", "default")
    assert first.error is None
    assert [(e.type, e.reason) for e in first.events] == [("Normal", "Provisioning")]
    assert "2 members in eu-west-1" in first.events[0].message
    sim.settle()
    assert reconciler.reconcile("my-db", "default").error is None
    cluster = sim.cluster
    db = cluster.get("rkguide.demo/v1alpha1", "Database", "my-db", "default")
    status = db["status"]
    assert status["phase"] == "Running"
    assert status["endpoint"] == "my-db-0.my-db-headless.default.svc.cluster.local:5432"
    assert (status["replicas"], status["readyReplicas"]) == (2, 2)
    assert status["region"] == "eu-west-1"  # the templated arg, from spec.region
    assert status["backup"] == "30 1 * * *"
    assert "orkestra.io/hooks" in db["metadata"]["finalizers"]  # it has an on_delete

    sts = cluster.get("apps/v1", "StatefulSet", "my-db", "default")
    assert sts["spec"]["replicas"] == 2  # 1 + readReplicaCount (an int arg)
    assert sts["spec"]["serviceName"] == "my-db-headless"
    assert sts["metadata"]["labels"]["rkguide.demo/region"] == "eu-west-1"
    container = sts["spec"]["template"]["spec"]["containers"][0]
    assert container["image"] == "postgres:16"
    assert container["readinessProbe"]["exec"]["command"][0] == "pg_isready"
    assert container["env"][0]["valueFrom"]["secretKeyRef"]["name"] == "my-db-credentials"
    claim = sts["spec"]["volumeClaimTemplates"][0]
    assert claim["spec"]["resources"]["requests"]["storage"] == "10Gi"
    assert sts["metadata"]["ownerReferences"][0]["uid"] == db["metadata"]["uid"]

    cron = cluster.get("batch/v1", "CronJob", "my-db-backup", "default")
    assert cron["spec"]["schedule"] == "30 1 * * *"
    env = {
        e["name"]: e.get("value")
        for e in cron["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"][0]["env"]
    }
    assert env["BACKUP_TARGET"] == "s3://rkguide-backups-eu-west-1/default/my-db"
    assert env["RETENTION_DAYS"] == "14"
    service = cluster.get("v1", "Service", "my-db-headless", "default")
    assert service["spec"]["clusterIP"] == "None"


def test_10_region_defaults_when_the_cr_has_none(step10: Path) -> None:
    cr = yaml.safe_load((step10 / "cr.yaml").read_text())
    del cr["spec"]["region"]
    (step10 / "cr.yaml").write_text(yaml.safe_dump(cr))
    sim, reconciler = _simulation(step10)
    assert reconciler.reconcile("my-db", "default").error is None
    sts = sim.cluster.get("apps/v1", "StatefulSet", "my-db", "default")
    assert sts["metadata"]["labels"]["rkguide.demo/region"] == "us-east-1"


def test_10_on_delete_stops_backups_and_says_what_stays(step10: Path) -> None:
    sim, reconciler = _simulation(step10)
    assert reconciler.reconcile("my-db", "default").error is None
    sim.cluster.delete("rkguide.demo/v1alpha1", "Database", "my-db", "default")
    deleting = reconciler.reconcile("my-db", "default")
    assert deleting.error is None
    assert [e.reason for e in deleting.events] == ["Deprovisioning"]
    assert "volumes data-my-db-* are kept" in deleting.events[0].message
    assert sim.cluster.find("batch/v1", "CronJob", "my-db-backup", "default") is None
    assert sim.cluster.find("rkguide.demo/v1alpha1", "Database", "my-db", "default") is None


def test_10_the_model_matches_the_crd_schema() -> None:
    """crd.yaml's openAPI schema and dbhooks/api/v1alpha1.py list the same spec fields."""
    crd = yaml.safe_load((PACK / STEP10 / "crd.yaml").read_text())
    schema = crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"]["spec"]
    model = (PACK / STEP10 / "dbhooks" / "api" / "v1alpha1.py").read_text()

    def fields(cls: str) -> set[str]:
        body = model.split(f"class {cls}(_Model):")[1].split("\nclass ")[0]
        names = re.findall(r"^    ([a-z_]+):", body, re.M)
        return {re.sub(r"_(.)", lambda m: m.group(1).upper(), n) for n in names}

    assert fields("DatabaseSpec") == set(schema["properties"])
    assert fields("Backup") == set(schema["properties"]["backup"]["properties"])


# -- 11-typed-komposer ---------------------------------------------------------------


@pytest.fixture(scope="module")
def typed_registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, Path]]:
    """(ORK_HOME, pack) with what step 11 imports published as the READMEs say: the motifs
    (01, 07), cache-operator as 03's draft, database-operator (10), webapp-operator v2.0.0."""
    with publishing_pack(tmp_path_factory, "typed") as (home, pack):
        push_motifs(pack)
        push(pack / "07-upgrade" / "web-service-v1.1.0")
        use_published_motifs(pack / "03-katalog-cache" / "katalog.yaml")
        push(pack / "03-katalog-cache", force=True, no_e2e=True)
        push(pack / STEP10, no_e2e=True)
        push(pack / STEP11 / "webapp-operator-v2.0.0", no_e2e=True)
    yield home, pack


@pytest.fixture
def step11(typed_registry: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch) -> Path:
    home, pack = typed_registry
    monkeypatch.setenv("ORK_HOME", str(home))
    monkeypatch.chdir(pack / STEP11)
    return pack / STEP11


def test_11_webapp_v2_is_a_breaking_release(
    step11: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    v2 = step11 / "webapp-operator-v2.0.0"
    code, out, err = run(capsys, "validate", "-f", str(v2 / "katalog.yaml"))
    assert code == 0, out + err
    code, out, _ = run(capsys, "simulate", "-f", str(v2 / "simulate.yaml"))
    assert code == 0 and "4/4 assertions passed" in out
    assert "+ poddisruptionbudgets/my-webapp-pdb" in out
    code, out, _ = run(capsys, "simulate", "-f", str(v2 / "simulate-denied.yaml"))
    assert code == 0 and "webapp-operator v2 runs at least 2 replicas" in out


def test_11_komposer_validates_in_start_order(
    step11: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(capsys, "pull", "-f", "komposer.yaml")
    assert code == 0, out + err
    assert (step11 / "komposer.lock").is_file()
    code, out, err = run(capsys, "validate", "--full")
    assert code == 0, out + err
    assert "3 CRDs valid (0 built-in, 3 custom)" in out
    assert "Start order: database → cache → webapp" in out
    assert "dependsOn: database (healthy), cache (started)" in out
    # the one warning: pulled Python code, not run without --trust-hooks
    assert "runs Python code" in err


def test_11_pulled_hooks_run_only_when_trusted(
    step11: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(capsys, "pull", "-f", "komposer.yaml")[0] == 0
    code, out, err = run(capsys, "simulate")
    assert code == 1
    assert "it is not executed unless you trust it" in out + err
    code, out, err = run(capsys, "simulate", "--trust-hooks")
    assert code == 0, out + err
    assert out.count("  PASS") == 3
    for line in (
        "+ cronjobs/my-db-backup",
        "+ statefulsets/my-cache",
        "+ poddisruptionbudgets/my-webapp-pdb",
    ):
        assert line in out


def test_11_bundle_grants_the_hook_resources(
    step11: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(capsys, "pull", "-f", "komposer.yaml")[0] == 0
    code, out, err = run(capsys, "generate", "bundle", "-o", "bundle.yaml")
    assert code == 0, out + err
    docs = [d for d in yaml.safe_load_all((step11 / "bundle.yaml").read_text()) if d]
    granted = {
        (group, resource)
        for doc in docs
        if doc["kind"] in ("ClusterRole", "Role")
        for rule in doc.get("rules") or []
        for group in rule.get("apiGroups") or []
        for resource in rule.get("resources") or []
        if "create" in rule.get("verbs", [])
    }
    assert {
        ("apps", "statefulsets"),
        ("batch", "cronjobs"),
        ("", "secrets"),
        ("policy", "poddisruptionbudgets"),
    } <= granted


def test_10_hooks_type_check_as_their_author_would(step10: Path) -> None:
    """mypy --strict from the pattern's directory (its own package root), against the
    typed ``orkestra.hooks`` API (the package ships py.typed)."""
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "mypy",
            "--strict",
            "--explicit-package-bases",
            "--no-incremental",
            "dbhooks",
        ],
        cwd=step10,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_12_publishes_the_same_operator_code_as_10() -> None:
    """12's database-operator is a standalone copy of 10 (a pattern pushes only what is
    inside its directory): its Python code must not drift from 10's."""
    ten, twelve = PACK / STEP10, PACK / "12-ork-action" / "database-operator"
    sources = sorted(p.relative_to(ten) for p in (ten / "dbhooks").rglob("*.py"))
    assert sources == sorted(p.relative_to(twelve) for p in (twelve / "dbhooks").rglob("*.py"))
    for name in [*sources, Path("crd.yaml"), Path("requirements.txt")]:
        assert (twelve / name).read_text() == (ten / name).read_text(), name

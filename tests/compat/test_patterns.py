"""Upstream-compat corpus: one minimal pattern per key of the newest upstream patterns, in
the G1 layout (``g1.yaml``) and the G2 layout (``g2.yaml``) under ``patterns/<key>/``.

Each is checked by ``ork validate`` (valid, no warning), printed by ``ork template``
(both layouts give the same model, and the printed katalog validates and prints the same
again), and the model's content for the key is asserted. Each is also simulated in both
layouts with the ops its ``simulate.yaml`` asserts (``cr.yaml`` is its CR), and what the
key does in simulate is checked. See docs/compat.md.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
import yaml

from orkestra.simulate.gate import run_specs
from orkestra.simulate.report import render_run
from orkestra.simulate.runner import Run, Simulation
from orkestra.simulate.spec import load_specs
from tests.conftest import run

PATTERNS = Path(__file__).resolve().parent / "patterns"
KEYS = sorted(p.name for p in PATTERNS.iterdir() if (p / "g2.yaml").is_file())


def validate(capsys: pytest.CaptureFixture[str], file: Path) -> str:
    """``ork validate -f FILE`` succeeds; its whole output."""
    code, out, err = run(capsys, "validate", "-f", str(file))
    assert code == 0, out + err
    return out + err


def template(capsys: pytest.CaptureFixture[str], file: Path) -> dict[str, Any]:
    code, out, err = run(capsys, "template", "-f", str(file))
    assert code == 0, err
    model: dict[str, Any] = yaml.safe_load(out)
    return model


def crd(capsys: pytest.CaptureFixture[str], key: str, name: str = "app") -> dict[str, Any]:
    """The G2 pattern's CRD entry as ``ork template`` prints it."""
    entry: dict[str, Any] = template(capsys, PATTERNS / key / "g2.yaml")["spec"]["crds"][name]
    return entry


def test_every_key_has_both_layouts() -> None:
    assert KEYS == [
        "admission",
        "bare-path",
        "cross",
        "cross-namespace-copy",
        "event-aware",
        "imports",
        "labels",
        "queue-behaviour",
        "status-include",
        "watch",
    ]
    assert all(
        (PATTERNS / key / name).is_file()
        for key in KEYS
        for name in ("g1.yaml", "simulate.yaml", "cr.yaml")
    )


@pytest.mark.parametrize("key", KEYS)
def test_both_layouts_validate_and_template_alike(
    key: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    models = []
    for layout in ("g1", "g2"):
        file = PATTERNS / key / f"{layout}.yaml"
        assert "warning" not in validate(capsys, file)
        models.append(template(capsys, file))
    assert models[0] == models[1]
    printed = tmp_path / "printed.yaml"
    printed.write_text(yaml.safe_dump(models[1]))
    validate(capsys, printed)
    assert template(capsys, printed) == models[1]


def test_watch(capsys: pytest.CaptureFixture[str]) -> None:
    watch = crd(capsys, "watch")["operatorBox"]["observe"]["watch"]
    assert watch == [
        {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "namespace": "shared",
            "name": "feature-flags",
            "on": ["update", "delete"],
            "keyFrom": {"label": "compat.example.io/owner"},
            "enqueueGate": {
                "failPolicy": "closed",
                "when": [{"field": "{{ .metadata.name }}", "notEquals": ""}],
            },
        },
        {"apiVersion": "apps/v1", "kind": "Deployment", "on": ["create", "update", "delete"]},
    ]


def test_event_aware(capsys: pytest.CaptureFixture[str]) -> None:
    pre = crd(capsys, "event-aware")["operatorBox"]["preReconcile"]
    assert pre["reconcileGate"] == {
        "eventAware": True,
        "failPolicy": "closed",
        "sentinels": ["deletionStarted"],
        "or": [{"field": "spec.mode", "equals": "fast"}],
    }
    assert pre["enqueueGate"]["eventAware"] is False
    assert pre["sentinels"] == ["generationChanged", "deletionStarted"]


def test_cross(capsys: pytest.CaptureFixture[str]) -> None:
    cross = crd(capsys, "cross")["operatorBox"]["observe"]["cross"]
    assert cross == [
        {
            "crd": "database",
            "as": "database",
            "strategy": "first",
            "selector": {"name": "{{ .metadata.name }}-db"},
        },
        {
            "crd": "billing",
            "as": "billing",
            "strategy": "first",
            "selector": {"matchLabels": {"tenant": "{{ .spec.tenant }}"}},
            "source": {
                "host": "http://billing-runtime.billing-system:8080",
                "protocol": "metrics",
                "cacheFor": "10s",
                "auth": {"token": "$BILLING_TOKEN"},
            },
        },
        {
            "labelSelector": {"tier": "edge"},
            "as": "edge",
            "strategy": "first",
            "source": {
                "endpoint": "https://status.example.io/{{ .metadata.name }}",
                "cacheFor": "30s",
                "auth": {"secretRef": {"name": "status-token", "namespace": "ops", "key": "token"}},
            },
        },
    ]


def test_queue_behaviour(capsys: pytest.CaptureFixture[str]) -> None:
    model = template(capsys, PATTERNS / "queue-behaviour" / "g2.yaml")
    crds = model["spec"]["crds"]
    assert crds["app"]["operatorBox"]["reconcile"]["queue"] == {
        "maxDepth": 500,
        "behaviour": {
            "onLimit": {"drop": True, "when": [{"time": {"after": "18:00", "before": "08:00"}}]},
            "onThreshold": {"value": 80, "drop": True},
        },
    }
    drop = {"onLimit": {"drop": True}}
    assert crds["worker"]["operatorBox"]["reconcile"]["queue"]["behaviour"] == drop
    assert model["profiles"]["reconciler"][0]["queue"]["behaviour"] == drop


def test_labels(capsys: pytest.CaptureFixture[str]) -> None:
    entry = crd(capsys, "labels")
    assert entry["labels"] == {
        "team": "platform",
        "compat.example.io/instance": "{{ .metadata.name }}",
        "compat.example.io/managed": "true",
    }
    assert entry["annotations"] == {
        "compat.example.io/summary": "{{ .spec.mode }} mode, owned by {{ .spec.owner }}"
    }


def test_reconcile_imports(capsys: pytest.CaptureFixture[str]) -> None:
    box = crd(capsys, "imports")["operatorBox"]
    assert "imports" not in box["reconcile"]
    assert box["reconcile"]["onReconcile"] == {
        "deployments": [
            {"name": "{{ .metadata.name }}", "image": "{{ .spec.image }}", "port": 8080}
        ],
        "services": [{"name": "{{ .metadata.name }}", "port": "80"}],
    }
    assert box["emit"]["status"]["fields"] == [
        {"path": "image", "value": "{{ .spec.image }}"},
        {"path": "url", "value": "http://{{ .metadata.name }}:80"},
    ]


def test_status_include(capsys: pytest.CaptureFixture[str]) -> None:
    status = crd(capsys, "status-include")["operatorBox"]["emit"]["status"]
    assert status == {
        "fields": [
            {"path": "phase", "value": "Pending"},
            {
                "path": "phase",
                "value": "Ready",
                "when": [{"field": "children.deployment.status.readyReplicas", "exists": True}],
            },
            {"path": "image", "value": "{{ .spec.image }}"},
            {"path": "trackedBy", "value": "compat"},
        ]
    }


def test_admission(capsys: pytest.CaptureFixture[str]) -> None:
    entry = crd(capsys, "admission")
    assert "admission" not in entry
    assert [r["message"] for r in entry["validation"]["rules"]] == [
        "an image is required",
        "at most 10 replicas",
        "mode is fast or safe",
        "pin the image",
    ]
    assert entry["mutation"] == {
        "mutateFirst": True,
        "rules": [{"field": "spec.replicas", "default": "1"}],
    }
    assert entry["webhooks"] == {
        "validation": True,
        "mutation": True,
        "operations": ["CREATE", "UPDATE"],
    }


def test_bare_path_motif_conditions_wait_for_the_cr(capsys: pytest.CaptureFixture[str]) -> None:
    box = crd(capsys, "bare-path")["operatorBox"]
    resources = box["reconcile"]["onReconcile"]
    assert [(j["name"], j.get("when"), j.get("or")) for j in resources["jobs"]] == [
        (
            "{{ .metadata.name }}-build",
            [{"field": "status.phase", "equals": "Running/build"}],
            None,
        ),
        (
            "{{ .metadata.name }}-test",
            None,
            [
                {"field": "status.phase", "equals": "Running/test"},
                {"field": "spec.alwaysTest", "equals": "true"},
            ],
        ),
    ]
    # the forEach item is part of the context too; the input condition was decided (false)
    assert resources["configMaps"] == [
        {
            "name": "{{ .metadata.name }}-{{ .stage.name }}",
            "forEach": {"field": "spec.stages", "as": "stage"},
            "when": [{"field": "stage.enabled", "equals": "true"}],
        }
    ]
    assert box["emit"]["status"]["fields"][1]["when"] == [
        {"field": "status.phase", "exists": False}
    ]


# -- simulate ------------------------------------------------------------------------------
def simulated(key: str, layout: str = "g2", *, verbose: bool = False) -> tuple[Run, str]:
    """The pattern's simulate.yaml run on one layout: its run of the CRD ``app`` (its
    assertions passed) and that run's report."""
    [plan] = load_specs(PATTERNS / key / "simulate.yaml")
    plan = replace(plan, katalog=PATTERNS / key / f"{layout}.yaml")
    outcome = run_specs([plan], key)
    assert outcome.has_expect
    reports = {r.run.crd: r for r in outcome.reports}
    text = "\n".join(
        line for r in outcome.reports for line in render_run(r, verbose=verbose, debug_ops=False)
    )
    assert outcome.passed, text
    return reports["app"].run, text


@pytest.mark.parametrize("layout", ["g1", "g2"])
@pytest.mark.parametrize("key", KEYS)
def test_each_pattern_simulates_with_its_asserted_ops(key: str, layout: str) -> None:
    simulated(key, layout)


def final(key: str, api_version: str, kind: str, name: str) -> dict[str, Any]:
    """An object as the pattern's simulation leaves it."""
    [plan] = load_specs(PATTERNS / key / "simulate.yaml")
    sim = Simulation(plan)
    sim.run()
    found = sim.cluster.find(api_version, kind, name, "default")
    assert found is not None
    return found


def test_labels_simulate_as_a_patch_of_the_cr() -> None:
    run_, _ = simulated("labels")
    assert [(op.verb, op.resource) for op in run_.cycles[0].writes] == [
        ("patch", "apps"),
        ("update", "status"),
    ]
    meta = final("labels", "compat.example.io/v1", "App", "shop")["metadata"]
    assert meta["labels"] == {
        "team": "platform",
        "tier": "web",
        "compat.example.io/instance": "shop",
        "compat.example.io/managed": "true",
    }
    assert meta["annotations"] == {"compat.example.io/summary": "fast mode, owned by team-a"}


def test_cross_reads_the_peer_the_stub_and_notes_the_unstubbed_source() -> None:
    run_, text = simulated("cross")
    assert run_.notes == [
        'cross "edge": https://status.example.io/shop not called in simulate '
        "(no network) and spec.cross.edge gives no stub; it reads as not "
        "found"
    ]
    assert '  note: cross "edge"' in text
    data = final("cross", "v1", "ConfigMap", "shop-peers")["data"]
    assert data == {"db": "shop-db.default.svc:5432", "billing": "true", "edge": "map[]"}


def test_cross_namespace_copy_without_its_source_is_skipped_with_a_note() -> None:
    run_, _ = simulated("cross-namespace-copy")
    assert run_.notes == [
        "secrets/registry-creds: cross-namespace copy skipped in simulate — requires a live cluster"
    ]
    assert not run_.errors
    assert final("cross-namespace-copy", "v1", "ConfigMap", "shop-defaults")["data"] == {
        "region": "eu-west-1"
    }


def test_bare_path_conditions_follow_the_crs_status() -> None:
    run_, _ = simulated("bare-path")
    jobs = [(op.cycle, op.name) for op in run_.ops if (op.verb, op.resource) == ("create", "jobs")]
    assert jobs == [(2, "shop-build")]


@pytest.mark.parametrize(
    ("key", "subjects"),
    [
        (
            "watch",
            ["observe.watch v1 ConfigMap shared/feature-flags", "observe.watch apps/v1 Deployment"],
        ),
        (
            "event-aware",
            [
                "preReconcile.enqueueGate",
                "preReconcile.reconcileGate",
                "preReconcile.reconcileGate.eventAware",
            ],
        ),
        (
            "queue-behaviour",
            ["reconcile.queue.behaviour.onLimit", "reconcile.queue.behaviour.onThreshold"],
        ),
    ],
)
def test_what_simulate_does_not_exercise_is_listed_in_verbose(
    key: str, subjects: list[str]
) -> None:
    run_, quiet = simulated(key)
    assert [line.split(": not exercised in simulate")[0] for line in run_.unexercised] == subjects
    assert "note:" not in quiet
    _, verbose = simulated(key, verbose=True)
    assert all(f"  note: {s}: not exercised in simulate (" in verbose for s in subjects)

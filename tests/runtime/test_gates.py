"""preReconcile gates, sentinels and queue behaviour, evaluated without a cluster."""

from __future__ import annotations

from typing import Any

import pytest

from orkestra.model.formats import SENTINELS as MODEL_SENTINELS
from orkestra.runtime.gates import (
    SENTINELS,
    Gate,
    PreReconcile,
    QueueBehaviour,
    sentinel_values,
)
from orkestra.template import Renderer

Obj = dict[str, Any]
RENDER = Renderer()


def cr(**metadata: Any) -> Obj:
    return {
        "apiVersion": "test.orkestra.dev/v1",
        "kind": "Thing",
        "metadata": {"name": "t", "namespace": "default", "generation": 1, **metadata},
        "spec": {"mode": "fast"},
    }


def test_every_model_sentinel_is_computed() -> None:
    assert set(SENTINELS) == set(MODEL_SENTINELS)


@pytest.mark.parametrize(
    "before,after,changed",
    [
        (cr(), cr(labels={"a": "b"}), {"labelsChanged"}),
        (cr(labels={}), cr(), set()),  # absent and empty are the same
        (cr(), cr(generation=2), {"generationChanged"}),
        (
            cr(),
            cr(deletionTimestamp="2024-01-01T00:00:00Z", finalizers=["x"]),
            {"deletionStarted", "finalizersChanged"},
        ),
        (
            cr(deletionTimestamp="2024-01-01T00:00:00Z"),
            cr(deletionTimestamp="2024-01-01T00:00:00Z"),
            set(),
        ),  # started before
        (
            cr(ownerReferences=[{"name": "a"}]),
            cr(ownerReferences=[{"name": "b"}]),
            {"ownerReferenceChanged"},
        ),
        (cr(deletionGracePeriodSeconds=0), cr(), {"deletionGracePeriodSecondsChanged"}),
    ],
)
def test_sentinels_compare_the_object_before_and_after(
    before: Obj, after: Obj, changed: set[str]
) -> None:
    values = sentinel_values(list(SENTINELS), before, after)
    assert values is not None
    assert {name for name, value in values.items() if value} == changed


def test_only_updates_of_declared_sentinels_carry_values() -> None:
    assert sentinel_values(["labelsChanged"], None, cr()) is None  # a create
    assert sentinel_values([], cr(), cr(labels={"a": "b"})) is None
    assert sentinel_values(["labelsChanged"], cr(), cr(generation=2)) == {"labelsChanged": False}


def test_a_gate_with_sentinels_passes_when_any_is_true_and_ignores_its_conditions() -> None:
    gate = Gate.of(
        "g",
        {
            "sentinels": ["labelsChanged", "deletionStarted"],
            "when": [{"field": "spec.mode", "equals": "slow"}],
        },
    )
    assert gate is not None
    assert gate.admits(cr(), {"labelsChanged": False, "deletionStarted": True}, RENDER)
    assert not gate.admits(cr(), {"labelsChanged": False, "deletionStarted": False}, RENDER)
    assert not gate.admits(cr(), None, RENDER)  # a create, a resync: no values
    assert gate.warnings() == [
        "g: with sentinels listed, when/or are not evaluated "
        "(the sentinel shorthand decides, as upstream)"
    ]


def test_a_gate_evaluates_when_and_or_against_the_object() -> None:
    gate = Gate.of(
        "g",
        {
            "when": [{"field": "spec.mode", "equals": "fast"}],
            "or": [
                {"field": "metadata.labels.tier", "equals": "gold"},
                {"field": "{{ .metadata.name }}", "equals": "t"},
            ],
        },
    )
    assert gate is not None
    assert gate.admits(cr(), None, RENDER)
    assert not gate.admits({**cr(), "spec": {"mode": "slow"}}, None, RENDER)
    assert not gate.admits(cr(name="u"), None, RENDER)


@pytest.mark.parametrize("policy,passes", [("open", True), ("closed", False)])
def test_a_condition_that_cannot_be_evaluated_follows_the_fail_policy(
    policy: str, passes: bool
) -> None:
    gate = Gate.of(
        "g",
        {
            "failPolicy": policy,
            "when": [{"field": "spec.mode", "operator": "gt", "value": "1", "valueType": "int"}],
        },
    )
    assert gate is not None and gate.admits(cr(), None, RENDER) is passes


def test_external_calls_are_not_made_so_they_count_as_failed() -> None:
    call = [{"name": "probe", "url": "http://example.invalid"}]
    closed = Gate.of(
        "g",
        {
            "external": call,
            "failPolicy": "closed",
            "when": [{"field": "spec.mode", "equals": "fast"}],
        },
    )
    assert closed is not None and not closed.admits(cr(), None, RENDER)
    assert "holds back every event" in closed.warnings()[0]
    shared = PreReconcile.of(
        {
            "operatorBox": {
                "preReconcile": {
                    "external": call,
                    "reconcileGate": {
                        "failPolicy": "closed",
                        "when": [{"field": "spec.mode", "equals": "x"}],
                    },
                }
            }
        }
    )
    assert shared.reconcile is not None and shared.enqueue is not None
    assert shared.reconcile.admits(cr(), None, RENDER)  # upstream fails open there


def test_only_a_gate_with_something_to_evaluate_or_event_aware_exists() -> None:
    assert Gate.of("g", None) is None
    assert Gate.of("g", {"eventAware": False, "failPolicy": "closed"}) is None
    aware = PreReconcile.of(
        {"operatorBox": {"preReconcile": {"reconcileGate": {"eventAware": True}}}}
    )
    assert aware.event_aware and aware.reconcile is not None
    assert aware.reconcile.admits(cr(), None, RENDER)
    assert not PreReconcile.of({}).event_aware


def test_queue_rules_drop_from_their_depth_on() -> None:
    behaviour = QueueBehaviour.of(
        {
            "maxDepth": 10,
            "behaviour": {"onLimit": {"drop": True}, "onThreshold": {"value": 25, "drop": True}},
        }
    )
    assert [(r.name, r.depth) for r in behaviour.rules] == [("onThreshold", 3), ("onLimit", 10)]
    assert behaviour.dropping(2, cr, RENDER) is None
    assert behaviour.dropping(3, cr, RENDER) == "onThreshold"
    assert QueueBehaviour.of({"maxDepth": 10}).rules == ()  # maxDepth alone never drops
    assert QueueBehaviour.of({"maxDepth": 0, "behaviour": {"onLimit": {"drop": True}}}).rules == ()
    assert QueueBehaviour.of({"maxDepth": 5, "behaviour": {"onLimit": {}}}).rules == ()


def test_a_rule_with_conditions_drops_only_the_objects_they_match() -> None:
    behaviour = QueueBehaviour.of(
        {
            "maxDepth": 1,
            "behaviour": {
                "onLimit": {
                    "drop": True,
                    "when": [{"field": "metadata.labels.tier", "equals": "batch"}],
                }
            },
        }
    )
    read: list[int] = []

    def batch() -> Obj:
        read.append(1)
        return cr(labels={"tier": "batch"})

    assert behaviour.dropping(0, batch, RENDER) is None and not read  # not read below it
    assert behaviour.dropping(1, batch, RENDER) == "onLimit"
    assert behaviour.dropping(1, cr, RENDER) is None
    assert behaviour.dropping(1, lambda: None, RENDER) is None  # the CR is gone

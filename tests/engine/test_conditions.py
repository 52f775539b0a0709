"""Condition evaluation: every operator and shorthand, valueType, negate, template fields,
time, dayOfWeek and cron windows, and gates."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from orkestra.cron import CronError, Schedule
from orkestra.engine.conditions import ConditionError, Evaluation, evaluate, gate, passes

DATA = {
    "metadata": {"name": "db", "labels": {"team": "api", "tier": ""}},
    "spec": {
        "tier": "gold",
        "replicas": 3,
        "ratio": 0.75,
        "enabled": True,
        "image": "ghcr.io/orkspace/app:1.2",
        "phase": "",
        "tags": ["a", "b"],
        "limits": {"cpu": "1"},
    },
    "children": {"job": {"status": {"succeeded": 1}}},
    "status": {"phase": "Running"},
}
# Saturday 2026-11-21 10:30 UTC
NOW = datetime(2026, 11, 21, 10, 30, tzinfo=UTC)


def ev(**kwargs: Any) -> Evaluation:
    return Evaluation(DATA, now=kwargs.pop("now", NOW), **kwargs)


@pytest.mark.parametrize(
    ("cond", "expected"),
    [
        ({"field": "spec.tier", "equals": "gold"}, True),
        ({"field": "spec.tier", "operator": "equals", "value": "silver"}, False),
        ({"field": "spec.tier", "operator": "eq", "value": "gold"}, True),
        ({"field": "spec.tier", "operator": "neq", "value": "gold"}, False),
        ({"field": "spec.tier", "notEquals": "silver"}, True),
        ({"field": "spec.image", "contains": "orkspace"}, True),
        ({"field": "spec.image", "notContains": "docker.io"}, True),
        ({"field": "spec.image", "prefix": "ghcr.io/"}, True),
        ({"field": "spec.image", "notPrefix": "ghcr.io/"}, False),
        ({"field": "spec.image", "suffix": ":1.2"}, True),
        ({"field": "spec.image", "notSuffix": ":latest"}, True),
        ({"field": "spec.image", "regex": r":\d+\.\d+$"}, True),
        ({"field": "spec.tier", "exists": True}, True),
        ({"field": "spec.phase", "exists": True}, False),
        ({"field": "spec.nothing", "notExists": True}, True),
        ({"field": "metadata.labels.team", "operator": "exists"}, True),
        ({"field": "spec.replicas", "greaterThan": "2"}, True),
        ({"field": "spec.replicas", "lessThan": 3}, False),
        ({"field": "spec.replicas", "min": "3"}, True),
        ({"field": "spec.replicas", "max": "2"}, False),
        ({"field": "spec.replicas", "greaterThanOrEqual": 3, "valueType": "int"}, True),
        ({"field": "spec.replicas", "lessThanOrEqual": "3.0", "valueType": "float"}, True),
        ({"field": "spec.missing", "operator": "lt", "value": 1}, True),  # absent counts as 0
        ({"field": "spec.ratio", "operator": "gt", "value": "0.5", "valueType": "float"}, True),
        ({"field": "spec.replicas", "between": "1,5"}, True),
        ({"field": "spec.replicas", "notBetween": "1,3"}, False),
        ({"field": "spec.tier", "in": "gold, silver"}, True),
        ({"field": "spec.phase", "in": ",Pending"}, True),  # an empty element matches empty
        ({"field": "spec.tier", "notIn": "bronze,silver"}, True),
        ({"field": "spec.enabled", "equals": "true", "valueType": "bool"}, True),
        ({"field": "spec.enabled", "equals": "true"}, True),
        ({"field": "spec.replicas", "equals": "3.0", "valueType": "float"}, True),
        ({"field": "spec.limits", "operator": "typeMap"}, True),
        ({"field": "spec.tags", "operator": "typeList"}, True),
        ({"field": "spec.tier", "operator": "typeOf", "value": "string"}, True),
        ({"field": "spec.missing", "operator": "typeNull"}, True),
        ({"field": "spec.replicas", "operator": "typeNumber"}, True),
        ({"field": "spec.tier", "equals": "gold", "negate": True}, False),
        ({"field": "{{ .spec.tier }}-{{ .spec.replicas }}", "equals": "gold-3"}, True),
        ({"field": "{{ allReplicasReady .children.nope }}", "equals": "false"}, True),
        ({"field": "children.job.status.succeeded", "equals": "1"}, True),
        ({"field": "spec.tags.1", "equals": "b"}, True),
        ({"field": "spec.image", "prefix": "{{ .metadata.labels.team }}"}, False),
        ({"field": "spec.tier", "operator": "unique"}, True),
        ({"time": {"after": "09:00", "before": "18:00"}}, True),
        ({"time": {"after": "22:00", "before": "06:00"}}, False),
        ({"time": {"after": "11:00"}}, False),
        ({"time": {"before": "11:00"}}, True),
        ({"dayOfWeek": {"weekend": True}}, True),
        ({"dayOfWeek": {"weekday": True}}, False),
        ({"dayOfWeek": {"in": ["Sat", "sunday"]}}, True),
        ({"dayOfWeek": {"notIn": ["saturday"]}}, False),
        ({"cron": "0 10 * * *", "duration": "1h"}, True),
        ({"cron": "0 10 * * *"}, False),  # the default window is 60s
        ({"cron": "*/15 * * * 6", "duration": "1m"}, True),
        ({"cron": "0 2 * * 0", "duration": "2h", "negate": True}, True),
    ],
)
def test_condition(cond: dict[str, Any], expected: bool) -> None:
    assert evaluate(cond, ev()) is expected


def test_unique_asks_the_cluster() -> None:
    seen: list[tuple[str, str]] = []

    def taken(field: str, value: str) -> bool:
        seen.append((field, value))
        return value != "gold"

    assert evaluate({"field": "spec.tier", "operator": "unique"}, ev(unique=taken)) is False
    assert seen == [("spec.tier", "gold")]


def test_gate_and_or() -> None:
    gold = {"field": "spec.tier", "equals": "gold"}
    silver = {"field": "spec.tier", "equals": "silver"}
    assert passes([], [], ev())
    assert passes([gold], [silver, gold], ev())
    assert not passes([gold], [silver], ev())
    assert not passes([silver], [gold], ev())
    assert gate({"when": [gold], "anyOf": [gold]}, ev())
    assert not gate({"or": [silver]}, ev())


@pytest.mark.parametrize(
    "cond",
    [
        {"field": "spec.tier", "greaterThan": 1},
        {"field": "spec.tier", "equals": "1", "valueType": "int"},
        {"field": "spec.image", "regex": "[a-"},
        {"dayOfWeek": {"in": ["funday"]}},
        {"field": "spec.tier", "greaterThan": "1e999", "valueType": "int"},
        {"cron": "{{ .spec.schedule }}"},  # the katalog check skips templates; never rendered
        {"cron": "* * * * *", "duration": "an hour"},
        {"time": {"after": "25:00"}},
    ],
)
def test_conditions_that_cannot_be_evaluated(cond: dict[str, Any]) -> None:
    with pytest.raises(ConditionError):
        evaluate(cond, ev())


@pytest.mark.parametrize(
    ("schedule", "moment", "fires"),
    [
        ("30 10 * * *", datetime(2026, 11, 21, 10, 30), True),
        ("30 10 * * 1-5", datetime(2026, 11, 21, 10, 30), False),
        ("30 10 21 * 1", datetime(2026, 11, 21, 10, 30), True),  # day OR weekday
        ("0 0 1 jan *", datetime(2027, 1, 1, 0, 0), True),
        ("0 0 * * sun", datetime(2026, 11, 22, 0, 0), True),
        ("0 0 * * 7", datetime(2026, 11, 22, 0, 0), True),
        ("5-10/5 * * * *", datetime(2026, 11, 21, 3, 10), True),
        ("5-10/5 * * * *", datetime(2026, 11, 21, 3, 7), False),
    ],
)
def test_cron_schedule(schedule: str, moment: datetime, fires: bool) -> None:
    assert Schedule.parse(schedule).fires_at(moment) is fires


@pytest.mark.parametrize(
    "bad", ["* * * *", "61 * * * *", "* * * * funday", "*/0 * * * *", "5-1 * * * *"]
)
def test_bad_cron(bad: str) -> None:
    with pytest.raises(CronError):
        Schedule.parse(bad)

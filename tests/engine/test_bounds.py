"""The engine's work is bounded: a forEach over too many items ends the cycle with an error
naming the limit (nothing is silently dropped), and the ``regex`` operator is RE2."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from orkestra import limits
from orkestra.engine.conditions import ConditionError, Evaluation, evaluate
from tests.engine.harness import Harness

SHARDS = {
    "reconcile": {
        "onReconcile": {
            "configMaps": [
                {
                    "name": "{{ .metadata.name }}-{{ .shard }}",
                    "forEach": {"field": "spec.shards", "as": "shard"},
                }
            ]
        }
    }
}


@pytest.fixture(autouse=True)
def fresh_limits() -> Iterator[None]:
    limits.reset()
    yield
    limits.reset()


def test_for_each_beyond_the_limit_is_an_error() -> None:
    start = time.perf_counter()
    h = Harness(SHARDS, {"shards": [f"s{i}" for i in range(100_000)]})
    assert [w for w in h.cycle() if w[1] == "configmaps"] == []
    error = h.results[-1].error
    assert error is not None
    assert "forEach: spec.shards has 100000 items, more than 1000" in error
    assert "ORK_MAX_FOREACH_ITEMS" in error
    assert time.perf_counter() - start < 10


def test_for_each_up_to_the_limit_works_and_the_limit_is_configurable() -> None:
    with limits.override((limits.FOREACH_ITEMS, 3)):
        h = Harness(SHARDS, {"shards": {"a": 1, "b": 2, "c": 3}})
        assert [w[2] for w in h.cycle() if w[1] == "configmaps"] == ["demo-a", "demo-b", "demo-c"]
        h.patch_spec(shards=["a", "b", "c", "d"])
        h.cycle()
        assert "more than 3" in (h.results[-1].error or "")


def test_regex_condition_is_re2() -> None:
    data = {"spec": {"name": "a" * 50_000 + "!", "line": "a\n"}}
    start = time.perf_counter()
    assert not evaluate({"field": "spec.name", "regex": "^(a+)+$"}, Evaluation(data))
    assert time.perf_counter() - start < 5
    assert not evaluate({"field": "spec.line", "regex": "^a$"}, Evaluation(data))
    assert evaluate({"field": "spec.line", "regex": "^a\\n\\z"}, Evaluation(data))
    with pytest.raises(ConditionError, match="has no lookahead"):
        evaluate({"field": "spec.name", "regex": "(?=a)"}, Evaluation(data))

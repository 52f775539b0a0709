"""Copying object data: every dict and list is new, everything else is shared."""

from __future__ import annotations

from typing import Any

from orkestra.cluster.data import clone


def test_clone_copies_every_map_and_list_and_shares_the_rest() -> None:
    marker = object()
    value: dict[str, Any] = {
        "b": [{"x": [1, [2, {"y": "z"}]]}, "s"],
        "a": {"c": {}, "d": [], "e": marker, "f": None, "g": 1.5},
    }
    copied = clone(value)
    assert copied == value and list(copied) == ["b", "a"]
    assert copied["a"]["e"] is marker
    for path in ((), ("b",), ("b", 0), ("b", 0, "x"), ("b", 0, "x", 1), ("b", 0, "x", 1, 1)):
        original: Any = value
        twin: Any = copied
        for step in path:
            original, twin = original[step], twin[step]
        assert twin == original and twin is not original, path
    copied["a"]["c"]["new"] = 1
    copied["b"][0]["x"][1][1]["y"] = "changed"
    assert value["a"]["c"] == {} and value["b"][0]["x"][1][1]["y"] == "z"

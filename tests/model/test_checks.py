"""The walks the semantic checks make over a model: what they find, in document order."""

from __future__ import annotations

from orkestra.model.checks import walk_conditions, walk_strings

TREE = {
    "a": "{{ .x }}",
    "description": "{{ free text }}",
    "when": [{"field": "f", "when": [{"field": "inner"}]}, "not a condition", {"field": "g"}],
    "list": ["plain", ["{{ .y }}", {"expression": "{{ z }}", "b": "{{ .w }}"}]],
    "validation": {"rules": [{"field": "r", "or": [{"field": "s"}]}, 3]},
    "rules": [{"field": "not a rule: not under validation"}],
}


def test_strings_in_document_order_without_free_text() -> None:
    assert walk_strings(TREE, ("top",), containing="{{") == [
        (("top", "a"), "{{ .x }}"),
        (("top", "list", 1, 0), "{{ .y }}"),
        (("top", "list", 1, 1, "b"), "{{ .w }}"),
    ]
    assert [path for path, _ in walk_strings(TREE)][:3] == [
        ("a",),
        ("when", 0, "field"),
        ("when", 0, "when", 0, "field"),
    ]
    assert walk_strings("{{ x }}", ("p",)) == [(("p",), "{{ x }}")]


def test_conditions_of_a_list_come_before_their_insides() -> None:
    found = [path for path, _ in walk_conditions(TREE)]
    assert found == [
        ("when", 0),
        ("when", 2),
        ("when", 0, "when", 0),
        ("validation", "rules", 0),
        ("validation", "rules", 0, "or", 0),
    ]

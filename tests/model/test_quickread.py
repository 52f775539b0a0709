"""The quick reading of YAML texts: the same values, positions and errors as the thorough
reading, which it leaves every unusual text to."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from orkestra import limits
from orkestra.model.errors import PatternError
from orkestra.model.quickread import QUICK_DEPTH, read_values
from orkestra.model.source import parse_documents, thorough_documents

PLAIN = """\
apiVersion: orkestra.orkspace.io/v1
kind: Katalog
metadata: {name: web, labels: {tier: 1}}
spec:
  crds:
    web:
      count: 0x1f
      ratio: 1.5e+3
      big: .inf
      on: yes
      ~: null
      1: one
      2024-01-01: ts
      "quoted: key": !!str 12
      when: 2024-01-02T10:00:00Z
      bare: !!int "7"
      fold: >
        two
        lines
      items:
        - - nested
          - [flow, "{{ .x }}"]
        - {a: b, c: ~}
---
second: document
---
"""

UNUSUAL = {
    "an anchor and an alias": "a: &x [1]\nb: *x\n",
    "an unused anchor": "a: &x 1\n",
    "a merge key": "a: {<<: {b: 1}, c: 2}\n",
    "a value key": "a: {=: 1}\n",
    "a local tag": "a: !thing 1\n",
    "a bad explicit value": "a: !!float abc\n",
    "a collection tag on a scalar": "a: !!map x\n",
    "a duplicate key": "a: 1\na: 2\n",
    "a mapping as a key": "? {a: 1}\n: 2\n",
    "a syntax error": "a: [1\nb: 2\n",
    "deep nesting": "a: " + "[" * (QUICK_DEPTH + 1) + "]" * (QUICK_DEPTH + 1) + "\n",
}


@pytest.fixture(autouse=True)
def fresh_limits() -> Iterator[None]:
    limits.reset()
    yield
    limits.reset()


def outcome(text: str, *, quick: bool) -> tuple[str, object]:
    """What reading ``text`` gives: the rendered error, or each document's index, value (as
    its repr: key order and NaN count) and positions (looked up lazily when read quickly)."""
    read = parse_documents if quick else thorough_documents
    try:
        docs = read(text, "t.yaml")
    except PatternError as exc:
        return "error", exc.render()
    return "documents", [(d.index, repr(d.data), d.positions) for d in docs]


def same_reading(text: str) -> None:
    assert outcome(text, quick=True) == outcome(text, quick=False)
    values = read_values(text)
    if values is not None:
        assert repr(values) == repr([d.data for d in thorough_documents(text, "t.yaml")])


def test_plain_text_is_read_quickly_with_the_same_values_and_positions() -> None:
    values = read_values(PLAIN)
    assert values is not None
    first: Any = values[0]
    web = first["spec"]["crds"]["web"]
    assert web["count"] == 31 and web["big"] == float("inf")
    assert web["on"] is True and web["null"] is None and web["1"] == "one"
    assert web["2024-01-01"] == "ts" and web["when"] == "2024-01-02T10:00:00Z"
    assert web["quoted: key"] == "12" and web["bare"] == 7 and web["fold"] == "two lines\n"
    assert values[1:] == [{"second": "document"}, None]
    same_reading(PLAIN)
    doc = parse_documents(PLAIN, "t.yaml")[0]
    assert doc.written is None  # nothing has needed a position yet
    mark = doc.mark(("spec", "crds", "web", "items", 0, 1, 1))
    assert (mark.line, mark.column) == (22, 20)
    assert doc.written is not None
    key, below = doc.mark(("web", "on"), key=True), doc.mark(("spec", "crds", "web", "on", 0))
    assert (key.line, key.column, below.line, below.column) == (1, 1, 10, 11)


@pytest.mark.parametrize("text", UNUSUAL.values(), ids=UNUSUAL.keys())
def test_unusual_text_is_left_to_the_thorough_reading(text: str) -> None:
    assert read_values(text) is None
    same_reading(text)


@pytest.mark.parametrize(
    ("bound", "text"),
    [
        (limits.YAML_NODES, "a: [1, 2, 3]\n"),
        (limits.YAML_DEPTH, "a: {b: {c: {d: 1}}}\n"),
        (limits.YAML_KEYS, "a: 1\nb: 2\nc: 3\nd: 4\n"),
        (limits.YAML_BYTES, "a: 1234567\n"),
    ],
)
def test_a_bound_crossed_gives_the_thorough_error(bound: limits.Limit, text: str) -> None:
    with limits.override((bound, 3)):
        assert read_values(text) is None
        kind, error = outcome(text, quick=True)
        assert kind == "error" and bound.variable in str(error)
        same_reading(text)
    with limits.override((bound, 1000)):
        assert read_values(text) is not None


def test_positions_of_a_later_document_are_its_own() -> None:
    text = "a: 1\n---\nb:\n  c: [x, y]\n"
    second = parse_documents(text, "t.yaml")[1]
    mark = second.mark(("b", "c", 1))
    assert (mark.line, mark.column) == (4, 10)


SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(),
    st.sampled_from(["yes", "on", "0o17", "1_000", "1:20", "2024-01-01", "~", "<<", "=", ""]),
    st.text(max_size=8),
)
VALUES = st.recursive(
    SCALARS,
    lambda children: st.one_of(
        st.lists(children, max_size=4),
        st.dictionaries(st.one_of(SCALARS, st.text(max_size=4)), children, max_size=4),
    ),
    max_leaves=25,
)
PROPERTY = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@PROPERTY
@given(value=VALUES, flow=st.sampled_from([None, True, False]))
def test_dumped_values_read_the_same_both_ways(value: object, flow: bool | None) -> None:
    same_reading(yaml.safe_dump(value, default_flow_style=flow))


TOKENS = [*"ab1:- {}[]\"'\n#&*!|>?.,~", "on", "No", "0x1f", "1.5", "<<", "=", "!!int ", "!!str "]


@PROPERTY
@given(text=st.lists(st.sampled_from(TOKENS), max_size=30).map("".join))
def test_random_text_reads_the_same_both_ways(text: str) -> None:
    same_reading(text)

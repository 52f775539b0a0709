"""The YAML dumpers: libyaml's emitter writes what PyYAML's pure-Python one writes."""

from __future__ import annotations

from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from orkestra import yamltext

pytestmark = pytest.mark.skipif(
    yamltext.SAFE_DUMPER is yaml.SafeDumper, reason="PyYAML was built without libyaml"
)

TRICKY = [
    "",
    " lead",
    "trail ",
    "yes",
    "no",
    "~",
    "null",
    "1.0",
    "0o17",
    "-",
    "- x",
    "a: b",
    "#c",
    "multi\nline\n",
    "no newline\nat end",
    "\ttab",
    "é ü 日本",
    "emoji 🚀",
    "x" * 300,
    "{{ .spec.name }}",
    "'quoted'",
    '"double"',
    "line\n  indented\n",
    "\x85next",
    "back\\slash",
    "%percent",
    "@at",
    "`tick",
    "*star",
    "&amp",
    "!bang",
    "|pipe",
    ">gt",
]

WEIRD = "\r\x00\x07\x1b\x7f\x85\x9f\xa0\u2028\u2029\ufeff\ufffe\ud7ff\ue000 é日\U0001f680:#'\"-?"
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.text(max_size=40),
    st.text(st.sampled_from(WEIRD + "ab\n\t"), max_size=8),
    st.sampled_from(TRICKY),
    st.floats(allow_nan=False, allow_infinity=False),
)
values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=10), inner, max_size=4)
    ),
    max_leaves=25,
)


def pure_block(value: Any) -> str:
    return yaml.dump(
        value,
        Dumper=yamltext.PureBlockDumper,
        sort_keys=False,
        default_flow_style=False,
        allow_unicode=True,
        width=yamltext.WIDE,
    )


@settings(max_examples=500, deadline=None)
@given(values)
def test_block_yaml_is_what_the_pure_python_emitter_writes(value: Any) -> None:
    assert yamltext.block(value) == pure_block(value)


@settings(max_examples=500, deadline=None)
@given(values)
def test_safe_yaml_is_what_safe_dump_writes(value: Any) -> None:
    options = {"default_flow_style": False, "sort_keys": True, "allow_unicode": True}
    assert yamltext.safe(value, **options) == yaml.safe_dump(value, **options)
    assert yamltext.safe_all([value, value]) == yaml.safe_dump_all([value, value])


def test_block_yaml_keeps_order_writes_no_anchors_and_literal_blocks() -> None:
    shared = {"b": 1, "a": 2}
    text = yamltext.block({"z": shared, "y": shared, "script": "echo 1\necho 2\n"})
    assert text == "z:\n  b: 1\n  a: 2\ny:\n  b: 1\n  a: 2\nscript: |\n  echo 1\n  echo 2\n"
    assert yaml.safe_load(text)["y"] == shared


@pytest.mark.parametrize(
    ("value", "fast"),
    [
        ({"metadata": {"name": "web", "labels": {"app": "é"}}, "spec": [1, None, 2.5]}, True),
        ({"note": "rocket 🚀"}, False),
        ({"": 1}, False),
        ({"a": "line\r\n"}, False),
        ({"a": ["\x85"]}, False),
        ("plain scalar", False),
    ],
)
def test_only_what_both_emitters_write_alike_goes_to_libyaml(value: Any, fast: bool) -> None:
    assert yamltext._fast(value, allow_unicode=True) is fast


def test_without_allow_unicode_only_ascii_goes_to_libyaml() -> None:
    assert yamltext._fast({"a": "plain"}, allow_unicode=False)
    assert not yamltext._fast({"a": "é"}, allow_unicode=False)


def test_escaped_long_lines_fold_as_safe_dump_folds_them() -> None:
    """Without allow_unicode, non-ASCII characters are escapes, and libyaml folds a long
    line of them elsewhere than PyYAML's emitter (hypothesis found this one)."""
    value = ["0000000000000" + "\u0100" * 11 + "0"]
    assert yamltext.safe_all([value, value]) == yaml.safe_dump_all([value, value])
    assert yamltext.safe(value) == yaml.safe_dump(value)

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


# -- the hand-written block writer --------------------------------------------------------

# What a katalog holds: printable text with every indicator, words the resolver reads as
# other types, multi-line text with indented, blank and unterminated lines.
PIECES = [
    *" -?:#,[]{}&*!|>'\"%@`.~<=\\/aZ09é日\n\t\xa0",
    "---",
    "...",
    "yes",
    "null",
    "0x1F",
    "1e3",
]
katalog_strings = st.lists(st.sampled_from(PIECES), max_size=8).map("".join)
katalog_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=True, allow_infinity=True),
    katalog_strings,
    st.sampled_from(TRICKY),
)
katalog_values = st.recursive(
    katalog_scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(katalog_strings, inner, max_size=4)
    ),
    max_leaves=30,
)


def dumped_block(value: Any) -> str:
    """What :func:`yamltext.block` wrote before the hand-written writer: libyaml for the
    ordinary, else PyYAML's emitter (the writer must write the same bytes)."""
    fast = yamltext._fast(value, allow_unicode=True)
    return yaml.dump(
        value,
        Dumper=yamltext.BlockDumper if fast else yamltext.PureBlockDumper,
        sort_keys=False,
        default_flow_style=False,
        allow_unicode=True,
        width=yamltext.WIDE,
    )


@settings(max_examples=1500, deadline=None)
@given(st.one_of(st.lists(katalog_values), st.dictionaries(katalog_strings, katalog_values)))
def test_the_writer_writes_what_pyyaml_wrote(value: Any) -> None:
    try:
        written = yamltext._BlockWriter().document(value)
    except yamltext._Unwritten:
        written = None
    assert written is None or written == dumped_block(value) == pure_block(value)
    assert yamltext.block(value) == dumped_block(value)


def test_the_writer_takes_what_katalogs_hold() -> None:
    value = {
        "metadata": {"name": "web", "labels": {"app": "web", "tier": ""}},
        "spec": {
            "replicas": 3,
            "ratio": 0.5,
            "big": 1e17,
            "enabled": True,
            "none": None,
            "empty": {},
            "list": [],
            "name": "{{ .metadata.name }}-cm-0",
            "words": ["yes", "null", "1.0", "- x", "a: b", "a #b", "a:", "?", "it's", "---"],
            "more": ["#c", "a#b", "é 日本", "-1", "<<", "=", "~", "", " x", "...x", "x..."],
            "script": "set -e\n  indented\n\nlast\n",
            "unterminated": "a\nb",
            "leading": "\n lead\n",
            "nested": [[1, [2]], [{"a": "x\ny"}], {"k": [{}]}],
        },
    }
    assert yamltext._BlockWriter().document(value) == dumped_block(value)


@pytest.mark.parametrize(
    "value",
    [
        {1: "a"},  # not a string key
        {"k" * 128: "a"},  # a complex key for PyYAML's emitter, a simple one for libyaml's
        {"a": "trailing space \nline"},  # double-quoted
        {"a": "tab\there"},
        {"a": "x" * 20_000},  # long enough to be folded
        {"a": ("tuple",)},
    ],
)
def test_the_writer_leaves_the_rest_to_pyyaml(value: Any) -> None:
    with pytest.raises(yamltext._Unwritten):
        yamltext._BlockWriter().document(value)

"""Property tests: any text given to the template engine parses, renders or fails with a
TemplateError, never another exception."""

from __future__ import annotations

import contextlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from orkestra.template import LIBRARY, Template, TemplateError, TemplateSyntaxError, render
from orkestra.template.gofmt import GoInt, format_value, sprint

PIECES = st.sampled_from(
    [
        "{{",
        "}}",
        "{{-",
        "-}}",
        " ",
        ".",
        ".spec",
        ".a.b",
        "$",
        "$x",
        ":=",
        "=",
        "|",
        "(",
        ")",
        "if",
        "else",
        "end",
        "range",
        "with",
        "define",
        "template",
        "block",
        "break",
        "continue",
        "nil",
        "true",
        "1",
        "-2.5",
        "0x1F",
        "1i",
        "'a'",
        '"s"',
        "`r`",
        "and",
        "or",
        "not",
        "eq",
        "index",
        "len",
        "printf",
        '"%d"',
        "default",
        "toJson",
        "/*",
        "*/",
        ",",
        "x",
        "\n",
        "\\",
    ]
)
DATA = {"spec": {"image": "nginx", "list": [1, 2], "n": 3}, "a": {"b": None}, "s": "str"}


@settings(max_examples=500, deadline=None)
@given(text=st.lists(PIECES, max_size=25).map("".join))
def test_token_soup_only_raises_template_errors(text: str) -> None:
    with contextlib.suppress(TemplateError):
        Template(text, LIBRARY, missingkey="zero").execute(DATA)


@settings(max_examples=300, deadline=None)
@given(text=st.text(max_size=60))
def test_arbitrary_text_only_raises_template_errors(text: str) -> None:
    with contextlib.suppress(TemplateError):
        render(text, DATA)


@pytest.mark.parametrize(
    "text",
    [
        "{{" + "(" * 5000 + "1" + ")" * 5000 + "}}",
        "{{ if true }}" * 40 + "x" + "{{ end }}" * 40,
    ],
    ids=["parentheses", "blocks"],
)
def test_deep_nesting_is_a_template_error(text: str) -> None:
    """Too deep for Python's parser or compiler: a syntax error naming the cause, never a
    RecursionError or a crash."""
    with pytest.raises(TemplateSyntaxError, match="nesting too deep"):
        Template(text, LIBRARY).execute({})


def test_nesting_within_the_limit_renders() -> None:
    text = "{{ if true }}" * 17 + "x" + "{{ end }}" * 17
    assert Template(text, LIBRARY).execute({}) == "x"


@settings(max_examples=300, deadline=None)
@given(value=st.one_of(st.integers(), st.integers().map(GoInt), st.booleans()))
def test_printing_a_number_or_a_boolean_is_what_the_printer_writes(value: int) -> None:
    """``format_value`` answers these without a printer: the same text as Sprint's."""
    assert format_value(value) == sprint(value)

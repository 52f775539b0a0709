"""A template's work is bounded: its output, the range items and template calls it takes,
and the strings and printed values its functions make; each bound ends the rendering with
an error naming its variable, fast, instead of hanging or filling memory."""

from __future__ import annotations

import time

import pytest

from orkestra import limits
from orkestra.template import LIBRARY, Template, TemplateError, render


def test_amplifying_functions_refuse_huge_results() -> None:
    start = time.perf_counter()
    for text in (
        '{{ repeat 100000000 "ab" }}',
        '{{ indent 100000000 "a" }}',
        '{{ .s | replace "" "xxxxxxxxxxxxxxxx" }}',
        '{{ regexReplaceAll "" .s "xxxxxxxxxxxxxxxx" }}',
    ):
        with pytest.raises(TemplateError, match="ORK_MAX_RENDER_CHARS"):
            render(text, {"s": "y" * 200_000})
    assert time.perf_counter() - start < 10
    assert render('{{ repeat 3 "ab" }}|{{ "a\\nb" | indent 2 }}', {}) == "ababab|  a\n  b"


def test_output_and_steps_are_bounded() -> None:
    data = {"a": list(range(1000)), "big": "y" * 100_000}
    start = time.perf_counter()
    with pytest.raises(TemplateError, match="more than 1000000 steps"):
        Template("{{range .a}}{{range $.a}}{{range $.a}}{{end}}{{end}}{{end}}", LIBRARY).execute(
            data
        )
    with pytest.raises(TemplateError, match="longer than 1048576 characters"):
        Template("{{range .a}}{{$.big}}{{end}}", LIBRARY).execute(data)
    with pytest.raises(TemplateError, match="longer than 1048576 characters"):
        Template("{{$.big}}" * 11, LIBRARY).execute(data)
    tree = "".join(
        f'{{{{define "a{i}"}}}}{{{{template "a{i + 1}" .}}}}'
        f'{{{{template "a{i + 1}" .}}}}{{{{end}}}}'
        for i in range(25)
    )
    with pytest.raises(TemplateError, match="ORK_MAX_TEMPLATE_STEPS"):
        Template(tree + '{{define "a25"}}x{{end}}{{template "a0" .}}', LIBRARY).execute({})
    assert time.perf_counter() - start < 10
    with limits.override((limits.RENDER_CHARS, 10)):
        assert Template("{{range .a}}{{.}}{{end}}", LIBRARY).execute({"a": [1, 2]}) == "12"
        with pytest.raises(TemplateError, match="longer than 10 characters"):
            Template("{{range .a}}{{.}}{{end}}", LIBRARY).execute({"a": list(range(100))})


@pytest.mark.parametrize(
    "text",
    [
        '{{ $s := "ab" }}{{ range .items }}{{ $s = printf "%s%s" $s $s }}{{ end }}{{ len $s }}',
        '{{ $s := "ab" }}{{ range .items }}{{ $s = print $s $s }}{{ end }}{{ len $s }}',
        "{{ $l := list 1 }}{{ range .items }}{{ $l = list $l $l }}{{ end }}{{ toJson $l | len }}",
        "{{ $l := list 1 }}{{ range .items }}{{ $l = list $l $l }}{{ end }}{{ $l }}",
        '{{ $d := dict "a" 1 }}{{ range .items }}{{ $d = dict "x" $d "y" $d }}{{ end }}'
        '{{ printf "%v" $d }}',
    ],
)
def test_values_doubled_in_a_loop_are_refused(text: str) -> None:
    start = time.perf_counter()
    with pytest.raises(TemplateError, match="ORK_MAX_RENDER_CHARS"):
        Template(text, LIBRARY).execute({"items": list(range(100))})
    assert time.perf_counter() - start < 5


def test_ordinary_printing_is_unchanged() -> None:
    assert (
        render(
            '{{ $l := list 1 "a" (dict "k" 2) }}{{ toJson $l }} {{ $l }} {{ printf "%v-%d" $l 3 }}',
            {},
        )
        == '[1,"a",{"k":2}] [1 a map[k:2]] [1 a map[k:2]]-3'
    )

"""Orkestra's render semantics on top of Go's: fast path, <no value> stripping, trimming,
user notes, caching and error positions."""

from __future__ import annotations

import pytest

from orkestra.template import (
    LIBRARY,
    Renderer,
    Template,
    TemplateExecError,
    TemplateSyntaxError,
    UserNote,
    render,
)

CR = {
    "metadata": {"name": "my-app", "namespace": "team-a"},
    "spec": {"image": "nginx", "replicas": 3, "port": None, "tags": ["a", "b"]},
    "children": {"deployment": {"spec": {"replicas": 2}, "status": {"readyReplicas": 2}}},
}


def test_values_without_braces_pass_through_untouched() -> None:
    assert render("  plain {text} ", CR) == "  plain {text} "


def test_missing_values_are_stripped_and_output_trimmed() -> None:
    assert render("  {{ .spec.nope }}-{{ .metadata.name }}  \n", CR) == "-my-app"
    assert render("{{ .spec.port }}", CR) == ""


def test_missingkey_zero_makes_deep_missing_paths_an_error() -> None:
    with pytest.raises(TemplateExecError, match=r"nil pointer evaluating interface \{\}\.b"):
        render("{{ .spec.nope.b }}", CR)


def test_default_is_fallback_first_and_ternary_condition_first() -> None:
    assert render('{{ .spec.tag | default "latest" }}', CR) == "latest"
    assert render('{{ default "us-east-1" .spec.region }}', CR) == "us-east-1"
    assert render('{{ ternary (ne .spec.port nil) "flat" "structured" }}', CR) == "structured"
    assert render('{{ ternary (gt .spec.replicas 1) "ha" "single" }}', CR) == "ha"


def test_user_notes_call_each_other_in_any_order() -> None:
    renderer = Renderer(
        [
            UserNote("ref", "{{ registry }}/{{ .spec.image }}"),
            UserNote("registry", "ghcr.io/myorg"),
            UserNote("isBig", "{{ gt .spec.replicas 2 }}"),
        ]
    )
    assert renderer.render("{{ ref }}", CR) == "ghcr.io/myorg/nginx"
    assert renderer.render("{{ if isBig }}big{{ end }}", CR) == "big"


def test_a_note_calling_itself_fails_cleanly() -> None:
    renderer = Renderer([UserNote("loop", "{{ loop }}")])
    with pytest.raises(TemplateExecError, match="calls itself"):
        renderer.render("{{ loop }}", CR)


def test_templates_compile_once() -> None:
    renderer = Renderer()
    first = renderer.compile("{{ .metadata.name }}")
    assert renderer.compile("{{ .metadata.name }}") is first


def test_syntax_errors_carry_line_and_column() -> None:
    text = "line one\n  {{ .a ) }}"
    with pytest.raises(TemplateSyntaxError) as exc:
        Template(text, LIBRARY)
    assert exc.value.line == 2
    assert exc.value.column(text) == 9


def test_exec_errors_name_the_failing_action() -> None:
    text = "ok {{ .metadata.name }}\n{{ index .spec.tags 5 }}"
    with pytest.raises(TemplateExecError) as exc:
        Template(text, LIBRARY).execute(CR)
    assert exc.value.line == 2
    assert exc.value.context == "index .spec.tags 5"
    assert "index out of range: 5" in str(exc.value)


def test_function_errors_are_wrapped() -> None:
    with pytest.raises(TemplateExecError, match="error calling toInt"):
        render('{{ toInt "abc" }}', CR)

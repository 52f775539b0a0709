"""Templates of one shape: compiled once, and each one behaves as if compiled in full."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from orkestra.template import LIBRARY, Renderer, Template, TemplateError, UserNote
from orkestra.template.shapes import Shapes

DATA = {
    "metadata": {"name": "web", "labels": {"app": "web"}},
    "spec": {"items": ["a", "b"], "count": 2, "empty": None},
}

# Runs of actions: ones that parse together, ones that do not, ones the plain
# ``{{ ... }}`` search splits wrongly (a quoted or commented ``}}``), ones that trim,
# define or fail when executed.
ACTIONS = [
    ["{{ .metadata.name }}"],
    ["{{.spec.count}}"],
    ["{{ .metadata.name | upper }}"],
    ["{{ .spec.missing.deeper }}"],
    ["{{ len .spec.count }}"],
    ["{{ if .spec.items }}", "{{ else }}", "{{ end }}"],
    ["{{ range $i, $x := .spec.items }}", "{{ $x }}", "{{ end }}"],
    ['{{ printf "}}" }}'],
    ['{{ "{{" }}'],
    ["{{/* }} */}}"],
    ["{{/* note */}}"],
    ["{{- .metadata.name }}"],
    ["{{ .metadata.name -}}"],
    ['{{ define "x" }}', "{{ end }}"],
    ['{{ define "t" }}', "{{ end }}"],
    ['{{ block "y" . }}', "{{ end }}"],
    ['{{ template "x" }}'],
    ["{{ nosuchfunction }}"],
    ["{{ $undefined }}"],
    ["{{ end }}"],
    ["{{"],
    ["}}"],
]
# Texts of every kind for the first template; for the second, texts that are never
# empty, so that the second often has the first's shape. Plain characters come more
# often than the tricky pieces (repeated in the alphabet).
TEXTS = st.lists(st.sampled_from([*"ab -\n\t{}'\"é" * 4, "{{", "}}", "define"]), max_size=6).map(
    "".join
)
OTHERS = st.lists(st.sampled_from([*"xy \n\t}-" * 4, "{{"]), min_size=1, max_size=8).map("".join)


def outcome(make: Any, text: str) -> tuple[str, ...]:
    """What compiling and running ``text`` gives: the output, or the error and where."""
    try:
        template = make(text)
    except TemplateError as exc:
        return ("syntax", type(exc).__name__, str(exc), str(exc.pos))
    try:
        return ("ok", template.execute(DATA))
    except TemplateError as exc:
        context = getattr(exc, "context", "")
        return ("exec", type(exc).__name__, str(exc), str(exc.pos), str(exc.line), context)


def full(text: str) -> Template:
    return Template(text, LIBRARY)


@settings(max_examples=500, deadline=None)
@given(
    st.lists(st.sampled_from(ACTIONS), min_size=1, max_size=3).map(
        lambda runs: [action for run in runs for action in run]
    ),
    st.lists(TEXTS, min_size=8, max_size=8),
    st.lists(OTHERS, min_size=8, max_size=8),
)
def test_a_template_of_a_known_shape_behaves_as_compiled_in_full(
    actions: list[str], texts: list[str], others: list[str]
) -> None:
    texts = texts[: len(actions) + 1]
    first = "".join(t + a for t, a in zip(texts, actions, strict=False)) + texts[-1]
    # The same actions between other texts, empty where the first's are.
    other = [o if t else "" for t, o in zip(texts, others, strict=False)]
    second = "".join(o + a for o, a in zip(other, actions, strict=False)) + other[-1]
    shapes = Shapes(LIBRARY)
    assert outcome(shapes.template, first) == outcome(full, first)
    assert outcome(shapes.template, second) == outcome(full, second)


def test_a_thousand_values_of_one_shape_share_one_compile() -> None:
    shapes = Shapes(LIBRARY)
    templates = [shapes.template(f"{{{{ .metadata.name }}}}-cm-{i}") for i in range(1000)]
    programs = {id(t.compiled.program) for t in templates}
    assert len(programs) == 1
    assert [t.execute(DATA) for t in templates[:3]] == ["web-cm-0", "web-cm-1", "web-cm-2"]


@pytest.mark.parametrize(
    ("text", "other"),
    [
        ("a{{ .metadata.name }}", "{{ .metadata.name }}b"),  # other texts empty: not a shape
        ("ab", "a{{ .x "),  # unclosed: a syntax error
        ("a{{- .metadata.name }}", "a {{- .metadata.name }}"),  # trimmed: only the second
        ("{{ .metadata.name -}}a", "{{ .metadata.name -}} a"),
        # a main text of whitespace leaves the definition of "t" alone, any other clashes;
        # a definition of whitespace gives way to the main text
        ('{{ define "t" }}x{{ end }} ', '{{ define "t" }}x{{ end }}y'),
        ('{{ define "t" }}x{{ end }}', '{{ define "t" }} {{ end }}'),
    ],
)
def test_what_the_split_cannot_vouch_for_is_compiled_in_full(text: str, other: str) -> None:
    shapes = Shapes(LIBRARY)
    assert outcome(shapes.template, text) == outcome(full, text)
    assert outcome(shapes.template, other) == outcome(full, other)


def test_an_execution_error_points_into_its_own_text() -> None:
    shapes = Shapes(LIBRARY)
    shapes.template("x{{ .spec.missing.deeper }}")
    text = "a longer\ntext {{ .spec.missing.deeper }}"
    moved = shapes.template(text)
    assert moved.compiled.program is shapes.template("x{{ .spec.missing.deeper }}").compiled.program
    with pytest.raises(TemplateError) as caught:
        moved.execute(DATA)
    assert (caught.value.pos, caught.value.line) == (text.index(".spec"), 2)


def test_renderers_with_user_notes_keep_their_own_shapes() -> None:
    one = Renderer([UserNote("who", "one")])
    two = Renderer([UserNote("who", "two")])
    assert one.render("{{ who }}-a", DATA) == "one-a"
    assert two.render("{{ who }}-b", DATA) == "two-b"
    assert one.render("{{ who }}-c", DATA) == "one-c"

"""Fuzzing the parsers of user input: the YAML loader, the template parser (and the
execution of what parses) and the simulate.yaml parser. Each example must end within its
deadline, within a memory bound (Python allocations, traced per example; the process's
address space is capped while the fuzzing runs), and either succeed or fail with one of the
project's own errors (:class:`OrkError`, or ``yaml.YAMLError`` for the shared loader):
anything else is a crash."""

from __future__ import annotations

import faulthandler
import resource
import tracemalloc
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from orkestra.errors import OrkError
from orkestra.model.source import LOADER, parse_documents
from orkestra.simulate.spec import load_specs
from orkestra.template import LIBRARY, Template

DEADLINE_MS = 10_000
"""A hang, not a slow example: the worst example takes ~0.15 s alone (traced), but the
suite runs on every core at once; the 2 s target is ``benchmarks.hostile``'s to measure."""
PEAK_BYTES = 256 * 1024 * 1024
FUZZ = settings(
    max_examples=250,
    deadline=DEADLINE_MS,
    derandomize=True,
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.filter_too_much,
        HealthCheck.function_scoped_fixture,
    ],
)


@pytest.fixture(scope="module", autouse=True)
def bounded_process() -> Iterator[None]:
    """A hard stop for hangs (the deadline only fails an example that ends) and a cap on
    the address space: 2 GiB above what the process uses now."""
    faulthandler.dump_traceback_later(600, exit=True)
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    with open("/proc/self/statm") as statm:
        used = int(statm.read().split()[0]) * resource.getpagesize()
    cap = used + 2 * 1024**3
    resource.setrlimit(resource.RLIMIT_AS, (min(cap, hard) if hard > 0 else cap, hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_AS, (soft, hard))
        faulthandler.cancel_dump_traceback_later()


def bounded(run: Callable[[], Any], allowed: tuple[type[BaseException], ...] = (OrkError,)) -> None:
    """Run one example: an allowed error is fine, anything else fails it; so does a peak
    of traced memory beyond the bound."""
    tracemalloc.start()
    try:
        run()
    except allowed:
        pass
    finally:
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    assert peak < PEAK_BYTES, f"peak {peak / 2**20:.0f} MiB"


# -- YAML ------------------------------------------------------------------------------

YAML_TOKENS = st.sampled_from(
    [
        "a",
        "b",
        "key",
        ":",
        ": ",
        " ",
        "  ",
        "\n",
        "\n  ",
        "- ",
        "-",
        "[",
        "]",
        "{",
        "}",
        ",",
        "&a ",
        "*a",
        "&b ",
        "*b",
        "<<: ",
        "? ",
        "'",
        '"',
        "!!str ",
        "!!int ",
        "!!float ",
        "!!bool ",
        "!!binary ",
        "!!python/object ",
        "!foo ",
        "|",
        ">",
        "#",
        "---\n",
        "...\n",
        "%YAML 1.1\n",
        "\t",
        "\\",
        "0x1F",
        "~",
        "null",
        "1e999",
        "2026-01-01",
        "\ufeff",
        "é",
        "\x00",
        "\r\n",
        "&a [*a]",
        "[*a, *a, *a, *a]",
        "{x: *a, y: *a}",
    ]
)
YAML_TEXT = st.one_of(st.lists(YAML_TOKENS, max_size=60).map("".join), st.text(max_size=200))


@FUZZ
@given(YAML_TEXT)
def test_the_pattern_loader(text: str) -> None:
    bounded(lambda: parse_documents(text, "fuzz.yaml"))


@FUZZ
@given(YAML_TEXT)
def test_the_shared_loader(text: str) -> None:
    bounded(lambda: list(yaml.load_all(text, Loader=LOADER)), (yaml.YAMLError,))


@settings(FUZZ, max_examples=60)
@given(st.integers(2, 12), st.integers(2, 12), st.booleans())
def test_alias_amplification(levels: int, width: int, merge: bool) -> None:
    lines = [f"a0: &a0 [{', '.join(['x'] * width)}]"]
    for i in range(1, levels):
        if merge:
            lines.append(
                f"a{i}: &a{i} {{k{i}: *a{i - 1}, j{i}: *a{i - 1}, <<: {{m{i}: *a{i - 1}}}}}"
            )
        else:
            lines.append(f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * width)}]")
    bounded(lambda: parse_documents("\n".join(lines), "fuzz.yaml"))


# -- templates ---------------------------------------------------------------------------

TEMPLATE_TOKENS = st.sampled_from(
    [
        "{{",
        "}}",
        "{{- ",
        " -}}",
        "{{/* c */}}",
        " ",
        "\n",
        "x",
        ".",
        ".a",
        ".b",
        ".items",
        "$",
        "$x",
        "$x := ",
        "$x = ",
        "|",
        "(",
        ")",
        '"s"',
        '"(a+)+$"',
        "`r`",
        "'c'",
        "1",
        "-1",
        "1e3",
        "0x10",
        "nil",
        "true",
        "range ",
        "if ",
        "else ",
        "else if ",
        "end",
        "with ",
        'define "t"',
        'template "t" .',
        'block "b" .',
        "break",
        "continue",
        "and ",
        "or ",
        "not ",
        "len ",
        "index ",
        'printf "%*d" ',
        "print ",
        "slice ",
        "eq ",
        "lt ",
        "regexMatch ",
        "regexReplaceAll ",
        "repeat 1000000 ",
        "indent 5 ",
        "default ",
        "toYaml ",
        "toJson ",
        "quote ",
        "upper ",
        "split ",
        "join ",
        "list ",
        "dict ",
        ",",
    ]
)
TEMPLATE_TEXT = st.one_of(
    st.lists(TEMPLATE_TOKENS, max_size=40).map("".join), st.text(max_size=120)
)
DATA = {
    "a": "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa!",
    "b": 3,
    "items": list(range(50)),
    "m": {"k": [1, {"x": None}]},
}


@FUZZ
@given(TEMPLATE_TEXT)
def test_the_template_parser_and_engine(text: str) -> None:
    def run() -> None:
        template = Template(text, LIBRARY)
        template.execute(DATA)

    bounded(run)


# -- simulate.yaml -----------------------------------------------------------------------

KEYS = st.sampled_from(
    [
        "apiVersion",
        "kind",
        "metadata",
        "name",
        "spec",
        "katalog",
        "cr",
        "crFiles",
        "crd",
        "crdFiles",
        "cycles",
        "expect",
        "ops",
        "include",
        "imports",
        "absent",
        "crds",
        "steady",
        "noErrors",
        "verb",
        "resource",
        "cycle",
        "count",
        "status",
        "x",
    ]
)
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-5, 5000),
    st.sampled_from(
        [
            "./katalog.yaml",
            "../x.yaml",
            "/dev/zero",
            "/etc/passwd",
            "Simulate",
            "create",
            "orkestra.orkspace.io/v1",
            "{{ .x }}",
            "",
            "deployments",
        ]
    ),
    st.text(max_size=10),
)
VALUES = st.recursive(
    SCALARS,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(KEYS, inner, max_size=5)),
    max_leaves=25,
)
SIMULATE = st.fixed_dictionaries(
    {
        "apiVersion": st.sampled_from(["orkestra.orkspace.io/v1", "x"]),
        "kind": st.sampled_from(["Simulate", "Katalog"]),
    },
    optional={
        "metadata": VALUES,
        "spec": st.dictionaries(KEYS, VALUES, max_size=6),
        "imports": VALUES,
    },
)


@FUZZ
@given(st.one_of(SIMULATE.map(lambda d: yaml.safe_dump(d, allow_unicode=True)), YAML_TEXT))
def test_the_simulate_parser(tmp_path_factory: pytest.TempPathFactory, text: str) -> None:
    directory = tmp_path_factory.mktemp("fuzz")
    file = Path(directory) / "simulate.yaml"
    file.write_text(text, encoding="utf-8")
    bounded(lambda: load_specs(file))

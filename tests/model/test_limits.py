"""YAML read within bounds: alias bombs, size, depth, keys and values end fast with an error
naming the limit and its variable; files are regular and size-capped."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from orkestra import limits
from orkestra.model.errors import PatternError
from orkestra.model.loader import load_document
from orkestra.model.source import (
    LOADER,
    YamlLimitError,
    load_documents,
    parse_documents,
    read_text,
    reference_problem,
)


def laughs(levels: int = 9, width: int = 9) -> str:
    """The "billion laughs": each anchor lists ``width`` aliases of the one before."""
    lines = [f"a0: &a0 [{', '.join(['lol'] * width)}]"]
    lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * width)}]" for i in range(1, levels)]
    return "\n".join(lines) + "\n"


def refused(text: str) -> PatternError:
    start = time.perf_counter()
    with pytest.raises(PatternError) as info:
        parse_documents(text, "bomb.yaml")
    assert time.perf_counter() - start < 5
    return info.value


@pytest.fixture(autouse=True)
def fresh_limits() -> Iterator[None]:
    limits.reset()
    yield
    limits.reset()


def test_billion_laughs_is_refused_at_the_alias() -> None:
    error = refused(laughs())
    problem = error.problems[0]
    assert "aliases expand to more than 100000 values" in problem.message
    assert (problem.file, problem.line) == ("bomb.yaml", 6)
    assert "ORK_MAX_YAML_NODES" in problem.hint


def test_merge_key_bombs_and_recursive_aliases_are_refused() -> None:
    merges = ["b0: &b0 {x: 1, y: 2}"]
    merges += [
        f"b{i}: &b{i} {{k{i}: *b{i - 1}, j{i}: *b{i - 1}, <<: *b{i - 1}}}" for i in range(1, 14)
    ]
    merges.append("top: {<<: *b13, z: 3}")
    assert "aliases expand" in refused("\n".join(merges)).problems[0].message
    assert "refers to a node that contains it" in refused("a: &a [1, *a]\n").problems[0].message


def test_a_few_aliases_still_load() -> None:
    doc = parse_documents(laughs(levels=3, width=3), "ok.yaml")[0]
    assert doc.data["a2"] == [[["lol"] * 3] * 3] * 3


def test_depth_keys_values_and_size_name_their_variable() -> None:
    deep = "".join(" " * i + f"k{i}:\n" for i in range(300)) + " " * 300 + "v\n"
    assert "ORK_MAX_YAML_DEPTH" in refused(deep).problems[0].hint
    flow = "a: " + "[" * 300 + "]" * 300 + "\n"
    assert "nested more than 200 levels deep" in refused(flow).problems[0].message
    many_keys = "\n".join(f"k{i}: {i}" for i in range(10_001)) + "\n"
    error = refused(many_keys)
    assert "a mapping with more than 10000 keys" in error.problems[0].message
    assert error.problems[0].line == 10_001
    long_list = "a:\n" + "".join(f"- {i}\n" for i in range(100_001))
    assert "more than 100000 values" in refused(long_list).problems[0].message
    with limits.override((limits.YAML_BYTES, 100)):
        assert "ORK_MAX_YAML_BYTES" in refused("a: " + "x" * 200).problems[0].hint


def test_limits_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ORK_MAX_YAML_DEPTH", "3")
    limits.reset()
    with pytest.raises(PatternError, match="nested more than 3 levels"):
        parse_documents("a: {b: {c: [1]}}\n", "x.yaml")
    monkeypatch.setenv("ORK_MAX_YAML_DEPTH", "10_000")
    limits.reset()
    assert limits.YAML_DEPTH.value == 10_000
    monkeypatch.setenv("ORK_MAX_YAML_DEPTH", "lots")
    limits.reset()
    with pytest.raises(limits.LimitError, match="ORK_MAX_YAML_DEPTH='lots' is not a positive"):
        parse_documents("a: 1\n", "x.yaml")


def test_the_shared_loader_is_bounded_for_every_caller() -> None:
    with pytest.raises(YamlLimitError, match="aliases expand"):
        yaml.load(laughs(), Loader=LOADER)
    with pytest.raises(yaml.YAMLError):
        list(yaml.load_all(laughs(), Loader=LOADER))
    with pytest.raises(yaml.YAMLError, match="nested more than"):
        yaml.compose("a: " + "[" * 300 + "]" * 300, Loader=LOADER)
    assert yaml.load("a: [1, 2]\nb: &x {c: 1}\nd: *x\n", Loader=LOADER) == {
        "a": [1, 2],
        "b": {"c": 1},
        "d": {"c": 1},
    }


def test_syntax_errors_keep_their_position() -> None:
    with pytest.raises(PatternError) as info:
        parse_documents("a: [1\nb: 2\n", "bad.yaml")
    assert info.value.problems[0].line == 2
    assert "invalid YAML" in info.value.problems[0].message


def test_special_files_are_refused_without_blocking(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe.yaml"
    os.mkfifo(fifo)
    start = time.perf_counter()
    with pytest.raises(PatternError, match="is a FIFO"):
        read_text(fifo)
    with pytest.raises(PatternError, match="is a character device"):
        read_text(Path("/dev/zero"))
    with pytest.raises(PatternError, match="is a directory"):
        read_text(tmp_path)
    assert time.perf_counter() - start < 5
    big = tmp_path / "big.yaml"
    big.write_text("a: " + "x" * 200 + "\n")
    with (
        limits.override((limits.YAML_BYTES, 100)),
        pytest.raises(PatternError, match="larger than the limit of 100 bytes"),
    ):
        load_documents(big)


def test_text_reads_as_before(tmp_path: Path) -> None:
    file = tmp_path / "crlf.yaml"
    file.write_bytes(b"a: 1\r\nb: 2\r\n")
    assert read_text(file) == "a: 1\nb: 2\n"
    assert load_documents(file)[0].data == {"a": 1, "b": 2}
    with pytest.raises(PatternError, match="file not found"):
        read_text(tmp_path / "missing.yaml")


def test_references_stay_inside_the_pattern(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pattern = tmp_path / "pattern"
    (pattern / "sub").mkdir(parents=True)
    (pattern / "sub" / "ok.yaml").write_text("a: 1\n")
    (tmp_path / "secret.yaml").write_text("token: x\n")
    (pattern / "link.yaml").symlink_to(tmp_path / "secret.yaml")
    (pattern / "inner.yaml").symlink_to(pattern / "sub" / "ok.yaml")
    assert reference_problem(pattern / "sub" / "ok.yaml", [pattern]) is None
    assert reference_problem(pattern / "inner.yaml", [pattern]) is None
    assert reference_problem(pattern / "missing.yaml", [pattern]) is None
    for escape in (pattern / ".." / "secret.yaml", pattern / "link.yaml", Path("/etc/passwd")):
        problem = reference_problem(escape, [pattern])
        assert problem is not None and "is outside the pattern's directory" in problem[0]
        assert "ORK_ALLOWED_ROOTS" in problem[1]
    fifo = pattern / "pipe.yaml"
    os.mkfifo(fifo)
    assert reference_problem(fifo, [pattern]) == (
        f"{fifo} is a FIFO (named pipe), not a regular file",
        "name a YAML file",
    )
    monkeypatch.setenv("ORK_ALLOWED_ROOTS", f"/nonexistent{os.pathsep}{tmp_path}")
    assert reference_problem(pattern / "link.yaml", [pattern]) is None


def test_template_actions_per_document_are_bounded(tmp_path: Path) -> None:
    katalog = tmp_path / "katalog.yaml"
    katalog.write_text(
        "apiVersion: orkestra.orkspace.io/v1\nkind: Katalog\n"
        "metadata: {name: shop}\nspec: {crds: {}}\n"
        f'x: "{"{{ .a }}" * 10_001}"\n'
    )
    start = time.perf_counter()
    with pytest.raises(PatternError) as info:
        load_document(katalog)
    assert time.perf_counter() - start < 5
    problem = info.value.problems[0]
    assert (
        problem.message == "the document holds 10001 template actions ({{ ... }}), more than 10000"
    )
    assert "ORK_MAX_TEMPLATE_ACTIONS" in problem.hint

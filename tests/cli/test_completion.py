"""Shell completion: commands, flags, ``ork help`` paths, and pattern names and tags from
the configured registry, which completes nothing (silently) when it cannot answer."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from orkestra.cli import completion, main


def complete(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, line: str
) -> list[str]:
    """What bash completion offers for the last word of ``line`` (``ork ...``)."""
    words = line.split(" ")
    monkeypatch.setenv("_ORK_COMPLETE", "bash_complete")
    monkeypatch.setenv("COMP_WORDS", line)
    monkeypatch.setenv("COMP_CWORD", str(len(words) - 1))
    with pytest.raises(SystemExit) as exited:
        main([])
    assert exited.value.code == 0
    captured = capsys.readouterr()
    assert captured.err == ""
    return [item.split(",", 1)[1] for item in captured.out.splitlines() if item]


def _push(web: Path, *tags: str) -> None:
    motif = web / "motif.yaml"
    original = motif.read_text()
    for tag in tags:
        motif.write_text(original.replace("version: v1.0.0", f"version: {tag}", 1))
        assert main(["push", "--force", str(web)]) == 0


@pytest.fixture
def published(pack_copy: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _push(pack_copy / "01-motifs" / "web-service", "v1.0.0", "v1.2.0", "v2.0.0-rc.1")
    assert main(["push", "--force", str(pack_copy / "01-motifs" / "data-store")]) == 0
    capsys.readouterr()


def test_commands_and_flags_complete(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    assert complete(capsys, monkeypatch, "ork pu") == ["pull", "push"]
    assert complete(capsys, monkeypatch, "ork pull --of") == ["--offline"]
    assert complete(capsys, monkeypatch, "ork --qu") == ["--quiet"]


def test_help_completes_command_paths(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    assert complete(capsys, monkeypatch, "ork help sim") == ["simulate"]
    assert complete(capsys, monkeypatch, "ork help simulate ") == ["init", "run"]
    assert complete(capsys, monkeypatch, "ork help nothing ") == []


@pytest.mark.usefixtures("published")
def test_names_and_tags_complete_from_the_registry(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    assert complete(capsys, monkeypatch, "ork inspect --motif ") == ["data-store", "web-service"]
    assert complete(capsys, monkeypatch, "ork pull -m we") == ["web-service"]
    assert complete(capsys, monkeypatch, "ork inspect -m web-service:") == [
        "web-service:v1.2.0",
        "web-service:v1.0.0",
        "web-service:v2.0.0-rc.1",
    ]
    assert complete(capsys, monkeypatch, "ork inspect -m web-service:v1.2") == [
        "web-service:v1.2.0"
    ]
    assert complete(capsys, monkeypatch, "ork inspect ") == []  # no katalog pushed


def test_an_unreachable_registry_completes_nothing(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    monkeypatch.setenv("ORK_REGISTRY", f"127.0.0.1:{port}/katalogs")
    assert complete(capsys, monkeypatch, "ork inspect web") == []
    assert complete(capsys, monkeypatch, "ork inspect web:") == []


@pytest.fixture
def silent_registry() -> Iterator[str]:
    """A registry host that accepts connections and never answers."""
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(8)
        yield f"127.0.0.1:{server.getsockname()[1]}"


def test_a_registry_that_never_answers_completes_nothing(
    silent_registry: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(completion, "REGISTRY_SECONDS", 0.2)
    monkeypatch.setenv("ORK_REGISTRY", f"{silent_registry}/katalogs")
    assert complete(capsys, monkeypatch, "ork inspect web") == []
    assert complete(capsys, monkeypatch, "ork inspect web:") == []


def test_the_bash_script_keeps_name_version_one_word(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["completion", "bash"]) == 0
    script = capsys.readouterr().out
    assert "_ORK_COMPLETE=bash_complete" in script
    assert 'COMP_WORDBREAKS="${COMP_WORDBREAKS//:/}"' in script

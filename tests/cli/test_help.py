"""Did-you-mean for mistyped commands, ``ork help CMD [SUB]``, and groups whose default
subcommand's options show in the group's help."""

from __future__ import annotations

import pytest

from tests.conftest import run


@pytest.mark.parametrize(
    ("args", "typo", "suggestion"),
    [
        (["pusj"], "pusj", "push"),
        (["inspcet", "x:v1"], "inspcet", "inspect"),
        (["generate", "bundel"], "bundel", "bundle"),
        (["key", "lsit"], "lsit", "list"),
        (["simulate", "iint"], "iint", "init"),
        (["e2e", "iinit"], "iinit", "init"),
        (["help", "simulat"], "simulat", "simulate"),
        (["help", "simulate", "innit"], "innit", "init"),
    ],
)
def test_a_mistyped_command_suggests_the_closest(
    capsys: pytest.CaptureFixture[str], args: list[str], typo: str, suggestion: str
) -> None:
    code, out, err = run(capsys, *args)
    assert code == 2
    assert f"no such command {typo!r}; did you mean {suggestion}?" in err
    assert out == ""


def test_nothing_close_suggests_nothing(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "zzzzzz")
    assert code == 2
    assert "no such command 'zzzzzz'" in err
    assert "did you mean" not in err


def test_a_path_is_no_typo_of_a_subcommand(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "simulate", "init.yaml")
    assert code == 2
    assert "did you mean" not in err


@pytest.mark.parametrize(
    "words", [["push"], ["simulate"], ["simulate", "init"], ["generate", "bundle"], ["key", "list"]]
)
def test_help_command_prints_what_help_flag_prints(
    capsys: pytest.CaptureFixture[str], words: list[str]
) -> None:
    code, via_help, _ = run(capsys, "help", *words)
    assert code == 0
    assert via_help.startswith(f"Usage: ork {' '.join(words)} ")
    assert run(capsys, *words, "--help")[1] == via_help


def test_help_alone_is_the_root_help(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "help")
    assert code == 0
    assert out == run(capsys, "--help")[1]


def test_help_of_a_subcommand_of_a_plain_command(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "help", "version", "x")
    assert code == 2
    assert "ork version has no subcommands" in err


@pytest.mark.parametrize("group", ["simulate", "e2e"])
def test_default_run_options_show_in_the_group_help(
    capsys: pytest.CaptureFixture[str], group: str
) -> None:
    code, out, _ = run(capsys, group, "--help")
    assert code == 0
    options = out.split("Options:", 1)[1].split("Commands:", 1)[0]
    for flag in ("-f, --file", "-o, --output", "--skip", "--report-file", "--trust-hooks"):
        assert flag in options
    assert "init" in out.split("Commands:", 1)[1]

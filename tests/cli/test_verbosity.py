"""The global ``--debug`` (tracebacks and debug logs) and ``--quiet`` (only errors and the
output asked for) flags."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import click
import pytest

from orkestra.cli.output import effective_log_level, warn
from tests.conftest import run


@click.command("chatty")
def chatty() -> int:
    """Logs at debug, warns, and prints its result."""
    logging.getLogger("orkestra.chatty").debug("looked at %d things", 3)
    warn("something to know")
    click.echo("the result")
    return 0


@pytest.fixture(autouse=True)
def chatty_command(monkeypatch: pytest.MonkeyPatch) -> None:
    from orkestra.cli import app

    monkeypatch.setitem(app.COMMANDS, "chatty", (f"{__name__}:chatty", "Talks a lot."))
    monkeypatch.delenv("ORK_DEBUG", raising=False)


def test_debug_prints_debug_logs_and_only_for_that_run(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "--debug", "chatty")
    assert (code, out) == (0, "the result\n")
    assert "debug: orkestra.chatty: looked at 3 things\n" in err
    assert "looked at" not in run(capsys, "chatty")[2]


def test_ork_debug_variable_turns_on_debug_logs(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ORK_DEBUG", "1")
    assert "looked at 3 things" in run(capsys, "chatty")[2]


def test_quiet_drops_warnings_but_keeps_the_result(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, "chatty") == (0, "the result\n", "⚠ something to know\n")
    assert run(capsys, "--quiet", "chatty") == (0, "the result\n", "")
    assert run(capsys, "-q", "chatty") == (0, "the result\n", "")
    assert run(capsys, "chatty")[2] == "⚠ something to know\n"  # not sticky


def test_quiet_keeps_errors(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "-q", "init", "--pack", "nope")
    assert (code, out) == (1, "")
    assert 'no pack named "nope"' in err


def test_quiet_init_and_simulate_init_print_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    assert run(capsys, "init", "--pack", "registry-guide", "-d", str(tmp_path / "a"))[1]
    assert run(capsys, "-q", "init", "--pack", "registry-guide", "-d", str(tmp_path / "b")) == (
        0,
        "",
        "",
    )
    monkeypatch.chdir(tmp_path / "b" / "02-katalog-api")
    assert run(capsys, "-q", "simulate", "init", "--force") == (0, "", "")
    assert (tmp_path / "b" / "02-katalog-api" / "simulate.yaml").is_file()


def test_quiet_keeps_json_output(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(
        capsys, "-q", "init", "--pack", "registry-guide", "-d", str(tmp_path / "a"), "-o", "json"
    )
    assert code == 0
    assert json.loads(out)


def test_quiet_pull_prints_nothing(
    pack_copy: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    web = pack_copy / "01-motifs" / "web-service"
    assert run(capsys, "push", "--force", str(web))[0] == 0
    assert run(capsys, "-q", "pull", "web-service:v1.0.0", "--motif") == (0, "", "")
    assert run(
        capsys, "-q", "pull", "web-service:v1.0.0", "--motif", "-o", str(tmp_path / "out")
    ) == (0, "", "")
    assert (tmp_path / "out" / "motif.yaml").is_file()


@pytest.mark.parametrize(
    ("debug", "quiet", "level"),
    [(False, False, "info"), (True, False, "debug"), (False, True, "error"), (True, True, "debug")],
)
def test_long_running_commands_log_at_the_global_level(
    debug: bool, quiet: bool, level: str
) -> None:
    from orkestra.cli.output import configure

    configure(quiet=quiet, debug=debug)
    try:
        assert effective_log_level("info") == level
    finally:
        configure(quiet=False, debug=False)

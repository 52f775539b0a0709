"""``-o`` is the output format on every command but ``ork pull -o DIR`` and ``ork generate
bundle -o FILE`` (fixed by the seeds); ``--format`` is the same option everywhere, and each
help says what its ``-o`` is."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import click
import pytest
import yaml

from orkestra.cli.app import COMMANDS, LazyGroup, cli
from tests.conftest import run

NOT_A_FORMAT = {"ork pull": "directory", "ork generate bundle": "file"}
PENDING: set[str] = set()


def _commands() -> Iterator[tuple[str, click.Command]]:
    root = click.Context(cli, info_name="ork")
    assert isinstance(cli, LazyGroup)
    for name in COMMANDS:
        command = cli.get_command(root, name)
        assert command is not None
        yield f"ork {name}", command
        if isinstance(command, click.Group):
            for sub_name, sub in command.commands.items():
                yield f"ork {name} {sub_name}", sub


def _o(command: click.Command) -> click.Option | None:
    return next((p for p in command.params if isinstance(p, click.Option) and "-o" in p.opts), None)


def test_o_is_the_format_everywhere_but_pull_and_bundle() -> None:
    formats = {}
    for path, command in _commands():
        option = _o(command)
        if option is None:
            continue
        if path in PENDING:
            continue
        if path in NOT_A_FORMAT:
            assert "--format" not in option.opts
            assert f"-o is a {NOT_A_FORMAT[path]}" in (option.help or "")
            continue
        assert option.opts[:2] == ["-o", "--output"], path
        assert option.secondary_opts == [] and "--format" in option.opts, path
        assert isinstance(option.type, click.Choice), path
        formats[path] = tuple(option.type.choices)
    assert formats["ork version"] == ("text", "json", "yaml")
    assert formats["ork template"] == ("yaml", "json")
    assert formats["ork schema"] == ("json", "yaml")
    assert {"ork simulate run", "ork inspect", "ork validate", "ork e2e run"} <= set(formats)


@pytest.mark.parametrize(
    "words", [["version"], ["simulate"], ["template"], ["pull"], ["generate", "bundle"]]
)
def test_each_help_says_what_its_o_is(capsys: pytest.CaptureFixture[str], words: list[str]) -> None:
    text = " ".join(run(capsys, *words, "--help")[1].split())
    line = text.split("-o, ", 1)[1][:160]
    assert ("Output format" in line and "--format" in line) or "-o is a " in line


def test_format_is_the_same_option_as_o(capsys: pytest.CaptureFixture[str]) -> None:
    by_o = run(capsys, "version", "-o", "json")
    assert by_o[0] == 0
    assert run(capsys, "version", "--format", "json") == by_o
    assert run(capsys, "version", "--output", "json") == by_o
    as_yaml = run(capsys, "version", "--format", "yaml")
    assert yaml.safe_load(as_yaml[1]) == json.loads(by_o[1])


def test_template_o_is_a_format_and_output_file_a_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    assert run(capsys, "init", "--pack", "registry-guide", "-d", str(tmp_path / "rg"))[0] == 0
    monkeypatch.chdir(tmp_path / "rg" / "02-katalog-api")
    code, out, _ = run(capsys, "template", "--format", "json")
    assert code == 0 and "webapp" in json.loads(out)["spec"]["crds"]
    code, _, err = run(capsys, "template", "-o", "out.yaml")
    assert code == 2 and "'out.yaml' is not one of 'yaml', 'json'" in err
    assert not Path("out.yaml").exists()


def test_schema_as_yaml(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "schema", "katalog", "-o", "yaml")
    assert code == 0
    assert yaml.safe_load(out) == json.loads(run(capsys, "schema", "katalog")[1])

"""Loading a pattern's code: what `ork validate` reports for each way it can be wrong, the
trust rule for pulled patterns, and package names shared by two patterns."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from orkestra.compose import compose_file
from orkestra.compose.engines import Engines
from orkestra.gates.validate import validate_file
from orkestra.model.errors import PatternError
from tests.hooks.patterns import write_pattern

GOOD = """
from orkestra.hooks import HookSet

def hooks():
    return HookSet(on_reconcile=reconcile)

def reconcile(cr, ctx):
    pass
"""


def problems(katalog: Path) -> list[str]:
    report = validate_file(katalog, katalog.name)[0]
    return [
        f"{p.line}: {p.message} | {p.hint} | {p.expected}".rstrip(" |")
        for p in [*report.errors, *report.warnings]
    ]


def test_good_hooks_validate(tmp_path: Path) -> None:
    assert problems(write_pattern(tmp_path, GOOD)) == []


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"function": "hoks"}, 'function "hoks" not found in myhooks.ops'),
        ({"module": "myhooks.opz"}, 'hook module "myhooks.opz" not found beside the katalog'),
        ({"module": "github.com/org/hooks"}, '"github.com/org/hooks" is not a Python module path'),
    ],
)
def test_a_wrong_name_is_reported_at_its_line_with_a_suggestion(
    tmp_path: Path, change: dict[str, str], expected: str
) -> None:
    found = problems(write_pattern(tmp_path, GOOD, hooks=change))
    assert len(found) == 1 and expected in found[0]
    line = int(found[0].split(":")[0])
    written = (tmp_path / "katalog.yaml").read_text().splitlines()[line - 1]
    assert next(iter(change)) in written  # the line of the key to fix
    if "hoks" in str(change):
        assert 'did you mean "hooks"?' in found[0]
    if "opz" in str(change):
        assert 'did you mean "myhooks.ops"?' in found[0]


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ("def hooks(x):\n    pass\n", "myhooks.ops:hooks has the signature (x)"),
        ("def hooks():\n    return {}\n", "myhooks.ops:hooks() returned dict"),
        (
            "from orkestra.hooks import HookSet\ndef hooks():\n    return HookSet()\n",
            "returned a HookSet without callbacks",
        ),
        (
            "from orkestra.hooks import HookSet\ndef hooks():\n"
            "    return HookSet(on_create=lambda cr: None)\n",
            "on_create of myhooks.ops:hooks has the signature (cr)",
        ),
        (
            "def hooks():\n    raise ValueError('no config')\n",
            "myhooks.ops:hooks() raised ValueError: no config",
        ),
        ("def hooks(:\n", "has a syntax error"),
        (
            "import not_a_real_dependency\n",
            'imports "not_a_real_dependency", which is not installed',
        ),
        ("hooks = 3\n", "myhooks.ops:hooks is a int, not a function"),
    ],
)
def test_code_that_cannot_serve_as_hooks_is_an_error(
    tmp_path: Path, code: str, expected: str
) -> None:
    found = problems(write_pattern(tmp_path, code))
    assert len(found) == 1 and expected in found[0], found


def test_the_go_era_location_key_works_with_a_note(tmp_path: Path) -> None:
    katalog = write_pattern(tmp_path, GOOD)
    katalog.write_text(katalog.read_text().replace("module: myhooks.ops", "location: myhooks.ops"))
    found = problems(katalog)
    assert len(found) == 1
    assert '"location" is the Go-era key: read as the Python module path "myhooks.ops"' in found[0]
    assert validate_file(katalog, katalog.name)[0].ok


def test_a_pulled_pattern_runs_no_code_without_trust(tmp_path: Path) -> None:
    marker = tmp_path / "evidence"
    code = GOOD + f"\nopen({str(marker)!r}, 'w').write('ran')\n"
    katalog = write_pattern(tmp_path, code)
    (tmp_path / ".manifest.json").write_text(json.dumps({"schemaVersion": 2}))
    found = problems(katalog)
    assert len(found) == 1 and "it is not executed unless you trust it" in found[0]
    assert validate_file(katalog, katalog.name)[0].ok  # validate only warns
    with pytest.raises(PatternError, match="--trust-hooks"):
        Engines(compose_file(katalog, katalog.name)).load_hooks()
    assert not marker.exists()
    Engines(compose_file(katalog, katalog.name), trust_hooks=True).load_hooks()
    assert marker.read_text() == "ran"


def test_two_patterns_of_one_composition_may_not_share_a_package_name(tmp_path: Path) -> None:
    first = write_pattern(tmp_path / "a", GOOD)
    second = write_pattern(tmp_path / "b", GOOD)
    second.write_text(
        second.read_text()
        .replace("name: db-operator", "name: other")
        .replace("  db:\n", "  other:\n")
        .replace("kind: Db", "kind: Other")
        .replace("plural: dbs", "plural: others")
    )
    komposer = tmp_path / "komposer.yaml"
    komposer.write_text(f"""apiVersion: orkestra.orkspace.io/v1
kind: Komposer
metadata: {{name: both, version: v1.0.0}}
imports:
  files: [{first}, {second}]
""")
    found = problems(komposer)
    assert len(found) == 1 and 'two patterns provide the Python package "myhooks"' in found[0]


def test_a_later_composition_replaces_modules_loaded_from_elsewhere(tmp_path: Path) -> None:
    first = write_pattern(tmp_path / "a", GOOD + "\nWHERE = 'a'\n")
    second = write_pattern(tmp_path / "b", GOOD + "\nWHERE = 'b'\n")
    for path, where in ((first, "a"), (second, "b"), (first, "a")):
        hooks = Engines(compose_file(path, path.name)).hooks("db")
        assert hooks is not None
        reconcile = hooks.hooks.on_reconcile
        assert reconcile is not None and reconcile.__globals__["WHERE"] == where


def test_a_runtime_image_without_the_hooks_names_the_image(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from orkestra.cli.app import main

    katalog = write_pattern(tmp_path, GOOD)
    (tmp_path / "myhooks" / "ops.py").unlink()  # the katalog came alone, from a ConfigMap
    monkeypatch.setenv("ORK_RUNTIME_IMAGE", "ghcr.io/acme/orkestra:1.0.0")
    code = main(["run", "-f", str(katalog), "--kubeconfig", str(tmp_path / "none")])
    err = capsys.readouterr().err
    assert code == 1
    assert 'hook module "myhooks.ops" not found' in err
    assert "this runtime image (ghcr.io/acme/orkestra:1.0.0) does not contain it" in err
    assert "ork build runtime" in err


def test_a_namespace_package_is_found_after_a_regular_one_of_the_same_name(tmp_path: Path) -> None:
    regular = write_pattern(tmp_path / "a", GOOD + "\nWHERE = 'a'\n")
    namespace = write_pattern(tmp_path / "b", GOOD + "\nWHERE = 'b'\n")
    (tmp_path / "b" / "myhooks" / "__init__.py").unlink()  # as the pack's hooks are
    for path, where in ((regular, "a"), (namespace, "b")):
        hooks = Engines(compose_file(path, path.name)).hooks("db")
        assert hooks is not None and hooks.hooks.on_reconcile is not None
        assert hooks.hooks.on_reconcile.__globals__["WHERE"] == where


def test_a_pulled_pattern_runs_its_sources_not_a_planted_pyc(tmp_path: Path) -> None:
    import importlib._bootstrap_external as external
    import importlib.util

    katalog = write_pattern(tmp_path, GOOD + "\nWHERE = 'source'\n")
    (tmp_path / ".manifest.json").write_text(json.dumps({"schemaVersion": 2}))
    source = tmp_path / "myhooks" / "ops.py"
    planted = compile(GOOD + "\nWHERE = 'planted'\n", str(source), "exec")
    stat = source.stat()
    pyc = Path(importlib.util.cache_from_source(str(source)))
    pyc.parent.mkdir(parents=True, exist_ok=True)
    pyc.write_bytes(
        external._code_to_timestamp_pyc(  # type: ignore[attr-defined]
            planted, int(stat.st_mtime), stat.st_size
        )
    )
    hooks = Engines(compose_file(katalog, katalog.name), trust_hooks=True).hooks("db")
    assert hooks is not None and hooks.hooks.on_reconcile is not None
    assert hooks.hooks.on_reconcile.__globals__["WHERE"] == "source"

"""komposer.lock against real registries: pins, moved tags, constraints and --update."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from orkestra.cli import main
from orkestra.registry.client import RegistryClient
from tests.conftest import RegistryTarget, use_published_motifs
from tests.gates.test_push import push, push_motifs

EOL = (
    "  deprecation:\n    message: end of the line\n    timeline: {from: '2019-01-01', "
    "to: '2020-01-01'}\n"
)


@pytest.fixture
def versions(pack_copy: Path, registry: RegistryTarget) -> Path:
    """webapp-operator v1.0.0 and v1.1.0 verified, v1.2.0 forced (unverified), v1.3.0 past
    its end of life."""
    push_motifs(pack_copy)
    api = pack_copy / "02-katalog-api"
    use_published_motifs(api / "katalog.yaml")
    push(api)
    push(api, "webapp-operator:v1.1.0", update_meta=True)
    push(api, "webapp-operator:v1.2.0", force=True, update_meta=True)
    katalog = api / "katalog.yaml"
    katalog.write_text(
        katalog.read_text().replace('  version: "v1.2.0"\n', '  version: "v1.3.0"\n' + EOL)
    )
    push(api)
    return pack_copy


def komposer(directory: Path, entry: str) -> Path:
    directory.mkdir(exist_ok=True)
    path = directory / "komposer.yaml"
    path.write_text(
        "apiVersion: orkestra.orkspace.io/v1\nkind: Komposer\nmetadata:\n"
        f"  name: platform\nimports:\n  registry:\n    - {entry}\n"
    )
    return path


def lock_of(directory: Path) -> dict[str, dict[str, Any]]:
    doc = yaml.safe_load((directory / "komposer.lock").read_text())
    assert isinstance(doc, dict)
    return {e["import"]: e for e in doc["imports"]}


def pull(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["pull", "-f", "komposer.yaml", *args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_constraints_skip_unverified_and_end_of_life(
    versions: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    komposer(tmp_path / "c", "webapp-operator@^1.0")
    monkeypatch.chdir(tmp_path / "c")
    code, out, err = pull(capsys)
    assert code == 0, err
    entry = lock_of(tmp_path / "c")["webapp-operator@^1.0"]
    assert (entry["version"], entry["simulate"], entry["kind"]) == ("v1.1.0", "passed", "Katalog")
    assert entry["ref"].endswith("/webapp-operator:v1.1.0")
    assert "skipped v1.3.0: past its end of life (2020-01-01)" in err
    assert "skipped v1.2.0: unverified (no gate passed in a valid signed report)" in err
    assert "Wrote komposer.lock (2 imports pinned)" in out  # the katalog and its motif
    code, out, err = pull(capsys, "--update", "--allow-unverified")
    assert code == 0, err
    assert lock_of(tmp_path / "c")["webapp-operator@^1.0"]["version"] == "v1.3.0"
    assert "  ~ katalog webapp-operator@^1.0: " in out and "webapp-operator:v1.3.0" in out
    komposer(tmp_path / "d", "webapp-operator@~1.0")
    monkeypatch.chdir(tmp_path / "d")
    assert pull(capsys)[0] == 0
    assert lock_of(tmp_path / "d")["webapp-operator@~1.0"]["version"] == "v1.0.0"


def test_exact_pins_and_latest(
    versions: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    komposer(tmp_path / "e", "webapp-operator:v1.2.0")
    monkeypatch.chdir(tmp_path / "e")
    code, _, err = pull(capsys)
    assert code == 0, err  # an exact pin is the consumer's explicit choice
    assert lock_of(tmp_path / "e")["webapp-operator:v1.2.0"]["simulate"] == "skipped"
    komposer(tmp_path / "l", "webapp-operator")
    monkeypatch.chdir(tmp_path / "l")
    code, _, err = pull(capsys)
    assert code == 1 and "webapp-operator:latest not found" in err
    assert "not pinned (resolves to :latest)" in err


def test_a_moved_tag_is_a_digest_mismatch(
    versions: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    path = komposer(tmp_path / "m", "webapp-operator:v1.1.0")
    monkeypatch.chdir(tmp_path / "m")
    assert pull(capsys)[0] == 0
    pinned = lock_of(tmp_path / "m")["webapp-operator:v1.1.0"]["digest"]
    api = versions / "02-katalog-api"
    katalog = api / "katalog.yaml"
    katalog.write_text(
        katalog.read_text()
        .replace('  version: "v1.3.0"\n' + EOL, '  version: "v1.1.0"\n')
        .replace("workers: 2", "workers: 9")
    )
    push(api, overwrite=True)  # the same tag, other content: the tag moved
    code, _, err = pull(capsys)
    assert code == 1
    assert "pins " + str(pinned)[:19] in err and "(the tag was moved)" in err
    assert lock_of(tmp_path / "m")["webapp-operator:v1.1.0"]["digest"] == pinned
    assert main(["template", "-f", str(path)]) == 0  # still the locked content
    assert "workers: 2" in capsys.readouterr().out
    code, out, err = pull(capsys, "--update")
    assert code == 0, err
    assert "  ~ katalog webapp-operator:v1.1.0: " in out
    assert lock_of(tmp_path / "m")["webapp-operator:v1.1.0"]["digest"] != pinned
    assert main(["template", "-f", str(path)]) == 0
    assert "workers: 9" in capsys.readouterr().out


def test_locked_imports_work_offline(
    versions: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    registry: RegistryTarget,
) -> None:
    path = komposer(tmp_path / "o", "webapp-operator@^1.0")
    monkeypatch.chdir(tmp_path / "o")
    assert pull(capsys)[0] == 0
    monkeypatch.setenv("ORK_REGISTRY", "127.0.0.1:9/nowhere")  # unreachable from here on
    monkeypatch.setenv("ORK_MOTIFS_REGISTRY", "127.0.0.1:9/nowhere")
    if registry.name == "embedded":
        import shutil

        shutil.rmtree(RegistryClient().local_root)
    assert main(["validate", "-f", str(path)]) == 0
    assert main(["plan", str(path)]) == 0
    assert "CRD webapp" in capsys.readouterr().out

"""Komposer registry imports and OCI motif imports, resolved through the local cache."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from orkestra.cli import main
from orkestra.compose import compose_file
from orkestra.gates.validate import validate_file
from orkestra.model.errors import PatternError
from orkestra.registry.client import RegistryClient
from tests.conftest import use_published_motifs
from tests.gates.test_push import push, push_motifs

KOMPOSER = """apiVersion: orkestra.orkspace.io/v1
kind: Komposer
metadata:
  name: platform
  version: v1.0.0
{lifecycle}imports:
  registry:
{imports}
"""


@pytest.fixture
def published(pack_copy: Path) -> Path:
    """The motifs and the 02 katalog pushed to the embedded registry."""
    push_motifs(pack_copy)
    use_published_motifs(pack_copy / "02-katalog-api" / "katalog.yaml")
    push(pack_copy / "02-katalog-api")
    return pack_copy


def komposer(directory: Path, imports: str, lifecycle: str = "") -> Path:
    path = directory / "komposer.yaml"
    path.write_text(KOMPOSER.format(imports=imports, lifecycle=lifecycle))
    return path


@pytest.mark.parametrize(
    "entry",
    [
        "    - oci://local/katalogs/webapp-operator:v1.0.0",
        "    - oci://local/katalogs/webapp-operator@v1.0.0",
        "    - webapp-operator:v1.0.0",
        "    - url: oci://local/katalogs/webapp-operator\n      version: v1.0.0",
        "    - url: webapp-operator@v1.0.0\n      oci: true",
    ],
)
def test_import_forms(published: Path, tmp_path: Path, entry: str) -> None:
    composed = compose_file(komposer(tmp_path, entry))
    assert list(composed.crds) == ["webapp"]
    assert composed.crds["webapp"]["katalogName"] == "webapp-operator"
    reconcile = composed.crds["webapp"]["operatorBox"]["reconcile"]
    assert "my-webapp" not in str(reconcile) and reconcile["onReconcile"]["deployments"]


def test_use_komposer(published: Path, tmp_path: Path) -> None:
    api = published / "02-katalog-api"
    (api / "komposer.yaml").write_text(
        KOMPOSER.format(lifecycle="", imports="").replace(
            "  registry:\n", "  files:\n    - ./katalog.yaml\n"
        )
        + "spec:\n  crds:\n    webapp:\n"
        "      operatorBox:\n        reconcile:\n          workers: 7\n"
    )
    push(api, "webapp-operator:v1.1.0", force=True, update_meta=True)
    composed = compose_file(
        komposer(tmp_path, "    - url: webapp-operator:v1.1.0\n      useKomposer: true")
    )
    assert composed.crds["webapp"]["operatorBox"]["reconcile"]["workers"] == 7


def test_missing_import_is_a_precise_error(published: Path, tmp_path: Path) -> None:
    with pytest.raises(PatternError) as caught:
        compose_file(komposer(tmp_path, "    - webapp-operator:v9.9.9"))
    [problem] = caught.value.problems
    assert problem.path == ("imports", "registry", 0)
    assert problem.message.startswith(
        'cannot resolve katalog "webapp-operator:v9.9.9": '
        "oci://local/katalogs/webapp-operator:v9.9.9 not found"
    )


def test_a_motif_is_not_a_katalog(published: Path, tmp_path: Path) -> None:
    with pytest.raises(PatternError, match="is a Motif, not a Katalog"):
        compose_file(komposer(tmp_path, "    - oci://local/motifs/web-service:v1.0.0"))


def test_deprecated_imports_warn_unless_accepted(published: Path, tmp_path: Path) -> None:
    katalog = published / "02-katalog-api" / "katalog.yaml"
    katalog.write_text(
        katalog.read_text().replace(
            "  version: v1.0.0\n",
            "  version: v1.0.0\n  deprecation:\n    message: replaced by "
            "webapp v2\n    migratedTo: webapp-operator:v2.0.0\n",
        )
    )
    push(published / "02-katalog-api")
    path = komposer(tmp_path, "    - webapp-operator:v1.0.0")
    [report] = validate_file(path, "komposer.yaml")
    assert report.ok
    assert [w.render() for w in report.warnings] == [
        "komposer.yaml:8:7: warning: imports.registry[0]: imported pattern webapp-operator "
        "v1.0.0 is deprecated: replaced by webapp v2\n  hint: migrate to "
        "webapp-operator:v2.0.0; or acknowledge it under lifecycle.accept.patterns"
    ]
    for accept in (
        "{name: webapp-operator}",
        "{name: webapp-operator, author: myorg}",
        "{name: webapp-operator, version: '<2.0.0'}",
    ):
        lifecycle = f"lifecycle:\n  accept:\n    patterns:\n      - {accept}\n"
        [report] = validate_file(
            komposer(tmp_path, "    - webapp-operator:v1.0.0", lifecycle), "komposer.yaml"
        )
        assert report.warnings == [], accept
    lifecycle = (
        "lifecycle:\n  accept:\n    patterns:\n      - {name: webapp-operator, "
        "version: '>=2.0.0'}\n"
    )
    [report] = validate_file(
        komposer(tmp_path, "    - webapp-operator:v1.0.0", lifecycle), "komposer.yaml"
    )
    assert len(report.warnings) == 1


def test_offline_after_pull(
    published: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    path = komposer(tmp_path, "    - webapp-operator:v1.0.0")
    monkeypatch.chdir(tmp_path)
    assert main(["pull", "-f", "komposer.yaml"]) == 0
    out = capsys.readouterr().out
    assert "✓ oci://local/katalogs/webapp-operator:v1.0.0  (pulled)" in out
    assert "✓ oci://local/motifs/web-service:v1.0.0  (cached)" in out  # pulled by the push
    shutil.rmtree(RegistryClient().local_root)  # the registry is gone: only the cache is left
    assert main(["validate", "-f", str(path)]) == 0
    assert main(["template", "-f", str(path)]) == 0
    assert "kind: WebApp" in capsys.readouterr().out
    assert (tmp_path / "komposer.lock").is_file()
    assert main(["pull", "-f", "komposer.yaml"]) == 1  # pulling checks the tags: needs it
    err = capsys.readouterr().err
    assert "pull(s) failed" in err and "not found" in err

"""The library under ``ork pull -f`` and a pulled katalog's motif dependencies, on the
embedded registry: results as data (the CLI's printing is tested in
tests/compose/test_registry_imports.py and tests/cli)."""

from __future__ import annotations

from pathlib import Path

from orkestra.compose.pulling import (
    first_document,
    pull_imports,
    pull_motif,
    registry_motifs,
)
from orkestra.model.imports import MotifImport
from orkestra.registry.client import RegistryClient
from orkestra.registry.refs import Reference
from tests.compose.test_registry_imports import komposer, published  # noqa: F401 (fixture)


def _pull(path: Path, *, update: bool = False) -> tuple[object, list[Reference]]:
    started: list[Reference] = []
    result = pull_imports(
        RegistryClient(),
        path,
        refresh=False,
        update=update,
        allow_unverified=False,
        offline=False,
        on_pull=started.append,
    )
    return result, started


def test_a_komposer_pull_reports_each_import_and_writes_its_lock(
    published: Path,  # noqa: F811
    tmp_path: Path,
) -> None:
    path = komposer(tmp_path, "    - webapp-operator:v1.0.0")
    result, started = _pull(path)
    located = {str(ref): now for ref, now in result.located}
    assert located == {
        "oci://local/katalogs/webapp-operator:v1.0.0": True,
        "oci://local/motifs/web-service:v1.0.0": False,  # cached by the push
    }
    assert [str(ref) for ref in started] == ["oci://local/katalogs/webapp-operator:v1.0.0"]
    assert result.problems == [] and result.lock is not None
    assert result.lock.path == tmp_path / "komposer.lock" and result.lock.path.is_file()
    assert result.lock.pinned == 2 and result.lock.changes == []  # both; no lock before


def test_an_unresolvable_import_is_a_problem_and_no_lock_is_written(
    published: Path,  # noqa: F811
    tmp_path: Path,
) -> None:
    path = komposer(tmp_path, "    - webapp-operator:v9.9.9")
    result, _ = _pull(path)
    assert result.lock is None and not (tmp_path / "komposer.lock").exists()
    assert len(result.problems) == 1 and result.unresolved_only
    assert "webapp-operator" in result.problems[0]


def test_motif_dependencies_pull_or_say_why_not(
    published: Path,  # noqa: F811
    tmp_path: Path,
) -> None:
    katalog = published / "02-katalog-api" / "katalog.yaml"
    imports = registry_motifs(katalog)
    assert imports and all(imp.is_registry for imp in imports)
    pulled = pull_motif(RegistryClient(), imports[0], refresh=False, offline=False)
    assert pulled.ref is not None and pulled.error == ""
    missing = MotifImport(path=(), ref="oci://local/motifs/nothing-here", version="v1.0.0")
    failed = pull_motif(RegistryClient(), missing, refresh=False, offline=False)
    assert failed.ref is None and "nothing-here" in failed.error


def test_first_document_reads_leniently(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text("kind: Katalog\n---\nkind: Other\n")
    (tmp_path / "b.yaml").write_text("- a list\n")
    (tmp_path / "c.yaml").write_text("key: [unclosed\n")
    assert first_document(tmp_path / "a.yaml") == {"kind": "Katalog"}
    assert first_document(tmp_path / "b.yaml") == {}
    assert first_document(tmp_path / "c.yaml") == {}
    assert first_document(tmp_path / "missing.yaml") == {}

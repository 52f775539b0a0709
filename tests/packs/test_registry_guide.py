"""The registry-guide pack: every pattern file in it is valid, and validates against the
exported JSON Schema as an editor would check it."""

from __future__ import annotations

import functools
from pathlib import Path

import jsonschema
import pytest
import yaml

from orkestra.gates.validate import validate_file
from orkestra.model.formats import kind_json_schema
from orkestra.packs import PACKS, pack_files
from tests.conftest import PACK

PATTERN_FILES = sorted(p for p in PACK.rglob("*.yaml")
                       if str(next(yaml.safe_load_all(p.read_text())).get(
                           "apiVersion", "")).startswith("orkestra."))


def test_the_pack_has_the_seeded_steps() -> None:
    steps = {p.name for p in PACK.iterdir() if p.is_dir()}
    assert {"00-consume", "01-motifs", "02-katalog-api", "03-katalog-cache",
            "04-katalog-platform", "06-pattern-zoo", "07-upgrade", "08-bad-actor",
            "09-deprecation", "official"} <= steps
    names = {rel for rel, _ in pack_files("registry-guide")}
    for required in ("01-motifs/web-service/motif.yaml", "01-motifs/data-store/motif.yaml",
                     "01-motifs/platform-admission/motif.yaml", "02-katalog-api/katalog.yaml",
                     "02-katalog-api/crd.yaml", "02-katalog-api/cr.yaml",
                     "02-katalog-api/simulate.yaml", "02-katalog-api/README.md"):
        assert required in names
    assert PACKS[0].name == "registry-guide"


@pytest.mark.parametrize("path", PATTERN_FILES, ids=lambda p: str(p.relative_to(PACK)))
def test_pattern_file_is_valid(path: Path, monkeypatch: pytest.MonkeyPatch,
                               published: Path) -> None:
    """Valid, without warnings, once the pack is published as its READMEs describe (the
    pack's own pulled hooks trusted)."""
    monkeypatch.chdir(path.parent)
    reports = validate_file(path, path.name, trust_hooks=True)
    assert all(r.ok for r in reports), "\n".join(p.render() for r in reports for p in r.errors)
    assert not [w for r in reports for w in r.warnings]


@functools.cache
def validator(kind: str) -> jsonschema.protocols.Validator:
    schema = kind_json_schema(kind)
    cls = jsonschema.validators.validator_for(schema)
    return cls(schema)


@pytest.mark.parametrize("path", PATTERN_FILES, ids=lambda p: str(p.relative_to(PACK)))
def test_pattern_file_matches_the_exported_schema(path: Path) -> None:
    data = yaml.safe_load(path.read_text())
    validator(data["kind"]).validate(data)


def test_the_exported_schema_rejects_what_validate_rejects() -> None:
    data = yaml.safe_load((PACK / "02-katalog-api" / "katalog.yaml").read_text())
    data["spec"]["crds"]["webapp"]["operatorBox"]["reconciler"]["wrokers"] = 2
    with pytest.raises(jsonschema.ValidationError, match="wrokers"):
        jsonschema.validate(data, kind_json_schema("Katalog"))

"""The registry-guide pack: every pattern file in it is valid, and validates against the
exported JSON Schema as an editor would check it."""

from __future__ import annotations

import functools
import importlib.metadata
import tomllib
from pathlib import Path

import jsonschema
import pytest
import yaml
from packaging.requirements import Requirement

from orkestra import DISTRIBUTION, __version__
from orkestra.gates.validate import validate_file
from orkestra.model.formats import kind_json_schema
from orkestra.packs import PACKS, pack_files
from orkestra.runtime.hookcode import requirement_lines
from tests.conftest import PACK

PATTERN_FILES = sorted(
    p
    for p in PACK.rglob("*.yaml")
    if str(next(yaml.safe_load_all(p.read_text())).get("apiVersion", "")).startswith("orkestra.")
)


def test_the_pack_has_the_seeded_steps() -> None:
    steps = {p.name for p in PACK.iterdir() if p.is_dir()}
    assert {
        "00-consume",
        "01-motifs",
        "02-katalog-api",
        "03-katalog-cache",
        "04-katalog-platform",
        "06-pattern-zoo",
        "07-upgrade",
        "08-bad-actor",
        "09-deprecation",
        "official",
    } <= steps
    names = {rel for rel, _ in pack_files("registry-guide")}
    for required in (
        "01-motifs/web-service/motif.yaml",
        "01-motifs/data-store/motif.yaml",
        "01-motifs/platform-admission/motif.yaml",
        "02-katalog-api/katalog.yaml",
        "02-katalog-api/crd.yaml",
        "02-katalog-api/cr.yaml",
        "02-katalog-api/simulate.yaml",
        "02-katalog-api/README.md",
    ):
        assert required in names
    assert PACKS[0].name == "registry-guide"


@pytest.mark.parametrize("path", PATTERN_FILES, ids=lambda p: str(p.relative_to(PACK)))
def test_pattern_file_is_valid(
    path: Path, monkeypatch: pytest.MonkeyPatch, published: Path
) -> None:
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


def test_the_typed_operators_require_this_project_by_its_distribution_name() -> None:
    """pyproject.toml's name is orkestra.DISTRIBUTION, installed under it, and the pack's
    hook projects require it by that name: a bare ``orkestra`` is PyPI's unrelated project."""
    root = PACK.parents[2]
    project = tomllib.loads((root / "pyproject.toml").read_text())["project"]
    assert project["name"] == DISTRIBUTION == "orkestra-patterns"
    assert importlib.metadata.version(DISTRIBUTION) == __version__
    requirements = {
        path: [Requirement(line).name for line in requirement_lines(path)]
        for path in PACK.rglob("requirements.txt")
    }
    requirements |= {
        path: [
            Requirement(d).name for d in tomllib.loads(path.read_text())["project"]["dependencies"]
        ]
        for path in PACK.rglob("pyproject.toml")
    }
    assert len(requirements) == 4
    for path, names in requirements.items():
        assert DISTRIBUTION in names and "orkestra" not in names, path

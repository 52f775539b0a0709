"""``crdFile`` and ``include:`` read only regular files inside the pattern, size-capped, and a
CRD manifest the API server would not decode is an error at its line, never a traceback."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from orkestra import limits
from orkestra.compose import compose_file
from orkestra.model.errors import PatternError, Problem
from tests.conftest import WriteFiles

KATALOG = """
apiVersion: orkestra.orkspace.io/v1
kind: Katalog
metadata: {name: shop, version: v1.0.0}
spec:
  crds:
    shop:
      crdFile: CRD_FILE
      validation:
        include: ./rules.yaml
      operatorBox:
        onReconcile:
          configMaps:
            - name: "{{ .metadata.name }}"
"""

RULES = """
rules:
  - {field: spec.size, regex: "^[a-z]+$", message: lowercase}
"""

CRD = """
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: shops.demo.io}
spec:
  group: demo.io
  names: {kind: Shop, plural: shops}
  versions:
    - name: v1
      served: true
      storage: true
      schema:
        openAPIV3Schema:
          type: object
          properties:
            spec:
              type: object
              properties:
                size: {type: string}
"""


def problems_of(katalog: Path) -> list[Problem]:
    start = time.perf_counter()
    with pytest.raises(PatternError) as info:
        compose_file(katalog)
    assert time.perf_counter() - start < 10
    return info.value.problems


def pattern(write: WriteFiles, crd_file: str = "./crd.yaml", crd: str = CRD) -> Path:
    root = write(
        **{
            "shop__katalog.yaml": KATALOG.replace("CRD_FILE", crd_file),
            "shop__rules.yaml": RULES,
            "shop__crd.yaml": crd,
            "secret.yaml": CRD,
        }
    )
    return root / "shop" / "katalog.yaml"


def test_the_pattern_composes(write: WriteFiles) -> None:
    composed = compose_file(pattern(write))
    assert composed.crds["shop"]["apiTypes"]["kind"] == "Shop"


@pytest.mark.parametrize(
    "ref", ["/dev/zero", "../secret.yaml", "/etc/passwd", "~/../../etc/passwd"]
)
def test_a_crd_file_outside_the_pattern_is_refused(write: WriteFiles, ref: str) -> None:
    problems = problems_of(pattern(write, ref))
    assert len(problems) == 1
    assert problems[0].path == ("spec", "crds", "shop", "crdFile")
    assert f'cannot read crdFile "{ref}"' in problems[0].message
    assert "is outside the pattern's directory" in problems[0].message
    assert "ORK_ALLOWED_ROOTS" in problems[0].hint


def test_symlinks_out_fifos_and_large_files_are_refused(write: WriteFiles) -> None:
    katalog = pattern(write, "./link.yaml")
    (katalog.parent / "link.yaml").symlink_to(katalog.parent.parent / "secret.yaml")
    assert "is outside the pattern's directory" in problems_of(katalog)[0].message
    katalog = pattern(write, "./pipe.yaml")
    os.mkfifo(katalog.parent / "pipe.yaml")
    assert "is a FIFO (named pipe), not a regular file" in problems_of(katalog)[0].message
    katalog = pattern(write)
    with limits.override((limits.YAML_BYTES, 100)):
        problem = problems_of(katalog)[0]
    assert "larger than the limit of 100 bytes" in problem.message
    assert "ORK_MAX_YAML_BYTES" in problem.hint


def test_an_allowed_root_lets_a_shared_file_in(
    write: WriteFiles, monkeypatch: pytest.MonkeyPatch
) -> None:
    katalog = pattern(write, "../secret.yaml")
    monkeypatch.setenv("ORK_ALLOWED_ROOTS", str(katalog.parent.parent))
    assert compose_file(katalog).crds["shop"]["apiTypes"]["plural"] == "shops"


def test_an_include_outside_the_pattern_is_refused(write: WriteFiles) -> None:
    katalog = pattern(write)
    katalog.write_text(katalog.read_text().replace("./rules.yaml", "../secret.yaml"))
    problem = problems_of(katalog)[0]
    assert problem.path == ("spec", "crds", "shop", "validation", "include")
    assert 'cannot include "../secret.yaml"' in problem.message
    assert "outside the pattern's directory" in problem.message


def test_a_crd_whose_spec_is_a_list(write: WriteFiles) -> None:
    crd = (
        "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\n"
        "metadata: {name: x}\nspec: [1, 2]\n"
    )
    problem = problems_of(pattern(write, crd=crd))[0]
    assert (problem.file, problem.line, problem.path) == ("./crd.yaml", 4, ("spec",))
    assert problem.message == "must be a mapping (CustomResourceDefinitionSpec), not a list"


def test_a_bare_boolean_property(write: WriteFiles) -> None:
    crd = CRD.replace("size: {type: string}", "size: {type: string}\n                flag: true")
    problem = problems_of(pattern(write, crd=crd))[0]
    assert problem.file == "./crd.yaml"
    assert problem.path[-2:] == ("properties", "flag")
    assert problem.message == "must be a schema (a mapping), not a boolean"
    assert problem.line == crd.lstrip("\n").splitlines().index("                flag: true") + 1


def test_a_crd_pattern_re2_rejects(write: WriteFiles) -> None:
    crd = CRD.replace("size: {type: string}", "size: {type: string, pattern: '(a)\\1'}")
    problem = problems_of(pattern(write, crd=crd))[0]
    assert problem.path[-1] == "pattern"
    assert "must be a valid regular expression, but isn't" in problem.message
    assert "has no backreferences" in problem.message

"""CRD-entry ``admission:`` folded into the CRD-level blocks: rule order, where each folded
rule was written, and a Komposer override's admission."""

from __future__ import annotations

from pathlib import Path

import pytest

from orkestra.compose import compose_file
from orkestra.model.errors import PatternError
from tests.conftest import WriteFiles

KATALOG = """
apiVersion: orkestra.orkspace.io/v1
kind: Katalog
metadata: {name: k}
spec:
  crds:
    app:
      apiTypes: {group: g.io, version: v1, kind: App, plural: apps}
      imports: [{motif: ./guard.yaml}]
      admission:
        validation:
          include: ./policy.yaml
          rules: [{field: spec.a, exists: true, message: admission}]
          external: [{name: first, url: "http://x/a"}]
      validation:
        include: ./old.yaml
        rules: [{field: spec.c, exists: true, message: crd-level}]
        external: [{name: second, url: "http://x/b"}]
"""
POLICY = "rules:\n  - {field: spec.b, exists: true, message: admission-include}\n"
OLD = "rules:\n  - {field: spec.o, exists: true, message: crd-level-include}\n"
GUARD = """
apiVersion: orkestra.orkspace.io/v1
kind: Motif
metadata: {name: guard}
admission:
  validation:
    rules: [{field: spec.d, exists: true, message: motif}]
"""


def test_rule_order_and_where_each_rule_was_written(write: WriteFiles) -> None:
    write(**{"k.yaml": KATALOG, "policy.yaml": POLICY, "old.yaml": OLD, "guard.yaml": GUARD})
    composed = compose_file(Path("k.yaml"))
    validation = composed.crds["app"]["validation"]
    assert [r["message"] for r in validation["rules"]] == [
        "admission",
        "admission-include",
        "crd-level-include",
        "crd-level",
        "motif",
    ]
    assert [e["name"] for e in validation["external"]] == ["first", "second"]
    places = [
        composed.origins.problem(("spec", "crds", "app", "validation", "rules", i), "x")
        for i in range(5)
    ]
    assert [(p.file, p.line) for p in places] == [
        ("k.yaml", 12),
        ("./policy.yaml", 2),
        ("./old.yaml", 2),
        ("k.yaml", 16),
        ("guard.yaml", 6),
    ]


def test_mutate_first_set_in_both_places_must_agree(write: WriteFiles) -> None:
    write(
        **{
            "k.yaml": KATALOG.replace(
                "      validation:\n        include: ./old.yaml",
                "      mutation: {mutateFirst: false}\n"
                "      validation:\n        include: ./old.yaml",
            ).replace(
                "      admission:\n", "      admission:\n        mutation: {mutateFirst: true}\n"
            ),
            "policy.yaml": POLICY,
            "old.yaml": OLD,
            "guard.yaml": GUARD,
        }
    )
    with pytest.raises(PatternError) as exc:
        compose_file(Path("k.yaml"))
    assert [p.render() for p in exc.value.problems] == [
        "k.yaml:10:20: error: spec.crds.app.admission.mutation.mutateFirst: set twice\n"
        "  hint: spec.crds.app.mutation.mutateFirst is set too; keep one of the two"
    ]


def test_a_komposer_override_folds_its_admission(write: WriteFiles) -> None:
    write(
        **{
            "k.yaml": KATALOG,
            "policy.yaml": POLICY,
            "old.yaml": OLD,
            "guard.yaml": GUARD,
            "komposer.yaml": """
apiVersion: orkestra.orkspace.io/v1
kind: Komposer
metadata: {name: platform}
imports:
  files: [./k.yaml]
spec:
  crds:
    app:
      admission:
        validation:
          include: ./policy.yaml
          rules: [{field: spec.z, exists: true, message: override}]
        webhooks: {validation: true}
""",
        }
    )
    composed = compose_file(Path("komposer.yaml"))
    entry = composed.crds["app"]
    assert "admission" not in entry
    # an override's list replaces the imported one, as every override does
    assert [r["message"] for r in entry["validation"]["rules"]] == ["override", "admission-include"]
    assert entry["webhooks"] == {"validation": True}
    first = composed.origins.problem(("spec", "crds", "app", "validation", "rules", 0), "x")
    assert (first.file, first.line) == ("komposer.yaml", 12)

"""Loading: kind detection, layouts G0/G1/G2 normalize to one model, spellings, positions."""

from __future__ import annotations

from pathlib import Path

import pytest

from orkestra.model.errors import PatternError
from orkestra.model.loader import load_document, load_documents
from tests.conftest import WriteFiles

G2 = """
apiVersion: orkestra.orkspace.io/v1
kind: Katalog
metadata: {name: web}
spec:
  crds:
    web:
      apiTypes: {group: g.io, version: v1, kind: Web, plural: webs}
      operatorBox:
        reconcile:
          workers: 4
          resync: 1m
          onCreate:
            configMaps:
              - name: "{{ .metadata.name }}-config"
                when: [{field: "{{ .spec.tier }}", equals: gold}]
        emit:
          status:
            fields: [{path: ready, value: "true", type: bool}]
        runtime:
          finalizers: [web.g.io/cleanup]
"""

G1 = """
apiVersion: orkestra.orkspace.io/v1
kind: Katalog
metadata: {name: web}
spec:
  crds:
    web:
      apiTypes: {group: g.io, version: v1, kind: Web, plural: webs}
      workers: 4
      operatorBox:
        reconciler:
          resync: 1m
        onCreate:
          configmaps:
            - name: "{{ .metadata.name }}-config"
              anyOf: []
              when: [{field: "{{ .spec.tier }}", operator: eq, value: gold}]
        status:
          fields: [{path: ready, value: "true", type: bool}]
        finalizers: [web.g.io/cleanup]
"""

G0 = """
apiVersion: orkestra.konductor.io/v1Alpha
kind: Katalog
metadata: {name: web}
spec:
  crds:
    - name: web
      apiTypes: {group: g.io, version: v1, kind: Web, plural: webs}
      workers: 4
      reconciler:
        resync: 1m
        onCreate:
          configMaps:
            - name: "{{ .metadata.name }}-config"
              when: [{field: "{{ .spec.tier }}", equals: gold}]
        status:
          fields: [{path: ready, value: "true", type: bool}]
      operatorBox:
        finalizers: [web.g.io/cleanup]
"""


def _crd(text: str, write: WriteFiles) -> dict:  # type: ignore[type-arg]
    write(**{"k.yaml": text})
    doc = load_document(Path("k.yaml"))
    return doc.data["spec"]["crds"]["web"]  # type: ignore[no-any-return]


def test_layouts_normalize_to_the_same_model(write: WriteFiles) -> None:
    g2 = _crd(G2, write)
    g1 = _crd(G1, write)
    g0 = _crd(G0, write)
    # G1 spells the condition explicitly (operator: eq) and adds an empty anyOf
    g1_cond = g1["operatorBox"]["reconcile"]["onCreate"]["configMaps"][0]
    assert g1_cond.pop("or") == []
    assert g1_cond["when"] == [{"field": "{{ .spec.tier }}", "operator": "equals", "value": "gold"}]
    g1_cond["when"] = [{"field": "{{ .spec.tier }}", "equals": "gold"}]
    assert g1 == g2
    assert g0 == g2


def test_generation_and_deprecation_warning(write: WriteFiles) -> None:
    write(**{"g0.yaml": G0, "g1.yaml": G1, "g2.yaml": G2})
    assert load_document(Path("g2.yaml")).generation == "G2"
    assert load_document(Path("g1.yaml")).generation == "G1"
    g0 = load_document(Path("g0.yaml"))
    assert g0.generation == "G0"
    assert any("deprecated" in w.message for w in g0.warnings)


def test_errors_in_moved_blocks_point_at_what_the_user_wrote(write: WriteFiles) -> None:
    text = G1.replace(
        '[{path: ready, value: "true", type: bool}]',
        '[{path: ready, value: "true", when: [{field: spec.x}]}]',
    )
    write(**{"k.yaml": text})
    with pytest.raises(PatternError) as exc:
        load_document(Path("k.yaml"))
    problem = exc.value.problems[0]
    assert problem.path == ("spec", "crds", "web", "operatorBox", "status", "fields", 0, "when", 0)
    assert (problem.line, problem.column) == (18, 56)
    assert problem.message == "the condition has no operator"


def test_multi_document_files(write: WriteFiles) -> None:
    write(**{"two.yaml": G2 + "---\n" + G2.replace("name: web}", "name: other}")})
    docs = load_documents(Path("two.yaml"))
    assert [d.name for d in docs] == ["web", "other"]


def test_errors_of_all_documents_are_reported_together(write: WriteFiles) -> None:
    broken = G2.replace("workers: 4", "workers: 0")
    write(**{"two.yaml": broken + "---\n" + broken})
    with pytest.raises(PatternError) as exc:
        load_documents(Path("two.yaml"))
    assert [p.line for p in exc.value.problems] == [10, 32]


def test_ignored_resource_kinds_warn(write: WriteFiles) -> None:
    write(
        **{
            "k.yaml": G2.replace(
                "          onCreate:",
                "          onReconcile:\n            daemonSets: []\n          onCreate:",
            )
        }
    )
    doc = load_document(Path("k.yaml"))
    assert [w.message for w in doc.warnings] == ['"daemonSets" is accepted but ignored']


def test_aliases_are_renamed(write: WriteFiles) -> None:
    text = G2.replace(
        "        reconcile:\n",
        "        reconcile:\n"
        "          hooks: {module: a.b, function: f, managedResources: "
        "[{kind: Pod}]}\n",
    )
    crd = _crd(text, write)
    assert crd["operatorBox"]["reconcile"]["hooks"]["resources"] == [{"kind": "Pod"}]


def test_empty_and_non_mapping_documents(write: WriteFiles) -> None:
    write(**{"empty.yaml": "# nothing\n", "list.yaml": "- a\n"})
    with pytest.raises(PatternError, match="no YAML documents"):
        load_documents(Path("empty.yaml"))
    with pytest.raises(PatternError, match="expected a mapping at the top"):
        load_documents(Path("list.yaml"))


def test_expected_kinds_are_enforced(write: WriteFiles) -> None:
    write(**{"k.yaml": G2})
    with pytest.raises(PatternError, match="a Katalog is not expected here"):
        load_document(Path("k.yaml"), kinds=("Motif",))


def test_semantic_checks_can_be_skipped(write: WriteFiles) -> None:
    write(**{"k.yaml": G2.replace('"{{ .metadata.name }}-config"', '"{{ nope }}"')})
    with pytest.raises(PatternError, match='function "nope" not defined'):
        load_document(Path("k.yaml"))
    assert load_document(Path("k.yaml"), checks=False).name == "web"


def test_label_selector_values_are_text_as_kubernetes_compares_them(write: WriteFiles) -> None:
    text = G2.replace(
        "      operatorBox:\n",
        "      labelSelector: {tier: 2, edge: false}\n"
        "      operatorBox:\n"
        "        observe:\n"
        "          cross: [{labelSelector: {tier: 2, edge: false}, as: peers}]\n",
    )
    crd = _crd(text, write)
    assert crd["labelSelector"] == {"tier": "2", "edge": "false"}
    assert crd["operatorBox"]["observe"]["cross"][0]["labelSelector"] == crd["labelSelector"]

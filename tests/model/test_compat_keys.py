"""Loading the newer upstream keys (docs/compat.md): warnings, defaults written into the
model, and the YAML 1.1 boolean words used as keys. Errors are in broken_cases.py, valid
patterns in tests/compat/."""

from __future__ import annotations

from typing import Any

from orkestra.model.document import Document
from orkestra.model.imports import motif_imports
from orkestra.model.loader import load_document
from tests.conftest import WriteFiles

HEAD = """
apiVersion: orkestra.orkspace.io/v1
kind: Katalog
metadata: {name: k}
spec:
  crds:
    app:
      apiTypes: {group: g.io, version: v1, kind: App, plural: apps}
"""


def load(write: WriteFiles, body: str) -> Document:
    """A katalog whose CRD ``app`` has this (8-space indented) body after apiTypes."""
    write(**{"k.yaml": HEAD + body})
    return load_document(write() / "k.yaml", display="k.yaml")


def box(doc: Document) -> dict[str, Any]:
    entry: dict[str, Any] = doc.data["spec"]["crds"]["app"]["operatorBox"]
    return entry


def warnings(doc: Document) -> list[str]:
    return [p.render() for p in doc.warnings]


def test_on_threshold_always_drops(write: WriteFiles) -> None:
    doc = load(
        write,
        """
      operatorBox:
        reconcile:
          queue: {maxDepth: 10, behaviour: {onThreshold: {value: 50, drop: false}}}
""",
    )
    assert box(doc)["reconcile"]["queue"]["behaviour"]["onThreshold"] == {"value": 50, "drop": True}
    assert warnings(doc) == [
        "k.yaml:11:70: warning: spec.crds.app.operatorBox.reconcile.queue.behaviour."
        "onThreshold.drop: onThreshold always drops: drop: false is ignored\n"
        "  hint: remove drop: false"
    ]


def test_on_limit_without_drop_warns(write: WriteFiles) -> None:
    doc = load(
        write,
        """
      operatorBox:
        reconcile:
          queue:
            maxDepth: 10
            behaviour: {onLimit: {when: [{field: spec.mode, equals: batch}]}}
""",
    )
    assert [w.split(": ", 2)[2] for w in warnings(doc)] == [
        "spec.crds.app.operatorBox.reconcile.queue.behaviour.onLimit: onLimit without "
        "drop: true does nothing\n"
        "  hint: drop is its only action: add drop: true, or remove onLimit"
    ]


def test_an_unlimited_queue_without_behaviour_is_fine(write: WriteFiles) -> None:
    doc = load(
        write,
        """
      operatorBox:
        reconcile:
          queue: {maxDepth: 0}
""",
    )
    assert box(doc)["reconcile"]["queue"] == {"maxDepth": 0}
    assert doc.warnings == []


def test_cross_without_selector_warns(write: WriteFiles) -> None:
    doc = load(
        write,
        """
      operatorBox:
        observe:
          cross: [{crd: database}]
""",
    )
    assert box(doc)["observe"]["cross"] == [
        {"crd": "database", "as": "database", "strategy": "first"}
    ]
    assert [w.split(": ", 2)[2] for w in warnings(doc)] == [
        "spec.crds.app.operatorBox.observe.cross[0]: the cross entry has no selector: it "
        "never finds a CR\n"
        '  hint: add selector: {name: "{{ .metadata.name }}"} (or matchLabels)'
    ]


def test_cross_source_defaults(write: WriteFiles) -> None:
    doc = load(
        write,
        """
      operatorBox:
        cross:
          - {crd: db, source: {host: "http://db:8080"}}
          - {crd: db2, as: other, source: {host: "http://db:8080", endpoint: "http://x/y"}}
""",
    )
    cross = box(doc)["observe"]["cross"]
    assert cross[0]["source"] == {"host": "http://db:8080", "protocol": "cr", "cacheFor": "30s"}
    assert cross[1]["source"] == {
        "host": "http://db:8080",
        "endpoint": "http://x/y",
        "cacheFor": "30s",
    }


def test_watch_on_defaults_to_every_event(write: WriteFiles) -> None:
    doc = load(
        write,
        """
      operatorBox:
        observe:
          watch:
            - {apiVersion: v1, kind: Secret, on: []}
            - {apiVersion: v1, kind: ConfigMap}
""",
    )
    assert [w["on"] for w in box(doc)["observe"]["watch"]] == [["create", "update", "delete"]] * 2


def test_yaml_boolean_words_as_keys_stay_words(write: WriteFiles) -> None:
    doc = load(
        write,
        """
      operatorBox:
        reconcile:
          onReconcile:
            configMaps:
              - name: flags
                data: {on: "1", Off: "0", yes: "y", true: "t"}
""",
    )
    data = box(doc)["reconcile"]["onReconcile"]["configMaps"][0]["data"]
    assert data == {"on": "1", "Off": "0", "yes": "y", "true": "t"}


def test_motif_imports_lists_reconcile_imports_after_the_crd_level_ones() -> None:
    data = {
        "spec": {
            "imports": [{"motif": "notes@v1"}],
            "crds": {
                "app": {
                    "imports": [{"motif": "./a.yaml"}],
                    "operatorBox": {"reconcile": {"imports": [{"motif": "oci://r.io/m/b:v1"}]}},
                }
            },
        }
    }
    assert [(i.where, i.ref, i.is_local) for i in motif_imports(data)] == [
        ("spec.imports[0]", "notes@v1", False),
        ("spec.crds.app.imports[0]", "./a.yaml", True),
        ("spec.crds.app.operatorBox.reconcile.imports[0]", "oci://r.io/m/b:v1", False),
    ]


def test_only_ambiguous_bare_fields_in_a_motif_warn(write: WriteFiles) -> None:
    write(
        **{
            "m.yaml": """
apiVersion: orkestra.orkspace.io/v1
kind: Motif
metadata: {name: m}
inputs: [{name: tier}]
resources:
  configMaps:
    - name: a
      when:
        - {field: status.phase, equals: Running}
        - {field: gold, equals: gold}
        - {field: inputs.tier, equals: gold}
        - {field: tier.level, equals: gold}
        - {field: "{{ .inputs.tier }}", equals: gold}
"""
        }
    )
    doc = load_document(write() / "m.yaml", display="m.yaml")
    assert [p.render() for p in doc.warnings] == [
        'm.yaml:11:19: warning: resources.configMaps[0].when[2].field: "inputs.tier" has no '
        "{{ }}: it is compared as that literal text when the katalog loads\n"
        '  hint: write field: "{{ .inputs.tier }}" to compare the input\'s value',
        'm.yaml:12:19: warning: resources.configMaps[0].when[3].field: "tier.level" is not a '
        "path into the CR (apiVersion, children, cross, external, health, kind, metadata, "
        "metrics, previous, spec, status): it is compared as literal text when the katalog "
        "loads\n"
        "  hint: start it with one of those to test the CR at reconcile time",
    ]

"""Motif expansion: bindings, typed inputs, both substitution passes, condition splitting,
merging into the CRD and katalog-wide imports."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from orkestra.compose import compose_file
from orkestra.model.errors import PatternError
from tests.conftest import WriteFiles

MOTIF = """
apiVersion: orkestra.orkspace.io/v1
kind: Motif
metadata: {name: web, version: v1.0.0}
inputs:
  - {name: image, required: true}
  - {name: replicas, default: "1", type: integer}
  - {name: debug, default: "false", type: bool}
  - {name: host, default: ""}
  - {name: tier, default: bronze}
  - {name: fallback, default: backup}
resources:
  onCreate:
    secrets:
      - name: "{{ .metadata.name }}-creds"
        once: true
        data: {password: "{{ randomAlphanumeric 16 }}"}
  deployments:
    - name: "{{ .metadata.name }}"
      image: "{{ .inputs.image }}"
      replicas: "{{ .inputs.replicas }}"
      env:
        - {name: DEBUG, value: "{{ .inputs.debug }}"}
        - {name: LABEL, value: "{{ inputs.tier }}-{{ .inputs.tier | upper }}"}
        - {name: MODE, value: "{{ .inputs.host | default .inputs.fallback }}"}
  ingresses:
    - name: "{{ .metadata.name }}"
      host: "{{ .inputs.host }}"
      when: [{field: "{{ .inputs.host }}", exists: true}]
  configMaps:
    - name: gold-only
      when: [{field: "{{ .inputs.tier }}", equals: gold}]
    - name: any-of
      or:
        - {field: "{{ .inputs.tier }}", equals: gold}
        - {field: "{{ .spec.vip }}", equals: "true"}
status:
  fields:
    - {path: image, value: "{{ .inputs.image }}"}
admission:
  validation:
    rules:
      - {field: spec.image, prefix: "{{ .inputs.image }}", message: m}
  mutation:
    mutateFirst: true
    rules:
      - {field: spec.replicas, default: "{{ .inputs.replicas }}"}
"""


def katalog(with_: str, extra: str = "") -> str:
    return f"""
apiVersion: orkestra.orkspace.io/v1
kind: Katalog
metadata: {{name: k}}
spec:
  crds:
    web:
      apiTypes: {{group: g.io, version: v1, kind: Web, plural: webs}}
      imports:
        - motif: ./motif.yaml
          with: {with_}
{extra}"""


def _crd(write: WriteFiles, with_: str, extra: str = "") -> dict[str, Any]:
    write(**{"k.yaml": katalog(with_, extra), "motif.yaml": MOTIF})
    return compose_file(Path("k.yaml")).crds["web"]


def _reconcile(crd: dict[str, Any]) -> dict[str, Any]:
    return crd["operatorBox"]["reconcile"]  # type: ignore[no-any-return]


def test_runtime_bindings_are_spliced_as_templates(write: WriteFiles) -> None:
    crd = _crd(
        write,
        '{image: "{{ .spec.image }}", replicas: "{{ .spec.replicas }}", host: "{{ .spec.host }}"}',
    )
    deployment = _reconcile(crd)["onReconcile"]["deployments"][0]
    assert deployment["image"] == "{{ .spec.image }}"
    assert deployment["replicas"] == "{{ .spec.replicas }}"  # a template stays a string
    ingress = _reconcile(crd)["onReconcile"]["ingresses"][0]
    assert ingress["when"] == [{"field": "{{ .spec.host }}", "exists": True}]


def test_literal_bindings_of_typed_inputs_become_typed(write: WriteFiles) -> None:
    crd = _crd(write, '{image: nginx, replicas: "3", debug: "true"}')
    deployment = _reconcile(crd)["onReconcile"]["deployments"][0]
    assert deployment["replicas"] == 3
    # a whole value that is exactly a typed input becomes typed (quotes stripped, as the
    # original expander does); the engine stringifies env values when it builds objects
    assert deployment["env"][0] == {"name": "DEBUG", "value": True}


def test_defaults_both_spellings_and_second_pass(write: WriteFiles) -> None:
    crd = _crd(write, "{image: nginx}")
    env = _reconcile(crd)["onReconcile"]["deployments"][0]["env"]
    assert env[1]["value"] == "bronze-BRONZE"
    assert env[2]["value"] == "backup"
    assert _reconcile(crd)["onReconcile"]["deployments"][0]["replicas"] == 1


def test_static_conditions_are_decided_at_load(write: WriteFiles) -> None:
    crd = _crd(write, "{image: nginx}")  # host "" -> ingress dropped; tier bronze
    on_reconcile = _reconcile(crd)["onReconcile"]
    assert "ingresses" not in on_reconcile
    config_maps = on_reconcile["configMaps"]
    assert [c["name"] for c in config_maps] == ["any-of"]
    assert config_maps[0]["or"] == [{"field": "{{ .spec.vip }}", "equals": "true"}]
    gold = _crd(write, "{image: nginx, tier: gold, host: example.com}")
    gold_reconcile = _reconcile(gold)["onReconcile"]
    assert [c["name"] for c in gold_reconcile["configMaps"]] == ["gold-only", "any-of"]
    assert "or" not in gold_reconcile["configMaps"][1]  # one static alternative passed
    assert "when" not in gold_reconcile["ingresses"][0]


def test_on_create_status_and_admission_are_merged(write: WriteFiles) -> None:
    extra = """      validation:
        rules: [{field: spec.x, exists: true, message: own}]
      operatorBox:
        status:
          fields: [{path: phase, value: Running}]
"""
    crd = _crd(write, "{image: nginx}", extra)
    assert _reconcile(crd)["onCreate"]["secrets"][0]["name"] == "{{ .metadata.name }}-creds"
    assert [f["path"] for f in crd["operatorBox"]["emit"]["status"]["fields"]] == ["phase", "image"]
    assert [r["message"] for r in crd["validation"]["rules"]] == ["own", "m"]
    assert crd["mutation"] == {
        "mutateFirst": True,
        "rules": [{"field": "spec.replicas", "default": 1}],
    }


def test_expansion_errors_point_at_the_motif(write: WriteFiles) -> None:
    write(
        **{
            "k.yaml": katalog("{image: nginx}"),
            "motif.yaml": MOTIF.replace("{{ randomAlphanumeric 16 }}", "{{ bad func }}"),
        }
    )
    with pytest.raises(PatternError) as exc:
        compose_file(Path("k.yaml"))
    assert exc.value.problems[0].file == "motif.yaml"


def test_katalog_wide_imports_take_only_profiles_and_notes(write: WriteFiles) -> None:
    shared = """
apiVersion: orkestra.orkspace.io/v1
kind: Motif
metadata: {name: shared}
resources:
  configMaps: [{name: ignored}]
profiles:
  resources: [{name: small, requests: {cpu: 100m}}]
notes:
  functions: [{name: fullName, expression: "{{ .metadata.name }}-full"}]
"""
    write(
        **{
            "shared.yaml": shared,
            "motif.yaml": MOTIF,
            "k.yaml": katalog("{image: nginx}").replace(
                "spec:\n", "spec:\n  imports: [{motif: ./shared.yaml}]\n"
            ),
        }
    )
    composed = compose_file(Path("k.yaml"))
    assert composed.top["profiles"]["resources"][0]["name"] == "small"
    assert [n.name for n in composed.notes] == ["fullName"]
    assert "ignored" not in str(composed.crds)


def test_each_motif_file_loads_once(write: WriteFiles) -> None:
    from orkestra.compose import MotifResolver

    write(**{"k.yaml": katalog("{image: nginx}"), "motif.yaml": MOTIF})
    resolver = MotifResolver()
    compose_file(Path("k.yaml"), motifs=resolver)
    compose_file(Path("k.yaml"), motifs=resolver)
    assert len(resolver._cache) == 1


def test_a_per_crd_import_says_it_leaves_profiles_and_notes(write: WriteFiles) -> None:
    with_notes = MOTIF + "notes:\n  functions: [{name: full, expression: x}]\n"
    write(**{"k.yaml": katalog("{image: nginx}"), "motif.yaml": with_notes})
    warnings = [p.render() for p in compose_file(Path("k.yaml")).warnings]
    assert warnings == [
        "k.yaml:9:11: warning: spec.crds.web.imports[0]: the notes of motif web are not "
        "taken by a per-CRD import\n"
        "  hint: import the motif under spec.imports as well to use them"
    ]

"""The schema's checked values are the model's own: no mapping or list is shared with the
source document, so later stages may change the model in place."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from orkestra.kubeobjects import Json
from orkestra.model.loader import build_document
from orkestra.model.schema import AnyValue, Context, F, ListOf, Obj, Opaque
from orkestra.model.source import parse_documents

KATALOG = """
apiVersion: orkestra.orkspace.io/v1
kind: Katalog
metadata: {name: web}
spec:
  crds:
    web:
      apiTypes: {group: g.io, version: v1, kind: Web, plural: webs}
      operatorBox:
        reconcile:
          onReconcile:
            custom:
              - apiVersion: x.io/v1
                kind: Thing
                metadata: {name: t}
                spec: {nested: {list: [1, {deep: true}]}}
"""


def containers(value: Json) -> list[int]:
    """The identities of every mapping and list in ``value``."""
    found: list[int] = []
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            found.append(id(item))
            stack.extend(item.values())
        elif isinstance(item, list):
            found.append(id(item))
            stack.extend(item)
    return found


def test_opaque_and_free_values_are_copied() -> None:
    source = parse_documents("free: {a: [1, {b: 2}]}\nopaque: [{c: {d: []}}]\n", "s.yaml")[0]
    schema = Obj(fields={"free": F(AnyValue()), "opaque": F(ListOf(Opaque()))})
    checked = schema.check(source.data, (), Context(source))
    assert checked == source.data
    assert not set(containers(checked)) & set(containers(source.data))


def test_a_loaded_model_shares_nothing_with_its_source() -> None:
    source = parse_documents(KATALOG, "k.yaml")[0]
    written = repr(source.data)
    model: Any = build_document(source, Path("k.yaml")).data
    assert not set(containers(model)) & set(containers(source.data))
    resources = model["spec"]["crds"]["web"]["operatorBox"]["reconcile"]["onReconcile"]
    resources["custom"][0]["spec"]["nested"]["list"].append("changed")
    assert repr(source.data) == written

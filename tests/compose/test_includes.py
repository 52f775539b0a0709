"""``include:`` files: where each included or inline item was written."""

from __future__ import annotations

from pathlib import Path

from orkestra.compose import compose_file
from tests.conftest import WriteFiles

KATALOG = """
apiVersion: orkestra.orkspace.io/v1
kind: Katalog
metadata: {name: k}
spec:
  crds:
    app:
      apiTypes: {group: g.io, version: v1, kind: App, plural: apps}
      validation:
        include: ./rules.yaml
        rules:
          - {field: spec.b, exists: true, message: b}
          - {field: spec.c, exists: true, message: c}
      operatorBox:
        emit:
          status:
            include: ./status.yaml
            fields: [{path: b, value: b}, {path: c, value: c}]
"""


def test_included_items_go_first_and_every_item_keeps_its_place(write: WriteFiles) -> None:
    write(
        **{
            "k.yaml": KATALOG,
            "rules.yaml": "rules:\n  - {field: spec.a, exists: true, message: a}\n",
            "status.yaml": "fields:\n  - {path: a, value: a}\n",
        }
    )
    composed = compose_file(Path("k.yaml"))
    entry = composed.crds["app"]
    assert [r["message"] for r in entry["validation"]["rules"]] == ["a", "b", "c"]
    status = entry["operatorBox"]["emit"]["status"]
    assert "include" not in status
    assert [f["path"] for f in status["fields"]] == ["a", "b", "c"]

    def place(*path: str | int) -> tuple[str, int, int]:
        p = composed.origins.problem(("spec", "crds", "app", *path), "x")
        return p.file, p.line, p.column

    assert [place("validation", "rules", i) for i in range(3)] == [
        ("./rules.yaml", 2, 5),
        ("k.yaml", 11, 13),
        ("k.yaml", 12, 13),
    ]
    assert [place("operatorBox", "emit", "status", "fields", i) for i in range(3)] == [
        ("./status.yaml", 2, 5),
        ("k.yaml", 17, 22),
        ("k.yaml", 17, 43),
    ]

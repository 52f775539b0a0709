"""Positions of the documents of a multi-document text read quickly: each document's own,
whichever order they are asked in, computed in one pass over the text."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from orkestra.model import source
from orkestra.model.errors import PatternError
from orkestra.model.loader import load_documents
from orkestra.model.source import Mark, parse_documents, thorough_documents
from tests.conftest import WriteFiles
from tests.model.test_loader import G2

STREAM = """\
a: 1
---
b:
  c: [x, y]
---
---
d:
  - e: {f: 2}
    g: 3
"""


def test_each_document_has_its_own_positions_in_any_order() -> None:
    docs = parse_documents(STREAM, "t.yaml")
    assert [d.written for d in docs] == [None] * 4  # read quickly
    thorough = thorough_documents(STREAM, "t.yaml")
    for index in (3, 1, 0, 2):
        assert docs[index].positions == thorough[index].positions
    assert docs[1].mark(("b", "c", 1)) == Mark(4, 10)
    assert docs[3].mark(("d", 0, "g"), key=True) == Mark(9, 5)
    assert docs[3].mark(("d", 0, "e", "f")) == Mark(8, 12)
    assert docs[0].mark(("a",)) == Mark(1, 4)
    assert docs[2].mark(("missing",)) == Mark(6, 1)  # the empty document's null


def test_texts_asked_in_turn_keep_their_own_positions() -> None:
    other = "z:\n  - 1\n---\ny: {w: 2}\n"
    first, second = parse_documents(STREAM, "a.yaml"), parse_documents(other, "b.yaml")
    assert second[1].mark(("y", "w")) == Mark(4, 8)
    assert first[1].mark(("b", "c", 0)) == Mark(4, 7)
    assert second[0].mark(("z", 0)) == Mark(2, 5)
    assert first[3].mark(("d", 0, "g")) == Mark(9, 8)


def test_an_error_while_reading_positions_is_not_remembered(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    source._stream.cache_clear()
    real = source._Converter.convert
    failures = [RecursionError()]

    def flaky(self: source._Converter, node: yaml.Node, path: tuple[str | int, ...]) -> object:
        if not path and failures:
            raise failures.pop()
        return real(self, node, path)

    monkeypatch.setattr(source._Converter, "convert", flaky)
    docs = parse_documents(STREAM, "t.yaml")
    with pytest.raises(RecursionError):
        docs[1].mark(("b",))
    assert docs[1].written is None
    assert docs[1].mark(("b", "c", 1)) == Mark(4, 10)
    assert docs[0].mark(("a",)) == Mark(1, 4)


def test_problems_of_later_documents_point_into_them(write: WriteFiles) -> None:
    second = G2.replace("workers: 4", "workers: 0").replace("name: web}", "name: two}")
    third = G2.replace("resync: 1m", "resync: often").replace("name: web}", "name: three}")
    write(**{"three.yaml": G2 + "---\n" + second + "---\n" + third})
    with pytest.raises(PatternError) as exc:
        load_documents(Path("three.yaml"))
    found = [(p.file, p.line, p.column, p.path) for p in exc.value.problems]
    workers = ("spec", "crds", "web", "operatorBox", "reconcile", "workers")
    resync = ("spec", "crds", "web", "operatorBox", "reconcile", "resync")
    assert found == [("three.yaml", 32, 20, workers), ("three.yaml", 55, 19, resync)]

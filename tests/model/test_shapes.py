"""The TypedDicts of :mod:`orkestra.model.shapes` name exactly the keys the schema accepts."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from orkestra.model import formats, shapes
from orkestra.model.schema import Obj


def _obj(node: object) -> Obj:
    assert isinstance(node, Obj)
    return node


def _spec(kind: str) -> Obj:
    return _obj(formats.KINDS[kind].fields["spec"].node)


# G0/G1 spellings the normalizer moves into the G2 layout; they never reach a consumer.
_MOVED = {"workers", "resync", "queue", "reconciler"}

CASES = [
    (shapes.SimulateFile, lambda: formats.KINDS["Simulate"], set()),
    (shapes.SimulateSpec, lambda: _spec("Simulate"), set()),
    (shapes.Expectations, lambda: _obj(_spec("Simulate").fields["expect"].node), set()),
    (shapes.Motif, lambda: formats.KINDS["Motif"], set()),
    (shapes.Katalog, lambda: formats.KINDS["Katalog"], set()),
    (shapes.KatalogSpec, lambda: _spec("Katalog"), set()),
    (shapes.CrdEntry, lambda: formats.CRD_ENTRY, _MOVED),
    (shapes.ConditionSpec, lambda: formats.CONDITION, set()),
    (shapes.ExternalCall, lambda: formats.EXTERNAL, set()),
]


@pytest.mark.parametrize(
    ("shape", "node", "moved"), CASES, ids=lambda c: getattr(c, "__name__", "")
)
def test_shape_keys_are_the_schema_keys(
    shape: type, node: Callable[[], object], moved: set[str]
) -> None:
    declared = set(_obj(node()).fields) - moved
    keys = set(shape.__required_keys__) | set(shape.__optional_keys__)
    assert keys == declared

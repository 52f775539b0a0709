"""The package's lazy re-exports: every advertised name resolves, nothing else does."""

from __future__ import annotations

import pytest

import orkestra.cluster as cluster


def test_every_exported_name_resolves() -> None:
    assert sorted(cluster.__all__) == sorted(cluster._EXPORTS)
    for name in cluster.__all__:
        assert getattr(cluster, name).__name__ == name


def test_an_unknown_name_is_an_attribute_error() -> None:
    misspelt = "MemoryClusterr"
    with pytest.raises(AttributeError, match=misspelt):
        getattr(cluster, misspelt)

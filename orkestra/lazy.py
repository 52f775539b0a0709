"""Lazy re-exports for a package's ``__init__``.

A package that re-exports its submodules' public names loads each submodule only when one
of its names is first read, so that importing one submodule (``cluster.openapi`` to check a
CRD while loading a katalog) never loads the others. PEP 562 gives the hook, a module-level
``__getattr__``; this is the lookup the packages share.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from typing import Any


def exports(package: str, names: Mapping[str, str]) -> Callable[[str], Any]:
    """The ``__getattr__`` of ``package``: each name in ``names`` read from its submodule."""

    def attribute(name: str) -> Any:
        submodule = names.get(name)
        if submodule is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        return getattr(importlib.import_module(f"{package}.{submodule}"), name)

    return attribute

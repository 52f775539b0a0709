"""Typed patterns written into a temporary directory: a katalog naming a hook module, the
module, and a CR, for the hooks tests."""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

import yaml

from orkestra.cluster import MemoryCluster, ResourceType
from orkestra.compose import compose_file
from orkestra.compose.engines import Engines
from orkestra.engine.reconcile import CycleResult, Reconciler
from tests.engine.harness import Clock

Obj = dict[str, Any]
API = {"group": "test.io", "version": "v1", "kind": "Db", "plural": "dbs"}


def write_pattern(
    root: Path,
    hooks_code: str,
    *,
    hooks: Obj | None = None,
    box: Obj | None = None,
    api: Obj | None = None,
    files: dict[str, str] | None = None,
    block: str = "hooks",
) -> Path:
    """``root/katalog.yaml`` with CRD ``db`` whose hooks are ``myhooks.ops:hooks`` (its
    constructor with ``block="constructor"``)."""
    package = root / "myhooks"
    package.mkdir(parents=True, exist_ok=True)
    (package / "__init__.py").write_text("")
    (package / "ops.py").write_text(textwrap.dedent(hooks_code).lstrip("\n"))
    for name, text in (files or {}).items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(textwrap.dedent(text).lstrip("\n"))
    reconcile: Obj = {block: {"module": "myhooks.ops", "function": "hooks", **(hooks or {})}}
    if block == "constructor":
        reconcile["default"] = False
    reconcile.update(box or {})
    katalog = {
        "apiVersion": "orkestra.orkspace.io/v1",
        "kind": "Katalog",
        "metadata": {"name": "db-operator", "version": "v1.0.0"},
        "spec": {
            "crds": {
                "db": {"apiTypes": {**API, **(api or {})}, "operatorBox": {"reconcile": reconcile}}
            }
        },
    }
    path = root / "katalog.yaml"
    path.write_text(yaml.safe_dump(katalog, sort_keys=False))
    return path


class TypedHarness:
    """The composed katalog's reconciler over a MemoryCluster holding CR ``orders``."""

    def __init__(
        self, katalog: Path, spec: Obj | None = None, *, trust_hooks: bool = False
    ) -> None:
        self.clock = Clock()
        self.cluster = MemoryCluster(clock=self.clock, lenient_kinds=True)
        self.cluster.register_type(
            ResourceType(group="test.io", version="v1", kind="Db", plural="dbs", namespaced=True)
        )
        self.cluster.create(
            {
                "apiVersion": "test.io/v1",
                "kind": "Db",
                "metadata": {"name": "orders", "namespace": "default"},
                "spec": spec or {},
            },
            record=False,
        )
        self.engines = Engines(compose_file(katalog, katalog.name), trust_hooks=trust_hooks)
        self.reconciler: Reconciler = self.engines.reconciler("db", self.cluster, self.clock)

    def cycle(self) -> tuple[CycleResult, list[tuple[str, str, str]]]:
        before = len(self.cluster.operations)
        result = self.reconciler.reconcile("orders", "default")
        writes = [
            (o.verb, o.resource, o.name)
            for o in self.cluster.operations[before:]
            if o.verb in ("create", "update", "patch", "delete")
        ]
        self.clock.advance(seconds=1)
        return result, writes

    def cr(self) -> Obj:
        found = self.cluster.find("test.io/v1", "Db", "orders", "default")
        assert found is not None
        return found

    def find(self, api_version: str, kind: str, name: str) -> Obj | None:
        return self.cluster.find(api_version, kind, name, "default")


def database_katalog(
    *,
    block: str = "hooks",
    hooks: str = "dbhooks.database",
    model: str = "api.v1alpha1",
    version: str = "v1.0.0",
    resources: tuple[str, ...] = (),
    reconcile: Obj | None = None,
) -> str:
    """``katalog.yaml`` of a typed database operator (kind Database in rkguide.demo) whose
    ``block`` (hooks or constructor) names ``hooks``:database_hooks and whose CR model is
    ``model``.Database; ``reconcile``: more of the CRD's reconcile block."""
    code: Obj = {"module": hooks, "function": "database_hooks"}
    if resources:
        code["resources"] = [{"kind": kind} for kind in resources]
    box: Obj = {block: code, **(reconcile or {})}
    if block == "constructor":
        box["default"] = False
    return yaml.safe_dump(
        {
            "apiVersion": "orkestra.orkspace.io/v1",
            "kind": "Katalog",
            "metadata": {"name": "database-operator", "version": version},
            "spec": {
                "crds": {
                    "database": {
                        "apiTypes": {
                            "group": "rkguide.demo",
                            "version": "v1alpha1",
                            "kind": "Database",
                            "plural": "databases",
                            "location": model,
                            "object": "Database",
                        },
                        "operatorBox": {"reconcile": box},
                    }
                }
            },
        },
        sort_keys=False,
    )

"""Copies of a Secret or ConfigMap (``fromSecret``/``fromConfigMap``): the cluster decides,
through :class:`~orkestra.engine.api.CopySourcePolicy`, whether a source missing from
another namespace skips the declaration (simulate) or fails the reconcile (a live cluster,
which has no policy)."""

from __future__ import annotations

from typing import Any

from orkestra.cluster import MemoryCluster
from orkestra.engine.api import CopySource
from tests.engine.harness import Clock, Harness

COPIES = {
    "reconcile": {
        "onCreate": {
            "secrets": [
                {
                    "name": "creds",
                    "fromSecret": "registry",
                    "fromNamespace": "platform",
                    "toNamespaces": ["{{ .metadata.namespace }}"],
                }
            ],
            "configMaps": [
                {
                    "name": "{{ .metadata.name }}-settings",
                    "fromConfigMap": "settings",
                    "fromNamespace": "{{ .spec.from }}",
                }
            ],
        }
    }
}


class Skipping(MemoryCluster):
    def __init__(self, clock: Clock) -> None:
        super().__init__(clock=clock, lenient_kinds=True)
        self.skipped: list[CopySource] = []

    def skip_copy(self, source: CopySource) -> bool:
        self.skipped.append(source)
        return True


def harness(spec: dict[str, Any], policy: bool) -> Harness:
    return Harness(COPIES, spec, cluster=Skipping if policy else None)


def test_a_missing_source_in_another_namespace_is_the_policys_to_skip() -> None:
    h = harness({"from": "platform"}, policy=True)
    h.cluster.create(
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "platform"}}, record=False
    )
    h.cluster.create(
        {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": "settings", "namespace": "platform"},
            "data": {"a": "1"},
        },
        record=False,
    )
    writes = h.cycle()
    assert h.results[-1].error is None
    assert ("create", "configmaps", "demo-settings") in writes
    assert not [w for w in writes if w[1] == "secrets"]
    assert isinstance(h.cluster, Skipping)
    assert h.cluster.skipped == [
        CopySource(
            declaration="secrets",
            declared_name="creds",
            kind="Secret",
            name="registry",
            namespace="platform",
        )
    ]


def test_without_a_policy_the_missing_source_fails_the_cycle() -> None:
    h = harness({"from": "platform"}, policy=False)
    h.cycle()
    assert (
        h.results[-1].error
        == 'onCreate.secrets[0].fromSecret: Secret "registry" not found in namespace "platform"'
    )


def test_a_missing_source_in_the_crs_own_namespace_is_an_error_even_with_a_policy() -> None:
    h = harness({"from": "default"}, policy=True)
    h.cycle()
    assert h.results[-1].error == (
        "onCreate.configMaps[0].fromConfigMap: ConfigMap "
        '"settings" not found in namespace "default"'
    )

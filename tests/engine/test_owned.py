"""What a reconcile reads of its owner's objects: each kind once between two writes, and
never a list from before a write (the engine's, or one the hooks made themselves)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from orkestra.engine.build.base import OWNER_NAME_LABEL
from orkestra.engine.hooks import HookCall, HookOutcome
from orkestra.kubeobjects import ObjectMeta
from tests.engine.harness import Harness, mark_ready
from tests.engine.test_reconcile import WEB

COUNT = "{{ if .children.configmaps }}{{ len .children.configmaps }}{{ else }}0{{ end }}"
COUNTED = {
    "reconcile": {
        "onReconcile": {
            "configMaps": [
                {
                    "name": "{{ .metadata.name }}-{{ .region }}",
                    "forEach": {"field": "spec.regions", "as": "region"},
                    "data": {"seen": COUNT},
                }
            ]
        }
    },
    "emit": {"status": {"fields": [{"path": "count", "value": COUNT, "type": "int"}]}},
}


def test_the_status_sees_what_the_cycle_created_and_deleted() -> None:
    h = Harness(COUNTED, {"regions": ["eu", "us", "ap"]})
    h.cycle()
    assert h.cr()["status"]["count"] == 3
    made = h.get("v1", "ConfigMap", "demo-ap")
    assert made is not None and made["data"] == {"seen": "0"}  # the templates: before
    h.patch_spec(regions=["eu"])
    assert [w for w in h.cycle() if w[1] == "configmaps"] == [
        ("update", "configmaps", "demo-eu"),  # it saw three, now
        ("delete", "configmaps", "demo-ap"),
        ("delete", "configmaps", "demo-us"),
    ]
    assert h.cr()["status"]["count"] == 1


def test_the_status_sees_what_the_cycle_updated() -> None:
    box = {
        "reconcile": {
            "onReconcile": {"configMaps": [{"name": "v", "data": {"v": "{{ .spec.v }}"}}]}
        },
        "emit": {
            "status": {
                "fields": [
                    {
                        "path": "v",
                        "value": "{{ with .children.configmap }}{{ .data.v }}{{ end }}",
                    }
                ]
            }
        },
    }
    h = Harness(box, {"v": "1"})
    h.cycle()
    assert h.cr()["status"]["v"] == "1"
    h.patch_spec(v="2")
    assert ("update", "configmaps", "v") in h.cycle()
    assert h.cr()["status"]["v"] == "2"


@dataclass
class ConfigMapHooks:
    """Hooks that create a ConfigMap through the cluster itself, not the reconciler's
    apply, on their first run."""

    run_first: bool = False
    replaces_templates: bool = False
    needs_finalizer: bool = False
    made: list[str] = field(default_factory=list)

    def kinds(self) -> list[tuple[str, str]]:
        return [("v1", "ConfigMap")]

    def run(self, call: HookCall) -> HookOutcome:
        if not self.made:
            meta: ObjectMeta = {
                "name": "made-by-hook",
                "namespace": call.owner.namespace,
                "labels": {OWNER_NAME_LABEL: call.owner.name},
                "ownerReferences": [call.owner.reference()],
            }
            call.cluster.create({"apiVersion": "v1", "kind": "ConfigMap", "metadata": meta})
            self.made.append(meta["name"])
        return HookOutcome()


def test_the_status_sees_what_the_hooks_wrote_themselves() -> None:
    box = {**COUNTED, "reconcile": {"onReconcile": {}}}
    h = Harness(box, hooks=ConfigMapHooks())
    h.cycle()
    assert h.cr()["status"]["count"] == 1


def test_a_cycle_that_writes_nothing_lists_each_kind_once() -> None:
    h = Harness(WEB, {"image": "nginx", "replicas": 2})
    h.cycle(mark_ready)
    h.cycle()
    before = len(h.cluster.operations)
    assert h.cycle() == []
    lists = Counter(o.resource for o in h.cluster.operations[before:] if o.verb == "list")
    assert lists == {"deployments": 1, "services": 1}

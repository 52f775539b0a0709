"""The CRD entry's ``labels`` and ``annotations`` go on the CR itself: rendered against
it, merged into its metadata, written only when that changes something."""

from __future__ import annotations

from tests.engine.harness import Harness

LABELS = {
    "labels": {
        "team": "platform",
        "app.io/instance": "{{ .metadata.name }}",
        "app.io/mode": "{{ .spec.mode }}",
    },
    "annotations": {"app.io/summary": "{{ .spec.mode }} mode"},
}


def test_labels_and_annotations_are_merged_into_the_cr_once() -> None:
    h = Harness({}, {"mode": "fast"}, entry=LABELS, labels={"team": "web", "tier": "1"})
    assert h.cycle()[0] == ("patch", "apps", "demo")
    meta = h.cr()["metadata"]
    assert meta["labels"] == {
        "team": "platform",
        "tier": "1",
        "app.io/instance": "demo",
        "app.io/mode": "fast",
    }
    assert meta["annotations"] == {"app.io/summary": "fast mode"}
    assert [w for w in h.cycle() if w[1] == "apps"] == []
    h.patch_spec(mode="safe")
    assert ("patch", "apps", "demo") in h.cycle()
    assert h.cr()["metadata"]["labels"]["app.io/mode"] == "safe"


def test_the_templates_see_the_labels_just_set() -> None:
    box = {
        "reconcile": {
            "onReconcile": {
                "configMaps": [
                    {"name": "seen", "data": {"team": '{{ index .metadata.labels "team" }}'}}
                ]
            }
        }
    }
    h = Harness(box, entry={"labels": {"team": "platform"}})
    h.cycle()
    cm = h.get("v1", "ConfigMap", "seen")
    assert cm is not None and cm["data"] == {"team": "platform"}


def test_a_label_that_does_not_render_fails_the_cycle() -> None:
    h = Harness({}, {"mode": "fast"}, entry={"labels": {"broken": "{{ .spec.mode.deeper.still }}"}})
    assert h.cycle() == [("update", "apps/status", "demo")]
    assert (h.results[-1].error or "").startswith("labels.broken:")


def test_no_labels_no_write() -> None:
    h = Harness({}, entry={"labels": {}, "annotations": {}})
    assert [w for w in h.cycle() if w[1] == "apps"] == []


def test_a_label_value_the_server_refuses_fails_the_cycle() -> None:
    h = Harness({}, {"mode": "has spaces"}, entry={"labels": {"mode": "{{ .spec.mode }}"}})
    h.cycle()
    assert 'metadata.labels: Invalid value: "has spaces"' in (h.results[-1].error or "")
    assert "mode" not in h.cr()["metadata"]["labels"]

"""What counts as a reconcile reading its CR's status (so a status write is checked again)."""

from __future__ import annotations

import pytest

from orkestra.cluster import MemoryCluster
from orkestra.engine.profiles import BUILTIN
from orkestra.engine.statusreads import reads_own_status
from orkestra.runtime.pattern import Unit
from tests.conftest import PACK


@pytest.mark.parametrize(
    "text",
    [
        "{{ .spec.image }}",
        "{{ .metadata.name }}-svc.{{ .metadata.namespace }}",
        "{{ .spec.replicas | default 1 }}",
        "{{ $.spec.port }}",
        "{{ $name := .metadata.name }}{{ $name }}",
        '{{ index .spec.labels "a.b" }}',
        "{{ (.spec).port }}",
        "{{ 1.5 }}",
        "{{ allReplicasReady .children.deployment }}",
        "spec.replicas",
        "a stateless web application",
    ],
)
def test_these_do_not_read_the_status(text: str) -> None:
    assert not reads_own_status({"value": text})


@pytest.mark.parametrize(
    "text",
    [
        "{{ .status.phase }}",
        "{{ $.status.ready }}",
        "status.phase",
        '{{ index . "status" }}',
        "{{ .metadata.resourceVersion }}",
        "{{ toJson . }}",
        "{{ toYaml $ }}",
        '{{ include "labels" . }}',
        "{{ range .spec.items }}{{ . }}{{ end }}",
        "{{- . -}}",
    ],
)
def test_these_may_read_the_status(text: str) -> None:
    assert reads_own_status({"value": text})


def test_strings_are_found_at_any_depth_and_in_template_keys() -> None:
    assert reads_own_status({"a": [{"b": ("x", "{{ .status.x }}")}]})
    assert reads_own_status({"labels": {"{{ .status.tier }}": "v"}})
    assert not reads_own_status({"status": {"fields": [{"path": "phase", "value": "Ready"}]}})


def test_the_guide_webapp_reads_no_status_and_typed_hooks_count_as_reading_it() -> None:
    unit = Unit.load(PACK / "02-katalog-api" / "katalog.yaml")
    assert not reads_own_status(unit.composed.crds["webapp"], BUILTIN)
    assert not unit.reconciler("webapp", MemoryCluster(record=False)).reads_own_status
    hooked = Unit.load(PACK / "10-hooks-katalog" / "katalog.yaml")
    assert hooked.reconciler("database", MemoryCluster(record=False)).reads_own_status

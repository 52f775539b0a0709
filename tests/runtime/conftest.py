"""Fixtures of the runtime tests."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from orkestra.apiserver import EmbeddedServer
from orkestra.runtime.logs import ROOT
from tests.runtime.harness import write_files


@pytest.fixture(autouse=True)
def restore_logging() -> Iterator[None]:
    """``configure`` rewires the ``orkestra`` logger; put it back after each test."""
    logger = logging.getLogger(ROOT)
    saved = (list(logger.handlers), logger.level, logger.propagate)
    yield
    logger.handlers[:] = saved[0]
    logger.setLevel(saved[1])
    logger.propagate = saved[2]


@pytest.fixture
def server() -> Iterator[EmbeddedServer]:
    """An embedded API server of the test's own (in memory, a random port)."""
    with EmbeddedServer(port=0) as running:
        yield running


@pytest.fixture
def widgets(tmp_path: Path) -> Path:
    """A katalog with a once-secret, reconciled children, a finalizer and onDelete."""
    return (
        write_files(
            tmp_path,
            **{
                "katalog.yaml": """
            apiVersion: orkestra.orkspace.io/v1
            kind: Katalog
            metadata: {name: widget-operator, version: v1.0.0}
            spec:
              crds:
                widget:
                  apiTypes: {group: test.orkestra.dev, version: v1, kind: Widget,
                             plural: widgets}
                  crdFile: ./crd.yaml
                  operatorBox:
                    runtime:
                      finalizers: [widgets.test.orkestra.dev/cleanup]
                    reconcile:
                      onCreate:
                        secrets:
                          - name: "{{ .metadata.name }}-token"
                            once: true
                            data: {token: "{{ randomAlphanumeric 24 }}"}
                      onReconcile:
                        deployments:
                          - name: "{{ .metadata.name }}"
                            image: "nginx:{{ .spec.version }}"
                            replicas: "{{ .spec.replicas }}"
                            reconcile: true
                        configMaps:
                          - name: "{{ .metadata.name }}-config"
                            data: {replicas: "{{ .spec.replicas }}"}
                            reconcile: true
                      onDelete:
                        namespaces:
                          - name: "{{ .metadata.name }}-farewell"
            """,
                "crd.yaml": """
            apiVersion: apiextensions.k8s.io/v1
            kind: CustomResourceDefinition
            metadata: {name: widgets.test.orkestra.dev}
            spec:
              group: test.orkestra.dev
              scope: Namespaced
              names: {kind: Widget, plural: widgets, singular: widget}
              versions:
                - name: v1
                  served: true
                  storage: true
                  subresources: {status: {}}
                  schema:
                    openAPIV3Schema:
                      type: object
                      properties:
                        spec:
                          type: object
                          properties:
                            version: {type: string, default: "1.25"}
                            replicas: {type: integer, default: 1}
                        status: {type: object, x-kubernetes-preserve-unknown-fields: true}
            """,
                "cr.yaml": """
            apiVersion: test.orkestra.dev/v1
            kind: Widget
            metadata: {name: w1, namespace: default}
            spec: {replicas: 2}
            """,
            },
        )
        / "katalog.yaml"
    )

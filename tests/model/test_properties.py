"""Property tests: arbitrary YAML never makes the loader fail with anything but our errors."""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Any

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from orkestra.compose.load import compose_document
from orkestra.model.errors import PatternError
from orkestra.model.formats import KINDS, RESOURCE_KINDS
from orkestra.model.loader import load_documents
from orkestra.model.source import parse_documents

KEYS = sorted(
    {
        "apiVersion",
        "kind",
        "metadata",
        "name",
        "spec",
        "crds",
        "web",
        "apiTypes",
        "group",
        "version",
        "plural",
        "operatorBox",
        "reconcile",
        "reconciler",
        "onCreate",
        "onReconcile",
        "status",
        "emit",
        "fields",
        "path",
        "value",
        "when",
        "or",
        "anyOf",
        "field",
        "equals",
        "operator",
        "imports",
        "motif",
        "with",
        "inputs",
        "resources",
        "dependsOn",
        "workers",
        "resync",
        "expect",
        "ops",
        "cycle",
        "verb",
        "katalog",
        "cr",
        "crdFile",
        "labels",
        "forEach",
        "as",
        "image",
        "replicas",
        "port",
        "notes",
        "functions",
        "expression",
        *RESOURCE_KINDS,
    }
)
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-3, 70000),
    st.floats(allow_nan=False),
    st.sampled_from(
        [
            "",
            "x",
            "v1",
            "{{ .spec.image }}",
            "{{ if }}",
            "30s",
            "Katalog",
            "orkestra.orkspace.io/v1",
            "../nope.yaml",
            "web",
            "gt",
        ]
    ),
    st.text(max_size=12),
)
VALUES = st.recursive(
    SCALARS,
    lambda children: st.one_of(
        st.lists(children, max_size=4),
        st.dictionaries(
            st.one_of(st.sampled_from(KEYS), st.text(max_size=6)), children, max_size=5
        ),
    ),
    max_leaves=30,
)


def _document(kind: str, body: Any) -> dict[str, Any]:
    doc = {"apiVersion": "orkestra.orkspace.io/v1", "kind": kind}
    if isinstance(body, dict):
        doc.update(body)
    return doc


@settings(
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(kind=st.sampled_from(sorted(KINDS)), body=VALUES)
def test_random_documents_fail_only_with_pattern_errors(
    tmp_path: Path, kind: str, body: Any
) -> None:
    file = tmp_path / "p.yaml"
    file.write_text(yaml.safe_dump(_document(kind, body)))
    try:
        docs = load_documents(file)
        for doc in docs:
            if doc.kind in ("Katalog", "Komposer"):
                compose_document(doc)
    except PatternError:
        pass


@settings(max_examples=300, deadline=None)
@given(text=st.text(alphabet=st.sampled_from(list("ab:- {}[]\"'\n\t#&*!|>%@`,?.")), max_size=80))
def test_random_text_fails_only_with_pattern_errors(text: str) -> None:
    with contextlib.suppress(PatternError):
        parse_documents(text, "t.yaml")

"""AdmissionReview v1 in and out, and the JSONPatch mutation produces."""

from __future__ import annotations

import base64
import contextlib
import json
from typing import Any

import jsonpatch
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from orkestra.gateway.patch import json_patch, pointer
from orkestra.gateway.review import Decision, ReviewError, parse, respond
from tests.gateway.conftest import good_cr, review


def test_parse_reads_the_request() -> None:
    body = review(good_cr(), operation="UPDATE", old=good_cr())
    request = parse(json.dumps(body).encode())
    assert request.uid == body["request"]["uid"]
    assert (request.operation, request.group, request.version, request.resource) == (
        "UPDATE",
        "rkguide.demo",
        "v1",
        "platformapps",
    )
    assert request.kind == "PlatformApp"
    assert (request.name, request.namespace) == ("my-platform-app", "default")
    assert request.object == good_cr() and request.old_object == good_cr()


def test_a_delete_is_about_the_old_object() -> None:
    request = parse(json.dumps(review(None, operation="DELETE", old=good_cr())).encode())
    assert request.object is None
    assert request.subject == good_cr()


def _mangled(change: dict[str, Any]) -> bytes:
    body = review(good_cr())
    for path, value in change.items():
        node = body
        *parents, last = path.split(".")
        for part in parents:
            node = node[part]
        if value is ...:
            del node[last]
        else:
            node[last] = value
    return json.dumps(body).encode()


@pytest.mark.parametrize(
    ("body", "why"),
    [
        (b"", "not JSON"),
        (b"{not json", "not JSON"),
        (b"\xff\xfe\x00garbage", "not JSON"),
        (b"[1, 2, 3]", "not a JSON object"),
        (b"null", "not a JSON object"),
        (b"[" * 100_000 + b"]" * 100_000, "not JSON"),
        (_mangled({"kind": "Pod"}), "expected an AdmissionReview"),
        (_mangled({"apiVersion": "admission.k8s.io/v1beta1"}), "expected an AdmissionReview"),
        (_mangled({"request": ...}), "no request"),
        (_mangled({"request": "yes"}), "no request"),
        (_mangled({"request.uid": ...}), "request.uid"),
        (_mangled({"request.uid": ""}), "request.uid"),
        (_mangled({"request.uid": 7}), "request.uid"),
        (_mangled({"request.operation": "PATCH"}), "unknown operation"),
        (_mangled({"request.resource": ...}), "request.resource"),
        (_mangled({"request.resource.resource": ...}), "request.resource"),
        (_mangled({"request.object": [1]}), "request.object"),
        (_mangled({"request.oldObject": "x"}), "request.oldObject"),
        (_mangled({"request.name": 3}), "request.name"),
    ],
)
def test_malformed_reviews_are_refused(body: bytes, why: str) -> None:
    with pytest.raises(ReviewError, match=why):
        parse(body)


@settings(max_examples=500, deadline=None)
@given(
    st.binary(max_size=300)
    | st.recursive(
        st.none() | st.booleans() | st.integers() | st.text(max_size=10),
        lambda inner: (
            st.lists(inner, max_size=4)
            | st.dictionaries(
                st.sampled_from(
                    [
                        "apiVersion",
                        "kind",
                        "request",
                        "uid",
                        "operation",
                        "resource",
                        "object",
                        "oldObject",
                        "name",
                        "group",
                    ]
                ),
                inner,
                max_size=5,
            )
        ),
        max_leaves=30,
    ).map(lambda tree: json.dumps(tree).encode())
)
def test_parse_never_fails_otherwise(body: bytes) -> None:
    with contextlib.suppress(ReviewError):
        parse(body)


def test_an_allowed_answer_echoes_the_uid() -> None:
    request = parse(json.dumps(review(good_cr())).encode())
    answer = respond(request, Decision())
    assert answer == {
        "apiVersion": "admission.k8s.io/v1",
        "kind": "AdmissionReview",
        "response": {"uid": request.uid, "allowed": True},
    }


def test_a_denial_carries_code_message_and_warnings() -> None:
    request = parse(json.dumps(review(good_cr())).encode())
    answer = respond(request, Decision(False, "no", ["careful"]))["response"]
    assert answer == {
        "uid": request.uid,
        "allowed": False,
        "status": {"code": 403, "message": "no"},
        "warnings": ["careful"],
    }


def test_a_patch_is_base64_json_patch() -> None:
    request = parse(json.dumps(review(good_cr())).encode())
    ops = [{"op": "add", "path": "/spec/replicas", "value": 1}]
    answer = respond(request, Decision(patch=ops))["response"]
    assert answer["patchType"] == "JSONPatch"
    assert json.loads(base64.b64decode(answer["patch"])) == ops


def test_pointer_escapes() -> None:
    assert pointer(["metadata", "labels", "a/b~c"]) == "/metadata/labels/a~1b~0c"


def test_json_patch_sets_existing_and_missing_paths() -> None:
    original = {"spec": {"replicas": 2, "tier": None}, "metadata": {"name": "x"}}
    mutated = {
        "spec": {
            "replicas": 3,
            "tier": "free",
            "resources": {"limits": {"cpu": "1", "memory": "1Gi"}},
        },
        "metadata": {"name": "x", "labels": {"team": "a"}},
        "status": {},
        "children": {},
    }  # what the template context adds
    paths = [
        "spec.replicas",
        "spec.tier",
        "spec.resources.limits.cpu",
        "spec.resources.limits.memory",
        "metadata.labels.team",
    ]
    ops = json_patch(original, mutated, paths)
    patched = jsonpatch.apply_patch(original, ops)
    assert patched == {k: v for k, v in mutated.items() if k not in ("status", "children")}
    # a missing parent is added once, whole; later paths under it replace in place
    assert ops[2] == {
        "op": "add",
        "path": "/spec/resources",
        "value": {"limits": {"cpu": "1", "memory": "1Gi"}},
    }
    assert original == {"spec": {"replicas": 2, "tier": None}, "metadata": {"name": "x"}}


def test_json_patch_replaces_a_scalar_parent() -> None:
    original = {"spec": "oops"}
    mutated = {"spec": {"replicas": 1}}
    ops = json_patch(original, mutated, ["spec.replicas"])
    assert jsonpatch.apply_patch(original, ops) == mutated

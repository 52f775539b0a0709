"""Admission webhooks without the HTTP: which requests a webhook selects, what its answers
mean, how configurations are defaulted and checked, and where the store lets mutating
admission in."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from orkestra.cluster import MemoryCluster
from orkestra.cluster.errors import (
    AdmissionDeniedError,
    ApiError,
    FieldInvalidError,
    InvalidError,
)
from orkestra.cluster.matching import Request, Scope
from orkestra.cluster.webhooks import (
    CallError,
    Webhook,
    WebhookDeniedError,
    call_failed,
    configured,
    may_select,
    patched,
    review,
    verdict,
)

Obj = dict[str, Any]
GROUP = "admissionregistration.k8s.io/v1"
PODS = {"apiGroups": [""], "apiVersions": ["v1"], "operations": ["CREATE"], "resources": ["pods"]}


def hook(name: str = "check.example.com", *, mutating: bool = False, **spec: Any) -> Webhook:
    return Webhook("config", mutating, {"name": name, "rules": [PODS], **spec})


def pod(name: str = "web", labels: dict[str, str] | None = None, namespace: str = "default") -> Obj:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "namespace": namespace, "labels": labels or {}},
        "spec": {"containers": [{"name": "app", "image": "nginx"}]},
    }


@pytest.fixture
def cluster() -> MemoryCluster:
    cluster = MemoryCluster()
    cluster.create(
        {
            "apiVersion": "v1",
            "kind": "Namespace",
            "metadata": {"name": "prod", "labels": {"env": "prod"}},
        }
    )
    return cluster


def request(
    cluster: MemoryCluster,
    operation: str = "CREATE",
    obj: Obj | None = None,
    old: Obj | None = None,
    *,
    resource: str = "pods",
    subresource: str = "",
    namespace: str = "default",
) -> Request:
    rt = next(t for t in cluster.types() if t.key == ("", resource))
    name = ((obj or old or {}).get("metadata") or {}).get("name", "")
    return Request(
        operation=operation,
        rt=rt,
        namespace=namespace,
        name=name,
        obj=obj,
        old=old,
        subresource=subresource,
    )


def selects(cluster: MemoryCluster, webhook: Webhook, req: Request) -> bool:
    return webhook.selects(Scope(req, cluster))


# -- matching -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("resources", "subresource", "expected"),
    [
        (["pods"], "", True),
        (["pods"], "status", False),
        (["*"], "", True),
        (["*"], "status", False),
        (["*/*"], "status", True),
        (["pods/*"], "status", True),
        (["pods/status"], "status", True),
        (["pods/status"], "", False),
        (["*/status"], "status", True),
        (["services"], "", False),
    ],
)
def test_rules_match_resources_and_subresources(
    cluster: MemoryCluster, resources: list[str], subresource: str, expected: bool
) -> None:
    webhook = hook(rules=[{**PODS, "operations": ["*"], "resources": resources}])
    req = request(cluster, "UPDATE", pod(), pod(), subresource=subresource)
    assert selects(cluster, webhook, req) is expected


def test_rules_match_operations_groups_versions_and_scope(cluster: MemoryCluster) -> None:
    create = request(cluster, "CREATE", pod())
    assert not selects(cluster, hook(), request(cluster, "DELETE", None, pod()))
    assert not selects(cluster, hook(rules=[{**PODS, "apiGroups": ["apps"]}]), create)
    assert not selects(cluster, hook(rules=[{**PODS, "apiVersions": ["v2"]}]), create)
    assert not selects(cluster, hook(rules=[{**PODS, "scope": "Cluster"}]), create)
    assert selects(cluster, hook(rules=[{**PODS, "scope": "Namespaced"}]), create)
    assert not selects(cluster, hook(rules=[]), create)  # no rules: nothing
    namespaces = request(
        cluster, "CREATE", {"metadata": {"name": "x"}}, resource="namespaces", namespace=""
    )
    cluster_rule = {**PODS, "resources": ["namespaces"], "scope": "Cluster"}
    assert selects(cluster, hook(rules=[cluster_rule]), namespaces)


def test_may_select_asks_about_any_operation_a_write_may_be(cluster: MemoryCluster) -> None:
    probe = request(cluster, "UPDATE", pod())
    assert not may_select(hook(), probe, ("UPDATE",))
    assert may_select(hook(), probe, ("CREATE", "UPDATE"))


def test_the_namespace_selector_reads_the_namespace_labels(cluster: MemoryCluster) -> None:
    webhook = hook(namespaceSelector={"matchLabels": {"env": "prod"}})
    assert selects(
        cluster, webhook, request(cluster, "CREATE", pod(namespace="prod"), namespace="prod")
    )
    assert not selects(cluster, webhook, request(cluster, "CREATE", pod()))
    # a Namespace is selected by its own labels, cluster-scoped kinds always
    namespace = {"metadata": {"name": "new", "labels": {"env": "prod"}}}
    rule = {**PODS, "resources": ["namespaces", "nodes"]}
    webhook = hook(rules=[rule], namespaceSelector={"matchLabels": {"env": "prod"}})
    assert selects(
        cluster, webhook, request(cluster, "CREATE", namespace, resource="namespaces", namespace="")
    )
    assert selects(
        cluster,
        webhook,
        request(cluster, "CREATE", {"metadata": {"name": "n"}}, resource="nodes", namespace=""),
    )


def test_the_object_selector_reads_either_object(cluster: MemoryCluster) -> None:
    rule = {**PODS, "operations": ["*"]}
    webhook = hook(rules=[rule], objectSelector={"matchLabels": {"team": "a"}})
    assert selects(cluster, webhook, request(cluster, "CREATE", pod(labels={"team": "a"})))
    assert not selects(cluster, webhook, request(cluster, "CREATE", pod(labels={"team": "b"})))
    assert selects(cluster, webhook, request(cluster, "UPDATE", pod(), pod(labels={"team": "a"})))
    assert selects(cluster, webhook, request(cluster, "DELETE", None, pod(labels={"team": "a"})))


def test_match_conditions(cluster: MemoryCluster) -> None:
    conditions = [
        {"name": "labelled", "expression": "object.metadata.labels.team == 'a'"},
        {"name": "create", "expression": "request.operation == 'CREATE'"},
    ]
    webhook = hook(matchConditions=conditions)
    assert selects(cluster, webhook, request(cluster, "CREATE", pod(labels={"team": "a"})))
    assert not selects(cluster, webhook, request(cluster, "CREATE", pod(labels={"team": "b"})))
    with pytest.raises(AdmissionDeniedError) as caught:  # an error, and no condition false
        selects(cluster, webhook, request(cluster, "CREATE", pod()))
    assert caught.value.status()["code"] == 403
    assert caught.value.message == (
        "pods \"web\" is forbidden: expression 'object.metadata.labels.team == 'a'' resulted "
        "in error: no such key: team"
    )
    assert not selects(
        cluster,
        hook(matchConditions=conditions, failurePolicy="Ignore"),
        request(cluster, "CREATE", pod()),
    )


def test_configured_lists_webhooks_in_configuration_name_order(cluster: MemoryCluster) -> None:
    def config(name: str, *hooks: str) -> Obj:
        return {
            "apiVersion": GROUP,
            "kind": "MutatingWebhookConfiguration",
            "metadata": {"name": name},
            "webhooks": [
                {
                    "name": h,
                    "clientConfig": {"url": "https://127.0.0.1/"},
                    "rules": [PODS],
                    "sideEffects": "None",
                    "admissionReviewVersions": ["v1"],
                }
                for h in hooks
            ],
        }

    cluster.create(config("b", "b2.example.com", "b1.example.com"))
    cluster.create(config("a", "a.example.com"))
    assert [h.name for h in configured(cluster, mutating=True)] == [
        "a.example.com",
        "b2.example.com",
        "b1.example.com",
    ]
    assert configured(cluster, mutating=False) == []


# -- reviews and verdicts ---------------------------------------------------------------


def test_a_review_asks_about_the_request(cluster: MemoryCluster) -> None:
    uid, body = review(
        hook(),
        request(cluster, "UPDATE", pod(), pod(), subresource="status"),
        {"kind": "UpdateOptions"},
    )
    assert (body["apiVersion"], body["kind"]) == ("admission.k8s.io/v1", "AdmissionReview")
    asked = body["request"]
    assert asked["uid"] == uid and asked["operation"] == "UPDATE"
    assert asked["subResource"] == asked["requestSubResource"] == "status"
    assert asked["object"] == asked["oldObject"] == pod()
    assert asked["options"] == {"kind": "UpdateOptions"}
    namespace = request(
        cluster, "CREATE", {"metadata": {"name": "new"}}, resource="namespaces", namespace=""
    )
    assert review(hook(), namespace, {})[1]["request"]["namespace"] == "new"  # as kube names it
    older = hook(admissionReviewVersions=["v1beta1"])
    assert review(older, namespace, {})[1]["apiVersion"] == "admission.k8s.io/v1beta1"
    assert verdict(
        older, "u", {**answer("u", allowed=True), "apiVersion": "admission.k8s.io/v1beta1"}
    ).allowed


def answer(uid: str, **response: Any) -> Obj:
    return {
        "apiVersion": "admission.k8s.io/v1",
        "kind": "AdmissionReview",
        "response": {"uid": uid, **response},
    }


def encoded(*operations: Obj) -> str:
    return base64.b64encode(json.dumps(list(operations)).encode()).decode()


def test_verdicts() -> None:
    validating, mutating = hook(), hook(mutating=True)
    allowed = verdict(validating, "u", answer("u", allowed=True, warnings=["careful"]))
    assert (allowed.allowed, allowed.patch, allowed.warnings) == (True, None, ("careful",))
    denied = verdict(validating, "u", answer("u", allowed=False, status={"message": "no"}))
    assert (denied.allowed, denied.status) == (False, {"message": "no"})
    patch = {"op": "add", "path": "/metadata/labels/x", "value": "y"}
    change = verdict(
        mutating, "u", answer("u", allowed=True, patchType="JSONPatch", patch=encoded(patch))
    )
    assert change.patch == [patch]


@pytest.mark.parametrize(
    ("webhook", "given", "why"),
    [
        (hook(), "not a review", "failed to call webhook: couldn't get version/kind"),
        (
            hook(),
            {"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview"},
            "received invalid webhook response: webhook response was absent",
        ),
        (
            hook(),
            answer("other", allowed=True),
            'received invalid webhook response: expected response.uid="u", got "other"',
        ),
        (
            hook(),
            {**answer("u", allowed=True), "apiVersion": "v1"},
            "received invalid webhook response: expected webhook response of admission.k8s.io/v1, "
            "Kind=AdmissionReview, got /v1, Kind=AdmissionReview",
        ),
        (
            hook(),
            answer("u", allowed=True, patchType="JSONPatch"),
            "received invalid webhook response: validating webhooks may not return "
            "response.patchType",
        ),
        (
            hook(mutating=True),
            answer("u", allowed=True, patch=encoded()),
            "received invalid webhook response: webhook returned response.patch but not "
            "response.patchType",
        ),
        (
            hook(mutating=True),
            answer("u", allowed=True, patchType="Merge", patch=encoded({})),
            'unsupported patch type "Merge"',
        ),
    ],
)
def test_answers_that_are_not_verdicts(webhook: Webhook, given: Any, why: str) -> None:
    with pytest.raises(CallError) as caught:
        verdict(webhook, "u", given)
    assert str(caught.value).startswith(why)


def test_a_denial_is_worded_as_the_api_server_words_it() -> None:
    status = WebhookDeniedError("check.example.com", {"message": "no", "code": 200}).status()
    assert status["message"] == 'admission webhook "check.example.com" denied the request: no'
    assert (status["code"], status["status"]) == (400, "Failure")
    assert "reason" not in status
    by_reason = WebhookDeniedError("w.example.com", {"reason": "Forbidden", "code": 403})
    assert by_reason.message == 'admission webhook "w.example.com" denied the request: Forbidden'
    assert (by_reason.code, by_reason.status()["reason"]) == (403, "Forbidden")
    assert (
        WebhookDeniedError("w.example.com", None).message
        == 'admission webhook "w.example.com" denied the request without explanation'
    )


def test_a_denial_keeps_the_webhooks_details_as_status_details_decodes_them() -> None:
    given = {
        "message": "no",
        "code": 403,
        "surprise": "dropped",
        "details": {
            "name": "web",
            "kind": "pods",
            "retryAfterSeconds": 5,
            "causes": [{"field": "spec.x", "message": "bad", "extra": 1}, "not a cause"],
            "bogus": True,
        },
    }
    status = WebhookDeniedError("check.example.com", given).status()
    assert "surprise" not in status
    assert status["details"] == {
        "name": "web",
        "kind": "pods",
        "causes": [{"message": "bad", "field": "spec.x"}],
        "retryAfterSeconds": 5,
    }
    assert "details" not in WebhookDeniedError("w.example.com", {"details": "text"}).status()


def test_a_failed_call_follows_the_failure_policy() -> None:
    error = call_failed(hook(), CallError("failed to call webhook: boom"))
    assert error is not None and error.code == 500
    assert error.message == (
        "Internal error occurred: failed calling webhook "
        '"check.example.com": failed to call webhook: boom'
    )
    assert call_failed(hook(failurePolicy="Ignore"), CallError("boom")) is None


def test_patches_apply_to_the_object_or_fail_internally() -> None:
    mutating = hook(mutating=True)
    result = patched(mutating, pod(), [{"op": "add", "path": "/metadata/labels/x", "value": "y"}])
    assert result is not None and result["metadata"]["labels"] == {"x": "y"}
    with pytest.raises(ApiError, match="Internal error occurred"):
        patched(mutating, pod(), [{"op": "replace", "path": "/nope", "value": 1}])
    with pytest.raises(ApiError, match="attempted to modify the object"):
        patched(mutating, None, [{"op": "add", "path": "/x", "value": 1}])


# -- configurations ---------------------------------------------------------------------


def configuration(**webhook: Any) -> Obj:
    return {
        "apiVersion": GROUP,
        "kind": "ValidatingWebhookConfiguration",
        "metadata": {"name": "checks"},
        "webhooks": [
            {
                "name": "check.example.com",
                "rules": [PODS],
                "clientConfig": {"service": {"namespace": "ns", "name": "svc"}},
                "sideEffects": "None",
                "admissionReviewVersions": ["v1"],
                **webhook,
            }
        ],
    }


def test_configurations_are_defaulted(cluster: MemoryCluster) -> None:
    stored = cluster.create(configuration())["webhooks"][0]
    assert {
        k: stored[k]
        for k in (
            "failurePolicy",
            "matchPolicy",
            "timeoutSeconds",
            "namespaceSelector",
            "objectSelector",
        )
    } == {
        "failurePolicy": "Fail",
        "matchPolicy": "Equivalent",
        "timeoutSeconds": 10,
        "namespaceSelector": {},
        "objectSelector": {},
    }
    assert stored["clientConfig"]["service"]["port"] == 443
    assert stored["rules"][0]["scope"] == "*"
    assert "reinvocationPolicy" not in stored
    mutating = {**configuration(), "kind": "MutatingWebhookConfiguration"}
    assert cluster.create(mutating)["webhooks"][0]["reinvocationPolicy"] == "Never"


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        (
            {"name": "short"},
            (
                "webhooks[0].name",
                'Invalid value: "short": should be a domain '
                "with at least three segments separated by dots",
            ),
        ),
        (
            {"clientConfig": {}},
            (
                "webhooks[0].clientConfig",
                "Required value: exactly one of url or service is required",
            ),
        ),
        (
            {"clientConfig": {"url": "http://x/"}},
            (
                "webhooks[0].clientConfig.url",
                "Invalid value: \"http://x/\": 'https' is the only allowed URL scheme",
            ),
        ),
        (
            {"sideEffects": "Some"},
            (
                "webhooks[0].sideEffects",
                'Unsupported value: "Some": supported values: "None", "NoneOnDryRun"',
            ),
        ),
        (
            {"admissionReviewVersions": ["v2"]},
            (
                "webhooks[0].admissionReviewVersions",
                'Invalid value: []string{"v2"}: must include at least one of v1, v1beta1',
            ),
        ),
        (
            {"timeoutSeconds": 31},
            (
                "webhooks[0].timeoutSeconds",
                "Invalid value: 31: the timeout value must be between 1 and 30 seconds",
            ),
        ),
        (
            {"failurePolicy": "Maybe"},
            (
                "webhooks[0].failurePolicy",
                'Unsupported value: "Maybe": supported values: "Fail", "Ignore"',
            ),
        ),
        (
            {"rules": [{**PODS, "operations": ["PATCH"]}]},
            (
                "webhooks[0].rules[0].operations[0]",
                'Unsupported value: "PATCH": supported values: '
                '"*", "CONNECT", "CREATE", "DELETE", "UPDATE"',
            ),
        ),
        (
            {"matchConditions": [{"name": "c", "expression": "object.("}]},
            (
                "webhooks[0].matchConditions[0].expression",
                'Invalid value: "object.(": compilation failed: ERROR: <input>:1:',
            ),
        ),
    ],
)
def test_configurations_are_checked(
    cluster: MemoryCluster, change: Obj, problem: tuple[str, str]
) -> None:
    with pytest.raises(FieldInvalidError) as caught:
        cluster.create(configuration(**change))
    field, text = caught.value.problems[0]
    assert field == problem[0] and text.startswith(problem[1])
    assert caught.value.message.startswith(
        'ValidatingWebhookConfiguration.admissionregistration.k8s.io "checks" is invalid: '
    )


def test_names_are_unique_within_a_configuration(cluster: MemoryCluster) -> None:
    twice = configuration()
    twice["webhooks"].append(dict(twice["webhooks"][0]))
    with pytest.raises(FieldInvalidError, match=r"webhooks\[1\].name: Duplicate value"):
        cluster.create(twice)


# -- the store's mutating hook ----------------------------------------------------------


def test_the_store_admits_what_mutating_admission_answers(cluster: MemoryCluster) -> None:
    rt = next(t for t in cluster.types() if t.key == ("apps", "deployments"))
    seen: list[tuple[Obj, Obj | None]] = []

    def mutate(obj: Obj, old: Obj | None) -> Obj:
        seen.append((obj, old))
        return {**obj, "metadata": {**obj["metadata"], "labels": {"mutated": "yes"}}}

    deployment = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "web", "namespace": "default"},
        "spec": {"selector": {"matchLabels": {"app": "web"}}},
    }
    made = cluster.create_in(rt, "default", deployment, mutate=mutate)
    assert made["metadata"]["labels"] == {"mutated": "yes"}
    assert seen[0][0]["spec"]["replicas"] == 1 and seen[0][1] is None  # defaulted first
    updated = cluster.patch_in(rt, "default", "web", {"spec": {"replicas": 3}}, mutate=mutate)
    assert updated["spec"]["replicas"] == 3 and seen[1][1] is made

    def invalid(obj: Obj, old: Obj | None) -> Obj:
        return {**obj, "metadata": {**obj["metadata"], "labels": {"bad": "-"}}}

    with pytest.raises(InvalidError):  # what mutation answers is validated
        cluster.patch_in(rt, "default", "web", {"spec": {"replicas": 4}}, mutate=invalid)

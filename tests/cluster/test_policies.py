"""ValidatingAdmissionPolicies refuse writes as kube-apiserver does."""

from __future__ import annotations

from typing import Any

import pytest

from orkestra.cluster import MemoryCluster, warning
from orkestra.cluster.errors import AdmissionDeniedError, FieldInvalidError

Obj = dict[str, Any]
DEPLOYMENTS = {
    "apiGroups": ["apps"],
    "apiVersions": ["v1"],
    "operations": ["CREATE", "UPDATE"],
    "resources": ["deployments"],
}


def policy(
    name: str = "limits", *validations: Obj, rules: list[Obj] | None = None, **spec: Any
) -> Obj:
    return {
        "apiVersion": "admissionregistration.k8s.io/v1",
        "kind": "ValidatingAdmissionPolicy",
        "metadata": {"name": name},
        "spec": {
            "matchConstraints": {"resourceRules": rules or [DEPLOYMENTS]},
            "validations": list(validations),
            **spec,
        },
    }


def binding(policy_name: str = "limits", *actions: str, name: str = "", **spec: Any) -> Obj:
    return {
        "apiVersion": "admissionregistration.k8s.io/v1",
        "kind": "ValidatingAdmissionPolicyBinding",
        "metadata": {"name": name or f"{policy_name}-binding"},
        "spec": {"policyName": policy_name, "validationActions": list(actions or ["Deny"]), **spec},
    }


def rule(expression: str, **extra: Any) -> Obj:
    return {"expression": expression, **extra}


def deployment(
    name: str = "web",
    replicas: int = 1,
    namespace: str = "default",
    labels: dict[str, str] | None = None,
) -> Obj:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "namespace": namespace, "labels": labels or {"app": name}},
        "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": name}}},
    }


@pytest.fixture
def cluster() -> MemoryCluster:
    return MemoryCluster()


def install(cluster: MemoryCluster, *objects: Obj) -> None:
    for obj in objects:
        cluster.create(obj)


def denied(cluster: MemoryCluster, obj: Obj) -> AdmissionDeniedError:
    with pytest.raises(AdmissionDeniedError) as caught:
        cluster.create(obj)
    return caught.value


# -- outcomes ---------------------------------------------------------------------------


def test_a_policy_does_nothing_until_bound(cluster: MemoryCluster) -> None:
    install(cluster, policy("limits", rule("object.spec.replicas <= 5")))
    cluster.create(deployment("big", replicas=9))
    install(cluster, binding("limits"))
    denied(cluster, deployment("bigger", replicas=9))
    cluster.create(deployment("small", replicas=2))


def test_deny_answers_like_the_api_server(cluster: MemoryCluster) -> None:
    install(
        cluster,
        policy("limits", rule("object.spec.replicas <= 5", message="at most 5 replicas")),
        binding("limits"),
    )
    error = denied(cluster, deployment("big", replicas=9))
    why = (
        "ValidatingAdmissionPolicy 'limits' with binding 'limits-binding' denied request: "
        "at most 5 replicas"
    )
    assert error.message == f'deployments.apps "big" is forbidden: {why}'
    status = error.status()
    assert (status["code"], status["reason"]) == (422, "Invalid")
    assert status["details"] == {
        "name": "big",
        "group": "apps",
        "kind": "deployments",
        "causes": [{"message": why}],
    }
    assert cluster.find("apps/v1", "Deployment", "big", "default") is None


def test_without_a_message_the_failed_expression_is_named(cluster: MemoryCluster) -> None:
    install(cluster, policy("limits", rule("  object.spec.replicas <= 5 ")), binding("limits"))
    assert denied(cluster, deployment(replicas=9)).message.endswith(
        "denied request: failed expression: object.spec.replicas <= 5"
    )


@pytest.mark.parametrize(
    ("reason", "code"),
    [("Forbidden", 403), ("Unauthorized", 401), ("RequestEntityTooLarge", 413), ("Invalid", 422)],
)
def test_the_reason_chooses_the_status_code(cluster: MemoryCluster, reason: str, code: int) -> None:
    install(cluster, policy("limits", rule("false", reason=reason)), binding("limits"))
    status = denied(cluster, deployment()).status()
    assert (status["reason"], status["code"]) == (reason, code)


def test_message_expression_wins_unless_it_fails(cluster: MemoryCluster) -> None:
    install(
        cluster,
        policy(
            "limits",
            rule(
                "object.spec.replicas <= 5",
                message="too many",
                messageExpression="'replicas ' + string(object.spec.replicas) + ' > 5'",
            ),
            rule(
                "object.metadata.name != 'broken'",
                message="fallback",
                messageExpression="object.spec.missing",
            ),
            rule(
                "object.metadata.name != 'lines'",
                message="single line",
                messageExpression="'a\\nb'",
            ),
        ),
        binding("limits"),
    )
    assert denied(cluster, deployment(replicas=7)).message.endswith(": replicas 7 > 5")
    assert denied(cluster, deployment("broken")).message.endswith(": fallback")
    assert denied(cluster, deployment("lines")).message.endswith(": single line")


def test_warn_and_audit_allow_the_write(cluster: MemoryCluster) -> None:
    install(
        cluster,
        policy("limits", rule("object.spec.replicas <= 5", message="too many")),
        binding("limits", "Warn"),
        binding("limits", "Audit", name="audited"),
    )
    with warning.recording() as warnings:
        cluster.create(deployment(replicas=9))
    assert warnings == [
        "Validation failed for ValidatingAdmissionPolicy 'limits' with binding "
        "'limits-binding': too many"
    ]
    assert cluster.get("apps/v1", "Deployment", "web", "default")["spec"]["replicas"] == 9


def test_every_binding_runs_before_the_first_deny_is_raised(cluster: MemoryCluster) -> None:
    install(
        cluster,
        policy("limits", rule("false", message="no")),
        binding("limits", "Deny", name="a-denies"),
        binding("limits", "Warn", name="b-warns"),
    )
    with warning.recording() as warnings, pytest.raises(AdmissionDeniedError) as caught:
        cluster.create(deployment())
    assert "binding 'a-denies' denied request: no" in caught.value.message
    assert len(warnings) == 1 and "'b-warns'" in warnings[0]


# -- matching ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("rules", "applies"),
    [
        ([{**DEPLOYMENTS, "operations": ["UPDATE"]}], False),
        ([{**DEPLOYMENTS, "apiGroups": ["*"], "operations": ["*"], "resources": ["*"]}], True),
        ([{**DEPLOYMENTS, "apiVersions": ["v1beta1"]}], False),
        ([{**DEPLOYMENTS, "resources": ["statefulsets"]}], False),
        ([{**DEPLOYMENTS, "resources": ["deployments/status"]}], False),
        ([{**DEPLOYMENTS, "resources": ["deployments/*"]}], True),
        ([{**DEPLOYMENTS, "resourceNames": ["other"]}], False),
        ([{**DEPLOYMENTS, "resourceNames": ["web"]}], True),
        ([{**DEPLOYMENTS, "scope": "Cluster"}], False),
        ([{**DEPLOYMENTS, "scope": "Namespaced"}], True),
    ],
)
def test_resource_rules_select_the_request(
    cluster: MemoryCluster, rules: list[Obj], applies: bool
) -> None:
    install(cluster, policy("never", rule("false"), rules=rules), binding("never"))
    if applies:
        denied(cluster, deployment())
    else:
        cluster.create(deployment())


def test_subresources_match_only_when_named(cluster: MemoryCluster) -> None:
    status_rule = {**DEPLOYMENTS, "operations": ["UPDATE"], "resources": ["deployments/status"]}
    install(
        cluster,
        policy("status", rule("object.status.replicas <= 3"), rules=[status_rule]),
        binding("status"),
    )
    web = cluster.create(deployment())
    web = cluster.update({**web, "spec": {**web["spec"], "replicas": 9}})
    with pytest.raises(AdmissionDeniedError):
        cluster.update_status({**web, "status": {"replicas": 9}})
    cluster.update_status({**web, "status": {"replicas": 2}})


def test_exclusions_and_selectors(cluster: MemoryCluster) -> None:
    install(
        cluster,
        {
            "apiVersion": "v1",
            "kind": "Namespace",
            "metadata": {"name": "prod", "labels": {"env": "prod"}},
        },
    )
    constraints = {
        "resourceRules": [DEPLOYMENTS],
        "excludeResourceRules": [{**DEPLOYMENTS, "resourceNames": ["exempt"]}],
        "namespaceSelector": {"matchLabels": {"env": "prod"}},
        "objectSelector": {
            "matchExpressions": [{"key": "tier", "operator": "NotIn", "values": ["batch"]}]
        },
    }
    install(cluster, policy("prod", rule("false"), matchConstraints=constraints), binding("prod"))
    cluster.create(deployment("elsewhere"))
    cluster.create(deployment("exempt", namespace="prod"))
    cluster.create(deployment("job", namespace="prod", labels={"tier": "batch"}))
    denied(cluster, deployment("web", namespace="prod", labels={"tier": "web"}))


def test_a_binding_narrows_what_its_policy_matches(cluster: MemoryCluster) -> None:
    install(
        cluster,
        policy("limits", rule("false")),
        binding("limits", matchResources={"objectSelector": {"matchLabels": {"policed": "yes"}}}),
    )
    cluster.create(deployment("free"))
    denied(cluster, deployment("policed", labels={"policed": "yes"}))


def test_policies_never_judge_policies(cluster: MemoryCluster) -> None:
    everything = {"apiGroups": ["*"], "apiVersions": ["*"], "operations": ["*"], "resources": ["*"]}
    install(cluster, policy("lockdown", rule("false"), rules=[everything]), binding("lockdown"))
    install(cluster, policy("other", rule("true")), binding("other"))
    cluster.delete(
        "admissionregistration.k8s.io/v1", "ValidatingAdmissionPolicyBinding", "lockdown-binding"
    )
    cluster.create(deployment())


# -- expressions ------------------------------------------------------------------------


def test_match_conditions_gate_the_validations(cluster: MemoryCluster) -> None:
    conditions = [
        {"name": "labelled", "expression": "has(object.metadata.labels.tier)"},
        {"name": "not-test", "expression": "object.metadata.labels.tier != 'test'"},
    ]
    install(
        cluster,
        policy("tiers", rule("false", message="tiered"), matchConditions=conditions),
        binding("tiers"),
    )
    cluster.create(deployment("plain"))
    cluster.create(deployment("test", labels={"tier": "test"}))
    assert denied(cluster, deployment("web", labels={"tier": "web"})).message.endswith(": tiered")


@pytest.mark.parametrize(("failure", "refused"), [("Fail", True), ("Ignore", False)])
def test_failure_policy_decides_evaluation_errors(
    cluster: MemoryCluster, failure: str, refused: bool
) -> None:
    install(
        cluster,
        policy("typo", rule("object.spec.replicaz <= 5"), failurePolicy=failure),
        policy(
            "cond",
            rule("false"),
            failurePolicy=failure,
            matchConditions=[{"name": "c", "expression": "object.nope == 1"}],
        ),
        binding("typo"),
        binding("cond"),
    )
    if not refused:
        cluster.create(deployment())
        return
    error = denied(cluster, deployment())
    assert error.message.endswith(
        "ValidatingAdmissionPolicy 'cond' with binding 'cond-binding' denied request: "
        "expression 'object.nope == 1' resulted in error: no such key: nope"
    )
    assert error.status()["reason"] == "Invalid"


def test_variables_compose_and_fail_only_their_readers(cluster: MemoryCluster) -> None:
    variables = [
        {"name": "replicas", "expression": "object.spec.replicas"},
        {"name": "limit", "expression": "variables.replicas > 3 ? 10 : 5"},
        {"name": "broken", "expression": "object.spec.missing"},
    ]
    install(
        cluster,
        policy(
            "vars",
            rule(
                "variables.replicas < variables.limit",
                messageExpression="'limit ' + string(variables.limit)",
            ),
            variables=variables,
        ),
        binding("vars"),
    )
    cluster.create(deployment("nine", replicas=9))
    assert denied(cluster, deployment("ten", replicas=10)).message.endswith(": limit 10")
    install(
        cluster,
        policy("reads-broken", rule("variables.broken == 1"), variables=variables),
        binding("reads-broken"),
    )
    assert (
        "expression 'variables.broken == 1' resulted in error: no such key: missing"
        in denied(cluster, deployment("one")).message
    )


def test_updates_and_deletes_see_the_old_object(cluster: MemoryCluster) -> None:
    all_ops = {**DEPLOYMENTS, "operations": ["CREATE", "UPDATE", "DELETE"]}
    install(
        cluster,
        policy(
            "history",
            rule("request.operation != 'CREATE' || oldObject == null"),
            rule(
                "request.operation != 'UPDATE' || object.spec.replicas >= oldObject.spec.replicas",
                message="no scaling down",
            ),
            rule(
                "request.operation != 'DELETE' || (object == null && "
                "!('keep' in oldObject.metadata.labels))",
                message="protected by a label",
            ),
            rules=[all_ops],
        ),
        binding("history"),
    )
    web = cluster.create(deployment(replicas=3))
    with pytest.raises(AdmissionDeniedError, match="no scaling down"):
        cluster.update({**web, "spec": {**web["spec"], "replicas": 2}})
    web = cluster.update({**web, "spec": {**web["spec"], "replicas": 4}})
    cluster.create(deployment("kept", labels={"keep": "yes"}))
    with pytest.raises(AdmissionDeniedError, match="protected by a label"):
        cluster.delete("apps/v1", "Deployment", "kept", "default")
    cluster.delete("apps/v1", "Deployment", "web", "default")


def test_request_and_namespace_object(cluster: MemoryCluster) -> None:
    install(
        cluster,
        {
            "apiVersion": "v1",
            "kind": "Namespace",
            "metadata": {"name": "team", "labels": {"owner": "alice"}},
        },
    )
    install(
        cluster,
        policy(
            "who",
            rule(
                "request.userInfo.username == 'ork-embedded' && request.namespace == 'team' && "
                "request.name == object.metadata.name && request.kind.kind == 'Deployment' && "
                "request.resource.resource == 'deployments' && !request.dryRun && "
                "namespaceObject.metadata.labels.owner == 'alice'"
            ),
        ),
        binding("who"),
    )
    cluster.create(deployment(namespace="team"))
    denied(cluster, deployment(namespace="default"))


@pytest.mark.parametrize(
    "expression",
    [
        "'ABC'.lowerAscii() == 'abc'",
        "'abc'.upperAscii() == 'ABC'",
        "'  x '.trim() == 'x'",
        "'a:b:c'.split(':') == ['a', 'b', 'c']",
        "['a', 'b'].join('-') == 'a-b'",
        "['a', 'b'].join() == 'ab'",
        "'a.b'.replace('.', '-') == 'a-b'",
        "object.spec.replicas > 0 && object.metadata.name.matches('^w')",
    ],
)
def test_kubernetes_string_functions(cluster: MemoryCluster, expression: str) -> None:
    install(cluster, policy("fn", rule(expression)), binding("fn"))
    cluster.create(deployment())


def test_params_come_from_the_bindings_param_ref(cluster: MemoryCluster) -> None:
    install(
        cluster,
        {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": "limits", "namespace": "default"},
            "data": {"max": "3"},
        },
    )
    install(
        cluster,
        policy(
            "limits",
            rule("object.spec.replicas <= int(params.data.max)"),
            paramKind={"apiVersion": "v1", "kind": "ConfigMap"},
        ),
        binding(
            "limits",
            paramRef={"name": "limits", "namespace": "default", "parameterNotFoundAction": "Deny"},
        ),
    )
    cluster.create(deployment("small", replicas=3))
    denied(cluster, deployment("big", replicas=4))
    install(
        cluster,
        binding(
            "limits", name="missing", paramRef={"name": "absent", "parameterNotFoundAction": "Deny"}
        ),
    )
    assert denied(cluster, deployment("small-too", replicas=1)).message.endswith(
        "with binding 'missing' denied request: failed to configure binding: no params found "
        "for policy binding with `Deny` parameterNotFoundAction"
    )
    cluster.delete("admissionregistration.k8s.io/v1", "ValidatingAdmissionPolicyBinding", "missing")
    install(
        cluster,
        binding(
            "limits",
            name="allowed",
            paramRef={"name": "absent", "parameterNotFoundAction": "Allow"},
        ),
    )
    cluster.create(deployment("small-again", replicas=1))


def test_server_writes_are_judged_too(cluster: MemoryCluster) -> None:
    install(cluster, policy("limits", rule("object.spec.replicas <= 5")), binding("limits"))
    rt = cluster.type_for("apps/v1", "Deployment")
    with pytest.raises(AdmissionDeniedError):
        cluster.create_in(rt, "default", deployment(replicas=9), dry_run=True)
    made = cluster.create_in(rt, "default", deployment(replicas=2), manager="kubectl")
    with pytest.raises(AdmissionDeniedError):
        cluster.patch_in(rt, "default", made["metadata"]["name"], {"spec": {"replicas": 8}})


# -- write-time checks ------------------------------------------------------------------


def test_an_expression_that_does_not_compile_is_refused(cluster: MemoryCluster) -> None:
    with pytest.raises(FieldInvalidError) as caught:
        cluster.create(policy("broken", rule("object.spec.replicas +")))
    error = caught.value
    assert error.message.startswith(
        'ValidatingAdmissionPolicy.admissionregistration.k8s.io "broken" is invalid: '
        'spec.validations[0].expression: Invalid value: "object.spec.replicas +": '
        "compilation failed: ERROR: <input>:1:"
    )
    assert error.status()["details"]["causes"][0]["field"] == "spec.validations[0].expression"
    assert (
        cluster.find("admissionregistration.k8s.io/v1", "ValidatingAdmissionPolicy", "broken")
        is None
    )


@pytest.mark.parametrize(
    ("spec", "field"),
    [
        (
            {"matchConditions": [{"name": "c", "expression": "a &&"}]},
            "spec.matchConditions[0].expression",
        ),
        ({"variables": [{"name": "v", "expression": "(("}]}, "spec.variables[0].expression"),
        (
            {"validations": [{"expression": "true", "messageExpression": "'a' +"}]},
            "spec.validations[0].messageExpression",
        ),
        (
            {"validations": [{"expression": "true", "reason": "Teapot"}]},
            "spec.validations[0].reason",
        ),
        ({"failurePolicy": "Sometimes"}, "spec.failurePolicy"),
        ({"matchConstraints": {}}, "spec.matchConstraints.resourceRules"),
    ],
)
def test_policy_fields_are_checked(cluster: MemoryCluster, spec: Obj, field: str) -> None:
    with pytest.raises(FieldInvalidError) as caught:
        cluster.create(policy("checked", **spec))
    assert [f for f, _ in caught.value.problems] == [field]


@pytest.mark.parametrize(
    ("spec", "field"),
    [
        ({"policyName": ""}, "spec.policyName"),
        ({"validationActions": []}, "spec.validationActions"),
        ({"validationActions": ["Block"]}, "spec.validationActions[0]"),
        ({"validationActions": ["Deny", "Warn"]}, "spec.validationActions"),
        ({"paramRef": {"name": "x"}}, "spec.paramRef.parameterNotFoundAction"),
    ],
)
def test_binding_fields_are_checked(cluster: MemoryCluster, spec: Obj, field: str) -> None:
    with pytest.raises(FieldInvalidError) as caught:
        cluster.create(binding("limits", **spec))
    assert [f for f, _ in caught.value.problems] == [field]


def test_the_server_defaults_the_failure_policy(cluster: MemoryCluster) -> None:
    made = cluster.create(policy("limits", rule("true")))
    assert made["spec"]["failurePolicy"] == "Fail"

"""The webhooks' decisions: validation as the reconcile decides it, mutation as a patch,
deletion protection."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonpatch
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from orkestra.cluster import MemoryCluster
from orkestra.compose import compose_file
from orkestra.compose.engines import Engines
from orkestra.engine.admission import admit
from orkestra.engine.conditions import Evaluation
from orkestra.engine.context import template_context
from orkestra.gateway.decide import PROTECTED, Guard, mutate, protect, validate
from orkestra.gateway.review import Decision, Request, parse
from orkestra.gateway.targets import Targets
from tests.gateway.conftest import (
    CACHE,
    FULL,
    PLATFORM,
    denied_cr,
    good_cr,
    komposer,
    load_yaml,
    review,
)

Obj = dict[str, Any]
DENIED_IMAGE = (
    '[Orkestra Validation] validation failed: field "spec.image": image must be '
    "pulled from the internal registry (ghcr.io/orkspace/) (got "
    '"docker.io/nginx:1.25")'
)
TEAM_WARNING = (
    '[Orkestra Validation] validation warning: field "metadata.labels.team": set '
    'the team label so the platform team knows who owns this (got "")'
)


def request(obj: Obj | None = None, **kwargs: Any) -> Request:
    return parse(json.dumps(review(obj, **kwargs)).encode())


def test_a_deny_rule_refuses_with_the_seed_wording(targets: Targets) -> None:
    decision = validate(targets, request(denied_cr()))
    assert not decision.allowed
    assert decision.message == DENIED_IMAGE
    assert decision.message.startswith("[Orkestra Validation] validation failed")


def test_warn_rules_become_warnings(targets: Targets) -> None:
    decision = validate(targets, request(denied_cr()))
    assert decision.warnings == [TEAM_WARNING]
    cr = good_cr()
    del cr["metadata"]["labels"]
    allowed = validate(targets, request(cr))
    assert allowed == Decision(warnings=[TEAM_WARNING])


def test_a_cr_within_the_rules_is_allowed_quietly(targets: Targets) -> None:
    assert validate(targets, request(good_cr())) == Decision()


def test_validation_sees_the_object_after_mutation(targets: Targets) -> None:
    cr = good_cr()
    cr["spec"]["replicas"] = 11
    assert validate(targets, request(cr)).message.endswith(
        'field "spec.replicas": at most 10 replicas are allowed (got "11")'
    )
    del cr["spec"]["replicas"]  # mutation defaults it to 1 first
    assert validate(targets, request(cr)).allowed


def test_a_rule_that_cannot_be_evaluated_refuses(targets: Targets) -> None:
    cr = good_cr()
    cr["spec"]["replicas"] = "many"
    decision = validate(targets, request(cr))
    assert not decision.allowed
    assert decision.message.startswith("[Orkestra Validation] validation failed: ")


def test_the_gateway_denies_as_the_reconcile_does(tmp_path: Path, targets: Targets) -> None:
    """The same rule, the same words: the reconcile's ``validation denied: X`` is the
    gateway's ``[Orkestra Validation] validation failed: X``."""
    composed = compose_file(PLATFORM / "katalog.yaml")
    cluster = MemoryCluster()
    cluster.create(load_yaml(PLATFORM / "crd.yaml"))
    cr = denied_cr()
    cluster.create(cr)
    result = (
        Engines(composed).reconciler("platformapp", cluster).reconcile("my-denied-app", "default")
    )
    assert result.denied and result.error is not None
    reason = result.error.removeprefix("validation denied: ")
    assert (
        validate(targets, request(cr)).message
        == f"[Orkestra Validation] validation failed: {reason}"
    )
    assert [w.removeprefix("validation warning: ") for w in result.warnings] == [
        w.removeprefix("[Orkestra Validation] validation warning: ")
        for w in validate(targets, request(cr)).warnings
    ]


def test_other_resources_and_subresources_pass(targets: Targets) -> None:
    assert validate(targets, request(denied_cr(), resource="widgets")) == Decision()
    assert validate(targets, request(denied_cr(), subresource="status")) == Decision()


def test_mutation_patch_gives_the_mutated_object(targets: Targets) -> None:
    cr = good_cr()
    del cr["spec"]["replicas"]
    decision = mutate(targets, request(cr))
    assert decision.allowed
    assert decision.patch == [{"op": "add", "path": "/spec/replicas", "value": 1}]
    mutated = jsonpatch.apply_patch(cr, decision.patch)
    assert mutated["spec"] == {"image": "ghcr.io/orkspace/demo-web:1.0.0", "replicas": 1}
    assert mutated["metadata"] == cr["metadata"]


def test_mutation_leaves_a_set_field(targets: Targets) -> None:
    assert mutate(targets, request(good_cr())) == Decision()
    assert mutate(targets, request(None, operation="DELETE", old=good_cr())) == Decision()


def test_a_crd_with_validation_webhook_off_is_not_validated(tmp_path: Path) -> None:
    path = komposer(
        tmp_path,
        FULL,
        crds="""
        platformapp:
          webhooks: {validation: false, mutation: false}
    """,
    )
    targets = Targets.load([path])
    assert validate(targets, request(denied_cr())) == Decision()
    assert mutate(targets, request(denied_cr())) == Decision()


def test_without_admission_nothing_is_validated(tmp_path: Path) -> None:
    targets = Targets.load([komposer(tmp_path, "deletionProtection: {enabled: true}")])
    assert not targets.validated and not targets.mutated
    assert validate(targets, request(denied_cr())) == Decision()


# -- deletion protection ----------------------------------------------------------------------
def guard_of(targets: Targets) -> Guard:
    return Guard.of(targets, "orkestra-system", "orkestra-gateway")


def delete(obj: Obj, **kwargs: Any) -> Request:
    return request(None, operation="DELETE", old=obj, **kwargs)


def crd_of(path: Path) -> Obj:
    return load_yaml(path / "crd.yaml")


def deployment(name: str = "orkestra-gateway", labels: dict[str, str] | None = None) -> Obj:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "namespace": "orkestra-system", "labels": labels or {}},
    }


def crd_delete(crd: Obj) -> Request:
    return delete(
        crd, group="apiextensions.k8s.io", resource="customresourcedefinitions", namespace=""
    )


def test_crs_crds_and_the_gateway_deployment_are_protected(targets: Targets) -> None:
    guard = guard_of(targets)
    for crd in (crd_of(PLATFORM), crd_of(CACHE)):
        assert protect(guard, crd_delete(crd)) == Decision(False, PROTECTED)
    assert protect(guard, delete(good_cr())) == Decision(False, PROTECTED)
    cache = {
        "apiVersion": "rkguide.demo/v1",
        "kind": "Cache",
        "metadata": {"name": "c", "namespace": "default"},
    }
    assert not protect(guard, delete(cache, resource="caches")).allowed
    gateway = delete(
        deployment(), group="apps", resource="deployments", namespace="orkestra-system"
    )
    assert protect(guard, gateway) == Decision(False, PROTECTED)
    assert PROTECTED == "[Orkestra Security] The resource is protected from deletion."


def test_what_is_not_ours_may_go(targets: Targets) -> None:
    guard = guard_of(targets)
    other_crd = {"metadata": {"name": "widgets.example.com"}}
    assert protect(guard, crd_delete(other_crd)).allowed
    other = delete(
        deployment("web"), group="apps", resource="deployments", namespace="orkestra-system"
    )
    assert protect(guard, other).allowed
    elsewhere = delete(deployment(), group="apps", resource="deployments", namespace="prod")
    assert protect(guard, elsewhere).allowed
    assert protect(guard, request(good_cr(), operation="UPDATE", old=good_cr())).allowed
    assert protect(guard, delete(good_cr(), subresource="status")).allowed


@pytest.mark.parametrize("value", ["false", "disabled", "False"])
def test_the_label_opts_out(targets: Targets, value: str) -> None:
    cr = good_cr()
    cr["metadata"]["labels"]["orkestra.io/deletion-protection"] = value
    assert protect(guard_of(targets), delete(cr)).allowed
    cr["metadata"]["labels"]["orkestra.io/deletion-protection"] = "true"
    assert not protect(guard_of(targets), delete(cr)).allowed


def test_strict_mode_ignores_the_opt_out_and_keeps_the_label(tmp_path: Path) -> None:
    targets = Targets.load(
        [
            komposer(
                tmp_path,
                """
        deletionProtection: {enabled: true, strictMode: true}
    """,
            )
        ]
    )
    guard = guard_of(targets)
    labelled = good_cr()
    labelled["metadata"]["labels"]["orkestra.io/deletion-protection"] = "false"
    assert protect(guard, delete(labelled)) == Decision(False, PROTECTED)
    before = good_cr()
    before["metadata"]["labels"]["orkestra.io/deletion-protection"] = "true"
    removed = good_cr()
    refused = protect(guard, request(removed, operation="UPDATE", old=before))
    assert not refused.allowed
    assert refused.message.startswith("[Orkestra Security]")
    assert "orkestra.io/deletion-protection" in refused.message
    changed = protect(guard, request(labelled, operation="UPDATE", old=before))
    assert not changed.allowed
    kept = good_cr()
    kept["metadata"]["labels"]["orkestra.io/deletion-protection"] = "true"
    kept["spec"]["replicas"] = 3
    assert protect(guard, request(kept, operation="UPDATE", old=before)).allowed
    # without strictMode the label may go
    relaxed = guard_of(Targets.load([komposer(tmp_path, FULL)]))
    assert protect(relaxed, request(removed, operation="UPDATE", old=before)).allowed


@pytest.mark.parametrize(
    "override", ["deletionProtection: false", "deletionProtection: {enabled: false}"]
)
def test_a_crd_may_turn_protection_off(tmp_path: Path, override: str) -> None:
    targets = Targets.load(
        [
            komposer(
                tmp_path,
                FULL,
                crds=f"""
        platformapp:
          {override}
    """,
            )
        ]
    )
    guard = guard_of(targets)
    assert protect(guard, delete(good_cr())).allowed
    assert protect(guard, crd_delete(crd_of(PLATFORM))).allowed
    assert not protect(guard, crd_delete(crd_of(CACHE))).allowed  # the others stay


def test_a_crd_may_turn_strict_mode_on(tmp_path: Path) -> None:
    targets = Targets.load(
        [
            komposer(
                tmp_path,
                FULL,
                crds="""
        platformapp:
          deletionProtection: {strictMode: true}
    """,
            )
        ]
    )
    by_name = {t.name: t for t in targets.all}
    assert by_name["platformapp"].strict and not by_name["cache"].strict
    labelled = good_cr()
    labelled["metadata"]["labels"]["orkestra.io/deletion-protection"] = "false"
    assert not protect(guard_of(targets), delete(labelled)).allowed


def test_without_protection_everything_may_go(tmp_path: Path) -> None:
    targets = Targets.load([komposer(tmp_path, "webhooks: {admission: {enabled: true}}")])
    guard = guard_of(targets)
    assert not guard.active
    assert protect(guard, delete(good_cr())).allowed
    gateway = delete(
        deployment(), group="apps", resource="deployments", namespace="orkestra-system"
    )
    assert protect(guard, gateway).allowed


# -- anything the API server might send ------------------------------------------------------
_LEAF = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8)
_KEYS = st.sampled_from(
    [
        "spec",
        "metadata",
        "labels",
        "image",
        "replicas",
        "team",
        "orkestra.io/deletion-protection",
        "name",
    ]
)
_TREE = st.recursive(
    _LEAF,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_KEYS, inner, max_size=4),
    max_leaves=20,
)
_OBJECTS = st.dictionaries(
    st.sampled_from(["spec", "metadata", "status", "kind"]), _TREE, max_size=4
)


@settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))
@given(obj=_OBJECTS, old=_OBJECTS, operation=st.sampled_from(["CREATE", "UPDATE", "DELETE"]))
def test_no_object_breaks_a_decision(
    tmp_path_factory: pytest.TempPathFactory, obj: Obj, old: Obj, operation: str
) -> None:
    targets = _fuzz_targets(tmp_path_factory)
    sent = request(
        None if operation == "DELETE" else obj,
        operation=operation,
        old=None if operation == "CREATE" else old,
    )
    for decision in (
        validate(targets, sent),
        mutate(targets, sent),
        protect(guard_of(targets), sent),
    ):
        assert isinstance(decision, Decision)
        if decision.patch:
            jsonpatch.apply_patch(obj, decision.patch)


_FUZZ: list[Targets] = []


def _fuzz_targets(factory: pytest.TempPathFactory) -> Targets:
    """05-komposer plus a normalize block (which writes into ``spec``), made once."""
    if not _FUZZ:
        _FUZZ.append(
            Targets.load(
                [
                    komposer(
                        factory.mktemp("fuzz"),
                        """
            webhooks: {admission: {enabled: true}}
            deletionProtection: {enabled: true, strictMode: true}
        """,
                        crds="""
            platformapp:
              normalize: {spec: {tier: "{{ .spec.image }}"}}
        """,
                    )
                ]
            )
        )
    return _FUZZ[0]


def test_admit_orders_like_the_reconcile_unless_told() -> None:
    """``admit`` (the engine function the gateway calls) keeps the reconcile's order
    (``mutateFirst: false`` validates first) and puts mutation first at admission."""
    entry = {
        "mutation": {"rules": [{"field": "spec.replicas", "default": "1", "valueType": "int"}]},
        "validation": {
            "rules": [
                {"field": "spec.replicas", "operator": "exists", "message": "replicas are required"}
            ]
        },
    }
    cr = {"metadata": {"name": "x"}, "spec": {}}
    at_reconcile = admit(entry, Evaluation(template_context(cr)))
    assert at_reconcile.verdict.denied is not None
    assert at_reconcile.mutated == ["spec.replicas"]
    at_admission = admit(
        entry, Evaluation(template_context(cr)), moment="admission", mutate_first=True
    )
    assert at_admission.verdict.denied is None
    assert at_admission.mutated == ["spec.replicas"]

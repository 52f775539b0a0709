"""The webhook configurations the gateway wants, and the housekeeper that keeps them."""

from __future__ import annotations

import asyncio
import base64
from pathlib import Path
from typing import Any

from orkestra.gateway.decide import Guard
from orkestra.gateway.housekeeper import Housekeeper, contains
from orkestra.gateway.targets import Targets
from orkestra.gateway.webhooks import (
    MUTATION_CONFIG,
    PROTECTION_CONFIG,
    VALIDATION_CONFIG,
    Endpoint,
    desired,
)
from tests.gateway.conftest import FULL, FakeKube, komposer

Obj = dict[str, Any]
ENDPOINT = Endpoint("orkestra-gateway", "orkestra-system")
CA = b"-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"


def wanted(
    targets: Targets, policy: str | None = None, endpoint: Endpoint = ENDPOINT
) -> dict[str, Obj | None]:
    return desired(
        targets, Guard.of(targets, "orkestra-system", "orkestra-gateway"), endpoint, CA, policy
    )


def hook(config: Obj | None) -> Obj:
    assert config is not None
    webhooks: list[Obj] = config["webhooks"]
    assert len(webhooks) == 1
    return webhooks[0]


def test_05_komposer_wants_validation_mutation_and_protection(targets: Targets) -> None:
    configs = wanted(targets)
    validation = configs[VALIDATION_CONFIG]
    assert validation is not None
    assert validation["kind"] == "ValidatingWebhookConfiguration"
    assert validation["metadata"]["name"] == "orkestra-admission-validation"
    validate = hook(validation)
    assert validate["name"] == "validate.orkestra.orkspace.io"
    assert validate["clientConfig"] == {
        "service": {
            "name": "orkestra-gateway",
            "namespace": "orkestra-system",
            "path": "/validate",
            "port": 8443,
        },
        "caBundle": base64.b64encode(CA).decode(),
    }
    assert validate["rules"] == [
        {
            "apiGroups": ["rkguide.demo"],
            "apiVersions": ["v1"],
            "operations": ["CREATE", "UPDATE"],
            "resources": ["platformapps"],
            "scope": "*",
        }
    ]
    assert validate["failurePolicy"] == "Fail"
    assert validate["sideEffects"] == "None"
    assert validate["admissionReviewVersions"] == ["v1"]
    mutation = configs[MUTATION_CONFIG]
    assert mutation is not None and mutation["kind"] == "MutatingWebhookConfiguration"
    assert hook(mutation)["clientConfig"]["service"]["path"] == "/mutate"
    protection = configs[PROTECTION_CONFIG]
    assert protection is not None
    assert protection["metadata"]["name"] == "orkestra-deletion-protection"
    protect = hook(protection)
    assert protect["name"] == "protect.resources.orkestra.orkspace.io"
    assert protect["clientConfig"]["service"]["path"] == "/protect"
    resources = {(r["apiGroups"][0], r["resources"][0]): r["operations"] for r in protect["rules"]}
    assert resources == {
        ("rkguide.demo", "platformapps"): ["DELETE"],
        ("rkguide.demo", "caches"): ["DELETE"],
        ("apiextensions.k8s.io", "customresourcedefinitions"): ["DELETE"],
        ("apps", "deployments"): ["DELETE"],
    }
    assert protect["matchConditions"] == [
        {
            "name": "orkestra-crds",
            "expression": "request.resource.group != 'apiextensions.k8s.io' || "
            "request.resource.resource != 'customresourcedefinitions' || "
            "request.name in ['caches.rkguide.demo', 'platformapps.rkguide.demo']",
        },
        {
            "name": "orkestra-gateway-deployment",
            "expression": "request.resource.group != 'apps' || "
            "request.resource.resource != 'deployments' || "
            "(request.namespace == 'orkestra-system' && request.name == 'orkestra-gateway')",
        },
    ]


def test_failure_policy_comes_from_security_or_the_flag(tmp_path: Path) -> None:
    targets = Targets.load(
        [
            komposer(
                tmp_path,
                """
        webhooks: {admission: {enabled: true}, failurePolicy: Ignore}
        deletionProtection: {enabled: true, failurePolicy: Fail}
    """,
            )
        ]
    )
    configs = wanted(targets)
    assert hook(configs[VALIDATION_CONFIG])["failurePolicy"] == "Ignore"
    assert hook(configs[PROTECTION_CONFIG])["failurePolicy"] == "Fail"
    forced = wanted(targets, "Ignore")
    assert hook(forced[PROTECTION_CONFIG])["failurePolicy"] == "Ignore"


def test_strict_mode_also_sees_updates(tmp_path: Path) -> None:
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
    rules = hook(wanted(targets)[PROTECTION_CONFIG])["rules"]
    assert all(r["operations"] == ["DELETE", "UPDATE"] for r in rules)


def test_a_url_replaces_the_service() -> None:
    endpoint = Endpoint("orkestra-gateway", "orkestra-system", url="https://127.0.0.1:9443/")
    config = endpoint.client_config("/protect", CA)
    assert config["url"] == "https://127.0.0.1:9443/protect"
    assert "service" not in config
    assert endpoint.names == [
        "orkestra-gateway.orkestra-system.svc",
        "orkestra-gateway",
        "orkestra-gateway.orkestra-system",
        "orkestra-gateway.orkestra-system.svc.cluster.local",
        "127.0.0.1",
    ]


def test_nothing_is_wanted_without_security(tmp_path: Path) -> None:
    targets = Targets.load([komposer(tmp_path, "serviceName: orkestra-svc")])
    assert wanted(targets) == {
        VALIDATION_CONFIG: None,
        MUTATION_CONFIG: None,
        PROTECTION_CONFIG: None,
    }


def test_protection_alone(tmp_path: Path) -> None:
    targets = Targets.load([komposer(tmp_path, "deletionProtection: {enabled: true}")])
    configs = wanted(targets)
    assert configs[VALIDATION_CONFIG] is None and configs[MUTATION_CONFIG] is None
    assert configs[PROTECTION_CONFIG] is not None


def test_contains_ignores_server_defaults() -> None:
    wanted_hook = {"name": "x", "rules": [{"operations": ["DELETE"]}]}
    defaulted = {
        **wanted_hook,
        "namespaceSelector": {},
        "objectSelector": {},
        "rules": [{"operations": ["DELETE"], "scope": "*"}],
    }
    assert contains([defaulted], [wanted_hook])
    assert not contains([defaulted, defaulted], [wanted_hook])
    assert not contains([{**defaulted, "name": "y"}], [wanted_hook])


def test_the_housekeeper_creates_updates_and_deletes(tmp_path: Path) -> None:
    full = Targets.load([komposer(tmp_path, FULL)])
    kube = FakeKube()
    keeper = Housekeeper(kube, lambda ca: wanted(full))
    assert asyncio.run(keeper.sync(CA)) == [
        f"created {VALIDATION_CONFIG}",
        f"created {MUTATION_CONFIG}",
        f"created {PROTECTION_CONFIG}",
    ]
    assert asyncio.run(keeper.sync(CA)) == []  # nothing changed, nothing written
    # someone edits a configuration: the next sync puts it back
    stored = kube.objects[("ValidatingWebhookConfiguration", "", VALIDATION_CONFIG)]
    stored["webhooks"][0]["failurePolicy"] = "Ignore"
    assert asyncio.run(keeper.sync(CA)) == [f"updated {VALIDATION_CONFIG}"]
    assert stored is not kube.objects[("ValidatingWebhookConfiguration", "", VALIDATION_CONFIG)]
    # restarted with protection disabled: only the protection webhook goes
    no_protection = Targets.load([komposer(tmp_path, "webhooks: {admission: {enabled: true}}")])
    keeper = Housekeeper(kube, lambda ca: wanted(no_protection))
    assert asyncio.run(keeper.sync(CA)) == [f"deleted {PROTECTION_CONFIG}"]
    assert {k[2] for k in kube.objects} == {VALIDATION_CONFIG, MUTATION_CONFIG}
    assert asyncio.run(keeper.uninstall()) == [
        f"deleted {VALIDATION_CONFIG}",
        f"deleted {MUTATION_CONFIG}",
    ]
    assert kube.objects == {}


def test_shutdown_removes_what_cleanup_on_shutdown_asks_for(tmp_path: Path) -> None:
    targets = Targets.load(
        [
            komposer(
                tmp_path,
                """
        webhooks: {admission: {enabled: true}, cleanupOnShutdown: true}
        deletionProtection: {enabled: true}
    """,
            )
        ]
    )
    assert targets.settings.cleanup_admission and not targets.settings.cleanup_protection
    kube = FakeKube()
    keeper = Housekeeper(kube, lambda ca: wanted(targets))
    asyncio.run(keeper.sync(CA))
    asyncio.run(keeper.shutdown(True, False))
    assert {k[2] for k in kube.objects} == {PROTECTION_CONFIG}

"""A platform team's ValidatingAdmissionPolicy, installed and tripped with real kubectl: what
kubectl prints must be what it prints against kube-apiserver."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import yaml

from tests.apiserver.conftest import Kubectl

pytestmark = pytest.mark.integration
Obj = dict[str, Any]

CRD = """
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: platformapps.example.com}
spec:
  group: example.com
  scope: Namespaced
  names: {plural: platformapps, singular: platformapp, kind: PlatformApp}
  versions:
  - name: v1
    served: true
    storage: true
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec:
            type: object
            properties:
              image: {type: string}
              replicas: {type: integer}
"""

POLICY = """
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicy
metadata: {name: require-digest}
spec:
  matchConstraints:
    resourceRules:
    - apiGroups: ["example.com"]
      apiVersions: ["v1"]
      operations: ["CREATE", "UPDATE"]
      resources: ["platformapps"]
    - apiGroups: ["apps"]
      apiVersions: ["v1"]
      operations: ["CREATE", "UPDATE"]
      resources: ["deployments"]
  variables:
  - name: images
    expression: >-
      request.kind.kind == 'PlatformApp' ? [object.spec.image]
      : object.spec.template.spec.containers.map(c, c.image)
  validations:
  - expression: "variables.images.all(image, image.contains('@sha256:'))"
    message: images must be pinned by digest
  - expression: "object.kind != 'PlatformApp' || object.spec.replicas <= 5"
---
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicyBinding
metadata: {name: require-digest-binding}
spec:
  policyName: require-digest
  validationActions: [%s]
"""

DENIED = (
    "ValidatingAdmissionPolicy 'require-digest' with binding 'require-digest-binding' "
    "denied request: "
)
PINNED = "nginx@sha256:0123456789abcdef"


def app(name: str, namespace: str, image: str, replicas: int = 1) -> str:
    return yaml.safe_dump(
        {
            "apiVersion": "example.com/v1",
            "kind": "PlatformApp",
            "metadata": {"name": name, "namespace": namespace},
            "spec": {"image": image, "replicas": replicas},
        }
    )


def deployment(name: str, namespace: str, image: str) -> str:
    labels = {"app": name}
    return yaml.safe_dump(
        {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": name, "namespace": namespace},
            "spec": {
                "selector": {"matchLabels": labels},
                "template": {
                    "metadata": {"labels": labels},
                    "spec": {"containers": [{"name": "app", "image": image}]},
                },
            },
        }
    )


@pytest.fixture(scope="module")
def platform_crd(kubectl: Kubectl) -> None:
    kubectl("apply", "-f", "-", stdin=CRD)
    kubectl("wait", "--for=condition=Established", "--timeout=10s", "crd/platformapps.example.com")


@pytest.fixture
def bound(kubectl: Kubectl, platform_crd: None) -> Iterator[None]:
    """The policy bound with Deny, removed again after the test."""
    kubectl("apply", "-f", "-", stdin=POLICY % "Deny")
    yield
    kubectl("delete", "-f", "-", stdin=POLICY % "Deny")


def test_the_policy_kinds_are_served(kubectl: Kubectl, bound: None) -> None:
    names = kubectl(
        "api-resources", "--api-group=admissionregistration.k8s.io", "-o", "name"
    ).split()
    assert {
        "validatingadmissionpolicies.admissionregistration.k8s.io",
        "validatingadmissionpolicybindings.admissionregistration.k8s.io",
    } <= set(names)
    policies = kubectl("get", "validatingadmissionpolicies").splitlines()
    assert policies[0].split() == ["NAME", "VALIDATIONS", "PARAMKIND", "AGE"]
    assert policies[1].split()[:3] == ["require-digest", "2", "<unset>"]
    bindings = kubectl("get", "validatingadmissionpolicybindings").splitlines()
    assert bindings[1].split()[:3] == ["require-digest-binding", "require-digest", "<unset>"]


def test_deny_fails_kubectl_apply_with_the_servers_message(
    kubectl: Kubectl, ns: str, bound: None
) -> None:
    done = kubectl.run("apply", "-f", "-", stdin=app("my-app", ns, "nginx:1.27"), check=False)
    assert done.returncode == 1
    assert done.stderr == (
        f'The platformapps "my-app" is invalid: : {DENIED}images must be pinned by digest\n'
    )
    done = kubectl.run("apply", "-f", "-", stdin=app("my-app", ns, PINNED, replicas=9), check=False)
    assert done.stderr == (
        f'The platformapps "my-app" is invalid: : {DENIED}failed '
        "expression: object.kind != 'PlatformApp' || "
        "object.spec.replicas <= 5\n"
    )
    error = kubectl.fails("apply", "-f", "-", stdin=deployment("web", ns, "nginx:1.27"))
    assert error == f'The deployments "web" is invalid: : {DENIED}images must be pinned by digest\n'
    kubectl("apply", "-f", "-", stdin=app("my-app", ns, PINNED))
    kubectl("apply", "-f", "-", stdin=deployment("web", ns, PINNED))
    assert kubectl.json("get", "platformapp", "my-app", "-n", ns)["spec"]["image"] == PINNED
    error = kubectl.fails("apply", "-f", "-", stdin=app("my-app", ns, "nginx:latest"))
    assert "images must be pinned by digest" in error  # an update is judged too


def test_warn_lets_the_write_through_with_a_warning(kubectl: Kubectl, ns: str, bound: None) -> None:
    kubectl("apply", "-f", "-", stdin=POLICY % "Warn")
    done = kubectl.run("apply", "-f", "-", stdin=app("loose", ns, "nginx:1.27"))
    assert done.stdout == "platformapp.example.com/loose created\n"
    assert done.stderr == (
        "Warning: Validation failed for ValidatingAdmissionPolicy "
        "'require-digest' with binding 'require-digest-binding': images "
        "must be pinned by digest\n"
    )


def test_forbidden_reason_reads_as_forbidden(kubectl: Kubectl, ns: str, bound: None) -> None:
    forbidding = POLICY.replace(
        "message: images must be pinned by digest",
        "message: images must be pinned by digest\n    reason: Forbidden",
    )
    kubectl("apply", "-f", "-", stdin=forbidding % "Deny")
    error = kubectl.fails("create", "-f", "-", stdin=app("my-app", ns, "nginx:1.27"))
    assert error == (
        'Error from server (Forbidden): error when creating "STDIN": '
        f'platformapps.example.com "my-app" is forbidden: {DENIED}images must be '
        "pinned by digest\n"
    )


def test_a_policy_that_does_not_compile_is_refused(kubectl: Kubectl, platform_crd: None) -> None:
    broken = POLICY.split("---")[0].replace(
        "image.contains('@sha256:'))", "image.contains('@sha256:')"
    )
    error = kubectl.fails("apply", "-f", "-", stdin=broken)
    assert error.startswith(
        'The ValidatingAdmissionPolicy "require-digest" is invalid: '
        'spec.validations[0].expression: Invalid value: "variables.images.all(image, '
        "image.contains('@sha256:')\": compilation failed: ERROR: <input>:1:"
    )
    assert "NotFound" in kubectl.fails("get", "validatingadmissionpolicy", "require-digest")

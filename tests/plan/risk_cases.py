"""Risk-rule cases: an old and a new CRD entry (and CRD schema), and the rules that fire."""

from __future__ import annotations

from dataclasses import dataclass, field

SVC = """          services:
            - name: "{{ .metadata.name }}"
              port: 80
"""
DEPLOY = """          deployments:
            - name: "{{ .metadata.name }}"
              image: nginx:1.25
"""
DEPLOY_NEW_IMAGE = DEPLOY.replace("nginx:1.25", "nginx:1.27")


def binding(kind: str, role_kind: str, role: str) -> str:
    key = {"ClusterRoleBinding": "clusterRoleBindings", "RoleBinding": "roleBindings"}[kind]
    return f"""          {key}:
            - name: "{{{{ .metadata.name }}}}-binding"
              roleRef: {{kind: {role_kind}, name: {role}}}
              subjects:
                - {{kind: ServiceAccount, name: default, namespace: team}}
"""


def role(kind: str, *rules: str, name: str = "{{ .metadata.name }}-role") -> str:
    key = {"ClusterRole": "clusterRoles", "Role": "roles"}[kind]
    body = "".join(f"                - {r}\n" for r in rules)
    return f"""          {key}:
            - name: "{name}"
              rules:
{body}"""


SCHEMA = {
    "type": "object",
    "properties": {
        "spec": {
            "type": "object",
            "properties": {
                "image": {"type": "string"},
                "size": {"type": "string", "enum": ["s", "m", "l"]},
                "replicas": {"type": "integer", "maximum": 10},
                "legacy": {"type": "string"},
            },
        }
    },
}


def schema(**spec_changes: object) -> dict[str, object]:
    """SCHEMA with spec-level changes: {"drop": name}, {"props": {...}}, {"required": [...]},
    {"preserve": True}."""
    import copy

    doc = copy.deepcopy(SCHEMA)
    spec = doc["properties"]["spec"]  # type: ignore[index]
    if "drop" in spec_changes:
        del spec["properties"][spec_changes["drop"]]
    for name, value in dict(spec_changes.get("props") or {}).items():  # type: ignore[call-overload]
        spec["properties"][name] = value
    if "required" in spec_changes:
        spec["required"] = spec_changes["required"]
    if spec_changes.get("preserve"):
        spec["x-kubernetes-preserve-unknown-fields"] = True
    return doc


@dataclass(frozen=True)
class RiskCase:
    id: str
    old: str
    new: str
    rules: frozenset[str]
    old_extra: str = ""  # CRD-entry keys (indented 6) and top-level blocks
    new_extra: str = ""
    old_top: str = ""
    new_top: str = ""
    old_box: str = ""  # operatorBox keys besides onReconcile (indented 8)
    new_box: str = ""
    old_schema: dict[str, object] | None = None
    new_schema: dict[str, object] | None = None
    old_versions: tuple[str, ...] = ("v1",)
    new_versions: tuple[str, ...] = ("v1",)
    severities: dict[str, str] = field(default_factory=dict)


def case(id: str, old: str, new: str, *rules: str, **kw: object) -> RiskCase:
    return RiskCase(id, old, new, frozenset(rules), **kw)  # type: ignore[arg-type]


CASES = [
    case("no-change", SVC, SVC),
    case("image-bump-is-not-a-risk", DEPLOY, DEPLOY_NEW_IMAGE),
    case("new-kind", SVC, SVC + DEPLOY, "new-kind"),
    case(
        "same-kind-again-is-not-new",
        SVC + DEPLOY,
        SVC
        + DEPLOY
        + '            - name: "{{ .metadata.name }}-worker"\n              image: nginx:1.25\n',
    ),
    case(
        "new-cluster-role-binding",
        SVC,
        SVC + binding("ClusterRoleBinding", "ClusterRole", "view"),
        "new-cluster-role-binding",
        "new-kind",
    ),
    case(
        "binds-cluster-admin",
        SVC,
        SVC + binding("ClusterRoleBinding", "ClusterRole", "cluster-admin"),
        "binds-cluster-admin",
        "new-cluster-role-binding",
        "new-kind",
    ),
    case(
        "rolebinding-to-cluster-admin",
        SVC,
        SVC + binding("RoleBinding", "ClusterRole", "cluster-admin"),
        "binds-cluster-admin",
        "new-role-binding",
        "new-kind",
    ),
    case(
        "binding-changed-to-cluster-admin",
        SVC + binding("RoleBinding", "ClusterRole", "view"),
        SVC + binding("RoleBinding", "ClusterRole", "cluster-admin"),
        "binds-cluster-admin",
    ),
    case(
        "new-role-binding-to-view",
        SVC,
        SVC + binding("RoleBinding", "Role", "reader"),
        "new-role-binding",
        "new-kind",
    ),
    case(
        "new-cluster-role",
        SVC,
        SVC + role("ClusterRole", "{apiGroups: [''], resources: [pods], verbs: [get, list]}"),
        "new-cluster-role",
        "new-kind",
    ),
    case(
        "new-cluster-role-with-wildcard",
        SVC,
        SVC + role("ClusterRole", "{apiGroups: ['*'], resources: ['*'], verbs: ['*']}"),
        "new-cluster-role",
        "new-kind",
        "rbac-wildcard",
    ),
    case(
        "new-role-with-escalate",
        SVC,
        SVC
        + role(
            "Role",
            "{apiGroups: [rbac.authorization.k8s.io], resources: [roles], verbs: [escalate]}",
        ),
        "new-role",
        "new-kind",
        "rbac-escalation",
    ),
    case(
        "role-widened",
        SVC + role("Role", "{resources: [pods], verbs: [get]}"),
        SVC + role("Role", "{resources: [pods], verbs: [get, delete]}"),
        "rbac-widening",
    ),
    case(
        "role-gains-a-resource",
        SVC + role("Role", "{resources: [pods], verbs: [get]}"),
        SVC + role("Role", "{resources: [pods, secrets], verbs: [get]}"),
        "rbac-widening",
    ),
    case(
        "role-gains-an-api-group",
        SVC + role("Role", "{resources: [pods], verbs: [get]}"),
        SVC + role("Role", "{apiGroups: ['', apps], resources: [pods], verbs: [get]}"),
        "rbac-widening",
    ),
    case(
        "role-narrowed",
        SVC + role("Role", "{resources: [pods], verbs: [get, delete]}"),
        SVC + role("Role", "{resources: [pods], verbs: [get]}"),
    ),
    case(
        "role-gains-impersonate",
        SVC + role("Role", "{resources: [pods], verbs: [get]}"),
        SVC
        + role(
            "Role",
            "{resources: [pods], verbs: [get]}",
            "{resources: [users], verbs: [impersonate]}",
        ),
        "rbac-widening",
        "rbac-escalation",
    ),
    case(
        "role-gains-wildcard",
        SVC + role("Role", "{resources: [pods], verbs: [get]}"),
        SVC + role("Role", "{resources: ['*'], verbs: [get]}"),
        "rbac-widening",
        "rbac-wildcard",
    ),
    case(
        "role-becomes-cluster-role",
        SVC + role("Role", "{resources: [pods], verbs: [get]}", name="reader"),
        SVC + role("ClusterRole", "{resources: [pods], verbs: [get]}", name="reader"),
        "namespaced-to-cluster",
        "new-cluster-role",
        "new-kind",
    ),
    case(
        "new-namespace",
        SVC,
        SVC + '          namespaces:\n            - name: "{{ .metadata.name }}-sandbox"\n',
        "new-cluster-object",
        "new-kind",
    ),
    case(
        "crd-becomes-cluster-scoped",
        SVC,
        SVC,
        "crd-namespaced-to-cluster",
        new_extra="      namespaced: false\n",
    ),
    case(
        "admission-webhooks-switched-on",
        SVC,
        SVC,
        "new-admission-webhooks",
        new_top="security:\n  webhooks:\n    admission:\n      enabled: true\n",
    ),
    case(
        "crd-validation-webhook-switched-on",
        SVC,
        SVC,
        "new-admission-webhooks",
        new_extra="      webhooks: {validation: true}\n",
    ),
    case(
        "webhook-configuration-object",
        SVC,
        SVC
        + """          custom:
            - apiVersion: admissionregistration.k8s.io/v1
              kind: ValidatingWebhookConfiguration
              name: "{{ .metadata.name }}-hook"
              spec: {webhooks: []}
""",
        "new-webhook-configuration",
        "new-kind",
        "new-cluster-object",
    ),
    case(
        "validation-rule-removed",
        SVC,
        SVC,
        "removed-validation",
        old_extra="      validation:\n        rules:\n          - {field: spec.image, "
        "prefix: ghcr.io/, message: internal images only}\n",
    ),
    case(
        "validation-rule-added",
        SVC,
        SVC,
        new_extra="      validation:\n        rules:\n          - {field: spec.image, "
        "prefix: ghcr.io/, message: internal images only}\n",
    ),
    case(
        "typed-hooks-added",
        SVC,
        SVC,
        "new-hooks",
        new_box="        reconciler:\n          hooks:\n            module: myorg.hooks\n"
        "            function: reconcile\n            resources: [{kind: Secret}]\n",
    ),
    case(
        "crd-field-removed",
        SVC,
        SVC,
        "crd-removed-field",
        old_schema=SCHEMA,
        new_schema=schema(drop="legacy"),
    ),
    case(
        "crd-field-removed-but-preserved",
        SVC,
        SVC,
        old_schema=SCHEMA,
        new_schema=schema(drop="legacy", preserve=True),
    ),
    case(
        "crd-type-narrowed",
        SVC,
        SVC,
        "crd-narrowed-type",
        old_schema=SCHEMA,
        new_schema=schema(props={"image": {"type": "integer"}}),
    ),
    case(
        "crd-enum-narrowed",
        SVC,
        SVC,
        "crd-narrowed-type",
        old_schema=SCHEMA,
        new_schema=schema(props={"size": {"type": "string", "enum": ["s", "m"]}}),
    ),
    case(
        "crd-enum-widened",
        SVC,
        SVC,
        old_schema=SCHEMA,
        new_schema=schema(props={"size": {"type": "string", "enum": ["s", "m", "l", "xl"]}}),
    ),
    case(
        "crd-maximum-lowered",
        SVC,
        SVC,
        "crd-narrowed-type",
        old_schema=SCHEMA,
        new_schema=schema(props={"replicas": {"type": "integer", "maximum": 5}}),
    ),
    case(
        "crd-new-required-field",
        SVC,
        SVC,
        "crd-new-required",
        old_schema=SCHEMA,
        new_schema=schema(required=["image"]),
    ),
    case(
        "crd-new-optional-field",
        SVC,
        SVC,
        old_schema=SCHEMA,
        new_schema=schema(props={"port": {"type": "integer"}}),
    ),
    case(
        "crd-version-removed",
        SVC,
        SVC,
        "crd-removed-version",
        old_schema=SCHEMA,
        new_schema=SCHEMA,
        old_versions=("v1", "v2"),
        new_versions=("v2",),
    ),
    case(
        "crd-version-added",
        SVC,
        SVC,
        old_schema=SCHEMA,
        new_schema=SCHEMA,
        old_versions=("v1",),
        new_versions=("v1", "v2"),
    ),
]

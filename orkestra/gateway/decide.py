"""The three webhooks' decisions, on parsed requests, with no I/O.

``/validate`` and ``/mutate`` run :func:`orkestra.engine.admission.admit` on a copy of the
object in its template context, mutation first (as the API server calls mutating webhooks
before validating ones) and with the ``admission`` moment (rules with ``fires: {admission:
false}`` stay out): a ``deny`` rule refuses with ``[Orkestra Validation] validation failed:
`` and the engine's own violation text, so the wording matches what a reconcile reports; a
``warn`` rule becomes an admission warning; a rule that cannot be evaluated (a value that
does not cast to its ``valueType``, a template that fails) refuses too, as it fails the
reconcile. ``operator: unique`` passes at admission (the gateway keeps no cache of CRs).

``/protect`` refuses the DELETE of a protected CR, of its CRD and of the gateway's own
Deployment with ``[Orkestra Security] The resource is protected from deletion.``, unless the
object carries the ``orkestra.io/deletion-protection: "false"`` label. With ``strictMode``
that opt-out is ignored, and an UPDATE that removes or changes the label is refused.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TypeGuard

from orkestra.engine import admission
from orkestra.engine.conditions import ConditionError, Evaluation
from orkestra.engine.context import template_context
from orkestra.engine.fields import FieldError
from orkestra.gateway.patch import json_patch
from orkestra.gateway.review import Decision, Request
from orkestra.gateway.targets import Target, Targets
from orkestra.kubeobjects import JsonDict, KubeObject
from orkestra.template import TemplateError

Clock = Callable[[], datetime]
VALIDATION = "[Orkestra Validation]"
SECURITY = "[Orkestra Security]"
PROTECTED = f"{SECURITY} The resource is protected from deletion."
PROTECTION_LABEL = "orkestra.io/deletion-protection"
OPT_OUT = ("false", "disabled")
STRICT_LABEL = (
    f"{SECURITY} The {PROTECTION_LABEL} label cannot be removed or changed while strictMode is on."
)
RULE_ERRORS = (ConditionError, FieldError, TemplateError)
CRDS = ("apiextensions.k8s.io", "customresourcedefinitions")
DEPLOYMENTS = ("apps", "deployments")


def _now() -> datetime:
    return datetime.now(UTC)


def _shaped(obj: JsonDict) -> TypeGuard[KubeObject]:
    """Whether ``spec`` and ``metadata`` are maps (or absent), as the rules expect. Mutating
    webhooks run before the API server checks the schema, so they may see anything."""
    return all(isinstance(obj.get(key, {}), dict) for key in ("spec", "metadata"))


def _admit(
    target: Target, obj: KubeObject, now: datetime
) -> tuple[admission.Admission, dict[str, object]]:
    data = template_context(obj)
    ev = Evaluation(data, target.renderer, now)
    return admission.admit(target.entry, ev, moment="admission", mutate_first=True), data


def validate(targets: Targets, request: Request, clock: Clock = _now) -> Decision:
    target = targets.find(request.group, request.version, request.resource)
    obj = request.subject
    if target is None or not target.validation or request.subresource or obj is None:
        return Decision()
    if not _shaped(obj):
        return Decision(False, f"{VALIDATION} validation failed: spec and metadata must be objects")
    try:
        verdict = _admit(target, obj, clock())[0].verdict
    except RULE_ERRORS as exc:
        return Decision(False, f"{VALIDATION} validation failed: {exc}")
    warnings = [f"{VALIDATION} validation warning: {w}" for w in verdict.warnings]
    if verdict.denied is not None:
        return Decision(False, f"{VALIDATION} validation failed: {verdict.denied}", warnings)
    return Decision(warnings=warnings)


def mutate(targets: Targets, request: Request, clock: Clock = _now) -> Decision:
    target = targets.find(request.group, request.version, request.resource)
    obj = request.object
    if (
        target is None
        or not target.mutation
        or request.subresource
        or obj is None
        or request.operation not in ("CREATE", "UPDATE")
        or not _shaped(obj)
    ):
        return Decision()  # (a misshapen object is left to the schema check that follows)
    try:
        result, data = _admit(target, obj, clock())
    except RULE_ERRORS as exc:
        return Decision(False, f"{VALIDATION} mutation failed: {exc}")
    return Decision(patch=json_patch(obj, data, result.mutated))


@dataclass(frozen=True)
class Guard:
    """What deletion protection covers: per resource, whether strictMode is on."""

    crs: dict[tuple[str, str], bool] = field(default_factory=dict)
    crds: dict[str, bool] = field(default_factory=dict)
    deployment: tuple[str, str] | None = None
    deployment_strict: bool = False

    @classmethod
    def of(cls, targets: Targets, namespace: str, deployment: str) -> Guard:
        protected = targets.protected
        return cls(
            crs={(t.group, t.plural): t.strict for t in protected},
            crds={t.crd_name: t.strict for t in protected},
            deployment=(namespace, deployment) if targets.settings.protection else None,
            deployment_strict=targets.settings.strict,
        )

    @property
    def active(self) -> bool:
        return bool(self.crs or self.crds or self.deployment)

    def strict_for(self, request: Request) -> bool | None:
        """Whether the request's object is protected in strict mode; None when it is not
        protected at all."""
        if request.subresource:
            return None
        key = (request.group, request.resource)
        if key == CRDS:
            return self.crds.get(request.name)
        if key == DEPLOYMENTS:
            if self.deployment == (request.namespace, request.name):
                return self.deployment_strict
            return None
        return self.crs.get(key)


def _label(obj: JsonDict | None) -> str | None:
    meta = (obj or {}).get("metadata")
    labels = meta.get("labels") if isinstance(meta, dict) else None
    value = labels.get(PROTECTION_LABEL) if isinstance(labels, dict) else None
    return None if value is None else str(value)


def protect(guard: Guard, request: Request) -> Decision:
    strict = guard.strict_for(request)
    if strict is None:
        return Decision()
    if request.operation == "DELETE":
        label = _label(request.old_object)
        if not strict and label is not None and label.lower() in OPT_OUT:
            return Decision()
        return Decision(False, PROTECTED)
    if request.operation == "UPDATE" and strict:
        before = _label(request.old_object)
        if before is not None and _label(request.object) != before:
            return Decision(False, STRICT_LABEL)
    return Decision()

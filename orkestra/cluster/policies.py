"""ValidatingAdmissionPolicy: CEL rules a cluster's operators install to refuse writes.

This module owns admissionregistration.k8s.io/v1 ValidatingAdmissionPolicies and their
bindings as kube-apiserver enforces them: the write-time checks of both kinds (required
fields, supported values, every expression compiles), and for each create, update and delete
the store admits, which bound policies match it (resource rules and exclusions, namespace
and object selectors, the binding's narrower matchResources, matchConditions), their
variables and validations (message, messageExpression, reason), and what each binding does
with a failure: Deny refuses with the API server's error, Warn adds a warning for the
client, Audit shows nothing; an expression that fails to evaluate follows failurePolicy.
Expressions see ``object``, ``oldObject``, ``request``, ``params``, ``namespaceObject`` and
``variables``; a policy with paramKind reads its params by the binding's paramRef (name or
selector, namespace, parameterNotFoundAction). Matching is :mod:`orkestra.cluster.matching`'s
and CEL :mod:`orkestra.cluster.cel`'s (what is not modelled of either is said there); audit
annotations are not modelled either.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass

from orkestra.cluster import warning
from orkestra.cluster.cel import (
    EvaluationError,
    compile_problem,
    conditions_hold,
    evaluate,
    is_bool,
    variables,
)
from orkestra.cluster.data import as_list
from orkestra.cluster.errors import AdmissionDeniedError, FieldInvalidError, NotFoundError
from orkestra.cluster.matching import (
    Activation,
    Request,
    Scope,
    Store,
    constraints_select,
    items,
    spec_of,
)
from orkestra.kubeobjects import Json, JsonDict, KubeObject

GROUP = "admissionregistration.k8s.io"
POLICIES = (GROUP, "validatingadmissionpolicies")
BINDINGS = (GROUP, "validatingadmissionpolicybindings")
_REASONS = ("Forbidden", "Invalid", "RequestEntityTooLarge", "Unauthorized")
_ACTIONS = ("Audit", "Deny", "Warn")
_EXPRESSIONS = (
    ("matchConditions", "expression"),
    ("variables", "expression"),
    ("validations", "expression"),
    ("validations", "messageExpression"),
    ("auditAnnotations", "valueExpression"),
)
_MESSAGE_LIMIT = 5 * 1024

__all__ = ["BINDINGS", "POLICIES", "Request", "check_binding", "check_policy", "enforce"]


@dataclass(frozen=True)
class _Denial:
    message: str
    reason: str = "Invalid"


class _ConfigError(Exception):
    pass


# -- write-time checks ----------------------------------------------------------------


def check_policy(policy: KubeObject) -> None:
    """The API server's validation of a ValidatingAdmissionPolicy (422 naming each field)."""
    spec = spec_of(policy)
    problems = list(_constraint_problems(spec))
    problems += _compile_problems(spec)
    problems += _value_problems(spec)
    _refuse("ValidatingAdmissionPolicy", policy, problems)


def check_binding(binding: KubeObject) -> None:
    """The API server's validation of a ValidatingAdmissionPolicyBinding."""
    spec = spec_of(binding)
    problems = []
    if not spec.get("policyName"):
        problems.append(("spec.policyName", "Required value"))
    actions = as_list(spec.get("validationActions") or [])
    if not actions:
        problems.append(
            ("spec.validationActions", "Required value: at least one validation action is required")
        )
    problems += [
        (f"spec.validationActions[{i}]", _unsupported(action, _ACTIONS))
        for i, action in enumerate(actions)
        if action not in _ACTIONS
    ]
    if "Deny" in actions and "Warn" in actions:
        problems.append(
            (
                "spec.validationActions",
                f"Invalid value: {json.dumps(actions)}: must not contain both Deny "
                "and Warn (repeating the same validation failure information is "
                "redundant)",
            )
        )
    ref = spec.get("paramRef")
    if isinstance(ref, dict) and not ref.get("parameterNotFoundAction"):
        problems.append(("spec.paramRef.parameterNotFoundAction", "Required value"))
    _refuse("ValidatingAdmissionPolicyBinding", binding, problems)


def _constraint_problems(spec: JsonDict) -> Iterator[tuple[str, str]]:
    constraints = spec.get("matchConstraints")
    if not isinstance(constraints, dict):
        yield "spec.matchConstraints", "Required value"
    elif not constraints.get("resourceRules"):
        yield "spec.matchConstraints.resourceRules", "Required value"


def _compile_problems(spec: JsonDict) -> Iterator[tuple[str, str]]:
    for section, key in _EXPRESSIONS:
        for index, item in enumerate(items(spec, section)):
            expression = item.get(key)
            if expression is None and key == "messageExpression":
                continue
            field = f"spec.{section}[{index}].{key}"
            if not isinstance(expression, str) or not expression.strip():
                yield field, "Required value: expression is not specified"
                continue
            problem = compile_problem(expression)
            if problem is not None:
                yield field, f"Invalid value: {json.dumps(expression)}: {problem}"


def _value_problems(spec: JsonDict) -> Iterator[tuple[str, str]]:
    failure = spec.get("failurePolicy", "Fail")
    if failure not in ("Fail", "Ignore"):
        yield "spec.failurePolicy", _unsupported(failure, ("Fail", "Ignore"))
    for index, validation in enumerate(items(spec, "validations")):
        reason = validation.get("reason", "Invalid")
        if reason not in _REASONS:
            yield f"spec.validations[{index}].reason", _unsupported(reason, _REASONS)


def _unsupported(value: Json, supported: tuple[str, ...]) -> str:
    return f"Unsupported value: {json.dumps(value)}: supported values: " + ", ".join(
        json.dumps(s) for s in supported
    )


def _refuse(kind: str, obj: KubeObject, problems: list[tuple[str, str]]) -> None:
    if problems:
        raise FieldInvalidError(kind, GROUP, str(obj["metadata"].get("name", "")), problems)


# -- enforcement ----------------------------------------------------------------------


def enforce(request: Request, store: Store) -> None:
    """Run every bound policy that matches ``request``: Warn failures become warnings, and
    the first Deny failure is raised once all have run, as the API server does."""
    if request.rt.key in (POLICIES, BINDINGS):
        return  # the API server never lets policies judge policies
    bindings = store.select(store.type_for(f"{GROUP}/v1", "ValidatingAdmissionPolicyBinding"), None)
    policies = {
        p["metadata"]["name"]: p
        for p in store.select(store.type_for(f"{GROUP}/v1", "ValidatingAdmissionPolicy"), None)
    }
    scope = Scope(request, store)
    refusals: list[AdmissionDeniedError] = []
    for binding in bindings:
        policy = policies.get(str(spec_of(binding).get("policyName")))
        if policy is not None:
            refusals += _run(policy, binding, scope)
    if refusals:
        raise refusals[0]


def _run(policy: KubeObject, binding: KubeObject, scope: Scope) -> list[AdmissionDeniedError]:
    spec, bound = spec_of(policy), spec_of(binding)
    if not (
        constraints_select(spec.get("matchConstraints"), scope)
        and constraints_select(bound.get("matchResources"), scope)
    ):
        return []
    failure = str(spec.get("failurePolicy", "Fail"))  # Fail or Ignore: check_policy saw to it
    try:
        all_params = _params(spec.get("paramKind"), bound.get("paramRef"), scope)
    except _ConfigError as exc:
        denials = _failed(failure, f"failed to configure binding: {exc}")
    else:
        denials = [
            d for params in all_params for d in _validate(spec, scope.with_params(params), failure)
        ]
    return _act(policy["metadata"]["name"], binding, denials, scope.request)


def _act(
    policy: str, binding: KubeObject, denials: list[_Denial], request: Request
) -> list[AdmissionDeniedError]:
    """What the binding's validationActions make of the failures: warnings and refusals."""
    name = binding["metadata"]["name"]
    actions = as_list(spec_of(binding).get("validationActions") or [])
    refusals = []
    for denial in denials:
        if "Warn" in actions:
            warning.add(
                f"Validation failed for ValidatingAdmissionPolicy '{policy}' with "
                f"binding '{name}': {denial.message}"
            )
        if "Deny" in actions:
            refusals.append(
                AdmissionDeniedError(
                    request.rt.group,
                    request.rt.plural,
                    request.name,
                    f"ValidatingAdmissionPolicy '{policy}' with binding '{name}' denied request: "
                    f"{denial.message}",
                    denial.reason,
                )
            )
    return refusals


def _failed(failure: str, message: str) -> list[_Denial]:
    """An evaluation or configuration error: a denial unless failurePolicy is Ignore."""
    return [] if failure == "Ignore" else [_Denial(message)]


def _params(kind: Json, ref: Json, scope: Scope) -> list[KubeObject | None]:
    """The param objects a binding's paramRef selects ([None] for a paramless policy)."""
    if not isinstance(kind, dict):
        return [None]
    if not isinstance(ref, dict):
        raise _ConfigError(
            f"paramKind kind `{kind.get('kind')}` is defined but paramRef is missing"
        )
    try:
        rt = scope.store.type_for(str(kind.get("apiVersion", "")), str(kind.get("kind", "")))
    except NotFoundError:
        raise _ConfigError(
            f"paramKind kind `{kind.get('apiVersion')}, Kind={kind.get('kind')}` not known"
        ) from None
    namespace = str(ref.get("namespace") or scope.request.namespace)
    if rt.namespaced and not namespace:
        raise _ConfigError(
            "cannot use namespaced paramRef in policy binding that matches cluster-scoped resources"
        )
    name = ref.get("name")
    selector = ref.get("selector") or {}
    found = scope.store.select(
        rt,
        namespace if rt.namespaced else None,
        label_selector=None if name or not isinstance(selector, dict | str) else selector,
    )
    params: list[KubeObject | None] = [
        p for p in found if not name or p["metadata"]["name"] == name
    ]
    if not params and ref.get("parameterNotFoundAction") == "Deny":
        raise _ConfigError("no params found for policy binding with `Deny` parameterNotFoundAction")
    return params


# -- validation -----------------------------------------------------------------------


def _validate(spec: JsonDict, context: Activation, failure: str) -> list[_Denial]:
    try:
        if not conditions_hold(items(spec, "matchConditions"), context):
            return []
    except EvaluationError as exc:
        return _failed(failure, str(exc))
    context = {**context, "variables": variables(items(spec, "variables"), context)}
    return [
        d for validation in items(spec, "validations") for d in _judge(validation, context, failure)
    ]


def _judge(validation: JsonDict, context: Activation, failure: str) -> list[_Denial]:
    expression = str(validation.get("expression", ""))
    try:
        result = evaluate(expression, context)
    except EvaluationError as exc:
        return _failed(failure, str(exc))
    if is_bool(result, True):
        return []
    return [_Denial(_message(validation, context), str(validation.get("reason") or "Invalid"))]


def _message(validation: JsonDict, context: Activation) -> str:
    """messageExpression's string (unless it fails, is blank, multi-line or too long), else
    message, else the failed expression."""
    text = ""
    expression = validation.get("messageExpression")
    if expression:
        try:
            value = evaluate(str(expression), context)
        except EvaluationError:
            value = None
        text = value.strip() if isinstance(value, str) else ""
        if "\n" in text or len(text) > _MESSAGE_LIMIT:
            text = ""
    text = text or str(validation.get("message") or "").strip()
    return text or f"failed expression: {str(validation.get('expression', '')).strip()}"

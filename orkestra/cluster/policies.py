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
selector, namespace, parameterNotFoundAction). Not modelled: type checking (a misspelt field
fails at evaluation, not at write time), ``authorizer``, audit annotations, matchPolicy
Equivalent (rules match the version a request uses) and CEL optionals (``a.?b``). CEL is
cel-python's, a pure-Python implementation of the language: another interpreter would be a
project of its own and cel-go is not reachable from Python; the Kubernetes string functions
policies use most are added to it. A program is compiled once per expression text (an LRU
cache), so a policy's write-time check compiles what its requests then reuse.
"""

from __future__ import annotations

import functools
import json
import re
import string
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

import celpy
from celpy import celtypes
from celpy.adapter import json_to_cel
from celpy.celparser import CELParseError
from celpy.evaluation import CELEvalError, CELFunction

from orkestra.cluster import warning
from orkestra.cluster.errors import AdmissionDeniedError, FieldInvalidError, NotFoundError
from orkestra.cluster.resources import ResourceType
from orkestra.cluster.selectors import label_matcher

Obj = dict[str, Any]
Context = dict[str, Any]
GROUP = "admissionregistration.k8s.io"
POLICIES = (GROUP, "validatingadmissionpolicies")
BINDINGS = (GROUP, "validatingadmissionpolicybindings")
# The embedded server has one credential, which may do anything.
USER = {"username": "ork-embedded", "groups": ["system:masters", "system:authenticated"]}
_NAMESPACES = ("", "namespaces")
_REASONS = ("Forbidden", "Invalid", "RequestEntityTooLarge", "Unauthorized")
_ACTIONS = ("Audit", "Deny", "Warn")
_EXPRESSIONS = (("matchConditions", "expression"), ("variables", "expression"),
                ("validations", "expression"), ("validations", "messageExpression"),
                ("auditAnnotations", "valueExpression"))
_NAMESPACE_META = ("name", "generateName", "namespace", "labels", "annotations", "uid",
                   "creationTimestamp", "deletionTimestamp", "deletionGracePeriodSeconds")
_MESSAGE_LIMIT = 5 * 1024
_NO_SUCH_KEY = re.compile(r"no such member in mapping: '(.*)'")


class Store(Protocol):
    """The reads enforcement needs (what :class:`~orkestra.cluster.MemoryCluster` has)."""

    def type_for(self, api_version: str, kind: str) -> ResourceType: ...

    def read(self, rt: ResourceType, namespace: str | None, name: str) -> Obj: ...

    def select(self, rt: ResourceType, namespace: str | None, *,
               label_selector: str | dict[str, Any] | None = None) -> list[Obj]: ...


@dataclass(frozen=True)
class Request:
    """One write as admission sees it: the operation (CREATE, UPDATE or DELETE), the type and
    subresource written, and the object after (None on DELETE) and before (None on CREATE)."""

    operation: str
    rt: ResourceType
    namespace: str
    name: str
    obj: Obj | None = None
    old: Obj | None = None
    subresource: str = ""
    dry_run: bool = False


@dataclass(frozen=True)
class _Denial:
    message: str
    reason: str = "Invalid"


class _EvaluationError(Exception):
    pass


class _ConfigError(Exception):
    pass


# -- CEL ------------------------------------------------------------------------------

_ASCII_LOWER = str.maketrans(string.ascii_uppercase, string.ascii_lowercase)
_ASCII_UPPER = str.maketrans(string.ascii_lowercase, string.ascii_uppercase)


def _text(value: Any) -> str:
    if not isinstance(value, str):
        raise TypeError(f"expected a string, got {type(value).__name__}")
    return value


def _join(items: Any, separator: Any = "") -> celtypes.StringType:
    if not isinstance(items, list):
        raise TypeError(f"expected a list, got {type(items).__name__}")
    return celtypes.StringType(_text(separator).join(_text(item) for item in items))


# Part of Kubernetes' CEL string library (cel-go's strings extension).
_EXTENSIONS: dict[str, CELFunction] = {
    "lowerAscii": lambda s: celtypes.StringType(_text(s).translate(_ASCII_LOWER)),
    "upperAscii": lambda s: celtypes.StringType(_text(s).translate(_ASCII_UPPER)),
    "trim": lambda s: celtypes.StringType(_text(s).strip()),
    "split": lambda s, sep: celtypes.ListType(
        [celtypes.StringType(p) for p in _text(s).split(_text(sep))]),
    "replace": lambda s, old, new: celtypes.StringType(_text(s).replace(_text(old),
                                                                        _text(new))),
    "join": _join,
}
_ENVIRONMENT = celpy.Environment()


@functools.lru_cache(maxsize=1024)
def _program(expression: str) -> celpy.Runner:
    return _ENVIRONMENT.program(_ENVIRONMENT.compile(expression), functions=_EXTENSIONS)


def _compile_problem(expression: str) -> str | None:
    """cel-go's wording of a syntax error (cel-python reports only where it is)."""
    try:
        _program(expression)
    except CELParseError as exc:
        line, column = exc.line or 1, exc.column or 1
        lines = expression.splitlines() or [""]
        source = lines[min(line, len(lines)) - 1]
        return (f"compilation failed: ERROR: <input>:{line}:{column}: Syntax error\n"
                f" | {source}\n | {'.' * (column - 1)}^")
    return None


def _error_text(exc: CELEvalError) -> str:
    text = str(exc.args[0]) if exc.args else "evaluation error"
    text = text.split(" (in activation", 1)[0]
    missing = _NO_SUCH_KEY.fullmatch(text)
    return f"no such key: {missing.group(1)}" if missing else text


def _evaluate(expression: str, context: Context) -> Any:
    try:
        return _program(expression).evaluate(context)
    except CELEvalError as exc:
        raise _EvaluationError(f"expression '{expression}' resulted in error: "
                               f"{_error_text(exc)}") from None


def _is_bool(value: Any, wanted: bool) -> bool:
    return isinstance(value, celtypes.BoolType) and bool(value) is wanted


# -- write-time checks ----------------------------------------------------------------

def check_policy(policy: Obj) -> None:
    """The API server's validation of a ValidatingAdmissionPolicy (422 naming each field)."""
    spec = _spec(policy)
    problems = list(_constraint_problems(spec))
    problems += _compile_problems(spec)
    problems += _value_problems(spec)
    _refuse("ValidatingAdmissionPolicy", policy, problems)


def check_binding(binding: Obj) -> None:
    """The API server's validation of a ValidatingAdmissionPolicyBinding."""
    spec = _spec(binding)
    problems = []
    if not spec.get("policyName"):
        problems.append(("spec.policyName", "Required value"))
    actions = spec.get("validationActions") or []
    if not actions:
        problems.append(("spec.validationActions",
                         "Required value: at least one validation action is required"))
    problems += [(f"spec.validationActions[{i}]", _unsupported(action, _ACTIONS))
                 for i, action in enumerate(actions) if action not in _ACTIONS]
    if "Deny" in actions and "Warn" in actions:
        problems.append(("spec.validationActions",
                         f"Invalid value: {json.dumps(actions)}: must not contain both Deny "
                         "and Warn (repeating the same validation failure information is "
                         "redundant)"))
    ref = spec.get("paramRef")
    if isinstance(ref, dict) and not ref.get("parameterNotFoundAction"):
        problems.append(("spec.paramRef.parameterNotFoundAction", "Required value"))
    _refuse("ValidatingAdmissionPolicyBinding", binding, problems)


def _constraint_problems(spec: Obj) -> Iterator[tuple[str, str]]:
    constraints = spec.get("matchConstraints")
    if not isinstance(constraints, dict):
        yield "spec.matchConstraints", "Required value"
    elif not constraints.get("resourceRules"):
        yield "spec.matchConstraints.resourceRules", "Required value"


def _compile_problems(spec: Obj) -> Iterator[tuple[str, str]]:
    for section, key in _EXPRESSIONS:
        for index, item in enumerate(_items(spec, section)):
            expression = item.get(key)
            if expression is None and key == "messageExpression":
                continue
            field = f"spec.{section}[{index}].{key}"
            if not isinstance(expression, str) or not expression.strip():
                yield field, "Required value: expression is not specified"
                continue
            problem = _compile_problem(expression)
            if problem is not None:
                yield field, f"Invalid value: {json.dumps(expression)}: {problem}"


def _value_problems(spec: Obj) -> Iterator[tuple[str, str]]:
    failure = spec.get("failurePolicy", "Fail")
    if failure not in ("Fail", "Ignore"):
        yield "spec.failurePolicy", _unsupported(failure, ("Fail", "Ignore"))
    for index, validation in enumerate(_items(spec, "validations")):
        reason = validation.get("reason", "Invalid")
        if reason not in _REASONS:
            yield f"spec.validations[{index}].reason", _unsupported(reason, _REASONS)


def _unsupported(value: Any, supported: tuple[str, ...]) -> str:
    return (f"Unsupported value: {json.dumps(value)}: supported values: "
            + ", ".join(json.dumps(s) for s in supported))


def _refuse(kind: str, obj: Obj, problems: list[tuple[str, str]]) -> None:
    if problems:
        raise FieldInvalidError(kind, GROUP, str(obj["metadata"].get("name", "")), problems)


# -- enforcement ----------------------------------------------------------------------

def enforce(request: Request, store: Store) -> None:
    """Run every bound policy that matches ``request``: Warn failures become warnings, and
    the first Deny failure is raised once all have run, as the API server does."""
    if request.rt.key in (POLICIES, BINDINGS):
        return  # the API server never lets policies judge policies
    bindings = store.select(store.type_for(f"{GROUP}/v1", "ValidatingAdmissionPolicyBinding"),
                            None)
    policies = {p["metadata"]["name"]: p for p in store.select(
        store.type_for(f"{GROUP}/v1", "ValidatingAdmissionPolicy"), None)}
    scope = _Scope(request, store)
    refusals: list[AdmissionDeniedError] = []
    for binding in bindings:
        policy = policies.get(str(_spec(binding).get("policyName")))
        if policy is not None:
            refusals += _run(policy, binding, scope)
    if refusals:
        raise refusals[0]


class _Scope:
    """A request and its inputs to CEL, converted once for all the policies it meets."""

    def __init__(self, request: Request, store: Store) -> None:
        self.request = request
        self.store = store

    @functools.cached_property
    def namespace(self) -> Obj | None:
        """The Namespace a namespaced object is in."""
        request = self.request
        if not request.rt.namespaced:
            return None
        try:
            return self.store.read(self.store.type_for("v1", "Namespace"), None,
                                   request.namespace)
        except NotFoundError:
            return None

    @functools.cached_property
    def context(self) -> Context:
        request = self.request
        return {"object": json_to_cel(request.obj), "oldObject": json_to_cel(request.old),
                "request": json_to_cel(_request_view(request)),
                "namespaceObject": json_to_cel(_namespace_view(self.namespace)),
                "params": None}

    def with_params(self, params: Obj | None) -> Context:
        return {**self.context, "params": json_to_cel(params)}


def _request_view(request: Request) -> Obj:
    """The AdmissionRequest expressions see as ``request``."""
    rt = request.rt
    kind = {"group": rt.group, "version": rt.version, "kind": rt.kind}
    resource = {"group": rt.group, "version": rt.version, "resource": rt.plural}
    view: Obj = {"uid": str(uuid.uuid4()), "kind": kind, "resource": resource,
                 "requestKind": kind, "requestResource": resource, "name": request.name,
                 "operation": request.operation, "userInfo": USER,
                 "dryRun": request.dry_run}
    if request.subresource:
        view["subResource"] = view["requestSubResource"] = request.subresource
    if request.namespace:
        view["namespace"] = request.namespace
    return view


def _namespace_view(namespace: Obj | None) -> Obj | None:
    """What ``namespaceObject`` shows of a Namespace (no type, managed fields or version)."""
    if namespace is None:
        return None
    meta = namespace.get("metadata") or {}
    view: Obj = {"metadata": {k: meta[k] for k in _NAMESPACE_META if k in meta}}
    view.update({k: namespace[k] for k in ("spec", "status") if k in namespace})
    return view


def _run(policy: Obj, binding: Obj, scope: _Scope) -> list[AdmissionDeniedError]:
    spec, bound = _spec(policy), _spec(binding)
    if not (_matches(spec.get("matchConstraints"), scope)
            and _matches(bound.get("matchResources"), scope)):
        return []
    failure = spec.get("failurePolicy", "Fail")
    try:
        all_params = _params(spec.get("paramKind"), bound.get("paramRef"), scope)
    except _ConfigError as exc:
        denials = _failed(failure, f"failed to configure binding: {exc}")
    else:
        denials = [d for params in all_params
                   for d in _validate(spec, scope.with_params(params), failure)]
    return _act(policy["metadata"]["name"], binding, denials, scope.request)


def _act(policy: str, binding: Obj, denials: list[_Denial], request: Request
         ) -> list[AdmissionDeniedError]:
    """What the binding's validationActions make of the failures: warnings and refusals."""
    name = binding["metadata"]["name"]
    actions = _spec(binding).get("validationActions") or []
    refusals = []
    for denial in denials:
        if "Warn" in actions:
            warning.add(f"Validation failed for ValidatingAdmissionPolicy '{policy}' with "
                        f"binding '{name}': {denial.message}")
        if "Deny" in actions:
            refusals.append(AdmissionDeniedError(
                request.rt.group, request.rt.plural, request.name,
                f"ValidatingAdmissionPolicy '{policy}' with binding '{name}' denied request: "
                f"{denial.message}", denial.reason))
    return refusals


def _failed(failure: str, message: str) -> list[_Denial]:
    """An evaluation or configuration error: a denial unless failurePolicy is Ignore."""
    return [] if failure == "Ignore" else [_Denial(message)]


# -- matching -------------------------------------------------------------------------

def _matches(criteria: Any, scope: _Scope) -> bool:
    """Whether matchConstraints (or a binding's matchResources, which may be absent) select
    the request."""
    if not isinstance(criteria, dict):
        return True
    request = scope.request
    rules = _items(criteria, "resourceRules")
    return (_namespace_selected(criteria.get("namespaceSelector"), scope)
            and _object_selected(criteria.get("objectSelector"), request)
            and not any(_rule_matches(rule, request)
                        for rule in _items(criteria, "excludeResourceRules"))
            and (not rules or any(_rule_matches(rule, request) for rule in rules)))


def _rule_matches(rule: Obj, request: Request) -> bool:
    rt = request.rt
    names = rule.get("resourceNames") or []
    return (_listed(rule.get("operations"), request.operation)
            and _listed(rule.get("apiGroups"), rt.group)
            and _listed(rule.get("apiVersions"), rt.version)
            and any(_resource_matches(str(r), request) for r in rule.get("resources") or [])
            and _scope_matches(rule.get("scope") or "*", rt)
            and (not names or request.name in names))


def _listed(values: Any, value: str) -> bool:
    return isinstance(values, list) and ("*" in values or value in values)


def _resource_matches(pattern: str, request: Request) -> bool:
    """``deployments``, ``*`` (no subresources), ``pods/status``, ``pods/*``, ``*/*``."""
    resource, _, subresource = pattern.partition("/")
    return resource in ("*", request.rt.plural) and subresource in ("*", request.subresource)


def _scope_matches(scope: str, rt: ResourceType) -> bool:
    return scope == "*" or (scope == "Namespaced") == rt.namespaced


def _namespace_selected(selector: Any, scope: _Scope) -> bool:
    """A namespace's own labels select a Namespace; cluster-scoped kinds always match."""
    request = scope.request
    if request.rt.key == _NAMESPACES:
        labels = _labels(request.obj if request.obj is not None else request.old)
    elif not request.rt.namespaced:
        return True
    else:
        labels = _labels(scope.namespace)
    return label_matcher(selector if isinstance(selector, dict) else None)(labels)


def _object_selected(selector: Any, request: Request) -> bool:
    """The labels of the object either after or before the write match."""
    matches = label_matcher(selector if isinstance(selector, dict) else None)
    return any(obj is not None and matches(_labels(obj)) for obj in (request.obj, request.old))


def _params(kind: Any, ref: Any, scope: _Scope) -> list[Obj | None]:
    """The param objects a binding's paramRef selects ([None] for a paramless policy)."""
    if not isinstance(kind, dict):
        return [None]
    if not isinstance(ref, dict):
        raise _ConfigError(f"paramKind kind `{kind.get('kind')}` is defined but paramRef is "
                           "missing")
    try:
        rt = scope.store.type_for(str(kind.get("apiVersion", "")), str(kind.get("kind", "")))
    except NotFoundError:
        raise _ConfigError(f"paramKind kind `{kind.get('apiVersion')}, "
                           f"Kind={kind.get('kind')}` not known") from None
    namespace = ref.get("namespace") or scope.request.namespace
    if rt.namespaced and not namespace:
        raise _ConfigError("cannot use namespaced paramRef in policy binding that matches "
                           "cluster-scoped resources")
    name = ref.get("name")
    found = scope.store.select(rt, namespace if rt.namespaced else None,
                               label_selector=None if name else ref.get("selector") or {})
    params: list[Obj | None] = [p for p in found if not name or p["metadata"]["name"] == name]
    if not params and ref.get("parameterNotFoundAction") == "Deny":
        raise _ConfigError("no params found for policy binding with `Deny` "
                           "parameterNotFoundAction")
    return params


# -- validation -----------------------------------------------------------------------

def _validate(spec: Obj, context: Context, failure: str) -> list[_Denial]:
    try:
        if not _conditions_hold(_items(spec, "matchConditions"), context):
            return []
    except _EvaluationError as exc:
        return _failed(failure, str(exc))
    context = {**context, "variables": _variables(_items(spec, "variables"), context)}
    return [d for validation in _items(spec, "validations")
            for d in _judge(validation, context, failure)]


def _conditions_hold(conditions: list[Obj], context: Context) -> bool:
    """False when a condition is false (even if another failed); raises when none is false
    but some failed to evaluate."""
    errors = []
    for condition in conditions:
        try:
            if _is_bool(_evaluate(str(condition.get("expression", "")), context), False):
                return False
        except _EvaluationError as exc:
            errors.append(str(exc))
    if errors:
        raise _EvaluationError(errors[0] if len(errors) == 1 else f"[{', '.join(errors)}]")
    return True


def _variables(variables: list[Obj], context: Context) -> celtypes.MapType:
    """``variables``, each seeing those before it. A variable that fails holds its error,
    which fails only the expressions that read it (as cel-go's lazy variables do)."""
    values = celtypes.MapType()
    scope = {**context, "variables": values}
    for variable in variables:
        name = celtypes.StringType(str(variable.get("name", "")))
        try:
            values[name] = _program(str(variable.get("expression", ""))).evaluate(scope)
        except CELEvalError as exc:
            values[name] = exc  # type: ignore[assignment]  # an error value, as said above
    return values


def _judge(validation: Obj, context: Context, failure: str) -> list[_Denial]:
    expression = str(validation.get("expression", ""))
    try:
        result = _evaluate(expression, context)
    except _EvaluationError as exc:
        return _failed(failure, str(exc))
    if _is_bool(result, True):
        return []
    return [_Denial(_message(validation, context),
                    str(validation.get("reason") or "Invalid"))]


def _message(validation: Obj, context: Context) -> str:
    """messageExpression's string (unless it fails, is blank, multi-line or too long), else
    message, else the failed expression."""
    text = ""
    expression = validation.get("messageExpression")
    if expression:
        try:
            value = _evaluate(str(expression), context)
        except _EvaluationError:
            value = None
        text = value.strip() if isinstance(value, str) else ""
        if "\n" in text or len(text) > _MESSAGE_LIMIT:
            text = ""
    text = text or str(validation.get("message") or "").strip()
    return text or f"failed expression: {str(validation.get('expression', '')).strip()}"


# -- helpers --------------------------------------------------------------------------

def _spec(obj: Mapping[str, Any]) -> Obj:
    spec = obj.get("spec")
    return spec if isinstance(spec, dict) else {}


def _items(parent: Obj, key: str) -> list[Obj]:
    """A list of objects (anything else in it as an empty object, keeping indexes)."""
    value = parent.get(key)
    if not isinstance(value, list):
        return []
    return [item if isinstance(item, dict) else {} for item in value]


def _labels(obj: Obj | None) -> dict[str, Any]:
    labels = ((obj or {}).get("metadata") or {}).get("labels")
    return labels if isinstance(labels, dict) else {}

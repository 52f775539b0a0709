"""Admission webhooks as kube-apiserver (v1.32) reads them, without the HTTP.

This module owns admissionregistration.k8s.io/v1 MutatingWebhookConfigurations and
ValidatingWebhookConfigurations: their defaults and write-time checks, which webhooks a
request meets (rules, namespace and object selectors, matchConditions: the matching of
:mod:`orkestra.cluster.matching` and the CEL of :mod:`orkestra.cluster.cel`), the
AdmissionReview a webhook is sent, and what its answer means: allowed, a JSONPatch to apply,
warnings, or a denial worded as the API server words it. Calling a webhook is the API
server's business (:mod:`orkestra.apiserver.webhooks`): it raises :class:`CallError` when a
webhook cannot be reached or answers something that is not an AdmissionReview, and
:func:`call_failed` turns that into the request's refusal under failurePolicy Fail.

Webhooks are listed mutating first, each kind in the order of its configurations' names and
then of the webhooks in a configuration. The webhook configurations and the admission
policies themselves are never sent to webhooks. Not modelled: reinvocationPolicy IfNeeded
(a mutating webhook is called once), matchPolicy Equivalent (see matching), ``authorizer``
in matchConditions. A webhook is sent an admission.k8s.io/v1 AdmissionReview, or a v1beta1 one
(the same fields) when its admissionReviewVersions do not list v1, and must answer with the
same version.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TypedDict
from urllib.parse import urlsplit

from orkestra.cluster import policies
from orkestra.cluster.cel import EvaluationError, compile_problem, conditions_hold
from orkestra.cluster.data import as_list, as_object
from orkestra.cluster.errors import (
    AdmissionDeniedError,
    ApiError,
    BadRequestError,
    FieldInvalidError,
    Status,
    status_details,
)
from orkestra.cluster.matching import (
    AdmissionRequest,
    Request,
    Scope,
    Store,
    items,
    namespace_selected,
    object_selected,
    request_view,
    rule_matches,
)
from orkestra.cluster.patch import json_patch
from orkestra.kubeobjects import Json, JsonDict, JsonObject, KubeObject, as_json

GROUP = "admissionregistration.k8s.io"
MUTATING = (GROUP, "mutatingwebhookconfigurations")
VALIDATING = (GROUP, "validatingwebhookconfigurations")
KINDS = {MUTATING: "MutatingWebhookConfiguration", VALIDATING: "ValidatingWebhookConfiguration"}
# what the API server never sends to webhooks (so a broken webhook cannot lock itself in)
EXEMPT = frozenset({MUTATING, VALIDATING, policies.POLICIES, policies.BINDINGS})
REVIEW_GROUP = "admission.k8s.io"
DEFAULT_TIMEOUT = 10
_OPERATIONS = ("*", "CONNECT", "CREATE", "DELETE", "UPDATE")
_FAILURE_POLICIES = ("Fail", "Ignore")
_SIDE_EFFECTS = ("None", "NoneOnDryRun")
_REVIEW_VERSIONS = ("v1", "v1beta1")
_SCOPES = ("*", "Cluster", "Namespaced")
_QUALIFIED = re.compile(r"([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]")
_SUBDOMAIN = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*")


class CallError(Exception):
    """A webhook that could not be called, timed out or answered something unusable; the
    text is the API server's (``failed to call webhook: Post "<url>": ...``)."""


@dataclass(frozen=True)
class Webhook:
    """One webhook of a configuration (as stored: defaulted)."""

    configuration: str
    mutating: bool
    spec: JsonDict

    @property
    def name(self) -> str:
        return str(self.spec.get("name", ""))

    @property
    def failure_policy(self) -> str:
        return str(self.spec.get("failurePolicy") or "Fail")

    @property
    def timeout(self) -> int:
        value = self.spec.get("timeoutSeconds")
        return value if isinstance(value, int) and value > 0 else DEFAULT_TIMEOUT

    @property
    def client_config(self) -> JsonDict:
        found = self.spec.get("clientConfig")
        return found if isinstance(found, dict) else {}

    @property
    def service(self) -> JsonDict | None:
        """The Service reference (namespace, name, path, port) or None for a URL."""
        found = self.client_config.get("service")
        return found if isinstance(found, dict) else None

    @property
    def url(self) -> str:
        """Where the API server POSTs, as its errors name it: the URL, or
        ``https://<service>.<namespace>.svc:<port><path>``, with the ``timeout`` parameter."""
        service = self.service
        if service is None:
            base = str(self.client_config.get("url", ""))
        else:
            base = (
                f"https://{service.get('name')}.{service.get('namespace')}.svc:"
                f"{service.get('port') or 443}{service.get('path') or ''}"
            )
        return f"{base}{'&' if '?' in base else '?'}timeout={self.timeout}s"

    @property
    def review_version(self) -> str:
        """The AdmissionReview version the webhook is sent (v1 unless it lists only
        v1beta1)."""
        versions = self.spec.get("admissionReviewVersions")
        listed = versions if isinstance(versions, list) else []
        return "v1" if "v1" in listed or "v1beta1" not in listed else "v1beta1"

    @property
    def ca_bundle(self) -> bytes | None:
        """The PEM certificates that verify the webhook's serving certificate (None: the
        system's roots)."""
        bundle = self.client_config.get("caBundle")
        if not bundle:
            return None
        try:
            return base64.b64decode(str(bundle), validate=True)
        except (binascii.Error, ValueError):
            return None

    def selects(self, scope: Scope) -> bool:
        """Whether the webhook is called for a request: rules, namespaceSelector,
        objectSelector, then matchConditions (an error in one refuses the request under
        failurePolicy Fail, with Forbidden, and skips the webhook under Ignore)."""
        request = scope.request
        if not (
            any(rule_matches(rule, request) for rule in items(self.spec, "rules"))
            and namespace_selected(self.spec.get("namespaceSelector"), scope)
            and object_selected(self.spec.get("objectSelector"), request)
        ):
            return False
        try:
            return conditions_hold(items(self.spec, "matchConditions"), scope.request_context)
        except EvaluationError as exc:
            if self.failure_policy == "Ignore":
                return False
            raise AdmissionDeniedError(
                request.rt.group, request.rt.plural, request.name, str(exc), "Forbidden"
            ) from None


def configured(store: Store, *, mutating: bool) -> list[Webhook]:
    """The webhooks of every configuration of a kind, in the order they are called."""
    kind = KINDS[MUTATING if mutating else VALIDATING]
    configurations = store.select(store.type_for(f"{GROUP}/v1", kind), None)
    return [
        Webhook(str(configuration["metadata"]["name"]), mutating, hook)
        for configuration in sorted(configurations, key=lambda c: c["metadata"]["name"])
        for hook in items(configuration, "webhooks")
    ]


def may_select(webhook: Webhook, request: Request, operations: tuple[str, ...]) -> bool:
    """Whether a webhook's rules match one of the operations a write may turn out to be
    (before its objects are known: what lets writes no webhook is about skip admission)."""
    return any(rule_matches(rule, request, operations) for rule in items(webhook.spec, "rules"))


# -- the review and its answer --------------------------------------------------------


class AdmissionReview(TypedDict):
    apiVersion: str
    kind: str
    request: AdmissionRequest


def review(webhook: Webhook, request: Request, options: JsonObject) -> tuple[str, AdmissionReview]:
    """A new request UID and the AdmissionReview that asks a webhook about ``request``."""
    uid = str(uuid.uuid4())
    body: AdmissionRequest = {
        **request_view(request, uid),
        "object": request.obj,
        "oldObject": request.old,
        "options": options,
    }
    return uid, {
        "apiVersion": f"{REVIEW_GROUP}/{webhook.review_version}",
        "kind": "AdmissionReview",
        "request": body,
    }


@dataclass(frozen=True)
class Verdict:
    """A webhook's answer: allowed or not (with its status), a JSONPatch, warnings."""

    allowed: bool
    status: JsonDict | None
    patch: list[Json] | None
    warnings: tuple[str, ...]


def verdict(webhook: Webhook, uid: str, answer: Json) -> Verdict:
    """Read an AdmissionReview answer as the API server does (CallError when it is not a
    valid one)."""

    def invalid(why: str) -> CallError:
        return CallError(f"received invalid webhook response: {why}")

    if not isinstance(answer, dict):
        raise CallError(
            "failed to call webhook: couldn't get version/kind; json parse error: "
            "the response is not a JSON object"
        )
    response = answer.get("response")
    if not isinstance(response, dict):
        raise invalid("webhook response was absent")
    if response.get("uid") != uid:
        raise invalid(f'expected response.uid="{uid}", got "{response.get("uid") or ""}"')
    version, kind = answer.get("apiVersion") or "", answer.get("kind") or ""
    wanted = f"{REVIEW_GROUP}/{webhook.review_version}"
    if (version, kind) != (wanted, "AdmissionReview"):
        group, _, short = str(version).rpartition("/")
        raise invalid(
            f"expected webhook response of {wanted}, Kind=AdmissionReview, got "
            f"{group}/{short}, Kind={kind}"
        )
    patch, patch_type = response.get("patch"), response.get("patchType")
    problem = _patch_problem(webhook, patch, patch_type)
    if problem:
        raise invalid(problem)
    if patch and patch_type != "JSONPatch":
        raise CallError(f'unsupported patch type "{patch_type}"')
    status = response.get("status")
    warnings = response.get("warnings")
    return Verdict(
        response.get("allowed") is True,
        status if isinstance(status, dict) else None,
        _decode_patch(webhook, patch) if patch else None,
        tuple(str(w) for w in warnings) if isinstance(warnings, list) else (),
    )


def _patch_problem(webhook: Webhook, patch: Json, patch_type: Json) -> str | None:
    if not webhook.mutating:
        if patch:
            return "validating webhooks may not return response.patch"
        if patch_type:
            return "validating webhooks may not return response.patchType"
        return None
    if patch and not patch_type:
        return "webhook returned response.patch but not response.patchType"
    if patch_type and not patch:
        return "webhook returned response.patchType but not response.patch"
    return None


def _decode_patch(webhook: Webhook, patch: Json) -> list[Json]:
    try:
        operations = json.loads(base64.b64decode(str(patch), validate=True))
    except (binascii.Error, ValueError) as exc:
        raise ApiError(f"Internal error occurred: {exc}", details=[str(exc)]) from None
    if not isinstance(operations, list):
        why = "json: cannot unmarshal object into Go value of type jsonpatch.Patch"
        raise ApiError(f"Internal error occurred: {why}", details=[why])
    return operations


def patched(webhook: Webhook, obj: KubeObject | None, operations: list[Json]) -> KubeObject | None:
    """The object after a mutating webhook's JSONPatch (an internal error when it does not
    apply, or when there is no object to patch: a DELETE)."""
    if not operations:
        return obj
    if obj is None:
        why = (
            f'admission webhook "{webhook.name}" attempted to modify the object, which is '
            "not supported for this operation"
        )
        raise ApiError(f"Internal error occurred: {why}", details=[why])
    try:
        result = json_patch(as_json(obj), operations)
    except ApiError as exc:  # the request is not to blame: drop what says it is
        why = exc.message.removeprefix("the server rejected our request: ")
        raise ApiError(f"Internal error occurred: {why}", details=[why]) from None
    if not isinstance(result, dict):
        why = "the patch must produce an object"
        raise ApiError(f"Internal error occurred: {why}", details=[why])
    return as_object(result)


class WebhookDeniedError(ApiError):
    """A webhook's refusal: its status, with the API server's message (``admission webhook
    "<name>" denied the request: <message>``) and a code of at least 400."""

    def __init__(self, name: str, status: JsonObject | None) -> None:
        given = dict(status or {})
        denied = f'admission webhook "{name}" denied the request'
        if given.get("message"):
            message = f"{denied}: {given['message']}"
        elif given.get("reason"):
            message = f"{denied}: {given['reason']}"
        else:
            message = f"{denied} without explanation"
        super().__init__(message)
        code = given.get("code")
        self.code = code if isinstance(code, int) and code >= 400 else 400
        self.reason = str(given.get("reason") or "")
        self.given = given

    def status(self) -> Status:
        """The webhook's status as metav1.Status reads it (its other keys are dropped), with
        the message, code and status the API server gives a denial."""
        status: Status = {
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": self.message,
        }
        if self.reason:
            status["reason"] = self.reason
        details = status_details(self.given.get("details"))
        if details:
            status["details"] = details
        status["code"] = self.code
        return status


def call_failed(webhook: Webhook, error: CallError) -> ApiError | None:
    """What a failed call does to the request: nothing under failurePolicy Ignore, else an
    internal error (``Internal error occurred: failed calling webhook "<name>": ...``)."""
    if webhook.failure_policy == "Ignore":
        return None
    why = f'failed calling webhook "{webhook.name}": {error}'
    return ApiError(f"Internal error occurred: {why}", details=[why])


def dry_run_refusal(webhook: Webhook) -> ApiError | None:
    """A dry run may only reach webhooks without side effects (None, NoneOnDryRun)."""
    if webhook.spec.get("sideEffects") in _SIDE_EFFECTS:
        return None
    return BadRequestError(f'admission webhook "{webhook.name}" does not support dry run')


# -- defaults and write-time checks ---------------------------------------------------


def admit_configuration(configuration: KubeObject) -> None:
    """The API server's defaults (failurePolicy Fail, matchPolicy Equivalent, empty
    selectors, timeoutSeconds 10, rule scope ``*``, service port 443, reinvocationPolicy
    Never) and its validation of a webhook configuration (422 naming each field)."""
    mutating = configuration.get("kind") == KINDS[MUTATING]
    for hook in items(configuration, "webhooks"):
        _default(hook, mutating)
    problems = list(_problems(configuration, mutating))
    if problems:
        kind = KINDS[MUTATING if mutating else VALIDATING]
        raise FieldInvalidError(
            kind, GROUP, str(configuration["metadata"].get("name", "")), problems
        )


def _default(hook: JsonDict, mutating: bool) -> None:
    hook.setdefault("failurePolicy", "Fail")
    hook.setdefault("matchPolicy", "Equivalent")
    hook.setdefault("namespaceSelector", {})
    hook.setdefault("objectSelector", {})
    hook.setdefault("timeoutSeconds", DEFAULT_TIMEOUT)
    if mutating:
        hook.setdefault("reinvocationPolicy", "Never")
    for rule in items(hook, "rules"):
        rule.setdefault("scope", "*")
    config = hook.get("clientConfig")
    service = config.get("service") if isinstance(config, dict) else None
    if isinstance(service, dict):
        service.setdefault("port", 443)


def _problems(configuration: KubeObject, mutating: bool) -> Iterator[tuple[str, str]]:
    seen: set[str] = set()
    for index, hook in enumerate(items(configuration, "webhooks")):
        field = f"webhooks[{index}]"
        name = str(hook.get("name") or "")
        if not name:
            yield f"{field}.name", "Required value"
        elif name.count(".") < 2 or not _SUBDOMAIN.fullmatch(name):
            yield (
                f"{field}.name",
                (
                    f'Invalid value: "{name}": should be a domain with at '
                    "least three segments separated by dots"
                ),
            )
        elif name in seen:
            yield f"{field}.name", f'Duplicate value: "{name}"'
        seen.add(name)
        yield from _client_problems(f"{field}.clientConfig", hook.get("clientConfig"))
        yield from _rule_problems(field, items(hook, "rules"))
        yield from _value_problems(field, hook, mutating)
        yield from _condition_problems(field, items(hook, "matchConditions"))


def _client_problems(field: str, given: Json) -> Iterator[tuple[str, str]]:
    config = given if isinstance(given, dict) else {}
    url, service = config.get("url"), config.get("service")
    if (url is None) == (service is None):
        yield field, "Required value: exactly one of url or service is required"
    elif url is not None:
        parts = urlsplit(str(url))
        if parts.scheme != "https":
            yield (
                f"{field}.url",
                (f"Invalid value: \"{url}\": 'https' is the only allowed URL scheme"),
            )
        elif not parts.hostname:
            yield f"{field}.url", f'Invalid value: "{url}": host must be specified'
    elif isinstance(service, dict):
        for key in ("namespace", "name"):
            if not service.get(key):
                yield f"{field}.service.{key}", "Required value: service " + key + " is required"
        path = service.get("path")
        if path is not None and not str(path).startswith("/"):
            yield f"{field}.service.path", f"Invalid value: \"{path}\": must start with a '/'"
        port = service.get("port")
        if not isinstance(port, int) or not 1 <= port <= 65535:
            yield (
                f"{field}.service.port",
                (
                    f"Invalid value: {json.dumps(port)}: port is not "
                    "valid: must be between 1 and 65535, inclusive"
                ),
            )


def _rule_problems(field: str, rules: list[JsonDict]) -> Iterator[tuple[str, str]]:
    for index, rule in enumerate(rules):
        at = f"{field}.rules[{index}]"
        for key in ("operations", "apiGroups", "apiVersions", "resources"):
            if not rule.get(key):
                yield f"{at}.{key}", "Required value"
        for op_index, operation in enumerate(as_list(rule.get("operations") or [])):
            if operation not in _OPERATIONS:
                yield f"{at}.operations[{op_index}]", _unsupported(operation, _OPERATIONS)
        if rule.get("scope", "*") not in _SCOPES:
            yield f"{at}.scope", _unsupported(rule.get("scope"), _SCOPES)


def _value_problems(field: str, hook: JsonDict, mutating: bool) -> Iterator[tuple[str, str]]:
    checks = [("failurePolicy", _FAILURE_POLICIES), ("matchPolicy", ("Equivalent", "Exact"))]
    if mutating:
        checks.append(("reinvocationPolicy", ("IfNeeded", "Never")))
    for key, supported in checks:
        if hook.get(key) not in supported:
            yield f"{field}.{key}", _unsupported(hook.get(key), supported)
    effects = hook.get("sideEffects")
    if effects is None:
        yield f"{field}.sideEffects", "Required value: must specify one of None, NoneOnDryRun"
    elif effects not in _SIDE_EFFECTS:
        yield f"{field}.sideEffects", _unsupported(effects, _SIDE_EFFECTS)
    versions = hook.get("admissionReviewVersions")
    if not versions:
        yield (
            f"{field}.admissionReviewVersions",
            "Required value: must specify one of v1, v1beta1",
        )
    elif not isinstance(versions, list) or not set(versions) & set(_REVIEW_VERSIONS):
        shown = "[]string{" + ", ".join(json.dumps(str(v)) for v in as_list(versions)) + "}"
        yield (
            f"{field}.admissionReviewVersions",
            f"Invalid value: {shown}: must include at least one of v1, v1beta1",
        )
    timeout = hook.get("timeoutSeconds")
    if not isinstance(timeout, int) or not 1 <= timeout <= 30:
        yield (
            f"{field}.timeoutSeconds",
            f"Invalid value: {json.dumps(timeout)}: the timeout value must be between 1 and "
            "30 seconds",
        )


def _condition_problems(field: str, conditions: list[JsonDict]) -> Iterator[tuple[str, str]]:
    names: set[str] = set()
    if len(conditions) > 64:
        yield f"{field}.matchConditions", f"Too many: {len(conditions)}: must have at most 64 items"
    for index, condition in enumerate(conditions):
        at = f"{field}.matchConditions[{index}]"
        name = str(condition.get("name") or "")
        if not name:
            yield f"{at}.name", "Required value"
        elif len(name) > 63 or not _QUALIFIED.fullmatch(name):
            yield (
                f"{at}.name",
                (
                    f'Invalid value: "{name}": name part must consist of '
                    "alphanumeric characters, '-', '_' or '.', and must start and "
                    "end with an alphanumeric character"
                ),
            )
        elif name in names:
            yield f"{at}.name", f'Duplicate value: "{name}"'
        names.add(name)
        expression = condition.get("expression")
        if not isinstance(expression, str) or not expression.strip():
            yield f"{at}.expression", "Required value"
            continue
        problem = compile_problem(expression)
        if problem is not None:
            yield f"{at}.expression", f"Invalid value: {json.dumps(expression)}: {problem}"


def _unsupported(value: Json, supported: tuple[str, ...]) -> str:
    return f"Unsupported value: {json.dumps(value)}: supported values: " + ", ".join(
        json.dumps(s) for s in supported
    )

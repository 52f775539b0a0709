"""API errors with Kubernetes' status codes and reasons."""

from __future__ import annotations

from typing import NotRequired, TypedDict

from orkestra.errors import OrkError


class StatusCause(TypedDict, total=False):
    type: str
    message: str
    field: str


class StatusDetails(TypedDict, total=False):
    """Whom a Status is about, and why."""

    name: str
    group: str
    kind: str
    uid: str
    causes: list[StatusCause]
    retryAfterSeconds: int


def status_details(value: object) -> StatusDetails:
    """The ``details`` of a Status someone else sent (a webhook's), as metav1.StatusDetails
    decodes them: the known keys of the right types, nothing else."""
    if not isinstance(value, dict):
        return {}
    details: StatusDetails = {}
    if isinstance(name := value.get("name"), str):
        details["name"] = name
    if isinstance(group := value.get("group"), str):
        details["group"] = group
    if isinstance(kind := value.get("kind"), str):
        details["kind"] = kind
    if isinstance(uid := value.get("uid"), str):
        details["uid"] = uid
    if isinstance(causes := value.get("causes"), list):
        details["causes"] = [_cause(c) for c in causes if isinstance(c, dict)]
    retry = value.get("retryAfterSeconds")
    if isinstance(retry, int) and not isinstance(retry, bool):
        details["retryAfterSeconds"] = retry
    return details


def _cause(value: dict[object, object]) -> StatusCause:
    cause: StatusCause = {}
    if isinstance(kind := value.get("type"), str):
        cause["type"] = kind
    if isinstance(message := value.get("message"), str):
        cause["message"] = message
    if isinstance(field := value.get("field"), str):
        cause["field"] = field
    return cause


class Status(TypedDict):
    """The ``Status`` object an API server answers a failure (or a deletion) with."""

    kind: str
    apiVersion: str
    metadata: dict[str, str]
    status: str  # Failure or Success
    message: NotRequired[str]
    reason: NotRequired[str]
    code: NotRequired[int]
    details: NotRequired[StatusDetails]


class ApiError(OrkError):
    code = 500
    reason = "InternalError"

    def __init__(self, message: str, *, details: list[str] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details or []
        # whom the error is about (name, group, kind), when the error knows better than the
        # request's URL (a create's name is in its body)
        self.target: StatusDetails = {}

    def status(self) -> Status:
        """The ``Status`` object an API server answers with."""
        return {
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": self.message,
            "reason": self.reason,
            "code": self.code,
            "details": {**self.target, "causes": [{"message": d} for d in self.details]},
        }


class NotFoundError(ApiError):
    code = 404
    reason = "NotFound"


class AlreadyExistsError(ApiError):
    code = 409
    reason = "AlreadyExists"


class ConflictError(ApiError):
    code = 409
    reason = "Conflict"


class InvalidError(ApiError):
    code = 422
    reason = "Invalid"


class FieldInvalidError(InvalidError):
    """422 from the validation of an object's fields: ``<Kind>.<group> "<name>" is invalid:
    <field>: <problem>``, each cause naming its field, which kubectl prints as ``The <Kind>
    "<name>" is invalid: <field>: <problem>``."""

    def __init__(self, kind: str, group: str, name: str, problems: list[tuple[str, str]]) -> None:
        texts = [f"{field}: {problem}" for field, problem in problems]
        joined = texts[0] if len(texts) == 1 else "[" + ", ".join(texts) + "]"
        qualified = f"{kind}.{group}" if group else kind
        super().__init__(f'{qualified} "{name}" is invalid: {joined}', details=texts)
        self.target = {"name": name, "group": group, "kind": kind}
        self.problems = problems

    def status(self) -> Status:
        status = super().status()
        status["details"] = {
            **status.get("details", {}),
            "causes": [{"field": field, "message": problem} for field, problem in self.problems],
        }
        return status


_ADMISSION_CODES = {
    "Unauthorized": 401,
    "Forbidden": 403,
    "RequestEntityTooLarge": 413,
    "Invalid": 422,
}


class AdmissionDeniedError(ApiError):
    """An admission plugin's refusal, worded as Forbidden (``<resource> "<name>" is
    forbidden: <why>``) but with the reason the plugin chose and its code (Invalid, 422,
    unless Unauthorized, Forbidden or RequestEntityTooLarge). ``why`` is the one cause, which
    kubectl prints for an Invalid answer: ``The <resource> "<name>" is invalid: : <why>``."""

    def __init__(
        self, group: str, resource: str, name: str, why: str, reason: str = "Invalid"
    ) -> None:
        qualified = f"{resource}.{group}" if group else resource
        super().__init__(f'{qualified} "{name}" is forbidden: {why}', details=[why])
        self.reason = reason
        self.code = _ADMISSION_CODES.get(reason, 422)
        self.target = {"name": name, "group": group, "kind": resource}


class BadRequestError(ApiError):
    code = 400
    reason = "BadRequest"


class UnauthorizedError(ApiError):
    code = 401
    reason = "Unauthorized"


class ForbiddenError(ApiError):
    code = 403
    reason = "Forbidden"


class MethodNotAllowedError(ApiError):
    code = 405
    reason = "MethodNotAllowed"


class NotAcceptableError(ApiError):
    code = 406
    reason = "NotAcceptable"


class GoneError(ApiError):
    """A resourceVersion or continue token older than the retained history."""

    code = 410
    reason = "Expired"


class UnsupportedMediaTypeError(ApiError):
    code = 415
    reason = "UnsupportedMediaType"


class ServiceUnavailableError(ApiError):
    """The server failed, is overloaded or could not be reached: a client's error for a 5xx
    or 429 answer and for a broken connection; the request may succeed later."""

    code = 503
    reason = "ServiceUnavailable"


class UnexpectedStatusError(ApiError):
    """An error answer none of the other classes stands for (a client's view of a 418, or
    of a reason it does not know), keeping the server's code and reason."""

    def __init__(self, message: str, code: int, reason: str) -> None:
        super().__init__(message)
        self.code = code
        self.reason = reason


class ApplyConflictError(ConflictError):
    """409 from server-side apply: fields another manager owns. ``conflicts`` holds
    (manager as printed, field path) pairs; the Status carries them as
    ``FieldManagerConflict`` causes like the API server's."""

    def __init__(self, message: str, conflicts: list[tuple[str, str]]) -> None:
        super().__init__(message, details=[f"conflict with {m}" for m, _ in conflicts])
        self.conflicts = conflicts

    def status(self) -> Status:
        status = super().status()
        status["details"] = {
            **status.get("details", {}),
            "causes": [
                {"type": "FieldManagerConflict", "message": f"conflict with {m}", "field": path}
                for m, path in self.conflicts
            ],
        }
        return status

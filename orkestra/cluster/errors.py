"""API errors with Kubernetes' status codes and reasons."""

from __future__ import annotations

from typing import Any

from orkestra.errors import OrkError


class ApiError(OrkError):
    code = 500
    reason = "InternalError"

    def __init__(self, message: str, *, details: list[str] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details or []

    def status(self) -> dict[str, Any]:
        """The ``Status`` object an API server answers with."""
        return {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
                "message": self.message, "reason": self.reason, "code": self.code,
                "details": {"causes": [{"message": d} for d in self.details]}}


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


class ApplyConflictError(ConflictError):
    """409 from server-side apply: fields another manager owns. ``conflicts`` holds
    (manager as printed, field path) pairs; the Status carries them as
    ``FieldManagerConflict`` causes like the API server's."""

    def __init__(self, message: str, conflicts: list[tuple[str, str]]) -> None:
        super().__init__(message, details=[f"conflict with {m}" for m, _ in conflicts])
        self.conflicts = conflicts

    def status(self) -> dict[str, Any]:
        status = super().status()
        status["details"]["causes"] = [
            {"type": "FieldManagerConflict", "message": f"conflict with {manager}",
             "field": path} for manager, path in self.conflicts]
        return status

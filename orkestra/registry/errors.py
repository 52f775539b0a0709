"""Errors raised while talking to a registry or reading what it served."""

from __future__ import annotations

from orkestra.errors import OrkError


class RegistryError(OrkError):
    """A registry operation failed; the message says which and why, with a hint."""


class InvalidReferenceError(RegistryError):
    """A reference could not be parsed (``invalid reference: …``)."""


class ArtifactNotFoundError(RegistryError):
    """The repository, tag, manifest or blob does not exist."""


class RegistryAuthError(RegistryError):
    """The registry refused the credentials, or needs some and none were found."""


class IntegrityError(RegistryError):
    """Served content does not match its digest or size, is malformed, or is unsafe."""


class TooLargeError(IntegrityError):
    """A manifest or blob is larger than this client accepts."""


class TransientError(RegistryError):
    """A failure worth retrying: 429, 5xx, or a broken connection."""

    def __init__(self, message: str, hint: str = "", retry_after: str | None = None) -> None:
        super().__init__(message, hint)
        self.retry_after = retry_after

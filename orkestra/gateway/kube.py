"""The gateway's few Kubernetes calls, over lightkube's asynchronous client.

The gateway reads and writes a handful of objects (its webhook configurations and its
certificate Secret) at start and on rotation, so it uses lightkube's client as it is: its
configuration (kubeconfig, context, in-cluster service account) and its authentication
(tokens, token files, client certificates, exec plugins). The runtime's own client
(:mod:`orkestra.runtime.kube`) is tuned for thousands of calls a second and is a sibling
package the layering keeps out of reach. Objects go in and out as plain dicts; error
statuses become :mod:`orkestra.cluster.errors` classes, and a failed connection
:class:`~orkestra.cluster.errors.ServiceUnavailableError`.
"""

from __future__ import annotations

from typing import Protocol, cast

from lightkube import AsyncClient, codecs
from lightkube.config.kubeconfig import KubeConfig, SingleConfig
from lightkube.core.exceptions import ApiError as LightkubeError
from lightkube.core.exceptions import ConfigError
from lightkube.resources.admissionregistration_v1 import (
    MutatingWebhookConfiguration,
    ValidatingWebhookConfiguration,
)
from lightkube.resources.core_v1 import Secret

from orkestra.cluster.errors import (
    AlreadyExistsError,
    ApiError,
    ConflictError,
    ForbiddenError,
    InvalidError,
    NotFoundError,
    ServiceUnavailableError,
)
from orkestra.errors import OrkError
from orkestra.kubeobjects import KubeObject

FIELD_MANAGER = "orkestra-gateway"
# What the gateway reads and deletes: its webhook configurations (cluster-scoped) and its
# certificate Secret (namespaced); lightkube types a call by the scope of its kind.
CONFIGURATIONS: dict[
    str, type[ValidatingWebhookConfiguration] | type[MutatingWebhookConfiguration]
] = {
    "ValidatingWebhookConfiguration": ValidatingWebhookConfiguration,
    "MutatingWebhookConfiguration": MutatingWebhookConfiguration,
}
SECRET = "Secret"
_ERRORS: dict[int, type[ApiError]] = {403: ForbiddenError, 404: NotFoundError, 422: InvalidError}


def _transport_error() -> type[Exception]:
    """The HTTP client's base error (httpx's or httpx2's, whichever lightkube runs on)."""
    return next((c for c in LightkubeError.__mro__ if c.__name__ == "HTTPError"), OSError)


TRANSPORT_ERROR = _transport_error()


class ConfigurationError(OrkError):
    """No usable Kubernetes configuration."""


class _Decoded(Protocol):
    """An object lightkube decoded (a model, or a generic resource)."""

    def to_dict(self) -> object: ...


class KubeAPI(Protocol):
    """The calls the gateway makes."""

    async def get(
        self, kind: str, name: str, namespace: str | None = None
    ) -> KubeObject | None: ...

    async def create(self, obj: KubeObject) -> KubeObject: ...

    async def replace(self, obj: KubeObject) -> KubeObject: ...

    async def delete(self, kind: str, name: str, namespace: str | None = None) -> bool: ...

    async def close(self) -> None: ...


def load_config(kubeconfig: str | None = None, context: str | None = None) -> SingleConfig:
    """``kubeconfig`` (a file), else the in-cluster service account, else ``$KUBECONFIG``
    or ``~/.kube/config``; ``context`` picks a context."""
    try:
        config = KubeConfig.from_file(kubeconfig) if kubeconfig else KubeConfig.from_env()
        single = config.get(context)
    except (ConfigError, OSError, KeyError, ValueError) as exc:
        raise ConfigurationError(
            f"no usable Kubernetes configuration: {exc}",
            hint="pass --kubeconfig FILE (and --context NAME), set "
            "KUBECONFIG, or run inside a cluster",
        ) from None
    if single is None:
        raise ConfigurationError(
            "the kubeconfig has no current context", hint="pass --context NAME"
        )
    return single


def _error(exc: LightkubeError) -> ApiError:
    status = exc.status
    code = int(status.code or 500)
    message = str(status.message or exc)
    if code == 409:
        return (
            AlreadyExistsError(message)
            if status.reason == "AlreadyExists"
            else ConflictError(message)
        )
    if code >= 500 or code == 429:
        return ServiceUnavailableError(message)
    known = _ERRORS.get(code)
    return known(message) if known is not None else ApiError(message)


class LightKube:
    """:class:`KubeAPI` over lightkube's AsyncClient."""

    def __init__(self, config: SingleConfig, *, timeout: float = 15.0) -> None:
        self.client = AsyncClient(config=config, field_manager=FIELD_MANAGER, timeout=timeout)  # type: ignore[arg-type]

    async def get(self, kind: str, name: str, namespace: str | None = None) -> KubeObject | None:
        try:
            found: _Decoded
            if kind == SECRET:
                found = await self.client.get(Secret, name, namespace=namespace)
            else:
                found = await self.client.get(CONFIGURATIONS[kind], name)
        except LightkubeError as exc:
            if exc.status.code == 404:
                return None
            raise _error(exc) from None
        except TRANSPORT_ERROR as exc:
            raise ServiceUnavailableError(f"GET {kind} {name}: {exc}") from None
        return _dict(found)

    async def create(self, obj: KubeObject) -> KubeObject:
        try:
            return _dict(await self.client.create(codecs.from_dict(dict(obj))))
        except LightkubeError as exc:
            raise _error(exc) from None
        except TRANSPORT_ERROR as exc:
            raise ServiceUnavailableError(f"create {obj['kind']}: {exc}") from None

    async def replace(self, obj: KubeObject) -> KubeObject:
        try:
            return _dict(await self.client.replace(codecs.from_dict(dict(obj))))
        except LightkubeError as exc:
            raise _error(exc) from None
        except TRANSPORT_ERROR as exc:
            raise ServiceUnavailableError(f"update {obj['kind']}: {exc}") from None

    async def delete(self, kind: str, name: str, namespace: str | None = None) -> bool:
        """Delete; False when there was nothing to delete."""
        try:
            if kind == SECRET:
                await self.client.delete(Secret, name, namespace=namespace)
            else:
                await self.client.delete(CONFIGURATIONS[kind], name)
        except LightkubeError as exc:
            if exc.status.code == 404:
                return False
            raise _error(exc) from None
        except TRANSPORT_ERROR as exc:
            raise ServiceUnavailableError(f"delete {kind} {name}: {exc}") from None
        return True

    async def close(self) -> None:
        await self.client.close()


def _dict(obj: _Decoded) -> KubeObject:
    # What the API server answered, decoded by lightkube: a Kubernetes object.
    return cast(KubeObject, obj.to_dict())

"""Keeps the cluster's webhook configurations as the gateway wants them.

:meth:`Housekeeper.sync` creates or updates each configuration :func:`desired` names and
deletes those nothing needs any more: a gateway restarted with deletion protection
disabled removes ``orkestra-deletion-protection`` and keeps ``orkestra-admission-
validation`` (the clean-uninstall sequence), and one restarted with admission disabled
does the reverse. :meth:`Housekeeper.uninstall` removes every configuration (and the
generated certificate Secret); :meth:`Housekeeper.shutdown` removes those whose
``cleanupOnShutdown`` is set. An update keeps the object's resourceVersion, so a concurrent
writer (another replica) makes it retry from a fresh read.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping

from orkestra.cluster.errors import AlreadyExistsError, ConflictError
from orkestra.gateway.kube import KubeAPI
from orkestra.gateway.webhooks import (
    CONFIGS,
    MUTATION_CONFIG,
    PROTECTION_CONFIG,
    VALIDATION_CONFIG,
    WebhookConfiguration,
)

Desired = Callable[[bytes], dict[str, WebhookConfiguration | None]]
log = logging.getLogger("orkestra.gateway.webhooks")
ATTEMPTS = 3


def contains(existing: object, wanted: object) -> bool:
    """Whether ``existing`` holds everything ``wanted`` says (fields the API server
    defaulted, such as an empty ``namespaceSelector``, do not count as a difference)."""
    if isinstance(wanted, dict):
        return isinstance(existing, dict) and all(
            contains(existing.get(k), v) for k, v in wanted.items()
        )
    if isinstance(wanted, list):
        return (
            isinstance(existing, list)
            and len(existing) == len(wanted)
            and all(contains(e, w) for e, w in zip(existing, wanted, strict=True))
        )
    return bool(existing == wanted)


def _same(existing: Mapping[str, object], wanted: WebhookConfiguration) -> bool:
    meta = existing.get("metadata")
    return contains(existing.get("webhooks"), wanted["webhooks"]) and contains(
        meta.get("labels") if isinstance(meta, dict) else None, wanted["metadata"]["labels"]
    )


class Housekeeper:
    """Applies the desired webhook configurations through ``kube``."""

    def __init__(
        self, kube: KubeAPI, desired: Desired, *, secret: str = "", namespace: str = ""
    ) -> None:
        self.kube = kube
        self.desired = desired
        self.secret = secret
        self.namespace = namespace

    async def sync(self, ca_bundle: bytes) -> list[str]:
        """Make the cluster match; what was done (``created X``, ``deleted Y`` ...)."""
        done = []
        for name, wanted in self.desired(ca_bundle).items():
            action = await self._apply(name, wanted)
            if action:
                log.info("%s %s", action, name)
                done.append(f"{action} {name}")
        return done

    async def _apply(self, name: str, wanted: WebhookConfiguration | None) -> str:
        kind = CONFIGS[name][0]
        for _ in range(ATTEMPTS):
            existing = await self.kube.get(kind, name)
            try:
                if wanted is None:
                    return "deleted" if existing and await self.kube.delete(kind, name) else ""
                if existing is None:
                    await self.kube.create(wanted)
                    return "created"
                if _same(existing, wanted):
                    return ""
                meta = existing["metadata"]
                update: WebhookConfiguration = {
                    **wanted,
                    "metadata": {
                        **meta,
                        "labels": {**(meta.get("labels") or {}), **wanted["metadata"]["labels"]},
                    },
                }
                await self.kube.replace(update)
                return "updated"
            except (ConflictError, AlreadyExistsError):
                continue  # someone else wrote it meanwhile: read it again
        raise ConflictError(f"{kind} {name} kept changing while the gateway updated it")

    async def remove(self, names: list[str]) -> list[str]:
        done = []
        for name in names:
            if await self.kube.delete(CONFIGS[name][0], name):
                log.info("deleted %s", name)
                done.append(f"deleted {name}")
        return done

    async def uninstall(self) -> list[str]:
        """Remove every configuration and the generated certificate Secret."""
        done = await self.remove([VALIDATION_CONFIG, MUTATION_CONFIG, PROTECTION_CONFIG])
        if self.secret and await self.kube.delete("Secret", self.secret, self.namespace):
            done.append(f"deleted secret {self.namespace}/{self.secret}")
        return done

    async def shutdown(self, admission: bool, protection: bool) -> list[str]:
        """On the way out: remove what ``cleanupOnShutdown`` asks for."""
        names = ([VALIDATION_CONFIG, MUTATION_CONFIG] if admission else []) + (
            [PROTECTION_CONFIG] if protection else []
        )
        return await self.remove(names)

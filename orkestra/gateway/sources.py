"""Where the serving certificate comes from, and how it is renewed.

A source answers :meth:`CertSource.refresh` with the :class:`Material` to serve now (a
serving key pair and the CA bundle the webhooks must trust); the gateway compares it with
what it serves and switches when it differs.

- :class:`GeneratedCerts` (the default) keeps a CA and a serving certificate for the
  Service's names. A due serving certificate is re-issued by the same CA (the bundle does
  not change); a due CA is replaced, and the bundle then holds the new CA and the old one
  until the old one expires, so the webhooks trust both while the new serving certificate
  spreads. With a Secret store the state lives in a Secret (``tls.crt``, ``tls.key``,
  ``ca.crt`` the bundle, ``ca.key``): replicas and restarts share one CA, and a replica
  adopts what another wrote; of two concurrent rotations the second write conflicts and
  its writer adopts the first.
- :class:`SecretCerts` serves an existing Secret (``tls.crt``, ``tls.key``, optionally
  ``ca.crt``; the certificate itself is the bundle otherwise), read again on every refresh,
  so whoever rotates it (cert-manager) is followed.
- :class:`FileCerts` serves files, read again when they change.
"""

from __future__ import annotations

import base64
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Protocol

from orkestra.cluster.errors import AlreadyExistsError, ApiError, ConflictError
from orkestra.errors import OrkError
from orkestra.gateway import certs
from orkestra.gateway.certs import KeyPair
from orkestra.gateway.kube import KubeAPI
from orkestra.gateway.webhooks import MANAGED_BY
from orkestra.kubeobjects import KubeObject, ObjectMeta

log = logging.getLogger("orkestra.gateway.certs")
SERVING_LIFETIME = timedelta(days=365)
CA_LIFETIME = timedelta(days=3650)


class CertificateError(OrkError):
    """No usable serving certificate."""


@dataclass(frozen=True)
class Material:
    """What the gateway serves with, and what the webhooks trust."""

    serving: KeyPair
    ca_bundle: bytes


class CertSource(Protocol):
    async def refresh(self, now: datetime) -> Material: ...


def _b64(data: Mapping[str, str], key: str) -> bytes | None:
    value = data.get(key)
    if not isinstance(value, str):
        return None
    try:
        return base64.b64decode(value)
    except ValueError:
        return None


@dataclass(frozen=True)
class _State:
    ca: KeyPair
    serving: KeyPair
    bundle: bytes

    @property
    def material(self) -> Material:
        return Material(self.serving, self.bundle)


class GeneratedCerts:
    """A CA of the gateway's own and the serving certificates it signs."""

    def __init__(
        self,
        names: list[str],
        *,
        lifetime: timedelta = SERVING_LIFETIME,
        ca_lifetime: timedelta = CA_LIFETIME,
        store: KubeAPI | None = None,
        secret: str = "",
        namespace: str = "",
    ) -> None:
        self.names = names
        self.lifetime = lifetime
        self.ca_lifetime = ca_lifetime
        self.store = store
        self.secret = secret
        self.namespace = namespace
        self.state: _State | None = None
        self._version = ""  # resourceVersion of the Secret as last read

    async def refresh(self, now: datetime) -> Material:
        if self.store is not None:
            await self._adopt(now)
        renewed = self._renewed(self.state, now)
        if renewed is not self.state:
            self.state = renewed
            if self.store is not None:
                await self._save(now)
        assert self.state is not None
        return self.state.material

    def _usable(self, state: _State, now: datetime) -> bool:
        try:
            return self._valid(state, now)
        except ValueError:  # not PEM
            return False

    @staticmethod
    def _valid(state: _State, now: datetime) -> bool:
        """A CA worth keeping and a serving certificate with its key (which the renewal
        replaces when it is due, expired or for other names)."""
        return (
            not certs.expired(state.ca.certificate, now)
            and certs.matches(state.serving)
            and certs.matches(state.ca)
        )

    def _renewed(self, state: _State | None, now: datetime) -> _State:
        """The state with what is due renewed (the same object when nothing is)."""
        if state is None:
            ca = certs.new_ca(now, self.ca_lifetime)
            return _State(ca, certs.new_serving(ca, self.names, now, self.lifetime), ca.certificate)
        ca, bundle = state.ca, state.bundle
        if certs.due(ca.certificate, now):
            ca = certs.new_ca(now, self.ca_lifetime)
            bundle = ca.certificate + b"".join(
                c for c in certs.split_bundle(state.bundle)[:1] if not certs.expired(c, now)
            )
            log.info("renewed the gateway's CA (the webhooks trust the old one until it expires)")
        serving = state.serving
        stale = certs.due(serving.certificate, now) or not certs.covers(
            serving.certificate, self.names
        )
        # Right after a CA rotation the old serving certificate stays (the old CA is in the
        # bundle) until the new bundle has reached the webhooks: the next refresh swaps it.
        foreign = ca is state.ca and not certs.issued_by(serving.certificate, ca.certificate)
        if stale or foreign:
            serving = certs.new_serving(ca, self.names, now, self.lifetime)
            log.info(
                "renewed the serving certificate; it expires %s",
                serving.cert.not_valid_after_utc.isoformat(),
            )
        if ca is state.ca and serving is state.serving:
            return state
        return _State(ca, serving, bundle)

    # -- the Secret ---------------------------------------------------------------------
    async def _adopt(self, now: datetime) -> None:
        assert self.store is not None
        found = await self.store.get("Secret", self.secret, self.namespace)
        if found is None:
            self._version = ""
            return
        self._version = str((found.get("metadata") or {}).get("resourceVersion") or "")
        state = self._parse(found.get("data") or {})
        if state is not None and state != self.state and self._usable(state, now):
            self.state = state

    @staticmethod
    def _parse(data: Mapping[str, str]) -> _State | None:
        parts = [_b64(data, k) for k in ("ca.crt", "ca.key", "tls.crt", "tls.key")]
        bundle, ca_key, cert, key = parts
        if bundle is None or ca_key is None or cert is None or key is None:
            return None
        first = certs.split_bundle(bundle)[:1]
        if not first:
            return None
        try:
            return _State(KeyPair(first[0], ca_key), KeyPair(cert, key), bundle)
        except ValueError:
            return None

    def _manifest(self) -> KubeObject:
        assert self.state is not None
        state = self.state
        data = {
            "tls.crt": state.serving.certificate,
            "tls.key": state.serving.key,
            "ca.crt": state.bundle,
            "ca.key": state.ca.key,
        }
        meta: ObjectMeta = {
            "name": self.secret,
            "namespace": self.namespace,
            "labels": dict(MANAGED_BY),
        }
        if self._version:
            meta["resourceVersion"] = self._version
        return {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": meta,
            "type": "kubernetes.io/tls",
            "data": {k: base64.b64encode(v).decode() for k, v in data.items()},
        }

    async def _save(self, now: datetime) -> None:
        assert self.store is not None
        try:
            if self._version:
                saved = await self.store.replace(self._manifest())
            else:
                saved = await self.store.create(self._manifest())
        except (ConflictError, AlreadyExistsError):
            log.info("another replica renewed the certificates first; using theirs")
            await self._adopt(now)
            return
        except ApiError as exc:
            raise CertificateError(
                f"cannot keep the certificates in secret {self.namespace}/{self.secret}: {exc}",
                hint="does the namespace exist, and may the gateway's "
                "service account get, create and update Secrets "
                "there?",
            ) from None
        self._version = str((saved.get("metadata") or {}).get("resourceVersion") or "")


class SecretCerts:
    """An existing Secret's certificate, followed as it changes."""

    def __init__(
        self,
        store: KubeAPI,
        secret: str,
        namespace: str,
        cert_key: str = "tls.crt",
        key_key: str = "tls.key",
    ) -> None:
        self.store = store
        self.secret = secret
        self.namespace = namespace
        self.keys = (cert_key, key_key)
        self.current: Material | None = None

    async def refresh(self, now: datetime) -> Material:
        found = await self.store.get("Secret", self.secret, self.namespace)
        data = (found or {}).get("data") or {}
        cert, key = _b64(data, self.keys[0]), _b64(data, self.keys[1])
        if cert is None or key is None:
            if self.current is not None:
                log.warning(
                    "secret %s/%s has no %s and %s; serving the last certificate",
                    self.namespace,
                    self.secret,
                    *self.keys,
                )
                return self.current
            raise CertificateError(
                f"secret {self.namespace}/{self.secret} has no {self.keys[0]} and {self.keys[1]}"
            )
        material = _checked(
            KeyPair(cert, key),
            _b64(data, "ca.crt") or cert,
            now,
            f"secret {self.namespace}/{self.secret}",
            self.current,
        )
        self.current = material
        return material


class FileCerts:
    """A certificate and key from files (and a CA bundle, else the certificate)."""

    def __init__(self, cert: Path, key: Path, ca: Path | None = None) -> None:
        self.paths = (cert, key, ca)
        self.current: Material | None = None

    async def refresh(self, now: datetime) -> Material:
        cert_path, key_path, ca_path = self.paths
        try:
            cert, key = cert_path.read_bytes(), key_path.read_bytes()
            bundle = ca_path.read_bytes() if ca_path else cert
        except OSError as exc:
            if self.current is not None:
                log.warning("cannot read the certificate files: %s", exc)
                return self.current
            raise CertificateError(f"cannot read the certificate files: {exc}") from None
        material = _checked(KeyPair(cert, key), bundle, now, str(cert_path), self.current)
        self.current = material
        return material


def _checked(
    pair: KeyPair, bundle: bytes, now: datetime, where: str, current: Material | None
) -> Material:
    """``pair`` and ``bundle`` if they make a usable certificate; else the current one."""
    if current is not None and current.serving == pair and current.ca_bundle == bundle:
        return current
    try:
        usable = certs.matches(pair)
        late = certs.expired(pair.certificate, now)
    except ValueError:
        usable, late = False, False
    if not usable:
        if current is not None:
            log.warning("%s holds no usable certificate and key; serving the last one", where)
            return current
        raise CertificateError(f"{where} holds no usable PEM certificate and key")
    if late:
        log.warning("the certificate of %s has expired; renew it", where)
    return Material(pair, bundle)

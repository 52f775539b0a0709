"""``cross`` in the runtime: which peer CRDs this process runs, and the HTTP sources.

One :class:`CrossSources` serves every worker of the process (the cache is shared and
thread-safe); :class:`~orkestra.runtime.cache.CachedCluster` answers the engine's
:class:`~orkestra.engine.api.CrossReader` calls through it.

- Peers: the target of a query is the enabled CRD entry of the katalogs this process runs,
  by name or by the ``labelSelector`` it holds; :meth:`CrossSources.target` names its kind
  and whether the entry or its katalog sets ``crossAccess: false``. The peers themselves
  are read from the informer stores by the cluster.
- Sources: a blocking GET on a thread of the loop's executor, the worker waiting (the
  engine's calls are synchronous; :func:`~orkestra.greenbridge.call_blocking`), with
  ``Accept: application/json``, a 5 s timeout on connecting and on each read, and at most
  64 KiB of body. Only ``http`` and ``https`` URLs are opened (redirects included); proxies
  come from the environment, as Go's default client takes them. Status 200 with a JSON
  object is a result, 404 the answer ``{found: "false"}``; anything else is a failure, logged
  and not cached. Results are reused for the entry's ``cacheFor`` per (url, auth as
  written). The bearer token of ``auth.token`` is the text itself or, for ``$VAR``, the
  environment variable; ``auth.secretRef`` reads the key of a Secret (its namespace by
  default the one of the runtime's kubeconfig context or service account).
"""

from __future__ import annotations

import base64
import binascii
import logging
import os
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, TypedDict, cast

import msgspec

from orkestra.cluster.errors import ApiError
from orkestra.compose import Composed
from orkestra.engine.api import PeerQuery, RemoteQuery
from orkestra.engine.cross import target_name
from orkestra.engine.reconcile import cr_type
from orkestra.greenbridge import call_blocking
from orkestra.kubeobjects import JsonDict
from orkestra.model.shapes import CrdEntry
from orkestra.runtime.kube import JSON, USER_AGENT, KubeClient, decode, encode
from orkestra.runtime.logs import fields

if TYPE_CHECKING:
    import urllib.request

FETCH_TIMEOUT = 5.0
BODY_LIMIT = 64 * 1024
PRUNE_AT = 1024  # cached results kept before expired ones are dropped
log = logging.getLogger("orkestra.runtime.cross")


class SecretKeyRef(TypedDict, total=False):
    name: str
    namespace: str
    key: str


class SourceAuth(TypedDict, total=False):
    """A source's ``auth``: one of the two keys."""

    token: str
    secretRef: SecretKeyRef


class SourceError(Exception):
    """A source gave no result (internal: logged, and the entry reads as not found)."""


@dataclass(frozen=True, slots=True)
class Target:
    """A CRD whose CRs peer queries may read: its type, the ``labelSelector`` a query may
    find it by, and whether its CRs are hidden from cross reads (``crossAccess: false`` on
    the entry or its katalog)."""

    api_version: str
    kind: str
    labels: Mapping[str, str]
    hidden: bool

    @classmethod
    def of(cls, entry: CrdEntry, katalog: Composed) -> Target:
        api_version, kind = cr_type(entry)
        return cls(
            api_version,
            kind,
            entry.get("labelSelector") or {},
            katalog.top.get("crossAccess") is False or entry.get("crossAccess") is False,
        )


def _opener() -> urllib.request.OpenerDirector:
    """urllib's default opener less the file, ftp and data handlers (another scheme, a
    redirect's included, is an unknown url type). Made on the first fetch: ``urllib.request``
    and ``http.client`` cost ~5 ms of every ``ork run``'s start-up, and most katalogs read
    no remote source."""
    import urllib.request

    opener = urllib.request.OpenerDirector()
    for handler in (
        urllib.request.ProxyHandler(),
        urllib.request.UnknownHandler(),
        urllib.request.HTTPHandler(),
        urllib.request.HTTPSHandler(),
        urllib.request.HTTPRedirectHandler(),
        urllib.request.HTTPDefaultErrorHandler(),
        urllib.request.HTTPErrorProcessor(),
    ):
        opener.add_handler(handler)
    return opener


class CrossSources:
    """The ``cross`` reads of one runtime process over the katalogs it runs."""

    def __init__(
        self,
        client: KubeClient,
        katalogs: Sequence[Composed] = (),
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.client = client
        self.clock = clock
        self.targets = {
            name: Target.of(entry, composed)
            for composed in katalogs
            for name, entry in composed.enabled_crds.items()
        }
        self._opener: urllib.request.OpenerDirector | None = None
        self._cache: dict[tuple[str, bytes], tuple[float, JsonDict]] = {}
        self._prune_at = PRUNE_AT
        self._lock = threading.Lock()

    # -- peers ------------------------------------------------------------------------
    def target(self, query: PeerQuery) -> Target | None:
        """The CRD ``query`` reads, when this process runs it."""
        name = target_name(query, {n: t.labels for n, t in self.targets.items()})
        return None if name is None else self.targets.get(name)

    # -- sources ----------------------------------------------------------------------
    def remote(self, query: RemoteQuery) -> JsonDict | None:
        """What the source answers (cached), or None when it failed."""
        key = (query.url, encode(query.auth))
        now = self.clock()
        with self._lock:
            held = self._cache.get(key)
        if held is not None and held[0] > now:
            return held[1]
        try:
            body = call_blocking(self.fetch, query)  # the loop goes on meanwhile
        except SourceError as exc:
            log.warning(
                "cross source failed: %s", exc, extra=fields(source=query.key, url=query.url)
            )
            return None
        if query.cache_for > 0:
            self._keep(key, now + query.cache_for, body)
        return body

    def _keep(self, key: tuple[str, bytes], until: float, body: JsonDict) -> None:
        with self._lock:
            self._cache[key] = (until, body)
            if len(self._cache) >= self._prune_at:
                now = self.clock()
                self._cache = {k: v for k, v in self._cache.items() if v[0] > now}
                self._prune_at = max(PRUNE_AT, 2 * len(self._cache))

    def fetch(self, query: RemoteQuery) -> JsonDict:
        """One GET of the source: its JSON object, ``{found: "false"}`` on a 404."""
        headers = {"Accept": JSON, "User-Agent": USER_AGENT}
        if query.auth:
            auth = cast(SourceAuth, query.auth)  # as the katalog wrote it (the model checked it)
            # stripped: a Secret written with `echo` ends in a newline
            headers["Authorization"] = "Bearer " + self.token(auth).strip()
        import http.client
        import urllib.error
        import urllib.request

        with self._lock:
            if self._opener is None:
                self._opener = _opener()
        request = urllib.request.Request(query.url, headers=headers)
        try:
            with self._opener.open(request, timeout=FETCH_TIMEOUT) as response:
                body = response.read(BODY_LIMIT + 1)
        except urllib.error.HTTPError as exc:
            exc.close()
            if exc.code == 404:
                return {"found": "false"}
            raise SourceError(f"HTTP {exc.code}") from None
        except (OSError, ValueError, http.client.HTTPException) as exc:
            raise SourceError(str(getattr(exc, "reason", exc)) or type(exc).__name__) from None
        if response.status != 200:
            raise SourceError(f"HTTP {response.status}")
        return _object(body)

    def token(self, auth: SourceAuth) -> str:
        """The bearer token ``auth`` names."""
        if "token" in auth:
            token = str(auth["token"])
            if not token.startswith("$"):
                return token
            value = os.environ.get(token[1:])
            if not value:
                raise SourceError(f"auth.token: the environment variable {token[1:]} is not set")
            return value
        ref = auth["secretRef"]
        namespace = str(ref.get("namespace") or self.client.namespace)
        where = f"auth.secretRef: Secret {namespace}/{ref['name']}"
        try:
            secret = self.client.get(
                self.client.resource("v1", "Secret"), str(ref["name"]), namespace
            )
            return base64.b64decode((secret.get("data") or {})[ref["key"]], validate=True).decode()
        except ApiError as exc:
            raise SourceError(f"{where}: {exc.message}") from None
        except KeyError:
            raise SourceError(f"{where} has no key {ref['key']}") from None
        except (binascii.Error, UnicodeDecodeError):
            raise SourceError(f"{where}: key {ref['key']} is not base64 text") from None


def _object(body: bytes) -> JsonDict:
    if len(body) > BODY_LIMIT:
        raise SourceError(f"the answer is over {BODY_LIMIT // 1024} KiB")
    try:
        value = decode(body)
    except msgspec.DecodeError as exc:
        raise SourceError(f"the answer is not JSON: {exc}") from None
    if not isinstance(value, dict):
        raise SourceError("the answer is not a JSON object")
    return value

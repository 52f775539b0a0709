"""``ork login`` / ``ork logout``: check credentials against a registry, then keep them where
docker and every OCI tool look (``$DOCKER_CONFIG/config.json``, default
``~/.docker/config.json``).

The check is a ``GET /v2/`` through the same HTTP backend and challenge flow as every other
registry call (:mod:`orkestra.registry.remote`, :class:`~orkestra.registry.auth.RegistryAuth`):
Basic registries get the credentials directly, token registries see them at their token
service. Only then is the config touched.

Storage follows docker: when the config names a credential helper for the host
(``credHelpers``, else ``credsStore``) the secret goes to ``docker-credential-<name> store``
and ``auths`` keeps an empty entry for the host; otherwise ``auths[host].auth`` holds
``base64(user:password)``. Every other key and entry of the file is kept; the file is
rewritten atomically (temporary file and rename in the same directory), mode 0600, in a
directory created 0700. A malformed file is an error and is left as it is. Logout removes
the host's entries (and asks the helper to erase its secret).
"""

from __future__ import annotations

import base64
import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from orkestra.files import write_atomic
from orkestra.kubeobjects import JsonDict, JsonObject
from orkestra.registry.auth import (
    Credentials,
    docker_config_path,
    helper_failed,
    helper_for,
    helper_not_found,
    keys_for,
    read_docker_config,
    run_helper,
)
from orkestra.registry.errors import (
    ArtifactNotFoundError,
    InvalidReferenceError,
    RegistryAuthError,
    RegistryError,
)
from orkestra.registry.refs import LOCAL_HOST, Reference
from orkestra.registry.remote import RemoteBackend
from orkestra.registry.retry import RetryPolicy

_HOST = re.compile(r"^(\[[0-9a-f:.]+\]|[a-z0-9]([a-z0-9.-]*[a-z0-9])?)(:[0-9]{1,5})?$")
_SCHEMES = ("oci://", "https://", "http://")
_SCOPES_HINT = (
    "check the username and password; a token needs the registry scopes "
    "(GitHub: a classic token with read:packages, and write:packages to push; "
    "GitLab: read_registry/write_registry; Docker Hub: Read & Write)"
)
_PLAIN_HTTP_HINT = (
    "loopback registries are spoken to over plain HTTP; --insecure tries HTTPS "
    "(without certificate checks) first"
)
_CONFIG_HINT = "fix or remove the file (it holds registry logins)"


class LoginFailedError(RegistryAuthError):
    """The registry refused the credentials given to ``ork login``."""


class NotLoggedInError(RegistryError):
    """``ork logout`` for a host with no stored credentials."""


@dataclass(frozen=True)
class Login:
    """Where a login was stored."""

    host: str
    username: str
    config_file: Path
    helper: str = ""
    """The credential helper holding the secret, or "" when it is in the file."""


def registry_host(text: str) -> str:
    """``host[:port]`` from ``host``, ``host/path``, ``https://host/…`` or ``oci://host/…``."""
    cleaned = text.strip()
    for scheme in _SCHEMES:
        if cleaned.lower().startswith(scheme):
            cleaned = cleaned[len(scheme) :]
            break
    host = cleaned.split("/", 1)[0].lower()
    if not _HOST.match(host):
        raise InvalidReferenceError(
            f'invalid registry "{text}"',
            hint="write HOST or HOST:PORT, e.g. ghcr.io or 127.0.0.1:5000",
        )
    if host == LOCAL_HOST:
        raise InvalidReferenceError(
            "the embedded registry (local) needs no login",
            hint="log in to the registry ORK_REGISTRY names",
        )
    return host


def login(
    host: str,
    credentials: Credentials,
    env: Mapping[str, str] | None = None,
    *,
    insecure: bool = False,
    retry: RetryPolicy | None = None,
) -> Login:
    """Check ``credentials`` against ``host``, then store them; nothing is written on failure."""
    env = os.environ if env is None else env
    path = docker_config_path(env)
    config = read_docker_config(path) or {}
    auths = _auths(config, path)
    helper = helper_for(config, host)
    verify(host, credentials, insecure=insecure, retry=retry)
    if helper:
        secret = json.dumps(
            {"ServerURL": host, "Username": credentials.username, "Secret": credentials.password}
        )
        result = run_helper(helper, "store", secret, env)
        if result.returncode != 0:
            raise helper_failed(helper, "store", host, result)
    for key in keys_for(auths, host):
        del auths[key]
    auths[host] = {} if helper else {"auth": _basic(credentials)}
    write_config(path, {**config, "auths": auths})
    return Login(host, credentials.username, path, helper)


def logout(host: str, env: Mapping[str, str] | None = None) -> Path:
    """Forget ``host``'s credentials; returns the config file. Not logged in is an error."""
    env = os.environ if env is None else env
    path = docker_config_path(env)
    config = read_docker_config(path)
    if config is None:
        raise NotLoggedInError(f"not logged in to {host}", hint=f"{path} does not exist")
    auths = _auths(config, path)
    helper = helper_for(config, host)
    erased = bool(helper) and _erase(helper, host, env)
    keys = keys_for(auths, host)
    if not keys and not erased:
        raise NotLoggedInError(f"not logged in to {host}", hint=f"{path} has no credentials for it")
    if keys:
        for key in keys:
            del auths[key]
        write_config(path, {**config, "auths": auths})
    return path


def verify(
    host: str, credentials: Credentials, *, insecure: bool = False, retry: RetryPolicy | None = None
) -> None:
    """``GET /v2/`` with the credentials (challenge flow included); refused → LoginFailedError.

    Loopback hosts are spoken to over plain HTTP unless ``insecure``, which means HTTPS
    without certificate checks falling back to plain HTTP, as for every registry command.
    """
    loopback = Reference(host=host, repository="login").is_loopback
    backend = _Probe(
        host,
        lambda: credentials,
        plain_http=loopback and not insecure,
        insecure=insecure,
        retry=retry,
    )
    try:
        backend.api_root()
    except RegistryAuthError as exc:
        raise LoginFailedError(f"login failed: {exc.message}", hint=_SCOPES_HINT) from None
    except ArtifactNotFoundError as exc:
        raise RegistryError(
            f"login failed: {exc.message}",
            hint=f"is {host} an OCI registry? its /v2/ endpoint is missing",
        ) from None
    except RegistryError as exc:
        hint = exc.hint or (_PLAIN_HTTP_HINT if loopback and not insecure else "")
        raise RegistryError(f"login failed: {exc.message}", hint=hint) from None
    finally:
        backend.close()


class _Probe(RemoteBackend):
    """The backend of every registry command, asked only for the API root."""

    def api_root(self) -> None:
        self._request("GET", "/v2/", "GET /v2/")


def write_config(path: Path, config: JsonObject) -> None:
    """Rewrite the docker config atomically, mode 0600 (a symlink's target is rewritten)."""
    target = path.resolve() if path.is_symlink() else path
    data = (json.dumps(config, indent="\t") + "\n").encode()
    try:
        target.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        write_atomic(target, data, mode=0o600)
    except OSError as exc:
        raise RegistryError(
            f"cannot write {path}: {exc.strerror or exc}",
            hint=f"check the permissions of {target.parent} (DOCKER_CONFIG "
            "names another directory)",
        ) from None


def _auths(config: JsonObject, path: Path) -> JsonDict:
    auths = config.get("auths", {})
    if not isinstance(auths, dict):
        raise RegistryError(f'cannot read {path}: "auths" is not an object', hint=_CONFIG_HINT)
    return dict(auths)


def _erase(helper: str, host: str, env: Mapping[str, str]) -> bool:
    """Ask the helper to forget ``host``; False when it had nothing."""
    result = run_helper(helper, "erase", host, env)
    if result.returncode == 0:
        return True
    if helper_not_found(result):
        return False
    raise helper_failed(helper, "erase", host, result)


def _basic(credentials: Credentials) -> str:
    return base64.b64encode(f"{credentials.username}:{credentials.password}".encode()).decode()

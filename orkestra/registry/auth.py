"""Registry credentials and the HTTP authentication challenge flow.

Credentials are looked up per host, as docker and oras do: ``ORK_REGISTRY_USERNAME`` /
``ORK_REGISTRY_PASSWORD`` first (for the hosts named by ``ORK_REGISTRY`` and
``ORK_MOTIFS_REGISTRY``, or for any host when neither is set), then
``$DOCKER_CONFIG/config.json`` (default ``~/.docker/config.json``): a ``credHelpers`` entry,
the ``credsStore`` helper, then ``auths``. Helpers are the ``docker-credential-<name>``
programs. ``ork login`` writes that file (:mod:`orkestra.registry.login`), as ``docker login``
does; either works, and so does any tool writing the same format.

Requests go out anonymously; a ``401`` challenge is answered with HTTP Basic, or with a
bearer token fetched from the challenge's realm (with the credentials, or anonymously for
public repositories), and the token is reused until a challenge asks for a new scope.
Secrets never appear in messages or ``repr``.
"""

from __future__ import annotations

import base64
import json
import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlencode

from orkestra.registry.errors import RegistryAuthError, RegistryError
from orkestra.registry.refs import configured_hosts

if TYPE_CHECKING:
    import subprocess

    from orkestra.kubeobjects import JsonDict
    from orkestra.transport import Response

_PARAM = re.compile(r'(\w+)=(?:"((?:[^"\\]|\\.)*)"|([^\s,]+))')


@dataclass(frozen=True)
class Credentials:
    """A username and password, or an identity (refresh) token, and where they came from."""

    username: str = field(repr=False)
    password: str = field(repr=False, default="")
    identity_token: str = field(repr=False, default="")
    source: str = ""


def find_credentials(host: str, env: Mapping[str, str] | None = None) -> Credentials | None:
    """The credentials configured for ``host``, or None (anonymous)."""
    env = os.environ if env is None else env
    user, password = env.get("ORK_REGISTRY_USERNAME", ""), env.get("ORK_REGISTRY_PASSWORD", "")
    if user and password and _env_applies(host, env):
        return Credentials(user, password, source="ORK_REGISTRY_USERNAME")
    return _from_docker_config(host, env)


def _env_applies(host: str, env: Mapping[str, str]) -> bool:
    hosts = configured_hosts(env)
    return not hosts or host in hosts


def docker_config_path(env: Mapping[str, str]) -> Path:
    directory = env.get("DOCKER_CONFIG") or str(Path(env.get("HOME") or Path.home()) / ".docker")
    return Path(directory) / "config.json"


def read_docker_config(path: Path) -> JsonDict | None:
    """The docker config at ``path``, None when there is none; unreadable is an error."""
    try:
        config = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        raise RegistryError(
            f"cannot read {path}: {exc}", hint="fix or remove the file (it holds registry logins)"
        ) from None
    if not isinstance(config, dict):
        raise RegistryError(
            f"cannot read {path}: not a JSON object",
            hint="fix or remove the file (it holds registry logins)",
        )
    return config


def helper_for(config: Mapping[str, object], host: str) -> str:
    """The credential helper that keeps ``host``'s secret (``credHelpers``, then
    ``credsStore``), or "" when it lives in ``auths``."""
    helper = _lookup(config.get("credHelpers"), host)
    if isinstance(helper, str) and helper:
        return helper
    store = config.get("credsStore")
    return store if isinstance(store, str) else ""


def _from_docker_config(host: str, env: Mapping[str, str]) -> Credentials | None:
    path = docker_config_path(env)
    config = read_docker_config(path)
    if config is None:
        return None
    helper = _lookup(config.get("credHelpers"), host)
    if isinstance(helper, str) and helper:
        return _from_helper(helper, host, env)
    store = config.get("credsStore")
    if isinstance(store, str) and store:
        found = _from_helper(store, host, env)
        if found is not None:
            return found
    entry = _lookup(config.get("auths"), host)
    return _from_auth_entry(entry, str(path)) if isinstance(entry, dict) else None


def _lookup(table: object, host: str) -> object:
    """An entry keyed by host, tolerating docker's URL-shaped keys (``https://host/v1/``)."""
    if not isinstance(table, dict):
        return None
    for key, value in table.items():
        if isinstance(key, str) and _host_of_key(key) == host:
            return value
    if host == "docker.io":
        return _lookup(table, "index.docker.io")
    return None


def keys_for(table: Mapping[str, object], host: str) -> list[str]:
    """Every key of an ``auths`` table that names ``host`` (``host``, ``https://host/v1/``)."""
    names = {host, "index.docker.io"} if host == "docker.io" else {host}
    return [key for key in table if isinstance(key, str) and _host_of_key(key) in names]


def _host_of_key(key: str) -> str:
    return key.split("://", 1)[-1].split("/", 1)[0]


def _from_auth_entry(entry: Mapping[str, object], source: str) -> Credentials | None:
    token = entry.get("identitytoken")
    user, password = entry.get("username", ""), entry.get("password", "")
    auth = entry.get("auth")
    if auth:
        user, password = _user_password(auth, source)
    if isinstance(token, str) and token:
        return Credentials(str(user or "<token>"), identity_token=token, source=source)
    if user and password:
        return Credentials(str(user), str(password), source=source)
    return None


def _user_password(auth: object, source: str) -> tuple[str, str]:
    """The user and password of an ``auth`` field: base64 of ``user:password``."""
    invalid = RegistryError(
        f"{source}: an auths entry has an invalid auth field",
        hint="run ork login (or docker login) again",
    )
    if not isinstance(auth, str):
        raise invalid
    try:
        user, _, password = base64.b64decode(auth).decode().partition(":")
    except (ValueError, UnicodeDecodeError):
        raise invalid from None
    return user, password


def run_helper(
    helper: str, action: str, data: str, env: Mapping[str, str]
) -> subprocess.CompletedProcess[str]:
    """Run ``docker-credential-<helper> <action>`` (get, store, erase) with ``data`` on stdin."""
    import subprocess  # only for a helper: it costs every registry command 4 ms to import

    program = f"docker-credential-{helper}"
    try:
        return subprocess.run(
            [program, action],
            input=data,
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
            env=dict(env),
        )
    except FileNotFoundError:
        raise RegistryError(
            f"credential helper {program} is not installed",
            hint="install it, or remove it from ~/.docker/config.json",
        ) from None
    except subprocess.TimeoutExpired:
        raise RegistryError(f"credential helper {program} did not answer within 30s") from None


def helper_not_found(result: subprocess.CompletedProcess[str]) -> bool:
    """Whether a helper's failure only says it has nothing for that host."""
    return "not found" in (result.stdout + result.stderr).lower()


def helper_failed(
    helper: str, action: str, host: str, result: subprocess.CompletedProcess[str]
) -> RegistryError:
    return RegistryError(
        f"credential helper docker-credential-{helper} failed to {action} "
        f"the credentials of {host}",
        hint=(result.stderr or result.stdout).strip()[:200],
    )


def _from_helper(helper: str, host: str, env: Mapping[str, str]) -> Credentials | None:
    program = f"docker-credential-{helper}"
    result = run_helper(helper, "get", host, env)
    if result.returncode != 0:
        if helper_not_found(result):
            return None
        raise helper_failed(helper, "get", host, result)
    try:
        answer = json.loads(result.stdout)
        user, secret = answer["Username"], answer["Secret"]
    except (ValueError, KeyError, TypeError):
        raise RegistryError(f"credential helper {program} gave an unreadable answer") from None
    if user == "<token>":
        return Credentials(user, identity_token=secret, source=program)
    return Credentials(user, secret, source=program)


@dataclass(frozen=True)
class Challenge:
    scheme: str
    params: dict[str, str]


def parse_challenge(header: str) -> Challenge:
    """``Bearer realm="…",service="…",scope="…"`` or ``Basic realm="…"``."""
    scheme, _, rest = header.strip().partition(" ")
    params = {
        m.group(1).lower(): m.group(2) if m.group(2) is not None else m.group(3)
        for m in _PARAM.finditer(rest)
    }
    return Challenge(scheme.lower(), params)


@dataclass(frozen=True)
class TokenRequest:
    """A request for a bearer token, for the backend to send to the token service."""

    method: str
    url: str
    headers: dict[str, str] = field(repr=False)
    body: bytes | None = field(default=None, repr=False)


class RegistryAuth:
    """Answers 401 challenges with Basic credentials or a bearer token; the backend asks
    :meth:`preset` for each request's ``Authorization`` and, when a request is refused with
    a challenge, :meth:`answer` for the one to send it again with."""

    def __init__(self, host: str, credentials: Callable[[], Credentials | None]) -> None:
        self.host = host
        self._credentials = credentials
        self._loaded = False
        self._cached: Credentials | None = None
        self._basic = False
        self._last_token = ""

    def credentials(self) -> Credentials | None:
        if not self._loaded:
            self._cached, self._loaded = self._credentials(), True
        return self._cached

    def preset(self) -> str:
        """The ``Authorization`` to send before any challenge: Basic once the registry asked
        for it, else the last token fetched ("" for none yet)."""
        creds = self.credentials() if self._basic else None
        if creds is not None:
            return _basic_header(creds.username, creds.password)
        return f"Bearer {self._last_token}" if self._last_token else ""

    def answer(self, header: str, fetch: Callable[[TokenRequest], Response]) -> str:
        """The ``Authorization`` answering the challenge ``header`` (a ``WWW-Authenticate``),
        with a token from ``fetch`` for a bearer challenge; "" for a scheme not spoken."""
        challenge = parse_challenge(header)
        if challenge.scheme == "basic":
            creds = self._require_credentials()
            self._basic = True
            return _basic_header(creds.username, creds.password)
        if challenge.scheme == "bearer":
            self._last_token = self._read_token(fetch(self._token_request(challenge)), challenge)
            return f"Bearer {self._last_token}"
        return ""

    def _require_credentials(self) -> Credentials:
        creds = self.credentials()
        if creds is None or not creds.password:
            raise RegistryAuthError(
                f"{self.host} requires authentication and no credentials were found",
                hint=f"ork login {self.host}, or set ORK_REGISTRY_USERNAME and "
                "ORK_REGISTRY_PASSWORD",
            )
        return creds

    def _token_request(self, challenge: Challenge) -> TokenRequest:
        realm = challenge.params.get("realm", "")
        if not realm:
            raise RegistryAuthError(f"{self.host} sent a bearer challenge without a realm")
        query = {
            k: v
            for k, v in (
                ("service", challenge.params.get("service", "")),
                ("scope", challenge.params.get("scope", "")),
            )
            if v
        }
        creds = self.credentials()
        if creds is not None and creds.identity_token:
            form = {
                "grant_type": "refresh_token",
                "refresh_token": creds.identity_token,
                "client_id": "ork",
                **query,
            }
            headers = {"Content-Type": "application/x-www-form-urlencoded"}
            return TokenRequest("POST", realm, headers, urlencode(form).encode())
        headers = {}
        if creds is not None and creds.password:
            headers["Authorization"] = _basic_header(creds.username, creds.password)
        query["client_id"] = "ork"
        separator = "&" if "?" in realm else "?"
        return TokenRequest("GET", f"{realm}{separator}{urlencode(query)}", headers)

    def _read_token(self, response: Response, challenge: Challenge) -> str:
        if response.status in (401, 403):
            creds = self.credentials()
            raise RegistryAuthError(
                f"{self.host}: the token service refused "
                + ("the credentials from " + creds.source if creds else "anonymous access"),
                hint=f"ork login {self.host}, or set ORK_REGISTRY_USERNAME and "
                "ORK_REGISTRY_PASSWORD",
            )
        try:
            body = json.loads(response.body)
        except ValueError:
            body = None
        token = body.get("token") or body.get("access_token") if isinstance(body, dict) else None
        if response.status != 200 or not isinstance(token, str) or not token:
            raise RegistryAuthError(
                f"{self.host}: the token service at "
                f"{challenge.params.get('realm')} answered "
                f"{response.status} without a token"
            )
        return token


def _basic_header(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()

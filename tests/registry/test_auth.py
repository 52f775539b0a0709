"""Credential lookup (environment, docker config, credential helpers), challenges, and the
requests a bearer challenge makes of the token service."""

from __future__ import annotations

import base64
import json
import os
import stat
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from orkestra.registry.auth import (
    Credentials,
    RegistryAuth,
    TokenRequest,
    find_credentials,
    parse_challenge,
)
from orkestra.registry.errors import RegistryAuthError, RegistryError
from orkestra.transport import Response


def config(tmp_path: Path, doc: dict[str, object]) -> dict[str, str]:
    (tmp_path / "config.json").write_text(json.dumps(doc))
    return {"DOCKER_CONFIG": str(tmp_path), "PATH": os.environ["PATH"]}


def test_environment_credentials_apply_to_the_configured_hosts(tmp_path: Path) -> None:
    env = {
        "ORK_REGISTRY_USERNAME": "u",
        "ORK_REGISTRY_PASSWORD": "p",
        "ORK_REGISTRY": "reg.example.com/k",
        "DOCKER_CONFIG": str(tmp_path),
    }
    creds = find_credentials("reg.example.com", env)
    assert creds is not None and (creds.username, creds.password) == ("u", "p")
    assert find_credentials("elsewhere.example.com", env) is None
    env.pop("ORK_REGISTRY")
    assert find_credentials("elsewhere.example.com", env) is not None


def test_secrets_never_show_in_repr(tmp_path: Path) -> None:
    env = {
        "ORK_REGISTRY_USERNAME": "alice",
        "ORK_REGISTRY_PASSWORD": "hunter2",
        "DOCKER_CONFIG": str(tmp_path),
    }
    creds = find_credentials("h", env)
    assert "hunter2" not in repr(creds) and "alice" not in repr(creds)


def test_docker_config_auths(tmp_path: Path) -> None:
    token = base64.b64encode(b"bob:s3cret").decode()
    env = config(
        tmp_path,
        {
            "auths": {
                "https://reg.example.com/v1/": {"auth": token},
                "other.io": {"username": "x", "password": "y"},
                "id.io": {"identitytoken": "refresh-me"},
            }
        },
    )
    creds = find_credentials("reg.example.com", env)
    assert creds is not None and (creds.username, creds.password) == ("bob", "s3cret")
    other = find_credentials("other.io", env)
    assert other is not None and other.password == "y"
    identity = find_credentials("id.io", env)
    assert identity is not None and identity.identity_token == "refresh-me"
    assert find_credentials("unknown.io", env) is None


def helper(tmp_path: Path, name: str, script: str) -> str:
    path = tmp_path / "bin" / f"docker-credential-{name}"
    path.parent.mkdir(exist_ok=True)
    path.write_text("#!/bin/sh\n" + script)
    path.chmod(path.stat().st_mode | stat.S_IEXEC)
    return str(path.parent)


def test_credential_helpers(tmp_path: Path) -> None:
    bindir = helper(
        tmp_path,
        "fake",
        'read host\n[ "$1" = get ] || exit 3\n'
        'if [ "$host" = reg.example.com ]; then\n'
        '  echo \'{"ServerURL":"reg.example.com","Username":"h","Secret":"t"}\'\n'
        'else echo "credentials not found in native keychain"; exit 1; fi\n',
    )
    env = config(
        tmp_path,
        {
            "credHelpers": {"reg.example.com": "fake"},
            "credsStore": "fake",
            "auths": {"plain.io": {"username": "p", "password": "q"}},
        },
    )
    env["PATH"] = bindir + os.pathsep + env["PATH"]
    creds = find_credentials("reg.example.com", env)
    assert creds is not None and (creds.username, creds.password, creds.source) == (
        "h",
        "t",
        "docker-credential-fake",
    )
    fallback = find_credentials("plain.io", env)  # the store has nothing: auths answer
    assert fallback is not None and fallback.password == "q"


def test_broken_helpers_and_configs_are_clear(tmp_path: Path) -> None:
    env = config(tmp_path, {"credHelpers": {"reg.example.com": "missing"}})
    with pytest.raises(RegistryError, match="docker-credential-missing is not installed"):
        find_credentials("reg.example.com", env)
    bindir = helper(tmp_path, "angry", "echo 'keychain locked' >&2; exit 1\n")
    env = config(tmp_path, {"credsStore": "angry"})
    env["PATH"] = bindir + os.pathsep + env["PATH"]
    with pytest.raises(RegistryError, match="docker-credential-angry failed") as caught:
        find_credentials("h", env)
    assert "keychain locked" in caught.value.hint
    (tmp_path / "config.json").write_text("{nope")
    with pytest.raises(RegistryError, match="cannot read"):
        find_credentials("h", {"DOCKER_CONFIG": str(tmp_path)})


def test_challenges() -> None:
    bearer = parse_challenge(
        'Bearer realm="https://auth.example.com/token",'
        'service="registry.example.com",'
        'scope="repository:a/b:pull,push"'
    )
    assert bearer.scheme == "bearer"
    assert bearer.params == {
        "realm": "https://auth.example.com/token",
        "service": "registry.example.com",
        "scope": "repository:a/b:pull,push",
    }
    assert parse_challenge('Basic realm="x y"').params == {"realm": "x y"}


BEARER = (
    'Bearer realm="https://auth.example.com/token?v=2",service="reg",scope="repository:k/web:pull"'
)


class TokenService:
    """Stands in for the token service: records the requests, answers ``status`` and
    ``body``."""

    def __init__(self, status: int = 200, body: object = None) -> None:
        self.status = status
        self.body = {"token": "t1"} if body is None else body
        self.requests: list[TokenRequest] = []

    def __call__(self, request: TokenRequest) -> Response:
        self.requests.append(request)
        return Response(self.status, {}, json.dumps(self.body).encode())


def test_a_bearer_challenge_fetches_a_token_with_the_password_and_reuses_it() -> None:
    auth = RegistryAuth("reg.example.com", lambda: Credentials("u", "p"))
    assert auth.preset() == ""
    service = TokenService()
    assert auth.answer(BEARER, service) == "Bearer t1"
    (sent,) = service.requests
    url = urlsplit(sent.url)
    assert (sent.method, url.netloc, url.path) == ("GET", "auth.example.com", "/token")
    assert parse_qs(url.query) == {
        "v": ["2"],
        "service": ["reg"],
        "scope": ["repository:k/web:pull"],
        "client_id": ["ork"],
    }
    assert sent.headers == {"Authorization": "Basic " + base64.b64encode(b"u:p").decode()}
    assert auth.preset() == "Bearer t1"  # until a challenge asks for another scope


def test_an_identity_token_is_exchanged_with_a_form_post() -> None:
    auth = RegistryAuth("reg.example.com", lambda: Credentials("<token>", identity_token="rt"))
    service = TokenService(body={"access_token": "t2"})
    assert auth.answer(BEARER, service) == "Bearer t2"
    (sent,) = service.requests
    assert sent.method == "POST" and "Authorization" not in sent.headers
    assert sent.headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert sent.body is not None and parse_qs(sent.body.decode()) == {
        "grant_type": ["refresh_token"],
        "refresh_token": ["rt"],
        "client_id": ["ork"],
        "service": ["reg"],
        "scope": ["repository:k/web:pull"],
    }


def test_basic_challenges_and_refusals() -> None:
    auth = RegistryAuth("reg.example.com", lambda: Credentials("u", "p"))
    basic = "Basic " + base64.b64encode(b"u:p").decode()
    assert auth.answer('Basic realm="r"', TokenService()) == basic
    assert auth.preset() == basic  # sent up front from now on
    assert auth.answer('Negotiate realm="r"', TokenService()) == ""
    anonymous = RegistryAuth("reg.example.com", lambda: None)
    with pytest.raises(RegistryAuthError, match="no credentials were found"):
        anonymous.answer('Basic realm="r"', TokenService())
    with pytest.raises(RegistryAuthError, match="refused anonymous access"):
        anonymous.answer(BEARER, TokenService(status=401))
    with pytest.raises(RegistryAuthError, match="answered 200 without a token"):
        anonymous.answer(BEARER, TokenService(body=["not", "an", "object"]))
    with pytest.raises(RegistryAuthError, match="without a realm"):
        anonymous.answer('Bearer service="reg"', TokenService())

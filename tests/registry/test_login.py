"""Storing registry logins: host normalisation, the check against real docker-registries
(Basic and token auth), the docker config rewritten atomically with everything else kept,
credential helpers, and logout."""

from __future__ import annotations

import base64
import json
import os
import stat
import tempfile
from pathlib import Path

import pytest

from orkestra.registry.auth import Credentials, find_credentials
from orkestra.registry.errors import InvalidReferenceError, RegistryError
from orkestra.registry.login import (
    LoginFailedError,
    NotLoggedInError,
    login,
    logout,
    registry_host,
)
from orkestra.registry.retry import RetryPolicy
from tests.registry.server import PASSWORD, USER, DistributionRegistry
from tests.registry.test_auth import helper

FAST = RetryPolicy(attempts=2, base_delay=0.01, max_delay=0.02)
RIGHT = Credentials(USER, PASSWORD)
WRONG = Credentials(USER, "not-the-password")
UNREACHABLE = "127.0.0.1:1"


def env_for(tmp_path: Path, **extra: str) -> dict[str, str]:
    return {"DOCKER_CONFIG": str(tmp_path / "docker"), "PATH": os.environ["PATH"], **extra}


def write_config(env: dict[str, str], doc: object) -> Path:
    path = Path(env["DOCKER_CONFIG"]) / "config.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(doc) if not isinstance(doc, str) else doc)
    return path


def read_config(env: dict[str, str]) -> dict[str, object]:
    data = json.loads((Path(env["DOCKER_CONFIG"]) / "config.json").read_text())
    assert isinstance(data, dict)
    return data


@pytest.mark.parametrize(
    ("text", "host"),
    [
        ("ghcr.io", "ghcr.io"),
        ("GHCR.io", "ghcr.io"),
        ("127.0.0.1:5000", "127.0.0.1:5000"),
        ("https://registry.example.com/v2/", "registry.example.com"),
        ("http://localhost:5000", "localhost:5000"),
        ("oci://ghcr.io/acme/katalogs", "ghcr.io"),
        ("ghcr.io/acme", "ghcr.io"),
        ("[::1]:5000", "[::1]:5000"),
        (" quay.io ", "quay.io"),
    ],
)
def test_registry_hosts_are_normalised(text: str, host: str) -> None:
    assert registry_host(text) == host


@pytest.mark.parametrize(
    "text",
    [
        "",
        "https://",
        "host name",
        "-bad.example.com",
        "reg.example.com:port",
        "user@reg.example.com",
    ],
)
def test_invalid_registries_are_refused(text: str) -> None:
    with pytest.raises(InvalidReferenceError, match="invalid registry"):
        registry_host(text)


def test_the_embedded_registry_needs_no_login() -> None:
    with pytest.raises(InvalidReferenceError, match="needs no login"):
        registry_host("oci://local/katalogs")


def test_a_malformed_config_is_an_error_and_left_alone(tmp_path: Path) -> None:
    env = env_for(tmp_path)
    path = write_config(env, '{"auths": {')
    with pytest.raises(RegistryError, match="cannot read") as caught:
        login(UNREACHABLE, RIGHT, env, retry=FAST)  # refused before any network call
    assert "fix or remove the file" in caught.value.hint
    assert path.read_text() == '{"auths": {'
    malformed: list[object] = [[], {"auths": ["x"]}]
    for doc in malformed:
        write_config(env, doc)
        with pytest.raises(RegistryError, match="cannot read"):
            login(UNREACHABLE, RIGHT, env, retry=FAST)
        with pytest.raises(RegistryError, match="cannot read"):
            logout("ghcr.io", env)
        assert json.loads(path.read_text()) == doc


def test_an_unreachable_registry_is_a_login_failure(tmp_path: Path) -> None:
    env = env_for(tmp_path)
    with pytest.raises(RegistryError, match=rf"login failed: .*cannot connect to {UNREACHABLE}"):
        login(UNREACHABLE, RIGHT, env, retry=FAST)
    assert not (tmp_path / "docker").exists()


def test_logout_forgets_the_host_and_keeps_the_rest(tmp_path: Path) -> None:
    env = env_for(tmp_path)
    path = write_config(
        env,
        {
            "auths": {
                "https://reg.example.com/v1/": {"auth": "eDp5"},
                "reg.example.com": {"auth": "eDp5"},
                "other.io": {"auth": "eDp5"},
            },
            "HttpHeaders": {"X-Meta": "1"},
        },
    )
    assert logout("reg.example.com", env) == path
    assert read_config(env) == {
        "auths": {"other.io": {"auth": "eDp5"}},
        "HttpHeaders": {"X-Meta": "1"},
    }
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    with pytest.raises(NotLoggedInError, match=r"not logged in to reg\.example\.com"):
        logout("reg.example.com", env)


def test_logout_without_a_config_is_not_logged_in(tmp_path: Path) -> None:
    with pytest.raises(NotLoggedInError, match=r"not logged in to ghcr\.io"):
        logout("ghcr.io", env_for(tmp_path))
    assert not (tmp_path / "docker").exists()


# -- against real registries ------------------------------------------------------------------


@pytest.mark.integration
def test_wrong_password_fails_and_leaves_the_config_untouched(
    distribution_basic: DistributionRegistry, tmp_path: Path
) -> None:
    env = env_for(tmp_path)
    path = write_config(env, {"auths": {"other.io": {"auth": "eDp5"}}})
    before = path.read_bytes()
    with pytest.raises(LoginFailedError) as caught:
        login(distribution_basic.host, WRONG, env, retry=FAST)
    assert caught.value.message.startswith(
        f"login failed: GET /v2/: {distribution_basic.host} refused access (401"
    )
    assert "write:packages" in caught.value.hint
    assert "not-the-password" not in caught.value.render()
    assert path.read_bytes() == before


@pytest.mark.integration
def test_login_writes_the_config_and_keeps_everything_else(
    distribution_basic: DistributionRegistry, tmp_path: Path
) -> None:
    host = distribution_basic.host
    env = env_for(tmp_path)
    path = write_config(
        env,
        {
            "auths": {
                "other.io": {"auth": "eDp5"},
                f"https://{host}/v1/": {"auth": "b2xkOm9sZA=="},
                host: {"identitytoken": "stale"},
            },
            "credHelpers": {"gcr.io": "gcloud"},
            "psFormat": "table {{.ID}}",
        },
    )
    path.chmod(0o644)
    stored = login(host, RIGHT, env, retry=FAST)
    assert (stored.host, stored.username, stored.config_file, stored.helper) == (
        host,
        USER,
        path,
        "",
    )
    config = read_config(env)
    assert config == {
        "auths": {
            "other.io": {"auth": "eDp5"},
            host: {"auth": base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()},
        },
        "credHelpers": {"gcr.io": "gcloud"},
        "psFormat": "table {{.ID}}",
    }
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    found = find_credentials(host, env)
    assert found is not None and (found.username, found.password) == (USER, PASSWORD)
    assert [p.name for p in path.parent.iterdir()] == ["config.json"]  # no temporary left


@pytest.mark.integration
def test_login_creates_a_private_directory(
    distribution_basic: DistributionRegistry, tmp_path: Path
) -> None:
    env = env_for(tmp_path)
    login(distribution_basic.host, RIGHT, env, retry=FAST)
    directory = Path(env["DOCKER_CONFIG"])
    assert stat.S_IMODE(directory.stat().st_mode) == 0o700
    assert stat.S_IMODE((directory / "config.json").stat().st_mode) == 0o600
    assert list(read_config(env)) == ["auths"]


@pytest.mark.integration
def test_token_registries_check_the_credentials_at_their_token_service(
    distribution_token: DistributionRegistry, tmp_path: Path
) -> None:
    env = env_for(tmp_path)
    with pytest.raises(LoginFailedError, match=r"login failed: .*token service refused"):
        login(distribution_token.host, WRONG, env, retry=FAST)
    assert not (tmp_path / "docker").exists()
    login(distribution_token.host, RIGHT, env, retry=FAST)
    auths = read_config(env)["auths"]
    assert isinstance(auths, dict) and distribution_token.host in auths


@pytest.mark.integration
def test_a_symlinked_config_is_rewritten_through_the_link(
    distribution_basic: DistributionRegistry, tmp_path: Path
) -> None:
    real = tmp_path / "dotfiles" / "docker.json"
    real.parent.mkdir()
    real.write_text('{"auths": {}}')
    env = env_for(tmp_path)
    link = Path(env["DOCKER_CONFIG"]) / "config.json"
    link.parent.mkdir()
    link.symlink_to(real)
    login(distribution_basic.host, RIGHT, env, retry=FAST)
    assert link.is_symlink()
    assert distribution_basic.host in json.loads(real.read_text())["auths"]


@pytest.mark.integration
def test_a_failed_write_leaves_the_old_file_and_no_partial_one(
    distribution_basic: DistributionRegistry, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    env = env_for(tmp_path)
    path = write_config(env, {"auths": {"other.io": {"auth": "eDp5"}}})
    before = path.read_bytes()

    def refuse(src: str, dst: str) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", refuse)
    with pytest.raises(RegistryError, match=r"cannot write .*No space left on device"):
        login(distribution_basic.host, RIGHT, env, retry=FAST)
    assert path.read_bytes() == before
    assert [p.name for p in path.parent.iterdir()] == ["config.json"]


@pytest.mark.integration
def test_a_read_only_directory_is_a_clean_error(
    distribution_basic: DistributionRegistry, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    env = env_for(tmp_path)
    path = write_config(env, {"auths": {}})
    path.parent.chmod(0o500)
    if os.geteuid() == 0:  # root writes into read-only directories: refuse as the kernel would

        def refuse(*args: object, **kwargs: object) -> None:
            raise PermissionError(13, "Permission denied")

        monkeypatch.setattr(tempfile, "mkstemp", refuse)
    try:
        with pytest.raises(RegistryError, match=r"cannot write .*Permission denied") as caught:
            login(distribution_basic.host, RIGHT, env, retry=FAST)
        assert "check the permissions" in caught.value.hint
        assert path.read_text() == '{"auths": {}}'
        assert [p.name for p in path.parent.iterdir()] == ["config.json"]
    finally:
        path.parent.chmod(0o700)


# -- credential helpers ---------------------------------------------------------------------

_RECORDING_HELPER = """\
store="$(dirname "$0")/../store"
case "$1" in
  store) cat > "$store" ;;
  get) if [ -s "$store" ]; then cat "$store"; else echo "credentials not found"; exit 1; fi ;;
  erase) if [ -s "$store" ]; then : > "$store"; else echo "credentials not found"; exit 1; fi ;;
esac
"""


@pytest.mark.integration
@pytest.mark.parametrize("how", ["credsStore", "credHelpers"])
def test_a_configured_helper_keeps_the_secret(
    how: str, distribution_basic: DistributionRegistry, tmp_path: Path
) -> None:
    host = distribution_basic.host
    bindir = helper(tmp_path, "rec", _RECORDING_HELPER)
    env = env_for(tmp_path, PATH=bindir + os.pathsep + os.environ["PATH"])
    doc: dict[str, object] = (
        {"credsStore": "rec"} if how == "credsStore" else {"credHelpers": {host: "rec"}}
    )
    write_config(env, {**doc, "auths": {host: {"auth": "b2xkOm9sZA=="}}})
    stored = login(host, RIGHT, env, retry=FAST)
    assert stored.helper == "rec"
    assert read_config(env) == {**doc, "auths": {host: {}}}  # no secret left in the file
    assert json.loads((tmp_path / "store").read_text()) == {
        "ServerURL": host,
        "Username": USER,
        "Secret": PASSWORD,
    }
    found = find_credentials(host, env)
    assert found is not None and (found.password, found.source) == (
        PASSWORD,
        "docker-credential-rec",
    )
    logout(host, env)
    assert (tmp_path / "store").read_text() == ""
    assert read_config(env) == {**doc, "auths": {}}
    with pytest.raises(NotLoggedInError):
        logout(host, env)


@pytest.mark.integration
def test_a_failing_helper_is_reported(
    distribution_basic: DistributionRegistry, tmp_path: Path
) -> None:
    bindir = helper(tmp_path, "locked", "echo 'keychain locked' >&2; exit 1\n")
    env = env_for(tmp_path, PATH=bindir + os.pathsep + os.environ["PATH"])
    path = write_config(env, {"credsStore": "locked"})
    with pytest.raises(RegistryError, match="docker-credential-locked failed to store") as caught:
        login(distribution_basic.host, RIGHT, env, retry=FAST)
    assert "keychain locked" in caught.value.hint
    assert json.loads(path.read_text()) == {"credsStore": "locked"}

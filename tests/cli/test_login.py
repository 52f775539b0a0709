"""ork login / ork logout as CI uses them: against a real docker-registry with htpasswd Basic
auth, the password from stdin, -p, prompts, exit codes, -o json, and the push and pull that
follow working with no credentials in the environment."""

from __future__ import annotations

import io
import json
import os
import stat
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import click
import pytest

from tests.conftest import run
from tests.registry.server import PASSWORD, USER, DistributionRegistry, serve


def stdin(monkeypatch: pytest.MonkeyPatch, text: str, tty: bool = False) -> None:
    class Input(io.StringIO):
        def isatty(self) -> bool:
            return tty

    monkeypatch.setattr(sys, "stdin", Input(text))


def config_path() -> Path:
    return Path(os.environ["DOCKER_CONFIG"]) / "config.json"


def seed_config() -> bytes:
    path = config_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"auths": {"other.io": {"auth": "eDp5"}}, "psFormat": "table"}))
    return path.read_bytes()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["-u", "ci"], "no password: use --password-stdin"),
        ([], "no username: give -u USER"),
        (["-u", "ci", "-p", "x", "--password-stdin"], "mutually exclusive"),
        (["--password-stdin"], "--password-stdin needs -u USER"),
    ],
)
def test_usage_errors_without_a_terminal(
    args: list[str],
    message: str,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    stdin(monkeypatch, "")
    code, out, err = run(capsys, "login", "127.0.0.1:1", *args)
    assert (code, out) == (2, "")
    assert message in err
    assert not config_path().exists()


def test_empty_password_from_stdin_is_a_usage_error(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    stdin(monkeypatch, "\n")
    code, _, err = run(capsys, "login", "127.0.0.1:1", "-u", "ci", "--password-stdin")
    assert code == 2
    assert "stdin held no password" in err


def test_invalid_registry_and_malformed_config(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    stdin(monkeypatch, "secret\n")
    code, _, err = run(capsys, "login", "not a host", "-u", "ci", "--password-stdin")
    assert code == 1
    assert 'invalid registry "not a host"' in err
    path = config_path()
    path.parent.mkdir(parents=True)
    path.write_text("{broken")
    stdin(monkeypatch, "secret\n")
    code, out, err = run(capsys, "login", "127.0.0.1:1", "-u", "ci", "--password-stdin")
    assert (code, out) == (1, "")
    assert err.startswith(f"cannot read {path}: ")
    assert "hint: fix or remove the file" in err
    assert path.read_text() == "{broken"


def test_logout_when_not_logged_in(capsys: pytest.CaptureFixture[str]) -> None:
    seed_config()
    code, out, err = run(capsys, "logout", "https://ghcr.io/")
    assert (code, out) == (1, "")
    assert err.startswith("not logged in to ghcr.io\n")


def test_help_lists_both_commands(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "--help")
    assert code == 0
    assert "  login " in out and "  logout " in out
    code, out, _ = run(capsys, "logout", "--help")
    assert code == 0 and "Usage: ork logout [OPTIONS] REGISTRY" in out


# -- against a registry with htpasswd Basic auth -----------------------------------------------


@pytest.mark.integration
def test_wrong_password_fails_and_leaves_the_config(
    distribution_basic: DistributionRegistry,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    before = seed_config()
    stdin(monkeypatch, "wrong-password\n")
    code, out, err = run(capsys, "login", distribution_basic.host, "-u", USER, "--password-stdin")
    assert (code, out) == (1, "")
    assert err.startswith(f"login failed: GET /v2/: {distribution_basic.host} refused access (401")
    assert "write:packages" in err and "read:packages" in err
    assert "wrong-password" not in err
    assert config_path().read_bytes() == before


@pytest.mark.integration
def test_dash_p_works_with_a_warning(
    distribution_basic: DistributionRegistry,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    stdin(monkeypatch, "")
    code, out, err = run(
        capsys, "login", f"oci://{distribution_basic.host}/katalogs", "-u", USER, "-p", PASSWORD
    )
    assert (code, out) == (0, "Login Succeeded\n")
    assert "using --password on the command line is insecure" in err
    assert "use --password-stdin" in err
    assert PASSWORD not in out + err


@pytest.mark.integration
def test_terminal_prompts(
    distribution_basic: DistributionRegistry,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    asked: list[tuple[str, bool]] = []

    def prompt(text: str, hide_input: bool = False, err: bool = False) -> str:
        asked.append((text, hide_input))
        assert err  # prompts go to stderr: stdout stays clean for -o json
        return PASSWORD if hide_input else USER

    stdin(monkeypatch, "", tty=True)
    monkeypatch.setattr(click, "prompt", prompt)
    code, out, _ = run(capsys, "login", distribution_basic.host)
    assert (code, out) == (0, "Login Succeeded\n")
    assert asked == [("Username", False), (f"Password for {USER}", True)]


@pytest.mark.integration
def test_json_output_never_shows_the_secret(
    distribution_basic: DistributionRegistry,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    stdin(monkeypatch, PASSWORD + "\r\n")
    code, out, err = run(
        capsys, "login", distribution_basic.host, "-u", USER, "--password-stdin", "-o", "json"
    )
    assert code == 0, err
    assert json.loads(out) == {
        "registry": distribution_basic.host,
        "username": USER,
        "configFile": str(config_path()),
        "credentialHelper": None,
    }
    assert PASSWORD not in out + err


@pytest.mark.integration
def test_insecure_falls_back_to_plain_http(
    distribution_basic: DistributionRegistry,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    stdin(monkeypatch, PASSWORD + "\n")
    code, out, err = run(
        capsys, "login", distribution_basic.host, "-u", USER, "--password-stdin", "--insecure"
    )
    assert (code, out) == (0, "Login Succeeded\n"), err


@pytest.fixture(scope="module")
def tls_basic(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DistributionRegistry]:
    """docker-registry over TLS with a certificate nothing trusts, and Basic auth."""
    yield from serve(tmp_path_factory.mktemp("registry-tls-basic"), auth="basic", tls=True)


@pytest.mark.integration
def test_untrusted_tls_needs_insecure(
    tls_basic: DistributionRegistry,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    host = tls_basic.host  # loopback: plain HTTP unless --insecure
    stdin(monkeypatch, PASSWORD + "\n")
    code, out, err = run(capsys, "login", host, "-u", USER, "--password-stdin")
    assert (code, out) == (1, "")
    assert err.startswith(f"login failed: GET /v2/: {host} answered 400")
    assert "--insecure tries HTTPS" in err
    stdin(monkeypatch, PASSWORD + "\n")
    code, out, err = run(capsys, "login", host, "-u", USER, "--password-stdin", "--insecure")
    assert (code, out) == (0, "Login Succeeded\n"), err


@pytest.mark.integration
def test_login_then_push_and_pull_then_logout(
    distribution_basic: DistributionRegistry,
    pack_copy: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    host = distribution_basic.host
    monkeypatch.setenv("ORK_MOTIFS_REGISTRY", f"{host}/t{uuid.uuid4().hex[:10]}/motifs")
    motif = str(pack_copy / "01-motifs" / "web-service")
    code, _, err = run(capsys, "push", motif)
    assert code == 1 and "requires authentication" in err  # no credentials anywhere yet

    seed_config()
    stdin(monkeypatch, PASSWORD + "\n")
    code, out, err = run(capsys, "login", host, "-u", USER, "--password-stdin")
    assert (code, out) == (0, "Login Succeeded\n")
    assert f"stored unencrypted in {config_path()}" in err
    path = config_path()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    config = json.loads(path.read_text())
    assert config["psFormat"] == "table" and "other.io" in config["auths"]
    assert "ORK_REGISTRY_USERNAME" not in os.environ

    code, _, err = run(capsys, "push", motif)
    assert code == 0, err
    code, out, err = run(capsys, "pull", "web-service:v1.0.0", "--motif", "--refresh")
    assert code == 0, err
    assert "Cached at" in out

    code, out, err = run(capsys, "logout", host)
    assert (code, out, err) == (0, f"Removing login credentials for {host}\n", "")
    assert json.loads(path.read_text()) == {
        "auths": {"other.io": {"auth": "eDp5"}},
        "psFormat": "table",
    }
    code, _, err = run(capsys, "pull", "web-service:v1.0.0", "--motif", "--refresh")
    assert code == 1
    assert f"{host} requires authentication and no credentials were found" in err
    code, _, err = run(capsys, "logout", host)
    assert code == 1 and err.startswith(f"not logged in to {host}\n")

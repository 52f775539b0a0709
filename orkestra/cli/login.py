"""``ork login`` and ``ork logout``: registry credentials in the docker config, as docker,
oras and helm keep them (the work is in :mod:`orkestra.registry.login`)."""

from __future__ import annotations

import sys

import click

from orkestra.cli.output import emit, progress, warn
from orkestra.cli.params import format_option
from orkestra.cli.refs import insecure_option
from orkestra.errors import UsageError
from orkestra.registry.auth import Credentials
from orkestra.registry.login import Login, login, logout, registry_host


@click.command("login")
@click.argument("registry", metavar="REGISTRY")
@click.option("-u", "--username", help="Username (prompted on a terminal when omitted).")
@click.option("-p", "--password", help="Password or token (insecure: prefer --password-stdin).")
@click.option(
    "--password-stdin",
    "password_stdin",
    is_flag=True,
    help="Read the password or token from stdin.",
)
@insecure_option
@format_option()
def command(
    registry: str,
    username: str | None,
    password: str | None,
    password_stdin: bool,
    insecure: bool,
    output: str,
) -> int:
    """Check credentials against REGISTRY (HOST[:PORT]) and store them for ork, docker,
    oras and helm in $DOCKER_CONFIG/config.json (or its credential helper).

    \b
    echo "$GITHUB_TOKEN" | ork login ghcr.io -u "$GITHUB_ACTOR" --password-stdin
    ork login registry.example.com          prompts for username and password
    ork login 127.0.0.1:5000 -u ci --password-stdin --insecure < token.txt
    """
    host = registry_host(registry)
    if password is not None and password_stdin:
        raise UsageError("--password and --password-stdin are mutually exclusive")
    if password_stdin and not username:
        raise UsageError("--password-stdin needs -u USER (stdin carries the password)")
    user = username or _prompt_username()
    secret = _password(password, password_stdin, user)
    stored = login(host, Credentials(user, secret, source="ork login"), insecure=insecure)
    if output != "text":
        emit(
            output,
            {
                "registry": stored.host,
                "username": stored.username,
                "configFile": str(stored.config_file),
                "credentialHelper": stored.helper or None,
            },
        )
        return 0
    _report(stored)
    return 0


@click.command("logout")
@click.argument("registry", metavar="REGISTRY")
def logout_command(registry: str) -> int:
    """Remove the credentials stored for REGISTRY (HOST[:PORT])."""
    host = registry_host(registry)
    logout(host)
    progress(f"Removing login credentials for {host}")
    return 0


def _prompt_username() -> str:
    if not sys.stdin.isatty():
        raise UsageError("no username: give -u USER (stdin is not a terminal to prompt on)")
    return str(click.prompt("Username", err=True))


def _password(password: str | None, from_stdin: bool, user: str) -> str:
    if from_stdin:
        secret = sys.stdin.read().removesuffix("\n").removesuffix("\r")
        if not secret:
            raise UsageError("--password-stdin: stdin held no password")
        return secret
    if password is not None:
        warn(
            "using --password on the command line is insecure (process list, shell "
            "history): use --password-stdin"
        )
        if not password:
            raise UsageError("--password is empty")
        return password
    if not sys.stdin.isatty():
        raise UsageError("no password: use --password-stdin (stdin is not a terminal to prompt on)")
    return str(click.prompt(f"Password for {user}", hide_input=True, err=True))


def _report(stored: Login) -> None:
    if not stored.helper:
        warn(
            f"the credentials are stored unencrypted in {stored.config_file}; a credential "
            "helper (credsStore) keeps them in a keychain"
        )
    progress("Login Succeeded")

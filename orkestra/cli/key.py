"""``ork key``: the key that signs your gate reports, and the publishers you trust.

The work is in :mod:`orkestra.registry.trust.keys`; this module prints.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from orkestra.cli.groups import SuggestingGroup
from orkestra.cli.output import emit, out, progress, style, warn
from orkestra.cli.params import format_option
from orkestra.kubeobjects import JsonDict
from orkestra.registry.cache import orkestra_home
from orkestra.registry.trust.keys import (
    SIGNING_KEY_VARIABLE,
    Keyring,
    PublicKey,
    SigningKey,
    TrustedKey,
    file_id,
)

_OUTPUT = format_option()


def _keyring() -> Keyring:
    return Keyring(orkestra_home())


@click.group("key", cls=SuggestingGroup)
def command() -> None:
    """Keys that sign and verify gate reports.

    \b
    ork key show                  your key id and public key (made on first use)
    ork key show --pem > me.pub   the public key to give to consumers
    ork key trust me.pub          trust a publisher (a PEM or ssh-ed25519 public key)
    ork key list                  the keys you trust
    ork key untrust SHA256:…      stop trusting one

    ork push signs every gate report with $ORK_SIGNING_KEY (a private key file or its PEM
    text, for CI) or your per-user key in $ORK_HOME/keys (~/.orkestra/keys). ork inspect and
    ork patterns show ✓ Verified only for reports signed by a key you trust: your own and
    those in $ORK_HOME/trusted-keys.
    """


@command.command("show")
@click.option("--pem", is_flag=True, help="Print only the public key (PEM).")
@_OUTPUT
def show(pem: bool, output: str) -> int:
    """Show the key ork push signs with (creating your per-user key if there is none)."""
    key = _keyring().signing_key()
    if pem:
        sys.stdout.write(key.public.pem())
        return 0
    if output != "text":
        emit(output, _signing_json(key))
        return 0
    out(f"Key id:      {key.public.id}")
    out(f"Private key: {key.source}")
    out(f"OpenSSH:     {key.public.openssh()}")
    out()
    out("Public key (consumers trust it with: ork key trust FILE):")
    sys.stdout.write(key.public.pem())
    return 0


@command.command("generate")
@click.option("--force", is_flag=True, help="Replace an existing per-user key.")
@_OUTPUT
def generate(force: bool, output: str) -> int:
    """Create your per-user signing key ($ORK_HOME/keys/signing.pem, mode 0600)."""
    keyring = _keyring()
    key, old = keyring.generate(force=force)
    if output != "text":
        emit(output, {**_signing_json(key), "replaced": old.public.id if old else None})
        return 0
    progress(style("✓", "green") + f" Generated {key.public.id}")
    progress(f"  Private key: {key.source}")
    progress(f"  Public key:  {keyring.public_path}")
    if old is not None:
        progress(
            f'  Replaced {old.public.id}: artifacts it signed now read "not in your trusted '
            'keys" unless you trust its public key (ork key trust FILE)'
        )
    if keyring.env.get(SIGNING_KEY_VARIABLE):
        warn(f"{SIGNING_KEY_VARIABLE} is set: ork push signs with that key, not this one")
    return 0


@command.command("trust")
@click.argument("file", metavar="FILE|-")
@_OUTPUT
def trust(file: str, output: str) -> int:
    """Trust a publisher's public key (PEM, or an ssh-ed25519 line; - reads stdin)."""
    data = sys.stdin.buffer.read() if file == "-" else _read(Path(file))
    key = PublicKey.parse(data, "stdin" if file == "-" else file)
    path, new = _keyring().trust(key)
    if output != "text":
        emit(output, {"id": key.id, "path": str(path) if path else None, "added": new})
        return 0
    if new:
        progress(style("✓", "green") + f" Trusted {key.id}")
        progress(f"  {path}")
    else:
        progress(f"{key.id} is already trusted" + (f" ({path})" if path else ""))
    return 0


@command.command("list")
@_OUTPUT
def list_keys(output: str) -> int:
    """List the keys whose signatures you trust (yours first)."""
    keys = list(_keyring().trusted().values())
    if output != "text":
        emit(output, [_trusted_json(k) for k in keys])
        return 0
    if not keys:
        out(
            "No trusted keys yet (your own key is made on your first ork push, or by ork key show)."
        )
        return 0
    for known in keys:
        where = str(known.path) if known.path else SIGNING_KEY_VARIABLE
        out(f"{known.key.id}  {'(your signing key) ' if known.own else ''}{where}")
    return 0


@command.command("untrust")
@click.argument("key_id", metavar="ID")
def untrust(key_id: str) -> int:
    """Stop trusting a key (by its id, as ork key list shows it)."""
    removed = _keyring().untrust(key_id)
    wanted = key_id if key_id.startswith("SHA256:") else f"SHA256:{key_id}"
    progress(style("✓", "green") + f" No longer trusted: {wanted}")
    for path in removed:
        progress(f"  removed {path}")
    return 0


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise click.FileError(str(path), exc.strerror or str(exc)) from None


def _signing_json(key: SigningKey) -> JsonDict:
    return {
        "id": key.public.id,
        "source": key.source,
        "publicKey": key.public.pem(),
        "openssh": key.public.openssh(),
        "fileName": f"{file_id(key.public.id)}.pub",
    }


def _trusted_json(known: TrustedKey) -> JsonDict:
    return {
        "id": known.key.id,
        "own": known.own,
        "path": str(known.path) if known.path else None,
        "publicKey": known.key.pem(),
    }

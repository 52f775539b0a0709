"""Ed25519 signing keys: the publisher's own, and the publishers a consumer trusts.

Where they live (``ORK_HOME``, by default ``~/.orkestra``)::

    keys/                   0700
      signing.pem           0600  the per-user private key (PKCS#8 PEM), made on first use
      signing.pub                 its public key (SubjectPublicKeyInfo PEM)
    trusted-keys/           0700
      SHA256_<id>.pub             one public key per trusted publisher

``ORK_SIGNING_KEY`` replaces the per-user key (for CI): the path of a private key, PKCS#8
PEM or OpenSSH (``ssh-keygen -t ed25519``), or the PEM text itself (a CI secret). The keys
you sign with are trusted automatically.

A key id is the key's SHA-256 fingerprint as ``ssh-keygen -l`` prints it:
``SHA256:`` and the unpadded base64 of the SHA-256 of the key's SSH wire encoding; so the
same key shows the same id here and in OpenSSH. A trusted key's file name is that id with
``/`` and ``+`` made file-safe, but it is never relied upon: every file is read and its id
computed from the key inside.

A push signs without cryptography's ``serialization`` package, whose import (OpenSSH, RSA,
the ciphers: ~9 ms) it would otherwise pay for three small encodings of one key type: the
id is hashed from the raw key, and the PEM forms of an Ed25519 key are fixed (RFC 8410: a
constant DER prefix, then the 32 key bytes), so the public key PEM in the signature and the
private key as ork writes it (unencrypted PKCS#8) are made and read here. Any other key
text, and every other encoding, goes through the package.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import hashlib
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

from orkestra.errors import OrkError
from orkestra.files import write_atomic
from orkestra.registry.errors import RegistryError

SIGNING_KEY_VARIABLE = "ORK_SIGNING_KEY"
KEYS_DIR, TRUSTED_DIR = "keys", "trusted-keys"
PRIVATE_FILE, PUBLIC_FILE = "signing.pem", "signing.pub"
_PKCS8_PEM = (b"-----BEGIN PRIVATE KEY-----", b"-----END PRIVATE KEY-----")
_PKCS8_ED25519 = bytes.fromhex("302e020100300506032b657004220420")
"""The DER of an unencrypted PKCS#8 Ed25519 private key up to its seed (RFC 8410)."""
_SPKI_ED25519 = bytes.fromhex("302a300506032b6570032100")
"""The DER of an Ed25519 SubjectPublicKeyInfo up to the key (RFC 8410)."""


class SigningKeyError(RegistryError):
    """A key could not be read, written or used."""


@dataclass(frozen=True)
class PublicKey:
    """An Ed25519 public key."""

    key: Ed25519PublicKey

    @property
    def id(self) -> str:
        """``SHA256:<base64>``, as ``ssh-keygen -l`` shows the same key: the SHA-256 of its
        SSH wire encoding (RFC 8709: two length-prefixed strings, the type and the key)."""
        wire = b"".join(
            len(part).to_bytes(4, "big") + part
            for part in (b"ssh-ed25519", self.key.public_bytes_raw())
        )
        return "SHA256:" + base64.b64encode(hashlib.sha256(wire).digest()).decode().rstrip("=")

    def pem(self) -> str:
        """SubjectPublicKeyInfo PEM (one base64 line: the DER is 44 bytes)."""
        der = base64.b64encode(_SPKI_ED25519 + self.key.public_bytes_raw()).decode()
        return f"-----BEGIN PUBLIC KEY-----\n{der}\n-----END PUBLIC KEY-----\n"

    def openssh(self) -> str:
        from cryptography.hazmat.primitives import serialization

        return self.key.public_bytes(
            serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH
        ).decode()

    def verifies(self, signature: bytes, data: bytes) -> bool:
        try:
            self.key.verify(signature, data)
        except InvalidSignature:
            return False
        return True

    @classmethod
    def parse(cls, data: bytes, where: str) -> PublicKey:
        """A public key as PEM (``-----BEGIN PUBLIC KEY-----``) or an OpenSSH line
        (``ssh-ed25519 AAAA…``); a private key is refused, so it is not copied around."""
        from cryptography.hazmat.primitives import serialization

        text = data.strip()
        if b"PRIVATE KEY" in text:
            raise SigningKeyError(
                f"{where} holds a private key",
                hint="give the publisher's public key (ork key show --pem prints yours)",
            )
        try:
            key = (
                serialization.load_ssh_public_key(text)
                if text.startswith(b"ssh-")
                else serialization.load_pem_public_key(text)
            )
        except (ValueError, UnsupportedAlgorithm):
            raise SigningKeyError(
                f"{where} is not a public key",
                hint="expected a PEM public key (-----BEGIN PUBLIC KEY-----) or "
                "an OpenSSH ssh-ed25519 line",
            ) from None
        if not isinstance(key, Ed25519PublicKey):
            raise SigningKeyError(
                f"{where} is not an Ed25519 key",
                hint="ork signs and verifies with Ed25519 keys only",
            )
        return cls(key)


@dataclass(frozen=True)
class SigningKey:
    """A private key and where it came from (a path, or ``ORK_SIGNING_KEY``)."""

    private: Ed25519PrivateKey
    source: str

    @property
    def public(self) -> PublicKey:
        return PublicKey(self.private.public_key())

    def sign(self, data: bytes) -> bytes:
        return self.private.sign(data)

    def pem(self) -> bytes:
        from cryptography.hazmat.primitives import serialization

        return self.private.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )

    @classmethod
    def generate(cls, source: str) -> SigningKey:
        return cls(Ed25519PrivateKey.generate(), source)

    @classmethod
    def parse(cls, data: bytes, source: str) -> SigningKey:
        seed = _pkcs8_seed(data)
        if seed is not None:
            return cls(Ed25519PrivateKey.from_private_bytes(seed), source)
        from cryptography.hazmat.primitives import serialization

        try:
            key = (
                serialization.load_ssh_private_key(data, password=None)
                if b"OPENSSH PRIVATE KEY" in data
                else serialization.load_pem_private_key(data, password=None)
            )
        except TypeError:
            raise SigningKeyError(
                f"{source}: the private key is encrypted",
                hint="ork needs an unencrypted key (keep it in a secret store "
                "and write it out for the push)",
            ) from None
        except (ValueError, UnsupportedAlgorithm):
            raise SigningKeyError(
                f"{source} is not a private key",
                hint="expected a PEM (-----BEGIN PRIVATE KEY-----) or OpenSSH Ed25519 private key",
            ) from None
        if not isinstance(key, Ed25519PrivateKey):
            raise SigningKeyError(
                f"{source} is not an Ed25519 key", hint="ssh-keygen -t ed25519, or ork key generate"
            )
        return cls(key, source)


@dataclass(frozen=True)
class TrustedKey:
    key: PublicKey
    path: Path | None  # None: the ORK_SIGNING_KEY text itself
    own: bool = False


def _pkcs8_seed(data: bytes) -> bytes | None:
    """The seed of an unencrypted PKCS#8 PEM Ed25519 key; None for any other text."""
    lines = data.strip().splitlines()
    if len(lines) < 3 or (lines[0], lines[-1]) != _PKCS8_PEM:
        return None
    try:
        der = base64.b64decode(b"".join(lines[1:-1]), validate=True)
    except binascii.Error:
        return None
    if len(der) != len(_PKCS8_ED25519) + 32 or not der.startswith(_PKCS8_ED25519):
        return None
    return der[len(_PKCS8_ED25519) :]


def file_id(key_id: str) -> str:
    """A key id as a file name: ``SHA256_`` and base64url (``/`` → ``_``, ``+`` → ``-``)."""
    return key_id.replace(":", "_", 1).replace("/", "_").replace("+", "-")


class Keyring:
    """The keys under one ``ORK_HOME``, with ``ORK_SIGNING_KEY`` from ``env``."""

    def __init__(self, home: Path, env: Mapping[str, str] | None = None) -> None:
        self.home = home
        self.env = dict(os.environ if env is None else env)

    @property
    def private_path(self) -> Path:
        return self.home / KEYS_DIR / PRIVATE_FILE

    @property
    def public_path(self) -> Path:
        return self.home / KEYS_DIR / PUBLIC_FILE

    @property
    def trusted_dir(self) -> Path:
        return self.home / TRUSTED_DIR

    # -- signing -----------------------------------------------------------------------
    def signing_key(self) -> SigningKey:
        """The key ``ork push`` signs with: ``ORK_SIGNING_KEY``, else the per-user key,
        created on first use."""
        configured = self.configured_key()
        if configured is not None:
            return configured
        return self.user_key() or self._create()

    def configured_key(self) -> SigningKey | None:
        value = self.env.get(SIGNING_KEY_VARIABLE, "").strip()
        if not value:
            return None
        if value.startswith("-----BEGIN"):
            return SigningKey.parse(value.encode(), SIGNING_KEY_VARIABLE)
        path = Path(value).expanduser()
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise SigningKeyError(
                f"{SIGNING_KEY_VARIABLE}: cannot read {path} ({exc.strerror or exc})",
                hint="set it to the path of an Ed25519 private key, or unset it "
                "to sign with your own key",
            ) from None
        return SigningKey.parse(data, str(path))

    def user_key(self) -> SigningKey | None:
        """The per-user key, if it exists (never created here)."""
        path = self.private_path
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise SigningKeyError(f"cannot read {path} ({exc.strerror or exc})") from None
        if os.name == "posix" and path.stat().st_mode & 0o077:
            raise SigningKeyError(
                f"{path} can be read by other users",
                hint=f"chmod 600 {path} (like ssh, ork refuses an unprotected private key)",
            )
        key = SigningKey.parse(data, str(path))
        if not self.public_path.is_file():
            with contextlib.suppress(OSError, OrkError):  # a copy; the private key rules
                write_atomic(self.public_path, key.public.pem().encode())
        return key

    def generate(self, *, force: bool = False) -> tuple[SigningKey, SigningKey | None]:
        """A new per-user key; returns it and the key it replaced (only with ``force``,
        which also replaces a key that cannot be used, say one readable by others)."""
        try:
            old = self.user_key()
        except SigningKeyError:
            if not force:
                raise
            old = None
        if old is not None and not force:
            raise SigningKeyError(
                f"a signing key already exists: {old.public.id} ({old.source})",
                hint="ork key generate --force replaces it; artifacts it signed "
                "then verify as trusted only if you trust its public key",
            )
        key = SigningKey.generate(str(self.private_path))
        self._write_private(key, replace=True)
        return key, old

    def _create(self) -> SigningKey:
        key = SigningKey.generate(str(self.private_path))
        if not self._write_private(key, replace=False):
            existing = self.user_key()  # another ork created it first: use theirs
            if existing is not None:
                return existing
        return key

    def _write_private(self, key: SigningKey, *, replace: bool) -> bool:
        """Write the private key (0600) and its public key; False when ``replace`` is off
        and a key appeared meanwhile. The file appears whole or not at all."""
        import tempfile  # only the first push on a machine makes a key

        directory = self.private_path.parent
        try:
            _private_dir(directory)
            fd, name = tempfile.mkstemp(dir=directory, prefix=f".{PRIVATE_FILE}.")  # 0600
            try:
                with os.fdopen(fd, "wb") as handle:
                    handle.write(key.pem())
                    handle.flush()
                    os.fsync(handle.fileno())
                if replace:
                    os.replace(name, self.private_path)
                elif not _link(Path(name), self.private_path):
                    return False
            finally:
                Path(name).unlink(missing_ok=True)
            write_atomic(self.public_path, key.public.pem().encode())
        except OSError as exc:
            raise SigningKeyError(
                f"cannot write the signing key in {directory} ({exc.strerror or exc})",
                hint="ORK_HOME must be writable, or set ORK_SIGNING_KEY",
            ) from None
        return True

    # -- trust -------------------------------------------------------------------------
    def own_keys(self) -> list[TrustedKey]:
        """The keys this user signs with (configured and per-user), without creating one."""
        found = []
        for load in (self.configured_key, self.user_key):
            with contextlib.suppress(SigningKeyError):
                key = load()
                if key is not None:
                    path = Path(key.source) if key.source != SIGNING_KEY_VARIABLE else None
                    found.append(TrustedKey(key.public, path, own=True))
        return found

    def trusted(self) -> dict[str, TrustedKey]:
        """Every trusted key by id: your own, then ``trusted-keys/*.pub`` (an unreadable
        file is skipped: it cannot vouch for anything)."""
        keys = {k.key.id: k for k in self.own_keys()}
        for known in self._trusted_files():
            keys.setdefault(known.key.id, known)
        return keys

    def trust(self, key: PublicKey) -> tuple[Path | None, bool]:
        """Add a key; returns its file and whether it was new."""
        known = self.trusted().get(key.id)
        if known is not None:
            return known.path, False
        path = self.trusted_dir / f"{file_id(key.id)}.pub"
        try:
            _private_dir(self.trusted_dir)
            write_atomic(path, key.pem().encode())
        except OSError as exc:
            raise SigningKeyError(f"cannot write {path} ({exc.strerror or exc})") from None
        return path, True

    def untrust(self, key_id: str) -> list[Path]:
        """Remove a trusted key (every file holding it); your own key cannot be removed."""
        wanted = key_id if key_id.startswith("SHA256:") else f"SHA256:{key_id}"
        if any(k.key.id == wanted for k in self.own_keys()):
            raise SigningKeyError(
                f"{wanted} is your own signing key; it is always trusted",
                hint="ork key generate --force replaces it",
            )
        removed = [k.path for k in self._trusted_files() if k.key.id == wanted and k.path]
        if not removed:
            raise SigningKeyError(f"{wanted} is not a trusted key", hint="ork key list shows them")
        for path in removed:
            path.unlink(missing_ok=True)
        return removed

    def _trusted_files(self) -> list[TrustedKey]:
        out = []
        if self.trusted_dir.is_dir():
            for path in sorted(self.trusted_dir.glob("*.pub")):
                with contextlib.suppress(OSError, SigningKeyError):
                    out.append(TrustedKey(PublicKey.parse(path.read_bytes(), str(path)), path))
        return out


def _link(source: Path, target: Path) -> bool:
    """Give ``source`` the name ``target`` unless ``target`` exists (first writer wins)."""
    try:
        os.link(source, target)
    except FileExistsError:
        return False
    return True


def _private_dir(directory: Path) -> None:
    """Create ``directory`` readable by its owner only (an existing one is left alone)."""
    if not directory.is_dir():
        directory.mkdir(parents=True, exist_ok=True)
        os.chmod(directory, 0o700)

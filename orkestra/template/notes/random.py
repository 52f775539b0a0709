"""Random notes. Their output changes on every render, so a resource using them needs
``once: true`` (the value is generated when the object is first created, then kept)."""

from __future__ import annotations

import base64
import string

from orkestra.template.functions import Func, P, func

# secrets (and hashlib behind it) loads on the first call: every template check imports
# this table.

_ALPHANUMERIC = string.ascii_letters + string.digits


def _count(n: int) -> int:
    if n < 0 or n > 4096:
        raise ValueError(f"length must be between 0 and 4096, got {n}")
    return n


@func("randomAlphanumeric", P.INT)
def random_alphanumeric(n: int) -> str:
    import secrets

    return "".join(secrets.choice(_ALPHANUMERIC) for _ in range(_count(n)))


@func("randomHex", P.INT)
def random_hex(n: int) -> str:
    """N hexadecimal characters."""
    import secrets

    return secrets.token_hex((_count(n) + 1) // 2)[:n]


@func("randomBase64", P.INT)
def random_base64(n: int) -> str:
    """Base64 of N random bytes."""
    import secrets

    return base64.b64encode(secrets.token_bytes(_count(n))).decode("ascii")


NOTES: tuple[Func, ...] = (random_alphanumeric, random_hex, random_base64)

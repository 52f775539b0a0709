"""List pages and their ``continue`` tokens.

A token records the resourceVersion the first page was served at and the last object's
position (namespace, name); the next page continues after that position. A token older than
the history the store keeps is answered with 410 Gone, as a real server answers a token
whose etcd revision was compacted.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass

from orkestra.cluster.errors import BadRequestError, GoneError
from orkestra.kubeobjects import KubeObject


@dataclass(frozen=True)
class Page:
    items: list[KubeObject]
    resource_version: int
    continue_token: str
    remaining: int


def encode_continue(resource_version: int, position: tuple[str, str]) -> str:
    data = json.dumps({"v": 1, "rv": resource_version, "after": list(position)})
    return base64.urlsafe_b64encode(data.encode()).decode().rstrip("=")


def decode_continue(token: str, oldest: int) -> tuple[int, tuple[str, str]]:
    """(resourceVersion, position) of a token; 410 Gone when older than ``oldest``."""
    try:
        padded = token + "=" * (-len(token) % 4)
        data = json.loads(base64.urlsafe_b64decode(padded.encode()))
        version, (namespace, name) = int(data["rv"]), data["after"]
    except (binascii.Error, ValueError, KeyError, TypeError) as exc:
        raise BadRequestError(f"invalid continue token: {exc}") from None
    if version < oldest:
        raise GoneError(
            "The provided continue parameter is too old to display a consistent "
            "list result. You can start a new list without the continue "
            "parameter."
        )
    return version, (str(namespace), str(name))

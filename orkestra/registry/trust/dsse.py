"""DSSE envelopes (Dead Simple Signing Envelope v1): sign a payload, read and check one.

The envelope is the standard JSON form::

    {"payloadType": "application/vnd.in-toto+json",
     "payload": "<base64 of the statement>",
     "signatures": [{"keyid": "SHA256:…", "sig": "<base64 Ed25519 signature>",
                     "extension": {"kind": "application/vnd.orkestra.signer.v1+json",
                                   "ext": {"publicKey": "-----BEGIN PUBLIC KEY-----…"}}}]}

Each signature covers the pre-authentication encoding
``DSSEv1 <len(type)> <type> <len(body)> <body>``, never the JSON around it. The signer's
public key travels in the signature's ``extension`` (DSSE 1.1 signature extensions), so
anyone can check that nothing changed since signing, trusted or not; ``keyid`` is only a
claim (DSSE: unauthenticated), and a claim that does not match the carried key is refused.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from typing import TypedDict

from orkestra.kubeobjects import Json, JsonDict, JsonObject
from orkestra.registry.errors import IntegrityError
from orkestra.registry.trust.keys import PublicKey, SigningKey, SigningKeyError

IN_TOTO_PAYLOAD = "application/vnd.in-toto+json"
SIGNER_EXTENSION = "application/vnd.orkestra.signer.v1+json"
MAX_ENVELOPE_BYTES = 4 * 1024 * 1024


class SignerKey(TypedDict):
    publicKey: str


class SignerExtension(TypedDict):
    kind: str
    ext: SignerKey


class Signature(TypedDict):
    keyid: str
    sig: str
    extension: SignerExtension


class Envelope(TypedDict):
    """An envelope as :func:`sign` writes it (one read back is checked key by key)."""

    payloadType: str
    payload: str
    signatures: list[Signature]


def pae(payload_type: str, body: bytes) -> bytes:
    """The DSSE v1 pre-authentication encoding of ``body``."""
    kind = payload_type.encode()
    return b"DSSEv1 %d %s %d %s" % (len(kind), kind, len(body), body)


def sign(body: bytes, key: SigningKey, payload_type: str = IN_TOTO_PAYLOAD) -> bytes:
    """An envelope holding ``body`` with one signature by ``key``."""
    public = key.public
    signature: Signature = {
        "keyid": public.id,
        "sig": base64.b64encode(key.sign(pae(payload_type, body))).decode(),
        "extension": {"kind": SIGNER_EXTENSION, "ext": {"publicKey": public.pem()}},
    }
    envelope: Envelope = {
        "payloadType": payload_type,
        "payload": base64.b64encode(body).decode(),
        "signatures": [signature],
    }
    return json.dumps(envelope, indent=2).encode() + b"\n"


@dataclass(frozen=True)
class Signed:
    """An envelope whose every signature checked out against the key it carries."""

    payload_type: str
    body: bytes
    signers: tuple[PublicKey, ...]


class BadEnvelopeError(IntegrityError):
    """The envelope is malformed or a signature does not hold."""


def open_envelope(data: bytes) -> Signed:
    """Parse an envelope and check every signature; raises :class:`BadEnvelopeError`
    saying what is wrong."""
    if len(data) > MAX_ENVELOPE_BYTES:
        raise BadEnvelopeError("the signed report is too large")
    doc = _object(_json(data), "the envelope")
    payload_type = doc.get("payloadType")
    if not isinstance(payload_type, str):
        raise BadEnvelopeError("the envelope has no payloadType")
    body = _base64(doc.get("payload"), "payload")
    signatures = doc.get("signatures")
    if not isinstance(signatures, list) or not signatures:
        raise BadEnvelopeError("the envelope has no signature")
    message = pae(payload_type, body)
    return Signed(
        payload_type, body, tuple(_check(_object(s, "a signature"), message) for s in signatures)
    )


def _check(signature: JsonObject, message: bytes) -> PublicKey:
    ext = signature.get("extension")
    carried = (
        ext.get("ext") if isinstance(ext, dict) and ext.get("kind") == SIGNER_EXTENSION else None
    )
    pem = carried.get("publicKey") if isinstance(carried, dict) else None
    if not isinstance(pem, str):
        raise BadEnvelopeError("a signature does not carry its public key")
    try:
        key = PublicKey.parse(pem.encode(), "the signer's key")
    except SigningKeyError as exc:
        raise BadEnvelopeError(exc.message) from None
    claimed = signature.get("keyid", "")
    if claimed != key.id:
        raise BadEnvelopeError(
            f"the signature claims key {claimed or '(none)'} but carries {key.id}"
        )
    if not key.verifies(_base64(signature.get("sig"), "sig"), message):
        raise BadEnvelopeError(f"the signature by {key.id} does not match the report")
    return key


def _json(data: bytes) -> Json:
    try:
        doc: Json = json.loads(data)
    except (ValueError, UnicodeDecodeError):
        raise BadEnvelopeError("the signed report is not JSON") from None
    return doc


def _object(value: Json, what: str) -> JsonDict:
    if not isinstance(value, dict):
        raise BadEnvelopeError(f"{what} is not a JSON object")
    return value


def _base64(value: Json, what: str) -> bytes:
    if not isinstance(value, str):
        raise BadEnvelopeError(f"the envelope's {what} is missing")
    padded = value + "=" * (-len(value) % 4)
    for alphabet in (None, b"-_"):  # DSSE allows standard or URL-safe base64
        try:
            return base64.b64decode(padded, altchars=alphabet, validate=True)
        except (binascii.Error, ValueError):
            continue
    raise BadEnvelopeError(f"the envelope's {what} is not base64")

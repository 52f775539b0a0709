"""What an attacker with write access to a registry can do to a pushed pattern, through the
registry API (so the same on the embedded registry and on a docker-registry): rewrite the
manifest under the same tag, swap a layer, strip or replace the signed report, and forge
index entries."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from typing import Any

from orkestra.registry.artifact import SIGNED_REPORT_TYPE
from orkestra.registry.client import RegistryClient
from orkestra.registry.oci import MANIFEST_MEDIA_TYPE, TITLE, Descriptor
from orkestra.registry.refs import Reference
from orkestra.registry.trust.dsse import pae
from orkestra.registry.trust.keys import SigningKey

Doc = dict[str, Any]


def manifest(client: RegistryClient, ref: Reference) -> Doc:
    _, _, data = client.manifest(ref)
    doc: Doc = json.loads(data)
    return doc


def rewrite(client: RegistryClient, ref: Reference, change: Callable[[Doc], None]) -> None:
    """Push the manifest of ``ref``, changed, under the same tag."""
    doc = manifest(client, ref)
    change(doc)
    client.backend(ref).push_manifest(
        ref.repository, json.dumps(doc).encode(), MANIFEST_MEDIA_TYPE, ref.tag
    )


def annotate(client: RegistryClient, ref: Reference, notes: dict[str, str]) -> None:
    """Set (or, with "", remove) manifest annotations; the layers stay as they are."""

    def change(doc: Doc) -> None:
        for key, value in notes.items():
            if value:
                doc["annotations"][key] = value
            else:
                doc["annotations"].pop(key, None)

    rewrite(client, ref, change)


def upload(client: RegistryClient, ref: Reference, data: bytes, media_type: str, title: str) -> Doc:
    descriptor = Descriptor.of(data, media_type, {TITLE: title})
    client.backend(ref).push_blob(ref.repository, descriptor, data)
    return descriptor.to_json()


def replace_layer(client: RegistryClient, ref: Reference, title: str, data: bytes) -> None:
    def change(doc: Doc) -> None:
        for i, layer in enumerate(doc["layers"]):
            if layer["annotations"][TITLE] == title:
                doc["layers"][i] = upload(client, ref, data, layer["mediaType"], title)

    rewrite(client, ref, change)


def add_layer(client: RegistryClient, ref: Reference, title: str, data: bytes) -> None:
    rewrite(
        client,
        ref,
        lambda doc: doc["layers"].insert(
            0, upload(client, ref, data, "application/octet-stream", title)
        ),
    )


def strip_report(client: RegistryClient, ref: Reference) -> None:
    rewrite(
        client,
        ref,
        lambda doc: doc.update(
            layers=[layer for layer in doc["layers"] if layer["mediaType"] != SIGNED_REPORT_TYPE]
        ),
    )


def envelope(client: RegistryClient, ref: Reference) -> Doc:
    manifest_, _, _ = client.manifest(ref)
    layer = next(la for la in manifest_.layers if la.media_type == SIGNED_REPORT_TYPE)
    doc: Doc = json.loads(client.blob(ref, layer))
    return doc


def replace_report(client: RegistryClient, ref: Reference, doc: Doc) -> None:
    """Swap the signed report layer for ``doc`` (an envelope, however forged)."""
    data = json.dumps(doc).encode()

    def change(manifest_: Doc) -> None:
        for i, layer in enumerate(manifest_["layers"]):
            if layer["mediaType"] == SIGNED_REPORT_TYPE:
                manifest_["layers"][i] = upload(
                    client, ref, data, SIGNED_REPORT_TYPE, layer["annotations"][TITLE]
                )

    rewrite(client, ref, change)


def statement(doc: Doc) -> Doc:
    body: Doc = json.loads(base64.b64decode(doc["payload"]))
    return body


def resign(
    doc: Doc, body: Doc, key: SigningKey, *, claim: str | None = None, carry: str | None = None
) -> Doc:
    """``doc`` with ``body`` as payload, signed by ``key``; the signature may claim another
    key id (``claim``) and carry another public key (``carry``, PEM)."""
    payload = json.dumps(body).encode()
    signature = base64.b64encode(key.sign(pae(doc["payloadType"], payload))).decode()
    return {
        "payloadType": doc["payloadType"],
        "payload": base64.b64encode(payload).decode(),
        "signatures": [
            {
                "keyid": claim or key.public.id,
                "sig": signature,
                "extension": {
                    "kind": doc["signatures"][0]["extension"]["kind"],
                    "ext": {"publicKey": carry or key.public.pem()},
                },
            }
        ],
    }

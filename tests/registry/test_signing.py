"""Signing keys, DSSE envelopes, and checking a pushed pattern against its signed report:
a clean push verifies, every forgery reads tampered or unsigned, and a valid signature
proves nothing unless the reader trusts its key."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import shutil
import stat
import subprocess
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from orkestra.registry.artifact import E2E, SIGNED_REPORT_FILE, SIGNED_REPORT_TYPE, SIMULATE
from orkestra.registry.cache import orkestra_home
from orkestra.registry.client import RegistryClient
from orkestra.registry.refs import Reference
from orkestra.registry.trust.dsse import BadEnvelopeError, open_envelope, pae, sign
from orkestra.registry.trust.keys import Keyring, PublicKey, SigningKey, SigningKeyError
from orkestra.registry.trust.statement import PREDICATE_TYPE, STATEMENT_TYPE
from orkestra.registry.trust.verify import TAMPERED, UNSIGNED, VERIFIED, Verification, check
from tests.conftest import PACK, RegistryTarget
from tests.gates.test_push import push
from tests.registry import forgery


def keyring() -> Keyring:
    return Keyring(orkestra_home())


# -- keys ----------------------------------------------------------------------------------
def test_the_per_user_key_is_made_on_first_use_like_ssh_keygen() -> None:
    ring = keyring()
    assert ring.user_key() is None and not ring.private_path.parent.exists()
    key = ring.signing_key()
    assert stat.S_IMODE(ring.private_path.parent.stat().st_mode) == 0o700
    assert stat.S_IMODE(ring.private_path.stat().st_mode) == 0o600
    assert PublicKey.parse(ring.public_path.read_bytes(), "pub").id == key.public.id
    assert ring.signing_key().public.id == key.public.id  # the same key from now on
    assert list(ring.trusted()) == [key.public.id]  # your own key is trusted
    os.chmod(ring.private_path, 0o644)
    with pytest.raises(SigningKeyError, match="can be read by other users"):
        ring.signing_key()


def test_racing_first_uses_agree_on_one_key() -> None:
    with ThreadPoolExecutor(max_workers=8) as pool:
        ids = set(pool.map(lambda _: keyring().signing_key().public.id, range(16)))
    assert len(ids) == 1
    assert [p.name for p in keyring().private_path.parent.iterdir()] in (
        ["signing.pem", "signing.pub"],
        ["signing.pub", "signing.pem"],
    )  # no temporary left


def test_key_ids_are_ssh_fingerprints() -> None:
    key = SigningKey.generate("test")
    assert key.public.id.startswith("SHA256:") and len(key.public.id) == 7 + 43
    if not shutil.which("ssh-keygen"):
        pytest.skip("ssh-keygen is not installed")
    listed = subprocess.run(
        ["ssh-keygen", "-lf", "-"],
        input=key.public.openssh(),
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert listed.split()[1] == key.public.id


def test_the_key_encodings_made_by_hand_are_the_librarys() -> None:
    """A push makes the public key PEM, reads the private key PEM and hashes the id without
    cryptography's serialization package: each must be what the package makes of the key."""
    for _ in range(16):
        key = SigningKey.generate("test")
        public = key.private.public_key()
        spki = public.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        assert key.public.pem().encode() == spki
        assert SigningKey.parse(key.pem(), "pem").private.private_bytes_raw() == (
            key.private.private_bytes_raw()
        )
        wire = base64.b64decode(key.public.openssh().split()[1])
        assert key.public.id == "SHA256:" + base64.b64encode(
            hashlib.sha256(wire).digest()
        ).decode().rstrip("=")


def test_a_configured_key_signs_instead(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    ci = SigningKey.generate("ci")
    path = tmp_path / "ci.pem"
    path.write_bytes(ci.pem())
    monkeypatch.setenv("ORK_SIGNING_KEY", str(path))
    ring = keyring()
    assert ring.signing_key().public.id == ci.public.id
    assert not ring.private_path.exists()  # no per-user key made behind the CI's back
    assert ci.public.id in ring.trusted()
    monkeypatch.setenv("ORK_SIGNING_KEY", ci.pem().decode())  # the PEM text, as a CI secret
    assert keyring().signing_key().public.id == ci.public.id
    openssh = ci.private.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.OpenSSH,
        serialization.NoEncryption(),
    )
    path.write_bytes(openssh)  # ssh-keygen -t ed25519 writes this
    monkeypatch.setenv("ORK_SIGNING_KEY", str(path))
    assert keyring().signing_key().public.id == ci.public.id


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"not a key", "is not a private key"),
        (b"-----BEGIN PRIVATE KEY-----\nMC4CAQAw!!\n-----END PRIVATE KEY-----\n", "not a private"),
        (  # the Ed25519 prefix, a seed too short
            b"-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIAAA\n-----END PRIVATE KEY-----\n",
            "is not a private key",
        ),
        (
            ec.generate_private_key(ec.SECP256R1()).private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            ),
            "is not an Ed25519 key",
        ),
        (
            Ed25519PrivateKey.generate().private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.BestAvailableEncryption(b"pw"),
            ),
            "is encrypted",
        ),
    ],
)
def test_unusable_configured_keys(
    data: bytes, message: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "k.pem").write_bytes(data)
    monkeypatch.setenv("ORK_SIGNING_KEY", str(tmp_path / "k.pem"))
    with pytest.raises(SigningKeyError, match=message):
        keyring().signing_key()
    monkeypatch.setenv("ORK_SIGNING_KEY", str(tmp_path / "missing.pem"))
    with pytest.raises(SigningKeyError, match="cannot read"):
        keyring().signing_key()


def test_trust_and_untrust() -> None:
    ring = keyring()
    own = ring.signing_key().public
    other = SigningKey.generate("other").public
    path, new = ring.trust(PublicKey.parse(other.openssh().encode(), "line"))
    assert new and path is not None and path.parent == ring.trusted_dir
    assert "/" not in path.name[:-4].removeprefix("SHA256_")
    assert ring.trust(other) == (path, False)
    assert set(ring.trusted()) == {own.id, other.id}
    with pytest.raises(SigningKeyError, match="your own signing key"):
        ring.untrust(own.id)
    assert ring.untrust(other.id.removeprefix("SHA256:")) == [path]
    with pytest.raises(SigningKeyError, match="is not a trusted key"):
        ring.untrust(other.id)
    with pytest.raises(SigningKeyError, match="holds a private key"):
        PublicKey.parse(SigningKey.generate("x").pem(), "secret.pem")


# -- DSSE ----------------------------------------------------------------------------------
def test_pae_is_the_dsse_v1_encoding() -> None:
    assert (
        pae("http://example.com/HelloWorld", b"hello world")
        == b"DSSEv1 29 http://example.com/HelloWorld 11 hello world"
    )


def test_envelopes_round_trip_and_refuse_forgeries() -> None:
    key, other = SigningKey.generate("k"), SigningKey.generate("o")
    data = sign(b'{"a": 1}', key)
    opened = open_envelope(data)
    assert (opened.body, [k.id for k in opened.signers]) == (b'{"a": 1}', [key.public.id])
    doc = json.loads(data)
    body = base64.b64decode(doc["payload"])
    cases = {
        "does not match": {**doc, "payload": base64.b64encode(body + b" ").decode()},
        "claims key": forgery.resign(doc, json.loads(body), other, claim=key.public.id),
        "does not match the report": forgery.resign(
            doc, json.loads(body), other, claim=key.public.id, carry=key.public.pem()
        ),
        "no signature": {**doc, "signatures": []},
        "does not carry its public key": {
            **doc,
            "signatures": [{"keyid": key.public.id, "sig": doc["signatures"][0]["sig"]}],
        },
    }
    for message, forged in cases.items():
        with pytest.raises(BadEnvelopeError, match=message):
            open_envelope(json.dumps(forged).encode())
    with pytest.raises(BadEnvelopeError, match="not JSON"):
        open_envelope(b"\xff")


# -- a pushed pattern ----------------------------------------------------------------------
@pytest.fixture
def pushed(tmp_path: Path, registry: RegistryTarget) -> Reference:
    """official/redis pushed with its simulate gate (e2e skipped), signed by this home's
    key."""
    shutil.copytree(PACK / "official" / "redis", tmp_path / "redis")
    result, _ = push(tmp_path / "redis", no_e2e=True)
    return result.ref


def verdict(ref: Reference, trusted: set[str] | None = None) -> Verification:
    client = RegistryClient()
    manifest, _, _ = client.manifest(ref)
    return check(client, ref, manifest, trusted)


def test_a_clean_push_verifies(pushed: Reference) -> None:
    client = RegistryClient()
    info = client.info(pushed)
    assert info.signed_report is not None
    assert (info.signed_report.title, info.signed_report.media_type) == (
        SIGNED_REPORT_FILE,
        SIGNED_REPORT_TYPE,
    )
    assert info.files[-1] == info.signed_report
    proof = verdict(pushed)
    own = keyring().signing_key().public.id
    assert (proof.state, proof.trusted, proof.key_id, proof.reasons) == (VERIFIED, True, own, ())
    assert proof.proven and proof.label == "verified (trusted)"
    statement = proof.statement
    assert statement is not None
    assert (statement["_type"], statement["predicateType"]) == (STATEMENT_TYPE, PREDICATE_TYPE)
    assert [(s["name"], "sha256:" + s["digest"]["sha256"]) for s in statement["subject"]] == [
        (f.title, f.digest) for f in info.files[:-1]
    ]
    predicate = statement["predicate"]
    assert predicate["pattern"] == {"kind": "Katalog", "name": "redis", "version": "v1.0.0"}
    assert predicate["annotations"] == info.manifest.annotations
    assert predicate["tool"]["name"] == "ork" and predicate["runner"] == "local"
    gates = predicate["gates"]
    assert gates["validate"]["files"][0] == "katalog.yaml"
    assert info.simulate is not None and gates["simulate"]["status"] == "passed"
    assert (
        gates["simulate"]["assertions"]
        == info.simulate.assertions
        == gates["simulate"]["counts"]["total"]
    )
    assert "✓ create statefulsets/my-redis-redis (cycle 1)" in gates["simulate"]["checks"]
    assert gates["e2e"]["status"] == "skipped"


def test_a_different_key_set_does_not_trust_it(pushed: Reference) -> None:
    proof = verdict(pushed, trusted={SigningKey.generate("someone").public.id})
    assert (proof.state, proof.trusted) == (VERIFIED, False)
    assert not proof.proven and proof.label == "verified (key not trusted)"


def test_edited_annotations_are_tampered(pushed: Reference) -> None:
    forgery.annotate(
        RegistryClient(),
        pushed,
        {E2E + "status": "passed", E2E + "cluster": "kind", "io.orkestra.pattern.license": "MIT"},
    )
    proof = verdict(pushed)
    assert proof.state == TAMPERED and not proof.proven
    assert "e2e status: the annotations say passed, the signed report says skipped" in proof.reasons
    assert "e2e cluster: the annotations say kind, the signed report says (none)" in proof.reasons
    assert any(
        r.startswith("annotation pattern.license: the manifest says 'MIT'") for r in proof.reasons
    )
    assert proof.about("e2e").startswith("e2e status")
    assert proof.key_id  # the signature itself held


def test_a_removed_gate_record_is_tampered(pushed: Reference) -> None:
    forgery.annotate(RegistryClient(), pushed, {SIMULATE + "status": ""})
    assert "simulate result was removed from the annotations" in verdict(pushed).reasons


def test_a_replaced_layer_is_tampered(pushed: Reference) -> None:
    forgery.replace_layer(RegistryClient(), pushed, "katalog.yaml", b"kind: Katalog\n")
    proof = verdict(pushed)
    assert proof.state == TAMPERED
    assert proof.reasons[0].startswith("katalog.yaml is not the file that was signed")


def test_an_added_layer_is_tampered(pushed: Reference) -> None:
    forgery.add_layer(RegistryClient(), pushed, "evil.py", b"import os\n")
    assert "evil.py is not in the signed report" in verdict(pushed).reasons


def test_a_stripped_report_is_unsigned(pushed: Reference) -> None:
    forgery.strip_report(RegistryClient(), pushed)
    proof = verdict(pushed)
    assert (proof.state, proof.key_id, proof.proven) == (UNSIGNED, "", False)


def test_a_corrupted_signature_is_tampered(pushed: Reference) -> None:
    client = RegistryClient()
    doc = forgery.envelope(client, pushed)
    sig = bytearray(base64.b64decode(doc["signatures"][0]["sig"]))
    sig[0] ^= 1
    doc["signatures"][0]["sig"] = base64.b64encode(bytes(sig)).decode()
    forgery.replace_report(client, pushed, doc)
    proof = verdict(pushed)
    assert proof.state == TAMPERED and "does not match the report" in proof.reason


def test_a_report_re_signed_by_another_key_claiming_the_original_is_tampered(
    pushed: Reference,
) -> None:
    client = RegistryClient()
    doc = forgery.envelope(client, pushed)
    original = doc["signatures"][0]
    body = forgery.statement(doc)
    body["predicate"]["gates"]["e2e"]["status"] = "passed"
    attacker = SigningKey.generate("attacker")
    for forged, message in (
        (forgery.resign(doc, body, attacker, claim=original["keyid"]), "claims key"),
        (
            forgery.resign(
                doc,
                body,
                attacker,
                claim=original["keyid"],
                carry=original["extension"]["ext"]["publicKey"],
            ),
            "does not match the report",
        ),
    ):
        forgery.replace_report(client, pushed, forged)
        proof = verdict(pushed)
        assert proof.state == TAMPERED and message in proof.reason


def test_a_forgery_re_signed_by_the_forger_is_not_trusted(pushed: Reference) -> None:
    """Annotations and report rewritten consistently and signed by the forger's own key:
    the signature holds, so only trust can tell — and the forger is not trusted."""
    client = RegistryClient()
    notes = {E2E + "status": "passed", E2E + "cluster": "kind", E2E + "assertions": "9"}
    forgery.annotate(client, pushed, notes)
    doc = forgery.envelope(client, pushed)
    body = forgery.statement(doc)
    body["predicate"]["annotations"].update(notes)
    body["predicate"]["gates"]["e2e"].update(status="passed", cluster="kind", assertions=9)
    attacker = SigningKey.generate("attacker")
    forgery.replace_report(client, pushed, forgery.resign(doc, body, attacker))
    proof = verdict(pushed)
    assert (proof.state, proof.trusted, proof.key_id) == (VERIFIED, False, attacker.public.id)
    assert not proof.proven

"""``ork key``: show, generate, trust, list, untrust, as a user runs them."""

from __future__ import annotations

import io
import json
import sys
from pathlib import Path

import pytest

from orkestra.registry.cache import orkestra_home
from orkestra.registry.trust.keys import SigningKey
from tests.conftest import run


@pytest.fixture(autouse=True)
def no_color(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NO_COLOR", "1")


def test_show_makes_the_key_once(capsys: pytest.CaptureFixture[str]) -> None:
    keys = orkestra_home() / "keys"
    code, out, _ = run(capsys, "key", "show")
    assert code == 0
    lines = out.splitlines()
    assert lines[0].startswith("Key id:      SHA256:")
    key_id = lines[0].split()[-1]
    assert lines[1] == f"Private key: {keys / 'signing.pem'}"
    assert lines[2].startswith("OpenSSH:     ssh-ed25519 AAAA")
    assert "Public key (consumers trust it with: ork key trust FILE):" in lines
    assert out.endswith("-----END PUBLIC KEY-----\n")
    code, out, _ = run(capsys, "key", "show", "--pem")
    assert out == (keys / "signing.pub").read_text()
    code, out, _ = run(capsys, "key", "show", "-o", "json")
    data = json.loads(out)
    assert (data["id"], data["source"]) == (key_id, str(keys / "signing.pem"))
    code, out, _ = run(capsys, "key", "list")
    assert out == f"{key_id}  (your signing key) {keys / 'signing.pem'}\n"


def test_generate_refuses_to_replace_without_force(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "key", "generate")
    assert code == 0 and out.startswith("✓ Generated SHA256:")
    first = out.split()[2]
    code, _, err = run(capsys, "key", "generate")
    assert code == 1
    assert f"a signing key already exists: {first}" in err
    assert "hint: ork key generate --force replaces it" in err
    code, out, _ = run(capsys, "key", "generate", "--force", "-o", "json")
    data = json.loads(out)
    assert data["replaced"] == first and data["id"] != first


def test_trust_list_untrust(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    publisher = SigningKey.generate("publisher").public
    (tmp_path / "publisher.pub").write_text(publisher.pem())
    code, out, _ = run(capsys, "key", "trust", str(tmp_path / "publisher.pub"))
    assert code == 0
    assert out.splitlines()[0] == f"✓ Trusted {publisher.id}"
    code, out, _ = run(capsys, "key", "trust", str(tmp_path / "publisher.pub"))
    assert out.startswith(f"{publisher.id} is already trusted")
    other = SigningKey.generate("other").public
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(other.openssh().encode())))
    code, out, _ = run(capsys, "key", "trust", "-", "-o", "json")
    assert json.loads(out)["id"] == other.id
    code, out, _ = run(capsys, "key", "list", "-o", "json")
    assert {k["id"] for k in json.loads(out)} == {publisher.id, other.id}
    code, out, _ = run(capsys, "key", "untrust", publisher.id)
    assert code == 0 and out.startswith(f"✓ No longer trusted: {publisher.id}\n  removed ")
    code, _, err = run(capsys, "key", "untrust", publisher.id)
    assert code == 1 and f"{publisher.id} is not a trusted key" in err


def test_trust_refuses_what_is_not_a_public_key(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "secret.pem").write_bytes(SigningKey.generate("s").pem())
    code, _, err = run(capsys, "key", "trust", str(tmp_path / "secret.pem"))
    assert code == 1 and "holds a private key" in err
    (tmp_path / "junk.pub").write_text("hello\n")
    code, _, err = run(capsys, "key", "trust", str(tmp_path / "junk.pub"))
    assert code == 1 and "is not a public key" in err
    code, _, err = run(capsys, "key", "trust", str(tmp_path / "missing.pub"))
    assert code == 1 and "missing.pub" in err
    code, _, err = run(capsys, "key", "untrust", "SHA256:nope")
    assert code == 1 and "not a trusted key" in err


def test_generate_warns_when_a_configured_key_signs(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    ci = SigningKey.generate("ci")
    (tmp_path / "ci.pem").write_bytes(ci.pem())
    monkeypatch.setenv("ORK_SIGNING_KEY", str(tmp_path / "ci.pem"))
    code, out, _ = run(capsys, "key", "show", "-o", "json")
    assert json.loads(out)["id"] == ci.public.id
    code, _, err = run(capsys, "key", "generate")
    assert code == 0 and "ORK_SIGNING_KEY is set: ork push signs with that key" in err
    code, _, err = run(capsys, "key", "untrust", ci.public.id)
    assert code == 1 and "your own signing key" in err

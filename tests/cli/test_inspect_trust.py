"""What ``ork inspect`` and ``ork patterns`` show about a signed pattern: a clean push reads
``✓ Verified`` for its publisher, an untrusted signer never does, and forged manifests,
layers, reports and index entries read tampered or unsigned."""

from __future__ import annotations

import base64
import json
import re
import shutil
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest

from orkestra.cli.quality import gate_status
from orkestra.registry.artifact import E2E, SIMULATE, GateRecord
from orkestra.registry.client import RegistryClient
from orkestra.registry.refs import Reference
from orkestra.registry.trust.keys import SigningKey
from orkestra.registry.trust.verify import TAMPERED, UNSIGNED, VERIFIED, Verification
from tests.conftest import PACK, RegistryTarget, run
from tests.registry import forgery

REF = "redis:v1.0.0"


@pytest.fixture(autouse=True)
def no_color(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NO_COLOR", "1")


@pytest.fixture
def pushed(
    tmp_path: Path, registry: RegistryTarget, capsys: pytest.CaptureFixture[str]
) -> Reference:
    shutil.copytree(PACK / "official" / "redis", tmp_path / "redis")
    code, _, err = run(capsys, "push", "--no-e2e", str(tmp_path / "redis"))
    assert code == 0, err
    return RegistryClient().resolve(REF)


def row(out: str, label: str) -> str:
    return next(line for line in out.splitlines() if line.startswith(f"  {label + ':':<12} "))


def patterns_row(out: str) -> list[str]:
    """The redis row of ``ork patterns``: SIM, E2E, SIGNED."""
    line = next(line for line in out.splitlines() if line.split()[:1] == ["redis"])
    return line.split()[3:6]


def own_key_id(capsys: pytest.CaptureFixture[str]) -> str:
    return str(json.loads(run(capsys, "key", "show", "-o", "json")[1])["id"])


def test_a_clean_push_is_verified(pushed: Reference, capsys: pytest.CaptureFixture[str]) -> None:
    key_id = own_key_id(capsys)
    code, out, _ = run(capsys, "inspect", REF)
    assert code == 0
    assert row(out, "Signed") == f"  Signed:      ✓ by {key_id} (trusted)"
    assert re.fullmatch(r"  Simulate:    ✓ Verified · \d+ assertions · .*", row(out, "Simulate"))
    assert row(out, "E2E") == "  E2E:         ⊘ Skipped (pushed with --force or --no-e2e)"
    assert "    gate-report.dsse.json" in out
    code, out, _ = run(capsys, "inspect", REF, "-o", "json")
    data = json.loads(out)
    assert data["signature"] == {
        "status": "verified",
        "trusted": True,
        "keyId": key_id,
        "publicKey": data["signature"]["publicKey"],
        "reasons": [],
    }
    assert data["simulate"]["verified"] is True
    assert data["signedReport"]["name"] == "gate-report.dsse.json"
    code, out, _ = run(capsys, "inspect", REF, "--report")
    assert out.splitlines()[1] == f"Signed: ✓ by {key_id} (trusted)"
    assert "    ✓ create statefulsets/my-redis-redis (cycle 1)" in out
    code, out, _ = run(capsys, "inspect", REF, "--report", "-o", "json")
    assert json.loads(out)["statement"]["predicate"]["pattern"]["name"] == "redis"
    code, out, _ = run(capsys, "inspect", REF, "--versions")
    assert re.search(r"v1\.0\.0\s+✓ Simulate · \d+ assertions\s+⊘ E2E skipped", out)
    code, out, _ = run(capsys, "patterns")
    assert patterns_row(out) == ["✓", "⊘", "✓"]
    assert "tampered" not in out and "not in your trusted keys" not in out
    code, out, _ = run(capsys, "patterns", "-o", "json")
    [entry] = json.loads(out)["patterns"]
    assert (entry["verified"], entry["signature"]["keyId"]) == (True, key_id)


def test_a_signer_you_do_not_trust_is_never_verified(
    pushed: Reference,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    publisher = own_key_id(capsys)
    (tmp_path / "publisher.pub").write_text(run(capsys, "key", "show", "--pem")[1])
    # A consumer: another ORK_HOME (another key), the same registry.
    local = RegistryClient().local_root
    monkeypatch.setenv("ORK_HOME", str(tmp_path / "consumer"))
    monkeypatch.setenv("ORK_LOCAL_REGISTRY", str(local))
    assert own_key_id(capsys) != publisher
    out = run(capsys, "inspect", REF)[1]
    assert row(out, "Signed") == f"  Signed:      ✓ by {publisher} (not in your trusted keys)"
    assert row(out, "Simulate").startswith("  Simulate:    ⚠ Passed (signer not trusted) · ")
    assert "✓ Verified" not in out
    out = run(capsys, "patterns")[1]
    assert patterns_row(out) == ["?", "⊘", "?"]
    assert f"?  redis:v1.0.0: signed by {publisher} (not in your trusted keys)" in out
    # Trusting some other publisher changes nothing; trusting this one verifies it.
    (tmp_path / "other.pub").write_text(SigningKey.generate("other").public.pem())
    assert run(capsys, "key", "trust", str(tmp_path / "other.pub"))[0] == 0
    assert "✓ Verified" not in run(capsys, "inspect", REF)[1]
    assert run(capsys, "key", "trust", str(tmp_path / "publisher.pub"))[0] == 0
    out = run(capsys, "inspect", REF)[1]
    assert row(out, "Signed") == f"  Signed:      ✓ by {publisher} (trusted)"
    assert row(out, "Simulate").startswith("  Simulate:    ✓ Verified · ")
    assert patterns_row(run(capsys, "patterns")[1]) == ["✓", "⊘", "✓"]


def _annotations(client: RegistryClient, ref: Reference) -> None:
    forgery.annotate(
        client, ref, {E2E + "status": "passed", E2E + "cluster": "kind", E2E + "assertions": "5"}
    )


def _layer(client: RegistryClient, ref: Reference) -> None:
    forgery.replace_layer(client, ref, "simulate.yaml", b"apiVersion: v1\n")


def _signature(client: RegistryClient, ref: Reference) -> None:
    doc = forgery.envelope(client, ref)
    doc["signatures"][0]["sig"] = base64.b64encode(b"\0" * 64).decode()
    forgery.replace_report(client, ref, doc)


def _resigned(client: RegistryClient, ref: Reference) -> None:
    """Simulate's record downgraded and re-signed by another key, claiming the original."""
    forgery.annotate(client, ref, {SIMULATE + "assertions": "99"})
    doc = forgery.envelope(client, ref)
    body = forgery.statement(doc)
    body["predicate"]["annotations"][SIMULATE + "assertions"] = "99"
    body["predicate"]["gates"]["simulate"]["assertions"] = 99
    forgery.replace_report(
        client,
        ref,
        forgery.resign(
            doc, body, SigningKey.generate("attacker"), claim=doc["signatures"][0]["keyid"]
        ),
    )


@pytest.mark.parametrize(
    ("forge", "simulate", "e2e", "why"),
    [
        (
            _annotations,
            "  Simulate:    ✗ Tampered (another gate's record disagrees with the signed report)",
            "  E2E:         ✗ Tampered (e2e status: the annotations say passed, the signed report "
            "says skipped; e2e assertions: ",
            "e2e status: the annotations say passed",
        ),
        (
            _layer,
            "  Simulate:    ✗ Tampered (simulate.yaml is not the file that was signed",
            "  E2E:         ✗ Tampered (simulate.yaml is not the file",
            "simulate.yaml is not the",
        ),
        (
            _signature,
            "  Simulate:    ✗ Tampered (the signature by SHA256:",
            "  E2E:         ✗ Tampered (the signature by",
            "does not match the report",
        ),
        (
            _resigned,
            "  Simulate:    ✗ Tampered (the signature claims key SHA256:",
            "  E2E:         ✗ Tampered (the signature claims key",
            "but carries",
        ),
    ],
)
def test_forgeries_read_tampered(
    forge: Callable[[RegistryClient, Reference], None],
    simulate: str,
    e2e: str,
    why: str,
    pushed: Reference,
    capsys: pytest.CaptureFixture[str],
) -> None:
    forge(RegistryClient(), pushed)
    code, out, _ = run(capsys, "inspect", REF)
    assert code == 0
    assert "✓ Verified" not in out and "Report:" not in out
    assert row(out, "Signed").startswith("  Signed:      ✗ Tampered")
    assert any(why in line for line in out.splitlines())
    assert row(out, "Simulate").startswith(simulate)
    assert row(out, "E2E").startswith(e2e)
    code, out, _ = run(capsys, "inspect", REF, "-o", "json")
    data = json.loads(out)
    assert data["signature"]["status"] == "tampered" and data["simulate"]["verified"] is False
    code, _, err = run(capsys, "inspect", REF, "--report")
    assert code == 1 and "does not match its signed gate report" in err
    code, out, _ = run(capsys, "inspect", REF, "--versions")
    assert "✗ Simulate tampered" in out and "✓" not in out
    code, out, _ = run(capsys, "patterns")
    assert patterns_row(out) == ["✗", "✗", "✗"]
    assert any(
        line.startswith("✗  redis:v1.0.0: tampered — ") and why in line for line in out.splitlines()
    )


def test_a_stripped_report_reads_unsigned(
    pushed: Reference, capsys: pytest.CaptureFixture[str]
) -> None:
    forgery.strip_report(RegistryClient(), pushed)
    code, out, _ = run(capsys, "inspect", REF)
    assert row(out, "Signed") == "  Signed:      ⚠ Unsigned (no signed gate report in the artifact)"
    assert row(out, "Simulate") == "  Simulate:    ⚠ Unverifiable (unsigned)"
    assert row(out, "E2E") == "  E2E:         ⚠ Unverifiable (unsigned)"
    assert "✓" not in out
    assert (
        json.loads(run(capsys, "inspect", REF, "-o", "json")[1])["signature"]["status"]
        == "unsigned"
    )
    code, _, err = run(capsys, "inspect", REF, "--report")
    assert code == 1 and "has no gate report attached" in err
    code, out, _ = run(capsys, "patterns")
    assert patterns_row(out) == ["?", "⊘", "-"]
    assert "⚠  redis:v1.0.0: unsigned — its gate results cannot be verified" in out


def test_forged_index_entries_are_not_believed(
    pushed: Reference, capsys: pytest.CaptureFixture[str]
) -> None:
    client = RegistryClient()
    index = client.index(pushed.index())
    assert index is not None
    forged = replace(index.entries[0], e2eStatus="passed")
    index.entries = [
        forged,
        replace(forged, name="ghost", latestVersion="v9.9.9", description="Not there"),
    ]
    client.write_index(pushed.index(), index)
    code, out, _ = run(capsys, "patterns")
    assert code == 0
    assert patterns_row(out) == ["✗", "✗", "✗"]
    ghost = next(line for line in out.splitlines() if line.split()[:1] == ["ghost"])
    assert ghost.split()[3:6] == ["✗", "✗", "✗"]
    assert "✗  redis:v1.0.0: tampered — the index says e2e passed, the artifact says skipped" in out
    assert (
        "✗  ghost:v9.9.9: tampered — the index lists ghost:v9.9.9, which the registry "
        "does not have" in out
    )
    assert "✓" not in out.split("To pull:")[0]
    data = json.loads(run(capsys, "patterns", "-o", "json")[1])
    assert {p["name"]: (p["signature"]["status"], p["verified"]) for p in data["patterns"]} == {
        "redis": ("tampered", False),
        "ghost": ("tampered", False),
    }


@pytest.mark.parametrize(
    ("proof", "simulate", "e2e"),
    [
        (
            Verification(state=VERIFIED, trusted=True, key_id="SHA256:k"),
            "✓ Verified · 2 assertions",
            "⊘ Skipped",
        ),
        (
            Verification(state=VERIFIED, trusted=False, key_id="SHA256:k"),
            "⚠ Passed (signer not trusted) · 2 assertions",
            "⊘ Skipped",
        ),
        (Verification(state=UNSIGNED), "⚠ Unverifiable (unsigned)", "⚠ Unverifiable (unsigned)"),
        (
            Verification(state=TAMPERED, reasons=("simulate status: x",)),
            "✗ Tampered (simulate status: x)",
            "✗ Tampered (another gate's record disagrees with the signed report)",
        ),
        (
            Verification(state=TAMPERED, reasons=("the signature by k does not match the report",)),
            "✗ Tampered (the signature by k does not match the report)",
            "✗ Tampered (the signature by k does not match the report)",
        ),
    ],
)
def test_gate_lines_follow_the_proof(proof: Verification, simulate: str, e2e: str) -> None:
    record = GateRecord(status="passed", duration="", tested_at="", assertions=2)
    assert gate_status("Simulate", record, detailed=False, proof=proof) == simulate
    assert gate_status("E2E", GateRecord(status="skipped"), detailed=False, proof=proof) == e2e


def test_a_hostile_report_from_an_untrusted_signer_is_printed_safely(
    pushed: Reference, capsys: pytest.CaptureFixture[str]
) -> None:
    """A forger's own valid signature over odd shapes and terminal escapes: checked, not
    trusted, printed without crashing and without sending the escapes."""
    client = RegistryClient()
    doc = forgery.envelope(client, pushed)
    body = forgery.statement(doc)
    predicate = body["predicate"]
    predicate.update(tool=["x"], runner="\x1b[31mred\x1b[0m")
    predicate["gates"]["validate"] = "all good"
    predicate["gates"]["simulate"].update(runs={"not": "a list"}, checks=None)
    predicate["gates"]["e2e"]["checks"] = "\x1b]0;title\x07"
    body["subject"].append({"name": "ghost.yaml", "digest": {"sha256": 5}})
    forgery.replace_report(client, pushed, forgery.resign(doc, body, SigningKey.generate("f")))
    code, out, _ = run(capsys, "inspect", REF)
    assert code == 0 and "ghost.yaml was signed but is missing from the artifact" in out
    body["subject"].pop()
    forgery.replace_report(client, pushed, forgery.resign(doc, body, SigningKey.generate("f")))
    code, out, _ = run(capsys, "inspect", REF, "--report")
    assert code == 0, out
    assert "\x1b" not in out and "runner \\x1b[31mred\\x1b[0m)" in out
    assert "(not in your trusted keys)" in out

"""Every content fault of the card factory, read by the real reader (PACE with the CAN) and
judged by ``verify.check_card``: the verdict a desk must see."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from fixtures import pki
from fixtures.cards import CardProfile, build_card, chip_for_card, trust_store_for_tests
from reader import CANKey, read_card
from service.cli.main import main
from verify.check import CardCheck, check_card

AT = datetime(2026, 11, 28, tzinfo=UTC)
ID = "017072769692"


def _check(*faults: str, trusted: bool = True) -> CardCheck:
    card = build_card(ID, faults=faults)
    result = read_card(chip_for_card(card), CANKey(card.can))
    assert result.access_protocol == "PACE"
    trust = trust_store_for_tests() if trusted else None
    return check_card(result, trust, at=AT)


@pytest.fixture(scope="module")
def genuine() -> CardCheck:
    return _check()


def test_genuine_card_is_verified_and_not_a_clone(genuine: CardCheck) -> None:
    assert genuine.status == "verified" and genuine.genuine
    assert genuine.clone_check.method == "chip_authentication"
    assert genuine.not_a_clone
    assert genuine.identity is not None and genuine.identity.consistent
    assert genuine.photo_jpeg is not None and genuine.photo_jpeg[:3] == b"\xff\xd8\xff"


def test_without_trust_store_signer_not_trusted_and_ca_not_counted() -> None:
    result = _check(trusted=False)
    assert result.status == "signer_not_trusted" and not result.genuine
    assert result.clone_check.outcome == "passed"
    assert not result.not_a_clone
    assert "did not verify" in result.clone_check.reason


def test_tampered_dg13_is_invalid_naming_it() -> None:
    result = _check("tampered")
    assert result.status == "invalid"
    assert result.passive.failed_files == ("DG13",)
    assert not result.not_a_clone


def test_unknown_signer_is_not_trusted() -> None:
    assert _check("unknown_dsc").status == "signer_not_trusted"


def test_expired_signer_is_a_warning_not_a_forgery() -> None:
    result = _check("expired_dsc")
    assert result.status == "verified"
    assert result.passive.warnings


def test_revoked_signer_is_invalid() -> None:
    result = _check("revoked_dsc")
    assert result.status == "invalid"
    assert result.passive.chain.status == "revoked"


def test_cloned_chip_fails_chip_authentication() -> None:
    result = _check("clone")
    assert result.status == "verified"  # the data were copied faithfully...
    assert result.clone_check.outcome == "failed"  # ...but the chip lacks the private key
    assert not result.not_a_clone


def test_legacy_encoded_dg13_is_repaired_and_says_so() -> None:
    result = _check("dg13_vni")
    assert result.identity is not None
    assert result.identity.full_name == "Trần Văn Đức"
    assert {r.field for r in result.identity.repairs} >= {"full_name"}


@pytest.mark.parametrize("profile", pki.PROFILES)
def test_every_pki_profile_of_the_card_factory(profile: str) -> None:
    """A whole simulated card per PKI profile, read over PACE: verified with its CSCA
    installed, signer_not_trusted with only another profile's CSCA, and CA counted only in
    the first case."""
    card = build_card(ID, profile=CardProfile(pki=profile))
    result = read_card(chip_for_card(card), CANKey(card.can))
    trusted = check_card(result, trust_store_for_tests((profile,)), at=AT)
    assert trusted.status == "verified", trusted.passive.reason
    assert pki.csca(profile).name.human_friendly in (trusted.passive.chain.anchor or "")
    assert trusted.not_a_clone
    other = "p256" if profile != "p256" else "brainpool512"
    untrusted = check_card(result, trust_store_for_tests((other,)), at=AT)
    assert untrusted.status == "signer_not_trusted"
    assert untrusted.passive.signature.status == "valid"
    assert not untrusted.not_a_clone


def _cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_cli_verify_of_a_dump_human_and_json(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    dump, trust = tmp_path / "dump", tmp_path / "trust"
    assert _cli(capsys, "read", "--simulated", ID, "--dump", str(dump), "--json")[0] == 0
    code, out, _ = _cli(capsys, "verify", str(dump))
    assert code == 0 and "not in the trust store" in out
    assert "need the card itself" in out  # not "not offered": DG14 is there, the chip is not

    trust.mkdir()
    (trust / "csca.der").write_bytes(pki.csca("brainpool512").der)
    (trust / "dsc.der").write_bytes(pki.document_signer("brainpool512").der)
    code, out, err = _cli(capsys, "verify", str(dump), "--trust", str(trust))
    assert code == 0 and out.startswith("Verdict:            GENUINE")
    assert "dsc.der: not a CA certificate" in err  # an unusable trust file is not silent

    code, out, _ = _cli(capsys, "verify", str(dump), "--trust", str(trust), "--at", "2040-01-01")
    assert code == 0 and "GENUINE" in out
    assert "Warning:" in out and "not a forgery" in out  # the DSC expired in 2036

    code, out, _ = _cli(capsys, "verify", str(dump), "--trust", str(trust), "--json")
    document = json.loads(out)
    assert document["status"] == "verified" and document["genuine"] is True
    assert document["passive_authentication"]["chain"]["status"] == "anchored"
    assert document["clone_check"]["counted"] is False

    dg13 = bytearray((dump / "DG13.bin").read_bytes())
    dg13[len(dg13) // 2] ^= 0x01
    (dump / "DG13.bin").write_bytes(bytes(dg13))
    code, out, _ = _cli(capsys, "verify", str(dump), "--trust", str(trust))
    assert code == 1 and "NOT GENUINE" in out and "DG13" in out

    with pytest.raises(SystemExit) as exit_info:
        main(["verify", str(dump), "--at", "yesterday"])
    assert exit_info.value.code == 2
    assert "YYYY-MM-DD" in capsys.readouterr().err


def test_active_authentication_counts_when_chip_authentication_could_not_run() -> None:
    from reader.drivers.authenticate import AuthOutcome
    from verify.check import clone_check

    card = build_card(ID)
    result = read_card(chip_for_card(card), CANKey(card.can))
    passive = check_card(result, trust_store_for_tests(), at=AT).passive
    result.chip_authentication = AuthOutcome(outcome="error", reason="chip refused CA")
    result.active_authentication = AuthOutcome(outcome="passed", reason="signed our challenge")
    verdict = clone_check(result, passive)
    assert verdict.method == "active_authentication" and verdict.counted
    result.active_authentication = AuthOutcome.not_attempted("DG15 absent")
    verdict = clone_check(result, passive)
    assert verdict.method == "chip_authentication" and not verdict.counted


@pytest.mark.parametrize("generation", ["cccd_2021", "can_cuoc_2024"])
def test_printed_qr_of_both_generations_agrees_with_the_chip(generation: str) -> None:
    from fixtures.cards import CardProfile

    card = build_card("001088100493", profile=CardProfile(generation=generation))  # type: ignore[arg-type]
    fields = card.qr_payload.split("|")
    assert len(fields) == (7 if generation == "cccd_2021" else 10)
    result = read_card(chip_for_card(card), CANKey(card.can))
    checked = check_card(result, trust_store_for_tests(), at=AT, qr=card.qr_payload)
    assert checked.identity is not None and checked.identity.consistent
    assert {c.sources for c in checked.identity.checks if "QR" in c.sources}

"""Every content fault of the card factory, read by the real reader (PACE with the CAN) and
judged by ``verify.check_card``: the verdict a desk must see (issues 3, 5, 6)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from fixtures.cards import build_card, chip_for_card, trust_store_for_tests
from reader import CANKey, read_card
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

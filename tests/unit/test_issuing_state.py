"""The issuing state binds the chain (ICAO 9303-11 §5.1): with several states' CSCAs
installed, as a master list brings them, a card whose DG1 says VNM is genuine only under a
Vietnamese CSCA, and a foreign state's document signer cannot mint Vietnamese cards."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from fixtures import pki
from fixtures import sod as sod_build
from verify.issuing_state import country_of_issuing_state
from verify.passive import passive_authentication
from verify.trust import TrustStore

AT = datetime(2025, 6, 1, tzinfo=UTC)
MRZ = "IDVNM0720276963017072769692<<<" * 3


def _dg1(state: str) -> bytes:
    return b"\x61\x5d\x5f\x1f\x5a" + MRZ.replace("VNM", state, 1).encode()


def _files(signer: pki.DocumentSigner, state: str = "VNM", *, dg1: bool = True) -> dict[str, bytes]:
    dgs = {1: _dg1(state), 2: b"\x75\x03" + b"abc"}
    files = {f"DG{n}": data for n, data in dgs.items() if dg1 or n != 1}
    files["SOD"] = sod_build.build_sod(dgs, signer)
    return files


def _store(*cscas: pki.CSCA) -> TrustStore:
    store = TrustStore()
    for csca in cscas:
        store.add_certificate(csca.der)
    return store


BOTH = (pki.csca("brainpool512"), pki.foreign_csca("FR"))


def test_vnm_card_under_a_foreign_csca_is_not_verified_even_with_the_vietnamese_one() -> None:
    result = passive_authentication(_files(pki.foreign_document_signer("FR")), _store(*BOTH), at=AT)
    assert result.status == "invalid" and not result.verified
    assert result.chain.status == "issuing_state_mismatch"
    assert "issuing state" in result.reason and "VNM" in result.reason
    assert result.issuing_state == "VNM"


def test_a_foreign_signer_calling_itself_vietnamese_is_not_verified() -> None:
    signer = pki.foreign_document_signer("FR", signer_country="VN")
    result = passive_authentication(_files(signer), _store(*BOTH), at=AT)
    assert result.status == "invalid" and result.chain.status == "issuing_state_mismatch"
    assert "CSCA Test FR" in result.chain.detail


def test_a_foreign_signer_is_a_mismatch_even_without_any_csca() -> None:
    result = passive_authentication(_files(pki.foreign_document_signer("FR")), TrustStore(), at=AT)
    assert result.status == "invalid" and result.chain.status == "issuing_state_mismatch"
    assert "of FR" in result.chain.detail


def test_vnm_card_under_the_vietnamese_csca_is_verified_among_others() -> None:
    result = passive_authentication(_files(pki.document_signer()), _store(*BOTH), at=AT)
    assert result.status == "verified", result.reason
    assert result.chain.anchor is not None and "CSCA Test brainpool512" in result.chain.anchor


def test_a_vietnamese_chain_does_not_anchor_another_states_document() -> None:
    result = passive_authentication(_files(pki.document_signer(), "FRA"), _store(*BOTH), at=AT)
    assert result.chain.status == "issuing_state_mismatch" and not result.verified
    french = passive_authentication(
        _files(pki.foreign_document_signer("FR"), "FRA"), _store(*BOTH), at=AT
    )
    assert french.status == "verified", french.reason


def test_only_the_vietnamese_csca_missing_means_not_anchored_not_verified() -> None:
    store = _store(pki.foreign_csca("FR"))
    result = passive_authentication(_files(pki.document_signer()), store, at=AT)
    assert result.status == "signer_not_trusted"
    assert "of VN" in result.chain.detail


def test_explicit_issuing_state_overrides_dg1_and_missing_dg1_is_a_warning() -> None:
    files = _files(pki.foreign_document_signer("FR"), dg1=False)
    unbound = passive_authentication(files, _store(*BOTH), at=AT)
    assert unbound.status == "verified" and unbound.has_warning("issuing_state_not_checked")
    bound = passive_authentication(files, _store(*BOTH), at=AT, issuing_state="VNM")
    assert bound.chain.status == "issuing_state_mismatch"


@pytest.mark.parametrize(
    ("code", "country"),
    [
        ("VNM", "VN"),
        ("FRA", "FR"),
        ("D<<", "DE"),
        ("D", "DE"),
        ("GBD", "GB"),
        ("RKS", "XK"),
        ("UNO", None),
        ("XXA", None),
        ("ZZZ", None),
    ],
)
def test_icao_codes_map_to_iso_countries(code: str, country: str | None) -> None:
    assert country_of_issuing_state(code) == country

"""Trust anchors as they exist (ICAO 9303-12 §8): the Dutch master list of July 2026 (a real
file, copied into ``tests/data/trust``), a list built like the German (BSI) one -- signed
abroad, many states, explicit EC parameters, RSASSA-PSS, curves pyca/cryptography lacks, link
certificates and Vietnam's real ePassport CSCA -- each with a report of the Vietnamese CSCAs
it holds; and an unsigned CscaMasterList, imported only when the caller says so."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from asn1crypto import x509

from fixtures import pki
from verify.trust import CscaMasterList, TrustStore

DATA = Path(__file__).parents[1] / "data" / "trust"
DUTCH = DATA / "nl-masterlist-2026-07-22.ml"
VN_EPASSPORT = DATA / "vn-csca-epassport-2022.pem"
VN_FINGERPRINT = "6b5fa6fe45cc4e855a73760413e08b7a9ac50a27722c702f3909a90facc991bd"


def test_dutch_master_list_imports_with_its_vietnamese_csca() -> None:
    store = TrustStore()
    report = store.load_master_list(DUTCH.read_bytes(), at=datetime(2026, 8, 1, tzinfo=UTC))
    assert report.accepted and report.signed, report.message
    assert report.signer is not None and "Masterlist Signer NL" in report.signer
    assert len(report.loaded) > 400 and not report.rejected
    assert report.vietnamese == (
        "Common Name: CSCA ePassport Vietnam, Organization: Vietnam Government Information "
        "Security Commission, Country: VN",
    )
    assert report.countries["VN"] == 1 and report.countries["NL"] >= 1
    assert len(report.countries) > 80
    assert store.count_anchors("VN") == 1
    [vn] = [cert for cert in store.anchors if cert.country == "VN"]
    assert vn.fingerprint == VN_FINGERPRINT
    # The published PEM is the same certificate: adding it changes nothing.
    [again] = store.add_certificate(VN_EPASSPORT.read_bytes())
    assert again.fingerprint == VN_FINGERPRINT and store.count_anchors("VN") == 1
    assert report.to_json()["vietnamese_cscas"] == list(report.vietnamese)


def _german_style() -> bytes:
    germany = pki.foreign_csca("DE")
    signer = pki.master_list_signer(issuer=germany)
    vn = x509.Certificate.load(_pem_der(VN_EPASSPORT.read_bytes()))
    certificates = [
        germany.der,
        pki.foreign_csca("FR").der,
        bytes(vn.dump()),
        pki.link_certificate("brainpool512"),
        *(pki.csca(profile).der for profile in pki.PROFILES),
    ]
    return pki.build_master_list(certificates, signer)


def _pem_der(data: bytes) -> bytes:
    from asn1crypto import pem

    return pem.unarmor(data)[2]


def test_german_style_master_list_imports() -> None:
    store = TrustStore()
    report = store.load_master_list(_german_style(), at=datetime(2026, 1, 1, tzinfo=UTC))
    assert report.accepted, report.message
    assert report.signer is not None and "DE" in report.signer
    assert not report.rejected, report.rejected
    assert report.countries["DE"] == 1 and report.countries["FR"] == 1
    assert any("CSCA ePassport Vietnam" in subject for subject in report.vietnamese)
    assert store.count_anchors("DE") == 1 and store.count_anchors("VN") >= 2
    assert any(cert.is_link for cert in store)
    # Every profile's CSCA (explicit parameters, PSS, brainpoolP224r1) anchors its signer.
    for profile in pki.PROFILES:
        chain = store.build_chain(pki.document_signer(profile).certificate, country="VN")
        assert chain.status == "anchored", (profile, chain.detail)


def _unsigned(certificates: list[bytes]) -> bytes:
    return bytes(
        CscaMasterList(
            {"version": 0, "cert_list": [x509.Certificate.load(der) for der in certificates]}
        ).dump()
    )


def test_unsigned_master_list_only_with_the_explicit_flag() -> None:
    raw = _unsigned([pki.csca("p256").der, pki.foreign_csca("FR").der])
    store = TrustStore()
    refused = store.load_master_list(raw)
    assert not refused.accepted and not refused.signed and "unsigned" in refused.message
    assert len(store) == 0
    accepted = store.load_master_list(raw, allow_unsigned=True)
    assert accepted.accepted and not accepted.signed and accepted.signer is None
    assert any("unsigned" in w for w in accepted.warnings)
    assert store.count_anchors() == 2 and store.count_anchors("VN") == 1
    assert accepted.to_json()["signed"] is False


def test_unsigned_list_with_a_bad_self_signature_loads_nothing_of_it() -> None:
    good = pki.csca("p256").der
    forged = bytearray(pki.csca("brainpool512").der)
    forged[-5] ^= 0x01  # inside the signature
    report = TrustStore().load_master_list(_unsigned([good, bytes(forged)]), allow_unsigned=True)
    assert report.accepted and len(report.loaded) == 1 and len(report.rejected) == 1

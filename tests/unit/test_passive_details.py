"""Passive authentication details a desk or the HIS reads (ICAO 9303-11 §5.1, RFC 5652
§5.3-§5.4): a SignerInfo without signed attributes (the signature is over the eContent), a
signature OID that names no hash (the digestAlgorithm gives it), the Document Signer summary
against pyca/cryptography's reading of the certificate, and the report's empty parts."""

from __future__ import annotations

import dataclasses
import hashlib
import re
from datetime import UTC, datetime, timedelta, timezone

from asn1crypto import cms
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509.oid import NameOID

from fixtures import pki
from fixtures import sod as sod_build
from reader import tlv
from reader.errors import ParseError, UnsupportedError
from reader.lds.dg1 import parse_dg1
from reader.lds.sod import OID_LDS_SECURITY_OBJECT, parse_sod
from verify import dsc_chain, passive, signatures
from verify.passive import passive_authentication
from verify.trust import TrustStore

AT = datetime(2025, 6, 1, tzinfo=UTC)
DGS = {1: b"\x61\x5d\x5f\x1f\x5a" + b"IDVNM0720276963017072769692<<<" * 3, 2: b"\x75\x03abc"}


def _files(sod: bytes) -> dict[str, bytes]:
    return {**{f"DG{n}": data for n, data in DGS.items()}, "SOD": sod}


def _trust(profile: str) -> TrustStore:
    store = TrustStore()
    store.add_certificate(pki.csca(profile).der)
    return store


def _rewrite_signer_info(raw_sod: bytes, change: object) -> bytes:
    """EF.SOD with its SignerInfo changed by ``change(signer_info)``, the rest kept."""
    content_info = cms.ContentInfo.load(tlv.decode_one(raw_sod).value)
    signed = content_info["content"]
    info = signed["signer_infos"][0]
    change(info)  # type: ignore[operator]
    return sod_build.wrap_sod(bytes(content_info.dump(force=True)))


def test_signer_info_without_signed_attributes_is_verified_over_the_econtent() -> None:
    signer = pki.document_signer("p256")
    raw = sod_build.build_sod(DGS, signer)
    econtent = cms.ContentInfo.load(tlv.decode_one(raw).value)["content"]["encap_content_info"]

    def drop_attributes(info: cms.SignerInfo) -> None:
        info["signed_attrs"] = cms.CMSAttributes([])
        del info["signed_attrs"]
        info["signature"] = signer.sign(bytes(econtent["content"].native))

    bare = _rewrite_signer_info(raw, drop_attributes)
    result = passive_authentication(_files(bare), _trust("p256"), at=AT)
    assert result.status == "verified", result.reason
    assert result.signed_data.content_type_attribute_ok is None
    assert result.signed_data.message_digest_ok is None
    assert result.signing_time is None
    assert result.to_json()["signing_time"] is None
    expired = passive_authentication(
        _files(bare), _trust("p256"), at=datetime(2037, 1, 1, tzinfo=UTC)
    )
    assert [w.message for w in expired.warnings if w.code == "dsc_expired"] == [
        "the Document Signer certificate expired on 2036-01-01; normal for older cards, "
        "not a forgery"
    ]

    def tamper(info: cms.SignerInfo) -> None:
        drop_attributes(info)
        info["signature"] = signer.sign(bytes(econtent["content"].native) + b"\x00")

    forged = passive_authentication(
        _files(_rewrite_signer_info(raw, tamper)), _trust("p256"), at=AT
    )
    assert forged.status == "invalid" and forged.signature.status == "invalid"


def test_rsa_encryption_oid_takes_the_hash_from_the_digest_algorithm() -> None:
    """RFC 5754 / 9303-12: rsaEncryption as signatureAlgorithm, SHA-256 in digestAlgorithm."""
    raw = sod_build.build_sod(DGS, pki.document_signer("rsa-pkcs1"))

    def bare_rsa(info: cms.SignerInfo) -> None:
        info["signature_algorithm"] = {"algorithm": "1.2.840.113549.1.1.1", "parameters": None}

    result = passive_authentication(
        _files(_rewrite_signer_info(raw, bare_rsa)), _trust("rsa-pkcs1"), at=AT
    )
    assert result.status == "verified", result.reason
    assert result.signature.status == "valid"


def test_signer_summary_matches_pyca_reading_of_the_certificate() -> None:
    signer = pki.document_signer("p256")
    result = passive_authentication(_files(sod_build.build_sod(DGS, signer)), _trust("p256"), at=AT)
    summary = result.signer
    assert summary is not None
    assert summary.der == signer.der
    other = x509.load_der_x509_certificate(summary.der)
    assert summary.serial_number == format(other.serial_number, "x")
    assert summary.not_before == other.not_valid_before_utc
    assert summary.not_after == other.not_valid_after_utc
    assert summary.public_key == result.algorithms.signer_key == "EC secp256r1"
    assert summary.issuer == result.chain.anchor  # the DSC's issuer is the CSCA's subject
    assert "DS Test p256 valid" in summary.subject and "VN" in summary.subject
    aki = other.extensions.get_extension_for_class(x509.AuthorityKeyIdentifier).value
    assert aki.key_identifier is not None
    assert summary.authority_key_identifier == aki.key_identifier.hex()


def _self_signed(key: ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey, **kw: bool) -> bytes:
    """A certificate made by pyca (serial with hex letters), with or without an AKI."""
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Odd signer")])
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(0xABCDEF12)
        .not_valid_before(datetime(2020, 1, 1, tzinfo=UTC))
        .not_valid_after(datetime(2020, 1, 1, tzinfo=UTC) + timedelta(days=365))
    )
    if kw.get("aki"):
        builder = builder.add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(key.public_key()),
            critical=False,
        )
    digest = None if isinstance(key, ed25519.Ed25519PrivateKey) else hashes.SHA256()
    return builder.sign(key, digest).public_bytes(Encoding.DER)


def test_summary_of_certificates_without_aki_or_with_an_unusable_key() -> None:
    plain = asn1_x509.Certificate.load(_self_signed(ec.generate_private_key(ec.SECP256R1())))
    summary = dsc_chain.summarise_signer(plain)
    assert summary.authority_key_identifier is None
    assert summary.serial_number == "abcdef12"
    assert summary.public_key == "EC secp256r1"
    odd = asn1_x509.Certificate.load(_self_signed(ed25519.Ed25519PrivateKey.generate()))
    assert re.fullmatch(r"unusable key \(.+\)", dsc_chain.summarise_signer(odd).public_key)
    with_aki = _self_signed(ec.generate_private_key(ec.SECP256R1()), aki=True)
    expected = (
        x509.load_der_x509_certificate(with_aki)
        .extensions.get_extension_for_class(x509.AuthorityKeyIdentifier)
        .value.key_identifier
    )
    assert expected is not None
    assert dsc_chain.summarise_signer(
        asn1_x509.Certificate.load(with_aki)
    ).authority_key_identifier == (expected.hex())


def test_report_of_files_not_in_the_sod_or_not_read_and_without_signer() -> None:
    files = _files(sod_build.build_sod(DGS, pki.document_signer("p256")))
    files["DG11"] = b"\x6b\x00"
    del files["DG2"]
    report = passive_authentication(files, _trust("p256"), at=AT).to_json()
    by_name = {f["file"]: f for f in report["files"]}
    assert by_name["DG11"]["expected"] is None and by_name["DG11"]["status"] == "not_in_sod"
    assert by_name["DG2"]["actual"] is None and by_name["DG2"]["status"] == "not_checked"
    assert by_name["DG1"]["expected"] == by_name["DG1"]["actual"]
    bare = sod_build.build_sod(DGS, pki.document_signer("p256"), include_certificate=False)
    no_signer = passive_authentication(_files(bare), _trust("p256"), at=AT)
    assert no_signer.status == "malformed" and no_signer.to_json()["signer"] is None


def test_signature_that_does_not_verify_reports_algorithm_and_why() -> None:
    raw = sod_build.build_sod(DGS, pki.document_signer("p256"))
    good = passive_authentication(_files(raw), _trust("p256"), at=AT)
    signer = pki.document_signer("p256")

    def resign_other_bytes(info: cms.SignerInfo) -> None:
        info["signature"] = signer.sign(b"something else")

    bad = passive_authentication(
        _files(_rewrite_signer_info(raw, resign_other_bytes)), _trust("p256"), at=AT
    )
    assert bad.status == "invalid" and bad.reason == "the SOD signature does not verify"
    assert bad.signature.status == "invalid"
    assert bad.signature.algorithm == good.signature.algorithm == good.algorithms.signature
    assert bad.signature.detail == "the SignerInfo signature does not verify under the DSC key"


def test_signing_time_after_the_check_is_a_warning_and_equal_is_not() -> None:
    signer = pki.document_signer("p256")
    later = sod_build.build_sod(DGS, signer, signing_time=datetime(2025, 7, 1, tzinfo=UTC))
    result = passive_authentication(_files(later), _trust("p256"), at=AT)
    future = [w for w in result.warnings if w.code == "signing_time_in_future"]
    assert [w.message for w in future] == ["SOD signing time 2025-07-01 is after 2025-06-01"]
    same = sod_build.build_sod(DGS, signer, signing_time=AT)
    result = passive_authentication(_files(same), _trust("p256"), at=AT)
    assert result.status == "verified" and result.warnings == ()


def test_unanchored_signer_outside_its_validity_at_signing_is_warned() -> None:
    signer = pki.document_signer("p256")
    not_before, not_after = pki.DSC_VALIDITY
    for inside in (not_before, not_after, AT):
        raw = sod_build.build_sod(DGS, signer, signing_time=inside)
        result = passive_authentication(_files(raw), TrustStore(), at=AT)
        assert result.status == "signer_not_trusted"
        assert not result.has_warning("dsc_not_valid_at_signing"), inside
    for outside in (not_before - timedelta(seconds=1), not_after + timedelta(seconds=1)):
        raw = sod_build.build_sod(DGS, signer, signing_time=outside)
        result = passive_authentication(_files(raw), TrustStore(), at=AT)
        assert result.status == "signer_not_trusted"
        warned = [w.message for w in result.warnings if w.code == "dsc_not_valid_at_signing"]
        assert warned == ["the DSC was not valid when the SOD was signed"], outside


def test_chain_time_failures_say_which() -> None:
    signer = pki.document_signer("p256")
    not_before, not_after = pki.DSC_VALIDITY

    def check(signing_time: datetime | None, at: datetime, **policy: bool) -> passive.ChainCheck:
        raw = sod_build.build_sod(DGS, signer, signing_time=signing_time)
        result = passive_authentication(
            _files(raw), _trust("p256"), at=at, policy=passive.Policy(**policy)
        )
        assert result.reason.startswith(f"Document Signer chain: {result.chain.status} (")
        assert result.reason == (
            f"Document Signer chain: {result.chain.status} ({result.chain.detail})"
        )
        assert result.chain.anchor is not None and result.chain.path
        return result.chain

    early = check(not_before - timedelta(days=1), AT)
    assert (early.status, early.detail) == (
        "not_yet_valid",
        "the SOD was signed before the DSC became valid",
    )
    late = check(not_after + timedelta(days=1), not_after + timedelta(days=2))
    assert (late.status, late.detail) == ("expired", "the SOD was signed after the DSC expired")
    strict = check(AT, not_after + timedelta(days=2), accept_expired_signer=False)
    assert (strict.status, strict.detail) == ("expired", "the DSC expired on 2036-01-01")
    before = check(AT, not_before - timedelta(days=2))
    assert (before.status, before.detail) == (
        "not_yet_valid",
        "the DSC is valid only from 2021-01-01",
    )
    for edge in (not_before, not_after):  # the validity period includes both ends
        raw = sod_build.build_sod(DGS, signer, signing_time=edge)
        assert passive_authentication(_files(raw), _trust("p256"), at=AT).status == "verified"


def test_check_time_at_the_ends_of_the_dsc_validity() -> None:
    signer = pki.document_signer("p256")
    not_before, not_after = pki.DSC_VALIDITY
    strict = passive.Policy(accept_expired_signer=False)
    first = sod_build.build_sod(DGS, signer, signing_time=not_before)
    assert passive_authentication(_files(first), _trust("p256"), at=not_before).status == (
        "verified"
    )
    raw = sod_build.build_sod(DGS, signer, signing_time=AT)
    result = passive_authentication(_files(raw), _trust("p256"), at=not_after, policy=strict)
    assert result.status == "verified" and not result.has_warning("dsc_expired")


def test_expired_dsc_warning_says_when_it_expired_and_when_it_signed() -> None:
    signer = pki.document_signer("p256")
    raw = sod_build.build_sod(DGS, signer, signing_time=AT)
    later = datetime(2037, 1, 1, tzinfo=UTC)
    result = passive_authentication(_files(raw), _trust("p256"), at=later)
    assert result.status == "verified"
    assert [w.message for w in result.warnings if w.code == "dsc_expired"] == [
        "the Document Signer certificate expired on 2036-01-01, the SOD was signed on "
        "2025-06-01; normal for older cards, not a forgery"
    ]


def _signer_valid(validity: tuple[datetime, datetime]) -> pki.DocumentSigner:
    """The p256 Document Signer's key and CSCA, with a certificate of another validity."""
    base = pki.document_signer("p256")
    certificate = pki.build_certificate(
        subject=pki.name("DS Test p256 long"),
        issuer=base.csca.name,
        serial=0x5EED,
        validity=validity,
        subject_key=base.key,
        issuer_key=base.csca.key,
        hash_name=base.hash_name,
        pss=base.pss,
    )
    return dataclasses.replace(base, certificate=certificate)


def test_csca_validity_is_checked_at_signing_ends_included() -> None:
    csca_from, csca_to = pki.CSCA_VALIDITY
    subject = passive_authentication(
        _files(sod_build.build_sod(DGS, pki.document_signer("p256"))), _trust("p256"), at=AT
    ).chain.anchor
    signer = _signer_valid((datetime(2010, 1, 1, tzinfo=UTC), datetime(2050, 1, 1, tzinfo=UTC)))

    def run(signing_time: datetime, at: datetime) -> passive.PassiveAuthResult:
        raw = sod_build.build_sod(DGS, signer, signing_time=signing_time)
        return passive_authentication(_files(raw), _trust("p256"), at=at)

    for edge in (csca_from, csca_to):
        result = run(edge, csca_to)
        assert result.status == "verified", (edge, result.reason)
        assert not result.has_warning("csca_expired")
    early = run(csca_from - timedelta(days=1), AT)
    assert (early.chain.status, early.chain.detail) == (
        "not_yet_valid",
        f"CSCA {subject} not yet valid at signing",
    )
    late = run(csca_to + timedelta(days=1), csca_to + timedelta(days=2))
    assert (late.chain.status, late.chain.detail) == (
        "expired",
        f"CSCA {subject} had expired at signing",
    )
    # Signed while the CSCA was valid, checked after it expired: a warning, not a failure.
    after = run(AT, csca_to + timedelta(days=1))
    assert after.status == "verified", after.reason
    assert [w.message for w in after.warnings if w.code == "csca_expired"] == [
        f"CSCA {subject} expired on 2045-01-01"
    ]


def _trust_with_crl(profile: str) -> TrustStore:
    store = _trust(profile)
    assert store.load_crl(pki.crl(profile)).accepted
    return store


def test_revoked_dsc_names_the_crl_and_outdated_crls_are_warned() -> None:
    anchor = passive_authentication(
        _files(sod_build.build_sod(DGS, pki.document_signer("p256"))), _trust("p256"), at=AT
    ).chain.anchor
    revoked = sod_build.sod_signed_by_revoked_dsc(DGS, "p256")
    result = passive_authentication(_files(revoked), _trust_with_crl("p256"), at=AT)
    assert result.chain.status == "revoked" and result.chain.revocation_checked is True
    assert result.chain.detail == f"the DSC is on the CRL of {anchor}"
    assert result.reason == f"Document Signer chain: revoked (the DSC is on the CRL of {anchor})"

    raw = sod_build.build_sod(DGS, pki.document_signer("p256"))
    on_time = passive_authentication(_files(raw), _trust_with_crl("p256"), at=pki.CRL_NEXT_UPDATE)
    assert on_time.status == "verified" and not on_time.has_warning("crl_outdated")
    assert on_time.chain.revocation_checked is True
    after = pki.CRL_NEXT_UPDATE + timedelta(seconds=1)
    outdated = passive_authentication(_files(raw), _trust_with_crl("p256"), at=after)
    assert outdated.status == "verified"
    messages = [w.message for w in outdated.warnings if w.code == "crl_outdated"]
    assert len(messages) == 1 and messages[0].endswith(" is past its next update")
    assert messages[0].startswith("the CRL of ") and "CSCA Test p256" in messages[0]


def test_verdict_lists_every_failed_file() -> None:
    files = _files(sod_build.build_sod(DGS, pki.document_signer("p256")))
    files["DG1"] += b"\x00"
    files["DG2"] += b"\x00"
    result = passive_authentication(files, _trust("p256"), at=AT)
    assert result.reason == "hash mismatch: DG1, DG2"
    files = _files(sod_build.build_sod(DGS, pki.document_signer("p256")))
    files["DG11"] = b"\x6b\x00"
    files["DG12"] = b"\x6c\x00"
    result = passive_authentication(files, _trust("p256"), at=AT)
    assert result.reason == "read but not in EF.SOD: DG11, DG12"


def test_signed_data_problems_are_all_in_the_reason() -> None:
    raw = sod_build.build_sod(DGS, pki.document_signer("p256"))
    content_info = cms.ContentInfo.load(tlv.decode_one(raw).value)
    content_info["content"]["encap_content_info"]["content_type"] = "1.2.3.4"
    other = sod_build.wrap_sod(bytes(content_info.dump(force=True)))
    result = passive_authentication(_files(other), _trust("p256"), at=AT)
    assert result.status == "invalid"
    assert result.signed_data.econtent_type_ok is False
    assert result.signed_data.content_type_attribute_ok is False
    assert result.reason == (
        "eContentType 1.2.3.4 is not ldsSecurityObject; "
        "signed contentType attribute differs from the eContentType"
    )


def test_unsupported_signature_algorithm_is_reported_with_every_reason() -> None:
    raw = sod_build.build_sod(DGS, pki.document_signer("p256"), hash_name="sha1")

    def unknown_algorithm(info: cms.SignerInfo) -> None:
        info["signature_algorithm"] = {"algorithm": "1.2.3.4.5"}

    result = passive_authentication(
        _files(_rewrite_signer_info(raw, unknown_algorithm)), _trust("p256"), at=AT
    )
    try:
        signatures.signature_algorithm("1.2.3.4.5")
    except UnsupportedError as exc:
        why = str(exc)
    assert result.status == "unsupported"
    assert result.signature.status == "unsupported"
    assert (result.signature.algorithm, result.signature.detail) == ("1.2.3.4.5", why)
    assert result.algorithms.signature == "1.2.3.4.5" and result.algorithms.signer_key is None
    assert result.reason == f"signature algorithm: {why}; SHA-1 (refused by policy)"


def test_unanchored_reason_says_what_holds_and_what_is_missing() -> None:
    raw = sod_build.build_sod(DGS, pki.document_signer("p256"))
    result = passive_authentication(_files(raw), TrustStore(), at=AT)
    assert result.status == "signer_not_trusted" and result.chain.detail
    assert result.reason == (
        "hashes and signature are valid, but no installed CSCA anchors the Document Signer "
        f"({result.chain.detail})"
    )
    anchored = passive_authentication(_files(raw), _trust("p256"), at=AT)
    assert anchored.reason == (
        f"hashes, signature and chain valid (anchored at {anchored.chain.anchor})"
    )


def test_sha1_warning_names_where_it_is_used() -> None:
    signer = pki.document_signer("p256")
    hashes_only = sod_build.build_sod(DGS, signer, hash_name="sha1")
    result = passive_authentication(
        _files(hashes_only), _trust("p256"), at=AT, policy=passive.Policy(accept_sha1=True)
    )
    assert [w.message for w in result.warnings if w.code == "sha1"] == [
        "SHA-1 is used (data group hashes)"
    ]
    everywhere = sod_build.build_sod(
        DGS, dataclasses.replace(signer, hash_name="sha1"), hash_name="sha1"
    )
    result = passive_authentication(
        _files(everywhere), _trust("p256"), at=AT, policy=passive.Policy(accept_sha1=True)
    )
    assert result.status == "verified", result.reason
    assert result.algorithms.signer_digest == "sha1"
    assert [w.message for w in result.warnings if w.code == "sha1"] == [
        "SHA-1 is used (data group hashes, signer digest, signature)"
    ]
    refused = passive_authentication(_files(everywhere), _trust("p256"), at=AT)
    assert refused.status == "unsupported" and refused.reason == "SHA-1 (refused by policy)"


def _with_signing_time(encoded: bytes) -> dict[str, bytes]:
    """Files whose SOD carries ``encoded`` (a DER Time) as its signed signing time."""
    signer = pki.document_signer("p256")
    raw = sod_build.build_sod(DGS, signer)
    content_info = cms.ContentInfo.load(tlv.decode_one(raw).value)
    signed = content_info["content"]
    info = signed["signer_infos"][0]
    attributes = []
    for attribute in info["signed_attrs"]:
        if attribute["type"].native == "signing_time":
            attribute = cms.CMSAttribute(
                {"type": "signing_time", "values": [cms.Time.load(encoded)]}
            )
        attributes.append(attribute)
    attributes.sort(key=lambda a: bytes(a.dump()))
    to_sign = bytes(cms.CMSAttributes(attributes).dump())  # the SET OF (RFC 5652 §5.4)
    info["signed_attrs"] = cms.CMSAttributes(attributes)
    info["signature"] = signer.sign(to_sign)
    signed["signer_infos"] = cms.SignerInfos([info])
    content_info["content"] = signed
    return _files(sod_build.wrap_sod(bytes(content_info.dump())))


def test_signing_time_without_time_zone_is_taken_as_utc() -> None:
    """A GeneralizedTime without 'Z' (not DER, but seen in the field) parses as a naive
    time; the chain checks read it as UTC instead of failing on the comparison."""
    files = _with_signing_time(b"\x18\x0e20250601000000")
    result = passive_authentication(files, _trust("p256"), at=AT)
    assert result.status == "verified", result.reason
    assert result.signing_time is not None and result.signing_time.tzinfo is None
    late = passive_authentication(files, _trust("p256"), at=datetime(2025, 5, 31, tzinfo=UTC))
    assert late.has_warning("signing_time_in_future")


def test_signing_time_with_an_offset_keeps_its_instant() -> None:
    """05:00 at +07:00 on the day the DSC expires is 22:00 UTC the day before: valid."""
    files = _with_signing_time(b"\x18\x1320360101050000+0700")
    result = passive_authentication(files, _trust("p256"), at=AT)
    assert result.chain.status == "anchored", result.chain.detail
    assert result.signing_time == datetime(2035, 12, 31, 22, tzinfo=UTC)


def test_file_results_carry_the_hashes_they_compared() -> None:
    files = _files(sod_build.build_sod(DGS, pki.document_signer("p256")))
    del files["DG1"]  # in the SOD, not read: before the others
    files["DG11"] = b"\x6b\x00"  # read, not in the SOD
    result = passive_authentication(files, _trust("p256"), at=AT)
    dg1, dg2, dg11 = (result.file(n) for n in ("DG1", "DG2", "DG11"))
    assert dg1 is not None and dg2 is not None and dg11 is not None
    assert (dg1.status, dg1.data_group, dg1.actual) == ("not_checked", 1, None)
    assert dg1.expected == hashlib.sha256(DGS[1]).digest()
    assert (dg2.status, dg2.data_group) == ("ok", 2)
    assert dg2.expected == dg2.actual == hashlib.sha256(DGS[2]).digest()
    assert (dg11.status, dg11.data_group, dg11.expected) == ("not_in_sod", 11, None)
    assert dg11.actual == hashlib.sha256(b"\x6b\x00").digest()


def test_unknown_data_group_hash_algorithm_leaves_files_not_checked() -> None:
    sha256_oid = bytes.fromhex("0609608648016503040201")
    lso = sod_build.lds_security_object(DGS)
    assert lso.count(sha256_oid) == 1
    unknown = lso.replace(sha256_oid, sha256_oid[:-1] + b"\x7f")  # 2.16.840.1.101.3.4.2.127
    signer = pki.document_signer("p256")
    raw = sod_build.wrap_sod(
        pki.build_signed_data(
            econtent_type=OID_LDS_SECURITY_OBJECT, econtent=unknown, signer=signer
        )
    )
    result = passive_authentication(_files(raw), _trust("p256"), at=AT)
    assert result.status == "unsupported"
    assert result.reason == "data group hash algorithm 2.16.840.1.101.3.4.2.127"
    assert [(f.file, f.data_group, f.status, f.actual) for f in result.files] == [
        ("DG1", 1, "not_checked", None),
        ("DG2", 2, "not_checked", None),
    ]
    assert result.files[0].expected == hashlib.sha256(DGS[1]).digest()
    assert result.algorithms.data_group_hash == "2.16.840.1.101.3.4.2.127"


def _sod_with_certificates(certificates: list[asn1_x509.Certificate]) -> bytes:
    signer = pki.document_signer("p256")
    return sod_build.wrap_sod(
        pki.build_signed_data(
            econtent_type=OID_LDS_SECURITY_OBJECT,
            econtent=sod_build.lds_security_object(DGS),
            signer=signer,
            certificates=certificates,
        )
    )


def test_signer_certificate_is_found_by_issuer_and_serial_among_others() -> None:
    signer = pki.document_signer("p256")
    # same CSCA, another serial and key; shorter, so that the SET OF puts it first
    sibling = pki.build_certificate(
        subject=pki.name("DS"),
        issuer=signer.csca.name,
        serial=0x0FFF,
        validity=pki.DSC_VALIDITY,
        subject_key=pki.document_signer("p256", "unknown").key,
        issuer_key=signer.csca.key,
        hash_name=signer.hash_name,
    )
    raw = _sod_with_certificates([signer.certificate, sibling])
    first = asn1_x509.Certificate.load(parse_sod(raw).certificates[0])
    assert first.serial_number == 0x0FFF and first.issuer == signer.certificate.issuer
    result = passive_authentication(_files(raw), _trust("p256"), at=AT)
    assert result.status == "verified", result.reason
    assert result.signer is not None and result.signer.der == signer.der


def test_a_certificate_that_fails_to_parse_late_is_skipped() -> None:
    signer = pki.document_signer("p256")
    der = bytearray(signer.der)
    aki = der.index(bytes.fromhex("0603551d23"))  # the AuthorityKeyIdentifier extension
    inner = der.index(b"\x04", aki + 5) + 2  # its OCTET STRING's content: 30 ...
    der[inner] = 0x02  # an INTEGER where the SEQUENCE should be: fails only when parsed
    broken = asn1_x509.Certificate.load(bytes(der))
    assert broken.serial_number == signer.certificate.serial_number
    raw = _sod_with_certificates([broken, signer.certificate])
    result = passive_authentication(_files(raw), _trust("p256"), at=AT)
    assert result.status == "verified", result.reason
    assert result.signer is not None and result.signer.der == signer.der
    alone = passive_authentication(_files(_sod_with_certificates([broken])), _trust("p256"), at=AT)
    assert alone.status == "malformed"
    assert alone.reason == "the Document Signer certificate is not in EF.SOD"
    # what could be checked without the certificate is still reported
    assert alone.checked_at == AT and alone.signed_data.ok
    assert [f.status for f in alone.files] == ["ok", "ok"]
    assert alone.algorithms.data_group_hash == "sha256" and alone.algorithms.signature is None
    assert alone.signing_time == pki.DSC_SIGNING_TIME and alone.signer is None
    assert alone.signature.status == "not_checked" and alone.chain.status == "not_checked"


def test_replaced_econtent_reason_in_full() -> None:
    forged = sod_build.lds_security_object({**DGS, 2: b"forged"})
    raw = sod_build.sod_with_econtent_replaced(
        sod_build.build_sod(DGS, pki.document_signer("p256")), forged
    )
    files = {**_files(raw), "DG2": b"forged"}
    result = passive_authentication(files, _trust("p256"), at=AT)
    assert result.reason == "messageDigest does not match the LDS security object"
    assert result.signed_data.problems == (result.reason,)


def test_check_time_keeps_its_zone_and_missing_sod_is_said() -> None:
    hanoi = datetime(2025, 6, 1, 9, 30, tzinfo=timezone(timedelta(hours=7)))
    raw = sod_build.build_sod(DGS, pki.document_signer("p256"))
    result = passive_authentication(_files(raw), _trust("p256"), at=hanoi)
    assert result.checked_at == hanoi and result.checked_at.utcoffset() == timedelta(hours=7)
    naive = passive_authentication(_files(raw), _trust("p256"), at=datetime(2025, 6, 1))
    assert naive.checked_at == AT
    files = _files(raw)
    del files["SOD"]
    missing = passive_authentication(files, _trust("p256"), at=hanoi)
    assert (missing.status, missing.reason, missing.checked_at) == (
        "malformed",
        "EF.SOD was not read",
        hanoi,
    )


def test_issuing_state_that_is_no_country_is_a_warning() -> None:
    raw = sod_build.build_sod(DGS, pki.document_signer("p256"))
    result = passive_authentication(_files(raw), _trust("p256"), at=AT, issuing_state="XXA")
    assert result.status == "verified" and result.issuing_state == "XXA"
    assert [w.message for w in result.warnings if w.code == "issuing_state_not_checked"] == [
        "issuing state 'XXA' is not a country code: the CSCA could not be tied to it"
    ]


def _resealed(raw_sod: bytes, change: object) -> bytes:
    """EF.SOD with ``change(signed_data)`` applied, re-encoded without forcing (so that
    parts left alone keep their bytes)."""
    content_info = cms.ContentInfo.load(tlv.decode_one(raw_sod).value)
    signed = content_info["content"]
    change(signed)  # type: ignore[operator]
    content_info["content"] = signed
    return sod_build.wrap_sod(bytes(content_info.dump()))


def test_several_signer_infos_are_a_warning_and_the_first_is_used() -> None:
    raw = sod_build.build_sod(DGS, pki.document_signer("p256"))

    def twice(signed: cms.SignedData) -> None:
        info = signed["signer_infos"][0]
        signed["signer_infos"] = cms.SignerInfos([info, info.copy()])

    result = passive_authentication(_files(_resealed(raw, twice)), _trust("p256"), at=AT)
    assert result.status == "verified", result.reason
    assert [w.message for w in result.warnings if w.code == "several_signers"] == [
        "EF.SOD has several SignerInfos; first used"
    ]
    assert not passive_authentication(_files(raw), _trust("p256"), at=AT).warnings


def test_unknown_signer_digest_algorithm_is_unsupported() -> None:
    raw = sod_build.build_sod(DGS, pki.document_signer("p256"))

    def unknown_digest(info: cms.SignerInfo) -> None:
        info["digest_algorithm"] = {"algorithm": "1.2.3.4"}

    result = passive_authentication(
        _files(_rewrite_signer_info(raw, unknown_digest)), _trust("p256"), at=AT
    )
    assert result.status == "unsupported"
    assert result.reason == "SignerInfo digest algorithm 1.2.3.4"
    assert result.signed_data.message_digest_ok is None
    assert result.algorithms.signer_digest == "1.2.3.4"


def test_garbage_sod_is_malformed_at_the_check_time() -> None:
    files = {**_files(b""), "SOD": b"\x77\x03\x30\x01\x00"}
    result = passive_authentication(files, _trust("p256"), at=AT)
    assert result.status == "malformed" and result.checked_at == AT
    assert result.reason.startswith("EF.SOD does not parse: ")


def test_chain_to_a_csca_without_country_is_a_mismatch_saying_so() -> None:
    base = pki.document_signer("p256")
    stateless = asn1_x509.Name.build({"common_name": "CSCA Test stateless"})
    csca = pki.build_certificate(
        subject=stateless,
        issuer=stateless,
        serial=0x99,
        validity=pki.CSCA_VALIDITY,
        subject_key=base.csca.key,
        issuer_key=base.csca.key,
        hash_name=base.hash_name,
        ca=True,
    )
    dsc = pki.build_certificate(
        subject=pki.name("DS Test stateless"),
        issuer=stateless,
        serial=0x9A,
        validity=pki.DSC_VALIDITY,
        subject_key=base.key,
        issuer_key=base.csca.key,
        hash_name=base.hash_name,
    )
    store = TrustStore()
    store.add_certificate(bytes(csca.dump()))
    raw = sod_build.build_sod(DGS, dataclasses.replace(base, certificate=dsc))
    result = passive_authentication(_files(raw), store, at=AT)
    assert result.status == "invalid" and result.chain.status == "issuing_state_mismatch"
    assert re.fullmatch(
        r"the Document Signer chains to .*CSCA Test stateless.* \(no country\), "
        r"not to a CSCA of the issuing state VNM \(VN\)",
        result.chain.detail,
    ), result.chain.detail
    assert result.reason == f"issuing state mismatch: {result.chain.detail}"


def test_chain_to_another_states_csca_names_both_states() -> None:
    signer = pki.foreign_document_signer("FR", signer_country="VN")
    store = TrustStore()
    store.add_certificate(pki.foreign_csca("FR").der)
    raw = sod_build.build_sod(DGS, signer)
    result = passive_authentication(_files(raw), store, at=AT)
    assert result.chain.status == "issuing_state_mismatch"
    assert re.fullmatch(
        r"the Document Signer chains to .*CSCA Test FR.* \(FR\), "
        r"not to a CSCA of the issuing state VNM \(VN\)",
        result.chain.detail,
    ), result.chain.detail
    foreign = pki.foreign_document_signer("FR")
    result = passive_authentication(_files(sod_build.build_sod(DGS, foreign)), store, at=AT)
    assert result.chain.detail == (
        "the Document Signer is of FR, but the document's issuing state is VNM (VN)"
    )


def test_issuing_state_not_checked_says_why() -> None:
    raw = sod_build.build_sod(DGS, pki.document_signer("p256"))
    files = _files(raw)
    del files["DG1"]
    result = passive_authentication(files, _trust("p256"), at=AT)
    assert result.issuing_state is None and result.status == "verified"
    assert [w.message for w in result.warnings if w.code == "issuing_state_not_checked"] == [
        "DG1 was not read: the CSCA could not be tied to the issuing state"
    ]
    garbage = b"\x61\x03\x5f\x1f\x00"
    try:
        parse_dg1(garbage)
    except ParseError as exc:
        why = exc.reason
    files = {**_files(raw), "DG1": garbage}
    result = passive_authentication(files, _trust("p256"), at=AT)
    assert result.issuing_state is None and result.status == "invalid"  # its hash differs
    assert [w.message for w in result.warnings if w.code == "issuing_state_not_checked"] == [
        f"DG1 does not parse ({why}): the CSCA could not be tied to the issuing state"
    ]


def test_weak_rsa_warnings_name_the_key_and_stop_at_the_threshold() -> None:
    raw = sod_build.build_sod(DGS, pki.document_signer("rsa-pkcs1"))  # DSC 2048, CSCA 3072

    def weak(bits: int) -> list[str]:
        result = passive_authentication(
            _files(raw), _trust("rsa-pkcs1"), at=AT, policy=passive.Policy(weak_rsa_bits=bits)
        )
        assert result.status == "verified", result.reason
        return [w.message for w in result.warnings if w.code == "weak_rsa"]

    assert weak(2048) == []
    assert weak(3072) == ["Document Signer key is RSA-2048"]
    assert weak(3073) == ["Document Signer key is RSA-2048", "CSCA key is RSA-3072"]


def test_dsc_signed_with_an_unknown_algorithm_is_unsupported_not_forged() -> None:
    base = pki.document_signer("p256")
    certificate = asn1_x509.Certificate.load(base.der)
    certificate["signature_algorithm"] = {"algorithm": "1.2.3.4.5"}
    certificate["tbs_certificate"]["signature"] = {"algorithm": "1.2.3.4.5"}
    odd = asn1_x509.Certificate.load(bytes(certificate.dump(force=True)))
    raw = sod_build.build_sod(DGS, dataclasses.replace(base, certificate=odd))
    result = passive_authentication(_files(raw), _trust("p256"), at=AT)
    assert result.signature.status == "valid"
    assert result.chain.status == "unsupported" and result.chain.detail
    assert result.status == "unsupported"
    assert result.reason == f"CSCA signature: {result.chain.detail}"


def test_trailing_bytes_after_the_sod_are_an_encoding_warning() -> None:
    raw = sod_build.build_sod(DGS, pki.document_signer("p256")) + b"\x00\x00"
    result = passive_authentication(_files(raw), _trust("p256"), at=AT)
    assert [(w.code, w.message) for w in result.warnings if w.code == "sod_encoding"] == [
        ("sod_encoding", "2 trailing bytes after EF.SOD")
    ]


def test_structure_anomalies_make_good_results_malformed_unless_lenient() -> None:
    raw = sod_build.build_sod(DGS, pki.document_signer("p256"))

    def other_digest_listed(signed: cms.SignedData) -> None:
        signed["digest_algorithms"] = [{"algorithm": "sha512"}]

    odd = _resealed(raw, other_digest_listed)
    anomaly = "the SignerInfo digest algorithm is not in digestAlgorithms"
    for store in (_trust("p256"), TrustStore()):  # verified, and signer_not_trusted
        strict = passive_authentication(_files(odd), store, at=AT)
        assert (strict.status, strict.reason) == ("malformed", f"EF.SOD structure: {anomaly}")
    lenient = passive_authentication(
        _files(odd), _trust("p256"), at=AT, policy=passive.Policy(strict_structure=False)
    )
    assert lenient.status == "verified"
    assert [(w.code, w.message) for w in lenient.warnings] == [("sod_structure", anomaly)]
    tampered = {**_files(odd), "DG2": b"\x75\x03abd"}
    invalid = passive_authentication(tampered, _trust("p256"), at=AT)
    assert invalid.status == "invalid" and invalid.reason == "hash mismatch: DG2"
    assert invalid.has_warning("sod_structure")


def test_signature_scheme_that_does_not_fit_the_key_is_unsupported() -> None:
    raw = sod_build.build_sod(DGS, pki.document_signer("rsa-pkcs1"))

    def ecdsa_named(info: cms.SignerInfo) -> None:
        info["signature_algorithm"] = {"algorithm": "1.2.840.10045.4.3.2"}  # ecdsa-with-SHA256

    result = passive_authentication(
        _files(_rewrite_signer_info(raw, ecdsa_named)), _trust("rsa-pkcs1"), at=AT
    )
    assert result.status == "unsupported"
    assert result.signature.status == "unsupported"
    assert result.signature.detail == "ECDSA signature with a RSA-2048 key"
    assert result.signature.algorithm == result.algorithms.signature is not None
    assert "ECDSA" in result.signature.algorithm
    assert result.algorithms.signer_key == "RSA-2048"
    assert result.reason == "signature: ECDSA signature with a RSA-2048 key"


def test_several_structure_anomalies_are_all_named_in_the_reason() -> None:
    raw = sod_build.build_sod(DGS, pki.document_signer("p256"))

    def two_deviations(signed: cms.SignedData) -> None:
        signed["digest_algorithms"] = [{"algorithm": "sha512"}]
        signed["signer_infos"][0]["version"] = "v3"  # v3 goes with a subjectKeyIdentifier

    result = passive_authentication(_files(_resealed(raw, two_deviations)), _trust("p256"), at=AT)
    assert result.status == "malformed"
    assert result.reason == (
        "EF.SOD structure: the SignerInfo digest algorithm is not in digestAlgorithms; "
        "SignerInfo version 3 does not fit its sid"
    )

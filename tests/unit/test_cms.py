"""The one CMS SignedData signer check (``verify.cms``, RFC 5652 §5.3-§5.6) on the one
SignedData reader (``reader.lds.cms``), on real material: the Dutch CSCA master list of July
2026 (a real, published file in ``tests/data/trust``) changed byte by byte, and SODs of the test
PKI rebuilt with asn1crypto. Each failed step is its own typed error; the real list's
signature is also checked with pyca/cryptography alone, as an oracle independent of ours.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from functools import cache
from pathlib import Path

import pytest
from asn1crypto import cms as asn1_cms
from asn1crypto import parser
from asn1crypto import x509 as asn1_x509
from cryptography import x509 as pyca_x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from hypothesis import given, settings
from hypothesis import strategies as st

from fixtures import pki
from fixtures import sod as sod_build
from reader import oids
from reader.errors import ParseError, UnsupportedError
from reader.lds.cms import parse_signed_data
from reader.lds.sod import parse_sod
from verify import cms
from verify.trust import TrustStore

DUTCH = Path(__file__).parents[1] / "data" / "trust" / "nl-masterlist-2026-07-22.ml"
ML_TYPES = (oids.ID_CSCA_MASTER_LIST,)
LDS_TYPES = (oids.ID_LDS_SECURITY_OBJECT,)
DGS = {1: b"\x61\x05DG1..", 2: b"\x75\x04DG2.", 13: b"\x6d\x03D13"}


@cache
def dutch() -> bytes:
    return DUTCH.read_bytes()


def check_list(raw: bytes, content_types: tuple[str, ...] = ML_TYPES) -> cms.SignerCheck:
    return cms.check_signer(
        parse_signed_data(raw),
        content_types=content_types,
        type_name="id-icao-cscaMasterList",
        content_name="master list content",
    )


def check_sod(raw_sod: bytes) -> cms.SignerCheck:
    return cms.check_signer(
        parse_sod(raw_sod).signed_data,
        content_types=LDS_TYPES,
        type_name="ldsSecurityObject",
        content_name="LDS security object",
    )


def failure_types(check: cms.SignerCheck) -> list[type[cms.CmsError]]:
    return [type(failure) for failure in check.failures]


# -- the real master list -------------------------------------------------------------------


def test_the_dutch_master_list_signer_holds() -> None:
    check = check_list(dutch())
    assert check.ok and check.failures == () and check.signature == "valid"
    assert check.content_type == oids.ID_CSCA_MASTER_LIST and len(check.content) > 600_000
    assert (check.econtent_type_ok, check.content_type_ok, check.message_digest_ok) == (
        True,
        True,
        True,
    )
    assert check.signing_time == datetime(2026, 7, 23, 9, 35, 43, tzinfo=UTC)
    assert check.signed_within_validity is True
    assert check.key is not None and check.key.description == "RSA-4096"
    signer = check.require()
    assert "Masterlist Signer NL" in signer.subject.human_friendly
    assert check.signer_info.sid_kind == "subject_key_identifier"
    assert signer.key_identifier == check.signer_info.subject_key_identifier


def test_the_signed_attributes_are_the_set_the_real_signature_covers() -> None:
    """The bytes we hand the verifier are the ones the Dutch signer signed: pyca/cryptography,
    given them and the certificate, verifies the real signature without our code."""
    check = check_list(dutch())
    attrs = check.signer_info.signed_attrs
    assert attrs is not None and attrs[0] == 0x31  # universal SET, not the [0] of the file
    header_length = len(parser.parse(attrs)[3])
    assert b"\xa0" + attrs[1:header_length] + attrs[header_length:] in dutch()
    assert check.signer is not None
    certificate = pyca_x509.load_der_x509_certificate(check.signer.dump())
    key = certificate.public_key()
    assert isinstance(key, rsa.RSAPublicKey)
    key.verify(check.signer_info.signature, attrs, padding.PKCS1v15(), hashes.SHA256())
    assert check.signer_info.message_digest == hashlib.sha256(check.content).digest()


def test_a_changed_byte_in_the_list_is_a_message_digest_mismatch() -> None:
    raw = bytearray(dutch())
    position = raw.index(parse_signed_data(dutch()).econtent[-64:])  # inside the last CSCA
    raw[position] ^= 0x01
    check = check_list(bytes(raw))
    assert failure_types(check) == [cms.MessageDigestError]
    assert check.message_digest_ok is False and check.content_type_ok is True
    assert check.signature == "valid"  # the signature is over the attributes, which hold
    assert str(check.failures[0]) == "messageDigest does not match the master list content"
    with pytest.raises(cms.MessageDigestError):
        check.require()


def test_a_changed_signing_time_is_a_signature_over_tampered_attributes() -> None:
    info = asn1_cms.ContentInfo.load(dutch())["content"]["signer_infos"][0]
    [when] = [a["values"][0] for a in info["signed_attrs"] if a["type"].native == "signing_time"]
    encoded = bytes(when.dump())
    assert dutch().count(encoded) == 1
    later = encoded.replace(b"43Z", b"44Z")  # one second later
    assert later != encoded
    check = check_list(dutch().replace(encoded, later))
    assert check.signing_time == datetime(2026, 7, 23, 9, 35, 44, tzinfo=UTC)
    assert check.message_digest_ok is True and check.content_type_ok is True
    assert failure_types(check) == [cms.SignatureError]
    assert check.signature == "invalid" and not check.ok
    with pytest.raises(cms.SignatureError, match="does not verify"):
        check.require()


def test_the_list_checked_as_another_content_type_is_a_content_type_error() -> None:
    check = cms.check_signer(
        parse_signed_data(dutch()),
        content_types=LDS_TYPES,
        type_name="ldsSecurityObject",
        content_name="LDS security object",
    )
    assert failure_types(check) == [cms.ContentTypeError]
    assert check.failures[0].reason == (
        f"eContentType {oids.ID_CSCA_MASTER_LIST} is not ldsSecurityObject"
    )
    assert check.econtent_type_ok is False and check.signature == "valid"


def test_the_list_without_its_signer_certificate_names_that() -> None:
    raw = dutch()
    info = asn1_cms.ContentInfo.load(raw)
    signed = info["content"]
    [embedded] = list(signed["certificates"])
    other = asn1_cms.CertificateChoices(
        name="certificate", value=pki.csca("p256").certificate
    )  # a certificate, but not the signer's
    signed["certificates"] = asn1_cms.CertificateSet([other])
    rebuilt = bytes(
        asn1_cms.ContentInfo({"content_type": "signed_data", "content": signed}).dump(force=True)
    )
    assert embedded.chosen.dump() in raw and embedded.chosen.dump() not in rebuilt
    check = check_list(rebuilt)
    assert failure_types(check) == [cms.SignerNotFoundError]
    assert check.signer is None and check.signature == "not_checked" and check.key is None
    assert len(check.certificates) == 1
    assert check.message_digest_ok is True  # the attributes were still checked
    with pytest.raises(cms.SignerNotFoundError, match="not in the SignedData"):
        check.require()
    report = TrustStore().load_master_list(rebuilt)
    assert not report.accepted and report.signer is None
    assert report.message == "master list refused: the signer certificate is not in the SignedData"


# -- SODs of the test PKI -------------------------------------------------------------------


def _rebuilt(raw_sod: bytes, change: object) -> bytes:
    info = asn1_cms.ContentInfo.load(bytes(parser.parse(raw_sod)[4]))
    signed = info["content"]
    change(signed)  # type: ignore[operator]
    return sod_build.wrap_sod(
        bytes(asn1_cms.ContentInfo({"content_type": "signed_data", "content": signed}).dump(True))
    )


def _resigned(
    signer: pki.DocumentSigner,
    signed: asn1_cms.SignedData,
    attributes: list[asn1_cms.CMSAttribute] | None,
) -> None:
    """Replace the SignerInfo's attributes by ``attributes`` (None: none) and sign again."""
    info = signed["signer_infos"][0]
    if attributes is None:
        del info["signed_attrs"]
        info["signature"] = signer.sign(bytes(signed["encap_content_info"]["content"].native))
    else:
        attrs = asn1_cms.CMSAttributes(attributes)
        info["signed_attrs"] = attrs
        info["signature"] = signer.sign(bytes(attrs.dump()))


def _without_attribute(signer: pki.DocumentSigner, name: str) -> bytes:
    """A SOD by ``signer`` whose SignerInfo lacks the signed attribute ``name``, signed again."""

    def drop(signed: asn1_cms.SignedData) -> None:
        kept = [a for a in signed["signer_infos"][0]["signed_attrs"] if a["type"].native != name]
        _resigned(signer, signed, kept)

    return _rebuilt(sod_build.build_sod(DGS, signer), drop)


def test_a_valid_sod_holds_and_answers_its_content() -> None:
    raw = sod_build.build_sod(DGS, pki.document_signer("p256"))
    check = check_sod(raw)
    assert check.ok and check.content == parse_sod(raw).econtent
    assert check.require().dump() == pki.document_signer("p256").certificate.dump()
    assert check.signing_time == pki.DSC_SIGNING_TIME and check.signed_within_validity is True


def test_sod_without_the_dsc_is_a_missing_signer_certificate() -> None:
    raw = sod_build.build_sod(DGS, pki.document_signer("p256"), include_certificate=False)
    check = check_sod(raw)
    assert failure_types(check) == [cms.SignerNotFoundError]
    assert check.certificates == () and check.signed_within_validity is None


def test_sod_whose_econtent_type_differs_from_the_signed_content_type() -> None:
    def retype(signed: asn1_cms.SignedData) -> None:
        signed["encap_content_info"]["content_type"] = asn1_cms.ContentType("data")

    check = check_sod(_rebuilt(sod_build.build_sod(DGS, pki.document_signer("p256")), retype))
    assert failure_types(check) == [cms.ContentTypeError, cms.ContentTypeError]
    assert [f.reason for f in check.failures] == [
        f"eContentType {oids.ID_DATA} is not ldsSecurityObject",
        "signed contentType attribute differs from the eContentType",
    ]
    assert check.content_type_ok is False and check.signature == "valid"


def test_sod_with_its_econtent_replaced_is_a_message_digest_mismatch() -> None:
    raw = sod_build.build_sod(DGS, pki.document_signer("p256"))
    other = sod_build.lds_security_object({1: b"forged"})
    check = check_sod(sod_build.sod_with_econtent_replaced(raw, other))
    assert failure_types(check) == [cms.MessageDigestError]
    assert check.failures[0].reason == "messageDigest does not match the LDS security object"


def test_sod_without_a_message_digest_attribute() -> None:
    signer = pki.document_signer("p256")

    check = check_sod(_without_attribute(signer, "message_digest"))
    assert failure_types(check) == [cms.MessageDigestError]
    assert check.failures[0].reason == "no messageDigest signed attribute"
    assert check.message_digest_ok is False and check.signature == "valid"


def test_sod_without_signed_attributes_is_signed_over_the_content() -> None:
    signer = pki.document_signer("p256")

    def no_attributes(signed: asn1_cms.SignedData) -> None:
        _resigned(signer, signed, None)

    check = check_sod(_rebuilt(sod_build.build_sod(DGS, signer), no_attributes))
    assert check.ok and check.signer_info.signed_attrs is None
    assert (check.content_type_ok, check.message_digest_ok, check.signing_time) == (
        None,
        None,
        None,
    )


def test_unknown_digest_algorithm_is_unsupported_not_bad() -> None:
    def unknown_digest(signed: asn1_cms.SignedData) -> None:
        signed["signer_infos"][0]["digest_algorithm"] = {"algorithm": "1.2.3.4"}

    check = check_sod(
        _rebuilt(sod_build.build_sod(DGS, pki.document_signer("p256")), unknown_digest)
    )
    [failure] = check.failures
    assert isinstance(failure, cms.CmsUnsupportedError) and isinstance(failure, UnsupportedError)
    assert failure.reason == "SignerInfo digest algorithm 1.2.3.4"
    assert check.message_digest_ok is None
    assert check.signature == "valid"  # ecdsa-with-SHA256 names its own hash


def test_unknown_signature_algorithm_is_unsupported_with_its_cause() -> None:
    def unknown_algorithm(signed: asn1_cms.SignedData) -> None:
        signed["signer_infos"][0]["signature_algorithm"] = {"algorithm": "1.2.3.4.5"}

    check = check_sod(
        _rebuilt(sod_build.build_sod(DGS, pki.document_signer("p256")), unknown_algorithm)
    )
    [failure] = check.failures
    assert isinstance(failure, cms.CmsUnsupportedError)
    assert failure.reason == "signature algorithm: unsupported signature algorithm 1.2.3.4.5"
    assert failure.detail == "unsupported signature algorithm 1.2.3.4.5"
    assert check.signature == "unsupported" and check.algorithm is None


def test_a_signature_by_another_key_over_the_same_attributes_is_invalid() -> None:
    def forge(signed: asn1_cms.SignedData) -> None:
        attributes = list(signed["signer_infos"][0]["signed_attrs"])
        _resigned(pki.document_signer("p256", "impostor"), signed, attributes)

    check = check_sod(_rebuilt(sod_build.build_sod(DGS, pki.document_signer("p256")), forge))
    assert failure_types(check) == [cms.SignatureError]
    assert check.message_digest_ok is True and check.signature == "invalid"
    assert check.signer is not None  # the honest DSC, named by the sid, did not sign


def test_signing_time_outside_the_signer_validity_is_answered() -> None:
    raw = sod_build.build_sod(
        DGS, pki.document_signer("p256"), signing_time=datetime(2019, 1, 1, tzinfo=UTC)
    )
    check = check_sod(raw)
    assert check.ok and check.signed_within_validity is False


def test_master_list_signed_outside_its_signer_validity_is_a_warning() -> None:
    signer = pki.master_list_signer("brainpool512")
    master = pki.build_master_list([pki.csca("brainpool512").der], signer)
    content = parse_signed_data(master).econtent
    early = pki.build_signed_data(
        econtent_type=oids.ID_CSCA_MASTER_LIST,
        econtent=content,
        signer=signer,
        signing_time=datetime(2019, 1, 1, tzinfo=UTC),
        certificates=[signer.certificate, signer.csca.certificate],
    )
    report = TrustStore().load_master_list(early)
    assert report.accepted, report.message
    assert "master-list signer certificate not valid at the signing time" in report.warnings
    on_time = TrustStore().load_master_list(master)
    assert on_time.accepted and not any("signing time" in w for w in on_time.warnings)


# -- the reader ----------------------------------------------------------------------------


def test_reader_bounds_and_refusals_are_parse_errors() -> None:
    with pytest.raises(ParseError, match="more than 0 certificates"):
        parse_signed_data(dutch(), max_certificates=0)
    with pytest.raises(ParseError, match="signedData"):
        parse_signed_data(
            bytes(asn1_cms.ContentInfo({"content_type": "data", "content": b"x"}).dump())
        )
    with pytest.raises(ParseError, match="does not parse"):
        parse_signed_data(b"\x30\x03\x02\x01\x00")

    def detach(signed: asn1_cms.SignedData) -> None:
        del signed["encap_content_info"]["content"]

    detached = _rebuilt(sod_build.build_sod(DGS, pki.document_signer("p256")), detach)
    with pytest.raises(ParseError, match="detached"):
        parse_signed_data(bytes(parser.parse(detached)[4]))


_SOD = sod_build.build_sod(DGS, pki.document_signer("p256"))


@settings(max_examples=150, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.integers(min_value=0, max_value=len(_SOD) - 1),
            st.integers(min_value=0, max_value=255),
        ),
        min_size=1,
        max_size=3,
    )
)
def test_changed_bytes_give_a_parse_error_or_a_check_with_its_failures(
    edits: list[tuple[int, int]],
) -> None:
    data = bytearray(_SOD)
    for position, value in edits:
        data[position] = value
    try:
        signed = parse_sod(bytes(data)).signed_data
    except ParseError:
        return
    check = cms.check_signer(
        signed, content_types=LDS_TYPES, type_name="ldsSecurityObject", content_name="LDS"
    )
    if bytes(data) != _SOD and check.ok:
        # Only bytes outside what the signature and the digest cover may change unnoticed.
        assert check.content == parse_sod(_SOD).econtent
        assert check.signer_info.signed_attrs == parse_sod(_SOD).signer_info.signed_attrs
    if check.failures:
        with pytest.raises(cms.CmsError):
            check.require()
    else:
        assert check.require() is check.signer


# -- what a check answers besides its failures -----------------------------------------------


def test_a_missing_signer_still_answers_what_was_checked() -> None:
    signer = pki.document_signer("p256")
    check = check_sod(sod_build.build_sod(DGS, signer, include_certificate=False))
    assert check.signer_info.serial_number == signer.certificate.serial_number
    assert check.content_type_ok is True and check.message_digest_ok is True
    assert check.signing_time == pki.DSC_SIGNING_TIME


def test_a_valid_check_keeps_the_certificates_it_found() -> None:
    signer = pki.document_signer("p256")
    check = check_sod(sod_build.build_sod(DGS, signer))
    assert [c.dump() for c in check.certificates] == [signer.certificate.dump()]


def test_signed_at_the_first_instant_of_the_signer_validity_is_within_it() -> None:
    not_before = pki.DSC_VALIDITY[0]
    raw = sod_build.build_sod(DGS, pki.document_signer("p256"), signing_time=not_before)
    check = check_sod(raw)
    assert check.ok and check.signing_time == not_before
    assert check.signed_within_validity is True


def test_no_signing_time_leaves_the_validity_question_open() -> None:
    signer = pki.document_signer("p256")

    check = check_sod(_without_attribute(signer, "signing_time"))
    assert check.ok and check.signing_time is None
    assert check.signed_within_validity is None


def test_failures_say_what_failed_and_keep_their_cause() -> None:
    def forge(signed: asn1_cms.SignedData) -> None:
        attributes = list(signed["signer_infos"][0]["signed_attrs"])
        _resigned(pki.document_signer("p256", "impostor"), signed, attributes)

    check = check_sod(_rebuilt(sod_build.build_sod(DGS, pki.document_signer("p256")), forge))
    [failure] = check.failures
    assert str(failure) == failure.reason == "the SignerInfo signature does not verify"
    assert failure.detail == failure.reason  # no underlying cause: the reason again
    cause = cms.CmsUnsupportedError("signature: X", detail="X")
    assert (cause.reason, cause.detail) == ("signature: X", "X")


def test_a_signer_key_of_an_unsupported_kind_is_unsupported_with_its_cause() -> None:
    """The sid names a certificate whose key is Ed25519, which no eMRTD uses: the check says
    the signer key is unsupported, names why, and verifies nothing."""
    from cryptography.hazmat.primitives.asymmetric import ed25519
    from cryptography.hazmat.primitives.serialization import Encoding

    honest = pki.document_signer("p256").certificate
    theirs = pyca_x509.load_der_x509_certificate(honest.dump())
    key = ed25519.Ed25519PrivateKey.generate()
    odd = (
        pyca_x509.CertificateBuilder()
        .subject_name(theirs.subject)
        .issuer_name(theirs.issuer)
        .serial_number(theirs.serial_number)
        .not_valid_before(theirs.not_valid_before_utc)
        .not_valid_after(theirs.not_valid_after_utc)
        .public_key(key.public_key())
        .sign(key, None)
    )

    def swap_certificate(signed: asn1_cms.SignedData) -> None:
        der = odd.public_bytes(Encoding.DER)
        signed["certificates"] = asn1_cms.CertificateSet(
            [asn1_cms.CertificateChoices(name="certificate", value=asn1_x509.Certificate.load(der))]
        )

    check = check_sod(
        _rebuilt(sod_build.build_sod(DGS, pki.document_signer("p256")), swap_certificate)
    )
    [failure] = check.failures
    assert isinstance(failure, cms.CmsUnsupportedError)
    assert (
        failure.reason.startswith("signer key: ")
        and failure.reason == f"signer key: {failure.detail}"
    )
    assert failure.detail and failure.detail != failure.reason
    assert check.signature == "unsupported" and check.key is None and check.algorithm is not None


def test_signed_at_the_last_instant_of_the_signer_validity_is_within_it() -> None:
    signer = pki.document_signer("p256")
    not_after = pyca_x509.load_der_x509_certificate(signer.certificate.dump()).not_valid_after_utc
    check = check_sod(sod_build.build_sod(DGS, signer, signing_time=not_after))
    assert check.ok and check.signing_time == not_after
    assert check.signed_within_validity is True

"""EF.SOD: builder round trip, tolerated oddities (BER, legacy OIDs, trailing bytes), fuzzing."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime

import pytest
from asn1crypto import cms, x509
from hypothesis import given, settings
from hypothesis import strategies as st

from fixtures import pki
from fixtures import sod as sod_build
from reader.errors import ParseError
from reader.lds.sod import OID_LDS_SECURITY_OBJECT, parse_sod

DGS = {
    1: b"\x61\x5b" + b"M" * 91,
    2: bytes(range(256)) * 20,
    13: "Lê Thị Hồng".encode() * 9,
    14: b"\x6e\x10" + b"\x01" * 16,
    15: b"\x6f\x05abcde",
}


def _econtent_der_length(raw: bytes) -> int:
    return len(parse_sod(raw).econtent)


def test_round_trip_v0_brainpool() -> None:
    signer = pki.document_signer()
    raw = sod_build.build_sod(DGS, signer)
    assert raw[0] == 0x77
    sod = parse_sod(raw)
    assert sod.raw == raw
    assert sod.lds_security_object_version == 0
    assert sod.lds_version is None
    assert sod.hash_name == "sha256"
    assert sod.econtent_type == OID_LDS_SECURITY_OBJECT
    assert sod.data_group_hashes == {n: hashlib.sha256(v).digest() for n, v in DGS.items()}
    assert sod.certificates == (signer.der,)
    assert sod.trailing_bytes == 0 and sod.warnings == ()
    info = sod.signer_info
    assert info.sid_kind == "issuer_and_serial_number"
    assert info.serial_number == signer.certificate.serial_number
    assert info.issuer == signer.certificate.issuer.dump()
    assert info.digest_name == "sha512"
    assert info.signature_algorithm == "1.2.840.10045.4.3.4"  # ecdsa-with-SHA512
    assert info.content_type == OID_LDS_SECURITY_OBJECT
    assert info.message_digest == hashlib.sha512(sod.econtent).digest()
    assert info.signing_time == pki.DSC_SIGNING_TIME
    assert info.signed_attrs is not None and info.signed_attrs[0] == 0x31


def test_signed_attrs_are_the_exact_bytes_that_were_signed() -> None:
    signer = pki.document_signer("p256")
    sod = parse_sod(sod_build.build_sod(DGS, signer))
    public = signer.key.private.public_key()
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec

    assert sod.signer_info.signed_attrs is not None
    public.verify(
        sod.signer_info.signature, sod.signer_info.signed_attrs, ec.ECDSA(hashes.SHA256())
    )


def test_v1_with_lds_version_info_and_sha384() -> None:
    raw = sod_build.build_sod(
        DGS, pki.document_signer("p256"), hash_name="sha384", lds_version=("0108", "040000")
    )
    sod = parse_sod(raw)
    assert sod.lds_security_object_version == 1
    assert (sod.lds_version, sod.unicode_version) == ("0108", "040000")
    assert sod.hash_name == "sha384"
    assert sod.data_group_hashes[13] == hashlib.sha384(DGS[13]).digest()


def test_rsa_pss_parameters_are_kept() -> None:
    sod = parse_sod(sod_build.build_sod(DGS, pki.document_signer("rsa-pss")))
    info = sod.signer_info
    assert info.signature_algorithm == "1.2.840.113549.1.1.10"
    assert info.signature_parameters is not None
    from verify.signatures import signature_algorithm

    resolved = signature_algorithm(info.signature_algorithm, info.signature_parameters)
    assert (resolved.hash_name, resolved.mgf_hash, resolved.salt_length) == ("sha256", "sha256", 32)


def test_subject_key_identifier_sid() -> None:
    signer = pki.document_signer("p256")
    sod = parse_sod(sod_build.build_sod(DGS, signer, sid="subject_key_identifier"))
    assert sod.signer_info.sid_kind == "subject_key_identifier"
    assert sod.signer_info.subject_key_identifier == signer.certificate.key_identifier
    assert sod.signer_info.version == 3


def _to_indefinite(raw: bytes) -> bytes:
    """Re-encode the tag 77 wrapper and the ContentInfo SEQUENCE with indefinite lengths."""
    from asn1crypto import parser

    inner = parser.parse(raw)[4]
    ci = parser.parse(inner)
    return b"\x77\x80" + b"\x30\x80" + ci[4] + b"\x00\x00" + b"\x00\x00"


def test_ber_indefinite_lengths_are_tolerated() -> None:
    raw = sod_build.build_sod(DGS, pki.document_signer("p256"))
    sod = parse_sod(_to_indefinite(raw))
    assert sod.data_group_hashes == parse_sod(raw).data_group_hashes
    assert any("indefinite" in w for w in sod.warnings)


def test_trailing_bytes_are_flagged() -> None:
    raw = sod_build.build_sod(DGS, pki.document_signer("p256"))
    sod = parse_sod(raw + b"\x00\x00\x00")
    assert sod.trailing_bytes == 3
    assert any("trailing" in w for w in sod.warnings)


def test_legacy_econtent_type_is_accepted_and_flagged() -> None:
    signer = pki.document_signer("p256")
    econtent = sod_build.lds_security_object(DGS)
    legacy = "1.2.528.1.1006.1.20.1"
    raw = sod_build.wrap_sod(
        pki.build_signed_data(econtent_type=legacy, econtent=econtent, signer=signer)
    )
    sod = parse_sod(raw)
    assert sod.econtent_type == legacy
    assert any("legacy" in w for w in sod.warnings)
    assert sod.data_group_hashes[1] == hashlib.sha256(DGS[1]).digest()


def test_no_signing_time_and_no_certificate() -> None:
    signer = pki.document_signer("p256")
    econtent = sod_build.lds_security_object(DGS)
    raw = sod_build.wrap_sod(
        pki.build_signed_data(
            econtent_type=OID_LDS_SECURITY_OBJECT,
            econtent=econtent,
            signer=signer,
            include_signing_time=False,
            certificates=[],
        )
    )
    sod = parse_sod(raw)
    assert sod.signer_info.signing_time is None
    assert sod.certificates == ()


@pytest.mark.parametrize(
    ("data", "needle"),
    [
        (b"", "empty"),
        (b"\x30\x03\x02\x01\x00", "tag 77"),
        (b"\x77\x03\x02\x01\x00", "parse"),
        (b"\x77\x82\xff\xff\x30", "parse"),
    ],
)
def test_bad_input_is_a_parse_error_naming_sod(data: bytes, needle: str) -> None:
    with pytest.raises(ParseError) as info:
        parse_sod(data)
    assert info.value.file == "SOD"
    assert needle in str(info.value).lower() or needle in str(info.value)


def test_not_signed_data_and_bad_dg_numbers() -> None:
    data_ci = cms.ContentInfo({"content_type": "data", "content": b"hello"})
    with pytest.raises(ParseError, match="signedData"):
        parse_sod(sod_build.wrap_sod(bytes(data_ci.dump())))
    with pytest.raises(ValueError):
        sod_build.lds_security_object({17: b"x"})


def test_build_sod_rejects_an_unknown_fault() -> None:
    with pytest.raises(ValueError):
        sod_build.faulty_sod(DGS, "nonsense")  # type: ignore[arg-type]


_BASE = sod_build.build_sod(DGS, pki.document_signer("p256"))


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.integers(min_value=0, max_value=len(_BASE) - 1),
            st.integers(min_value=0, max_value=255),
            st.sampled_from(["set", "delete", "insert"]),
        ),
        min_size=1,
        max_size=4,
    ),
    st.integers(min_value=0, max_value=len(_BASE)),
)
def test_mutated_sod_gives_a_result_or_parse_error(
    edits: list[tuple[int, int, str]], cut: int
) -> None:
    data = bytearray(_BASE)
    for position, value, kind in edits:
        position = min(position, len(data) - 1)
        if kind == "set":
            data[position] = value
        elif kind == "delete":
            del data[position]
        else:
            data.insert(position, value)
    for candidate in (bytes(data), bytes(data[:cut])):
        try:
            sod = parse_sod(candidate)
        except ParseError as exc:
            assert exc.file == "SOD"
        else:
            assert sod.raw == candidate
            assert all(1 <= n <= 16 for n in sod.data_group_hashes)


@settings(max_examples=100, deadline=None)
@given(st.binary(max_size=300))
def test_arbitrary_bytes_give_a_result_or_parse_error(data: bytes) -> None:
    for candidate in (data, b"\x77" + data, b"\x77\x82" + len(data).to_bytes(2, "big") + data):
        try:
            parse_sod(candidate)
        except ParseError as exc:
            assert exc.file == "SOD"


def test_signing_time_fixture_is_utc() -> None:
    assert datetime(2021, 6, 1, tzinfo=UTC) == pki.DSC_SIGNING_TIME
    assert isinstance(pki.document_signer().certificate, x509.Certificate)

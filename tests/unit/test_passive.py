"""Passive authentication verdicts: every PKI profile, every tampering, policy and time."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fixtures import pki
from fixtures import sod as sod_build
from fixtures.cards import all_citizen_ids, build_card, trust_store_for_tests
from reader.lds.sod import parse_sod
from verify.passive import Policy, passive_authentication
from verify.trust import TrustStore

AT = datetime(2025, 6, 1, tzinfo=UTC)
DGS = {
    1: b"\x61\x5d\x5f\x1f\x5a" + b"IDVNM0720276963017072769692<<<" * 3,
    2: b"\x75\x82\x10\x00" + bytes(range(256)) * 16,
    13: "Nguyễn Văn An|Hà Nội".encode() * 10,
    14: b"\x6e\x20" + bytes(32),
    15: b"\x6f\x10" + bytes(range(16)),
}


def _files(sod: bytes, dgs: dict[int, bytes] = DGS) -> dict[str, bytes]:
    files = {f"DG{n}": data for n, data in dgs.items()}
    files["SOD"] = sod
    files["COM"] = b"\x60\x16\x5f\x01\x04\x30\x31\x30\x37"
    return files


def _trust(*profiles: str, crl: bool = True) -> TrustStore:
    store = TrustStore()
    for profile in profiles:
        store.add_certificate(pki.csca(profile).der)
        if crl:
            assert store.load_crl(pki.crl(profile)).accepted
    return store


def _sod(profile: str = "brainpool512", variant: str = "valid", **kwargs: object) -> bytes:
    return sod_build.build_sod(DGS, pki.document_signer(profile, variant), **kwargs)  # type: ignore[arg-type]


@pytest.mark.parametrize("profile", pki.PROFILES)
def test_every_profile_verified_with_its_csca_and_not_trusted_without(profile: str) -> None:
    files = _files(_sod(profile))
    result = passive_authentication(files, _trust(profile), at=AT)
    assert result.status == "verified", result.reason
    assert [f.status for f in result.files] == ["ok"] * len(DGS)
    assert result.signature.status == "valid"
    assert result.chain.status == "anchored" and result.chain.revocation_checked
    assert result.signed_data.ok
    assert result.signer is not None and f"DS Test {profile} valid" in result.signer.subject
    assert result.warnings == ()
    json.dumps(result.to_json())

    other = "p256" if profile != "p256" else "brainpool512"
    untrusted = passive_authentication(files, _trust(other), at=AT)
    assert untrusted.status == "signer_not_trusted"
    assert untrusted.chain.status == "no_trust_anchor"
    assert untrusted.signature.status == "valid"
    empty = passive_authentication(files, TrustStore(), at=AT)
    assert empty.status == "signer_not_trusted"


def test_algorithms_are_reported() -> None:
    result = passive_authentication(_files(_sod("rsa-pss")), _trust("rsa-pss"), at=AT)
    algorithms = result.algorithms
    assert algorithms.data_group_hash == "sha256"
    assert algorithms.signature == "RSASSA-PSS (sha256, MGF1-sha256, salt 32)"
    assert (algorithms.signer_key, algorithms.csca_key) == ("RSA-3072", "RSA-3072")
    fallback = passive_authentication(_files(_sod("brainpool224")), _trust("brainpool224"), at=AT)
    assert "(ecdsa)" in fallback.signature.detail
    explicit = passive_authentication(_files(_sod("explicit")), _trust("explicit"), at=AT)
    assert explicit.algorithms.csca_key == "EC brainpoolp256r1 (explicit parameters)"


def test_master_list_trust_verifies() -> None:
    store = TrustStore()
    assert store.load_master_list(pki.master_list(("brainpool512", "explicit"))).accepted
    assert passive_authentication(_files(_sod("explicit")), store, at=AT).status == "verified"


@pytest.mark.parametrize("dg", sorted(DGS))
def test_one_bit_flipped_in_a_dg_is_invalid_naming_it(dg: int) -> None:
    files = _files(_sod("p256"))
    data = bytearray(files[f"DG{dg}"])
    data[len(data) // 3] ^= 0x10
    files[f"DG{dg}"] = bytes(data)
    result = passive_authentication(files, _trust("p256"), at=AT)
    assert result.status == "invalid"
    assert result.failed_files == (f"DG{dg}",)
    assert f"DG{dg}" in result.reason
    checked = result.file(f"DG{dg}")
    assert checked is not None and checked.status == "mismatch"
    assert checked.expected != checked.actual


def test_dg_read_but_not_in_sod_is_invalid() -> None:
    files = _files(_sod("p256"))
    files["DG11"] = b"\x6b\x03\x5f\x0e\x00"
    result = passive_authentication(files, _trust("p256"), at=AT)
    assert result.status == "invalid"
    assert result.file("DG11") is not None and result.file("DG11").status == "not_in_sod"  # type: ignore[union-attr]
    assert "DG11" in result.reason


def test_dg_in_sod_but_not_read_is_only_not_checked() -> None:
    files = _files(_sod("p256"))
    del files["DG2"]
    result = passive_authentication(files, _trust("p256"), at=AT)
    assert result.status == "verified"
    assert result.file("DG2").status == "not_checked"  # type: ignore[union-attr]


def test_sod_signed_by_unknown_dsc_is_not_trusted() -> None:
    files = _files(sod_build.sod_signed_by_unknown_dsc(DGS, "p256"))
    result = passive_authentication(files, _trust("p256"), at=AT)
    assert result.status == "signer_not_trusted"
    assert result.signature.status == "valid"


def test_sod_signed_by_impostor_claiming_our_csca_is_invalid() -> None:
    files = _files(sod_build.faulty_sod(DGS, "impostor_signer", profile="rsa-pkcs1"))
    result = passive_authentication(files, _trust("rsa-pkcs1"), at=AT)
    assert result.status == "invalid"
    assert result.chain.status == "bad_chain_signature"


def test_resigned_sod_over_tampered_data_is_not_verified() -> None:
    forged = dict(DGS)
    forged[13] = "Trần Văn Giả".encode()
    raw = sod_build.build_sod(forged, pki.document_signer("p256", "unknown"))
    files = _files(raw, forged)
    assert passive_authentication(files, _trust("p256"), at=AT).status == "signer_not_trusted"
    # The genuine SOD re-signed by the forger: hashes fine, signer unknown.
    resigned = sod_build.resign_sod(_sod("p256"), pki.document_signer("p256", "impostor"))
    result = passive_authentication(_files(resigned), _trust("p256"), at=AT)
    assert result.status == "invalid" and result.chain.status == "bad_chain_signature"


def test_revoked_dsc() -> None:
    files = _files(sod_build.sod_signed_by_revoked_dsc(DGS, "brainpool512"))
    result = passive_authentication(files, _trust("brainpool512"), at=AT)
    assert result.chain.status == "revoked"
    assert result.chain.revoked_at == pki.REVOCATION_DATE
    assert result.status == "invalid"
    no_crl = passive_authentication(files, _trust("brainpool512", crl=False), at=AT)
    assert no_crl.status == "verified" and not no_crl.chain.revocation_checked


def test_expired_dsc_is_a_warning_not_a_forgery() -> None:
    files = _files(sod_build.sod_signed_by_expired_dsc(DGS, "p256"))
    result = passive_authentication(files, _trust("p256"), at=AT)
    assert result.status == "verified"
    assert result.has_warning("dsc_expired")
    assert result.signing_time == pki.EXPIRED_DSC_SIGNING_TIME
    strict = passive_authentication(
        files, _trust("p256"), at=AT, policy=Policy(accept_expired_signer=False)
    )
    assert strict.status == "invalid" and strict.chain.status == "expired"
    # Checked while the DSC was still valid: no warning.
    then = passive_authentication(files, _trust("p256"), at=datetime(2019, 1, 1, tzinfo=UTC))
    assert then.status == "verified" and not then.has_warning("dsc_expired")


def test_signed_outside_dsc_validity_is_invalid() -> None:
    signer = pki.document_signer("p256")
    late = sod_build.build_sod(DGS, signer, signing_time=datetime(2040, 1, 1, tzinfo=UTC))
    result = passive_authentication(
        _files(late), _trust("p256"), at=datetime(2041, 1, 1, tzinfo=UTC)
    )
    assert result.status == "invalid" and result.chain.status == "expired"
    early = sod_build.build_sod(DGS, signer, signing_time=datetime(2020, 1, 1, tzinfo=UTC))
    result = passive_authentication(_files(early), _trust("p256"), at=AT)
    assert result.status == "invalid" and result.chain.status == "not_yet_valid"


def test_check_time_before_dsc_validity_is_not_yet_valid() -> None:
    signer = pki.document_signer("p256")
    raw = sod_build.build_sod(DGS, signer, signing_time=None)
    result = passive_authentication(_files(raw), _trust("p256"), at=datetime(2020, 6, 1))
    assert result.chain.status == "not_yet_valid" and result.status == "invalid"


def test_rollover_through_link_certificate() -> None:
    store = _trust("p256")
    files = _files(_sod("p256", "rollover"))
    assert passive_authentication(files, store, at=AT).status == "invalid"  # name, wrong key
    store.add_certificate(pki.link_certificate("p256"))
    result = passive_authentication(files, store, at=AT)
    assert result.status == "verified"
    assert len(result.chain.path) == 2


def test_signature_bit_flip_is_invalid() -> None:
    raw = _sod("p256")
    signature = parse_sod(raw).signer_info.signature
    at = raw.rindex(signature) + len(signature) - 3
    broken = raw[:at] + bytes([raw[at] ^ 0x04]) + raw[at + 1 :]
    result = passive_authentication(_files(broken), _trust("p256"), at=AT)
    assert result.status == "invalid"
    assert result.signature.status == "invalid"


def test_replaced_econtent_breaks_the_message_digest() -> None:
    forged_lso = sod_build.lds_security_object({**DGS, 13: b"forged"})
    raw = sod_build.sod_with_econtent_replaced(_sod("p256"), forged_lso)
    files = _files(raw, {**DGS, 13: b"forged"})
    result = passive_authentication(files, _trust("p256"), at=AT)
    assert result.status == "invalid"
    assert result.signed_data.message_digest_ok is False
    assert "messageDigest" in result.reason


def test_missing_or_garbage_sod_is_malformed() -> None:
    files = _files(_sod("p256"))
    del files["SOD"]
    assert passive_authentication(files, _trust("p256"), at=AT).status == "malformed"
    files["SOD"] = b"\x77\x03\x01\x02\x03"
    result = passive_authentication(files, _trust("p256"), at=AT)
    assert result.status == "malformed" and "does not parse" in result.reason


def test_sod_without_its_certificate_is_malformed() -> None:
    raw = sod_build.build_sod(DGS, pki.document_signer("p256"), include_certificate=False)
    result = passive_authentication(_files(raw), _trust("p256"), at=AT)
    assert result.status == "malformed"


def test_sha1_is_refused_by_default_and_warned_when_accepted() -> None:
    raw = sod_build.build_sod(DGS, pki.document_signer("p256"), hash_name="sha1")
    result = passive_authentication(_files(raw), _trust("p256"), at=AT)
    assert result.status == "unsupported" and "SHA-1" in result.reason
    assert result.has_warning("sha1")
    allowed = passive_authentication(
        _files(raw), _trust("p256"), at=AT, policy=Policy(accept_sha1=True)
    )
    assert allowed.status == "verified" and allowed.has_warning("sha1")


def test_weak_rsa_is_a_warning() -> None:
    result = passive_authentication(
        _files(_sod("rsa-pkcs1")), _trust("rsa-pkcs1"), at=AT, policy=Policy(weak_rsa_bits=3000)
    )
    assert result.status == "verified" and result.has_warning("weak_rsa")


def test_unanchored_is_never_verified() -> None:
    result = passive_authentication(_files(_sod("p256")), TrustStore(), at=AT)
    assert result.status == "signer_not_trusted" and not result.verified
    assert result.signature.status == "valid" and result.chain.status == "no_trust_anchor"


def test_ski_sid_and_v1_sod_verify() -> None:
    raw = sod_build.build_sod(
        DGS,
        pki.document_signer("brainpool512"),
        hash_name="sha512",
        lds_version=("0108", "040000"),
        sid="subject_key_identifier",
    )
    assert passive_authentication(_files(raw), _trust("brainpool512"), at=AT).status == "verified"


def test_to_json_has_every_part() -> None:
    result = passive_authentication(_files(_sod("p256")), _trust("p256"), at=AT)
    document = json.loads(json.dumps(result.to_json()))
    assert document["status"] == "verified"
    assert {f["file"] for f in document["files"]} == {f"DG{n}" for n in DGS}
    assert document["chain"]["status"] == "anchored"
    assert document["signature"]["status"] == "valid"
    assert document["signer"]["serial_number"] == "1001"
    assert document["signed_data"]["message_digest_ok"] is True


_PROPERTY_FILES = _files(sod_build.build_sod(DGS, pki.document_signer("p256")))


@settings(max_examples=50, deadline=None)
@given(st.sampled_from(sorted(k for k in _PROPERTY_FILES if k != "COM")), st.data())
def test_any_single_bit_flip_is_never_verified(name: str, data: st.DataObject) -> None:
    content = _PROPERTY_FILES[name]
    bit = data.draw(st.integers(min_value=0, max_value=len(content) * 8 - 1))
    flipped = bytearray(content)
    flipped[bit // 8] ^= 1 << (bit % 8)
    files = dict(_PROPERTY_FILES)
    files[name] = bytes(flipped)
    result = passive_authentication(files, _trust("p256"), at=AT)
    assert result.status != "verified", (name, bit, result.reason)


_CITIZEN_IDS = all_citizen_ids()
_CARD_TRUST = trust_store_for_tests()
_CARD_AT = datetime(2026, 11, 28, tzinfo=UTC)


@settings(max_examples=50, deadline=None)
@given(st.sampled_from(_CITIZEN_IDS), st.data())
def test_random_citizen_random_file_random_bit_is_never_verified(
    id_number: str, data: st.DataObject
) -> None:
    """Whole cards of the card factory (every fictional citizen): the unflipped card is
    verified, and one flipped bit in EF.SOD or any data group never is."""
    card = build_card(id_number)
    assert passive_authentication(card.files, _CARD_TRUST, at=_CARD_AT).status == "verified"
    name = data.draw(st.sampled_from(sorted(n for n in card.files if n.startswith(("DG", "SOD")))))
    content = card.files[name]
    bit = data.draw(st.integers(min_value=0, max_value=len(content) * 8 - 1))
    flipped = bytearray(content)
    flipped[bit // 8] ^= 1 << (bit % 8)
    files = {**card.files, name: bytes(flipped)}
    result = passive_authentication(files, _CARD_TRUST, at=_CARD_AT)
    assert result.status != "verified", (name, bit, result.reason)


def test_to_json_names_and_values_exactly() -> None:
    """The report is an API answer: its keys and values are part of the contract."""
    result = passive_authentication(_files(_sod("p256")), _trust("p256"), at=AT)
    document = result.to_json()
    assert set(document) == {
        "status", "reason", "checked_at", "signing_time", "issuing_state", "files",
        "signed_data", "signature", "signer", "chain", "algorithms", "warnings",
    }  # fmt: skip
    assert document["status"] == "verified" and document["issuing_state"] == "VNM"
    assert document["checked_at"] == AT.isoformat()
    assert document["signing_time"] == pki.DSC_SIGNING_TIME.isoformat()
    first = document["files"][0]
    assert first == {
        "file": "DG1",
        "status": "ok",
        "expected": result.files[0].expected.hex(),  # type: ignore[union-attr]
        "actual": result.files[0].actual.hex(),  # type: ignore[union-attr]
    }
    assert document["signed_data"] == {
        "econtent_type": "2.23.136.1.1.1",
        "econtent_type_ok": True,
        "content_type_attribute_ok": True,
        "message_digest_ok": True,
        "problems": [],
    }
    assert set(document["signature"]) == {"status", "algorithm", "detail"}
    assert document["signature"]["status"] == "valid"
    assert document["signature"]["algorithm"] == result.signature.algorithm
    signer = document["signer"]
    assert set(signer) == {
        "subject", "issuer", "serial_number", "not_before", "not_after", "public_key",
        "authority_key_identifier",
    }  # fmt: skip
    assert signer["serial_number"] == "1001" and "DS Test p256 valid" in signer["subject"]
    assert signer["not_before"] == pki.DSC_VALIDITY[0].isoformat()
    assert signer["not_after"] == pki.DSC_VALIDITY[1].isoformat()
    assert signer["authority_key_identifier"] == pki.csca("p256").key_identifier.hex()
    assert signer["issuer"] == result.signer.issuer and signer["public_key"]  # type: ignore[union-attr]
    chain = document["chain"]
    assert chain == {
        "status": "anchored",
        "anchor": result.chain.anchor,
        "path": list(result.chain.path),
        "revocation_checked": True,
        "revoked_at": None,
        "detail": "",
    }
    assert document["algorithms"] == {
        "data_group_hash": "sha256",
        "signer_digest": result.algorithms.signer_digest,
        "signature": result.algorithms.signature,
        "signer_key": result.algorithms.signer_key,
        "csca_key": result.algorithms.csca_key,
    }
    assert None not in document["algorithms"].values()
    revoked = passive_authentication(_files(_sod("p256", "revoked")), _trust("p256"), at=AT)
    assert revoked.to_json()["chain"]["revoked_at"] == pki.REVOCATION_DATE.isoformat()
    warned = passive_authentication(_files(_sod("p256", "expired")), _trust("p256"), at=AT)
    codes = [w["code"] for w in warned.to_json()["warnings"]]
    assert "dsc_expired" in codes
    assert set(warned.to_json()["warnings"][0]) == {"code", "message"}

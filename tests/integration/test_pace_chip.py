"""The reader against the simulated chip with PACE, Chip Authentication and Active
Authentication: every parameter id, mapping, cipher and password kind opens the
chip and reads a file; wrong CANs, invalid chip keys, clones and replayed AA answers fail."""

from __future__ import annotations

import os

import ecdsa
import pytest

from fixtures.chip import SimulatedChip
from fixtures.chip_auth import AAKey, CAKey, ChipAuthExtension, build_dg14
from fixtures.chip_pace import PaceExtension, build_card_access, real_card_access
from reader import BACKey, CANKey, ReadOptions, open_session, read_card, tlv
from reader.errors import AccessDeniedError, ProtocolError, StatusWordError, UnsupportedError
from reader.protocol.groups import standard_group
from verify.active_auth import verify_active_authentication

CAN = "001234"
MRZ = BACKey("185001234", "850314", "250314")
DG1 = tlv.encode(
    0x61,
    tlv.encode(
        0x5F1F,
        (
            "IDVNM1850012344079185001234<<4"
            "8503149F2503147VNM<<<<<<<<<<<0"
            "TRAN<<THI<MAI<<<<<<<<<<<<<<<<<"
        ).encode("ascii"),
    ),
)
COM = tlv.encode(
    0x60,
    [
        tlv.encode(0x5F01, b"0107"),
        tlv.encode(0x5F36, b"040000"),
        tlv.encode(0x5C, bytes([0x61, 0x6E, 0x6F])),
    ],
)
FILES_READ = ("DG1", "DG14", "DG15")


def make_chip(
    *,
    offers: list[tuple[str, int]] | None = None,
    bac: bool = True,
    ca_keys: list[CAKey] | None = None,
    chip_ca: list[CAKey] | None = None,
    aa: AAKey | None = None,
    chip_aa: AAKey | None = None,
    cam_private: int | None = None,
    dg15: bool = True,
    **pace: object,
) -> SimulatedChip:
    """A chip with PACE (``offers``), DG14 describing ``ca_keys`` (and the EC AA hash) and DG15
    from ``aa``; the chip itself holds ``chip_ca`` / ``chip_aa`` (default: the same keys)."""
    offers = offers or [("id-PACE-ECDH-GM-AES-CBC-CMAC-128", 13)]
    files = {"CardAccess": build_card_access(offers), "COM": COM, "DG1": DG1}
    if ca_keys or (aa is not None and aa.kind == "EC"):
        files["DG14"] = build_dg14(ca_keys=ca_keys or [], aa=aa)
    if aa is not None and dg15:
        files["DG15"] = aa.dg15()
    extensions = [
        PaceExtension(can=CAN, mrz=MRZ, offers=offers, ca_private_key=cam_private, **pace),  # type: ignore[arg-type]
        ChipAuthExtension(
            ca_keys=chip_ca if chip_ca is not None else ca_keys,
            aa_key=chip_aa if chip_aa is not None else aa,
        ),
    ]
    return SimulatedChip(files, bac_key=MRZ if bac else None, extensions=extensions)


def open_and_read(chip: SimulatedChip, key: CANKey | BACKey) -> str:
    session = open_session(chip, key)
    assert session.access_protocol == "PACE"
    assert chip.authenticated_by == "PACE"
    assert session.read_file("DG1") == DG1
    description = session.access.pace_parameters
    assert description is not None
    return description


EC_IDS = list(range(8, 19))
ALL_IDS = [0, 1, 2, *EC_IDS]


@pytest.mark.parametrize("parameter_id", ALL_IDS)
def test_generic_mapping_on_every_parameter_id(parameter_id: int) -> None:
    agreement = "DH" if parameter_id < 3 else "ECDH"
    chip = make_chip(offers=[(f"id-PACE-{agreement}-GM-AES-CBC-CMAC-128", parameter_id)])
    description = open_and_read(chip, CANKey(CAN))
    assert description.startswith(f"PACE-{agreement}-GM-AES-128 ")
    assert description.endswith(standard_group(parameter_id).name)


@pytest.mark.parametrize("parameter_id", [i for i in ALL_IDS if i != 10])
def test_integrated_mapping_on_every_parameter_id(parameter_id: int) -> None:
    agreement = "DH" if parameter_id < 3 else "ECDH"
    chip = make_chip(offers=[(f"id-PACE-{agreement}-IM-AES-CBC-CMAC-128", parameter_id)])
    assert open_and_read(chip, MRZ).startswith(f"PACE-{agreement}-IM-AES-128 ")


def test_integrated_mapping_on_p224_is_unsupported() -> None:
    chip = make_chip(offers=[("id-PACE-ECDH-IM-AES-CBC-CMAC-128", 10)])
    with pytest.raises(UnsupportedError):
        open_session(chip, CANKey(CAN))


COMBINATIONS = [
    (agreement, mapping, cipher)
    for agreement in ("ECDH", "DH")
    for mapping in ("GM", "IM", "CAM")
    for cipher in ("3DES-CBC-CBC", "AES-CBC-CMAC-128", "AES-CBC-CMAC-192", "AES-CBC-CMAC-256")
    if not (mapping == "CAM" and (agreement == "DH" or cipher.startswith("3DES")))
]


@pytest.mark.parametrize("password", ["CAN", "MRZ"])
@pytest.mark.parametrize(("agreement", "mapping", "cipher"), COMBINATIONS)
def test_every_mapping_cipher_and_password(
    agreement: str, mapping: str, cipher: str, password: str
) -> None:
    parameter_id = 0 if agreement == "DH" else 13
    ca = CAKey.generate(parameter_id=13) if mapping == "CAM" else None
    chip = make_chip(
        offers=[(f"id-PACE-{agreement}-{mapping}-{cipher}", parameter_id)],
        ca_keys=[ca] if ca else None,
        cam_private=ca.private if ca else None,
    )
    key = CANKey(CAN) if password == "CAN" else MRZ
    expected_cipher = "3DES" if cipher.startswith("3DES") else f"AES-{cipher[-3:]}"
    assert open_and_read(chip, key).startswith(f"PACE-{agreement}-{mapping}-{expected_cipher} ")


@pytest.mark.parametrize("parameter_id", [9, 12, 16, 18])
def test_chip_authentication_mapping_checks_dg14_key(parameter_id: int) -> None:
    genuine = CAKey.generate(parameter_id=parameter_id)
    chip = make_chip(
        offers=[("id-PACE-ECDH-CAM-AES-CBC-CMAC-128", parameter_id)],
        ca_keys=[genuine],
        cam_private=genuine.private,
    )
    result = read_card(chip, CANKey(CAN), files=FILES_READ)
    assert result.chip_authentication.outcome == "passed", result.chip_authentication.reason
    assert result.chip_authentication.transcript["mapping"] == "PACE-CAM"

    clone = CAKey.generate(parameter_id=parameter_id)
    chip = make_chip(
        offers=[("id-PACE-ECDH-CAM-AES-CBC-CMAC-128", parameter_id)],
        ca_keys=[genuine],
        cam_private=clone.private,
    )
    result = read_card(chip, CANKey(CAN), files=FILES_READ)
    assert result.chip_authentication.outcome == "failed"


def test_real_card_profile_by_default() -> None:
    chip = SimulatedChip(
        {"CardAccess": real_card_access(), "COM": COM, "DG1": DG1},
        bac_key=None,
        extensions=[PaceExtension(can=CAN)],
    )
    assert open_and_read(chip, CANKey(CAN)) == "PACE-ECDH-GM-AES-128 brainpoolP256r1"


def test_wrong_can_is_access_denied_with_hint() -> None:
    chip = make_chip()
    with pytest.raises(AccessDeniedError) as info:
        open_session(chip, CANKey("999999"))
    assert info.value.sw == 0x6300
    assert "last 6 digits" in str(info.value)
    assert chip.sm is None


def test_pace_chip_gets_no_bac_attempt_unless_allowed() -> None:
    chip = make_chip()
    wrong = BACKey("185001234", "850314", "300314")
    with pytest.raises(AccessDeniedError):
        open_session(chip, wrong)
    sent = [ins for ins, _ in chip.counters.log]
    assert "84" not in sent and "82" not in sent  # no GET CHALLENGE, no EXTERNAL AUTHENTICATE


def test_fallback_to_bac_only_when_allowed_and_reported() -> None:
    # A chip whose PACE takes only the CAN: an MRZ password is refused at MSE:Set AT.
    chip = make_chip()
    chip.extensions[0].pace.passwords.pop(1)  # type: ignore[attr-defined]
    with pytest.raises(StatusWordError) as info:
        open_session(chip, MRZ)
    assert info.value.sw == 0x6A88
    chip = make_chip()
    chip.extensions[0].pace.passwords.pop(1)  # type: ignore[attr-defined]
    session = open_session(chip, MRZ, options=ReadOptions(allow_fallback_to_bac=True))
    assert session.access_protocol == "BAC"
    assert session.fallback_reason is not None and "PACE failed" in session.fallback_reason
    assert "6A88" in session.fallback_reason


def test_parameter_id_retry_on_6a88() -> None:
    chip = make_chip(require_parameter_id=True)
    assert open_and_read(chip, CANKey(CAN)).startswith("PACE-ECDH-GM")


def _tamper(step: str, replacement: bytes):  # type: ignore[no-untyped-def]
    def tamper(where: str, encoded: bytes) -> bytes:
        return replacement if where == step else encoded

    return tamper


@pytest.mark.parametrize("step", ["mapping", "ephemeral"])
def test_invalid_chip_points_are_refused(step: str) -> None:
    group = standard_group(13)
    good = bytearray(group.encode(group.public(7)))
    good[-1] ^= 1
    for bad in (bytes(good), b"\x00", b"\x04" + bytes(64)):
        chip = make_chip(tamper=_tamper(step, bad))
        with pytest.raises(ProtocolError):
            open_session(chip, CANKey(CAN))


@pytest.mark.parametrize("step", ["mapping", "ephemeral"])
def test_invalid_chip_dh_values_are_refused(step: str) -> None:
    group = standard_group(0)
    for value in (1, group.modulus - 1):
        bad = value.to_bytes(group.element_length, "big")
        chip = make_chip(offers=[("id-PACE-DH-GM-AES-CBC-CMAC-128", 0)], tamper=_tamper(step, bad))
        with pytest.raises(ProtocolError):
            open_session(chip, CANKey(CAN))


CA_CASES = [
    ("id-CA-ECDH-AES-CBC-CMAC-128", 13),
    ("id-CA-ECDH-3DES-CBC-CBC", 12),
    ("id-CA-ECDH-AES-CBC-CMAC-256", 16),
    ("id-CA-DH-AES-CBC-CMAC-128", 0),
    ("id-CA-DH-3DES-CBC-CBC", 0),
]


@pytest.mark.parametrize(("protocol", "parameter_id"), CA_CASES)
def test_chip_authentication_genuine_and_clone(protocol: str, parameter_id: int) -> None:
    genuine = CAKey.generate(protocol, parameter_id, key_id=1 if parameter_id == 16 else None)
    chip = make_chip(ca_keys=[genuine])
    result = read_card(chip, CANKey(CAN), files=FILES_READ)
    assert result.chip_authentication.outcome == "passed", result.chip_authentication.reason
    assert chip.authenticated_by == "CA"
    assert result.chip_authentication.transcript["protocol"] == protocol
    assert result.active_authentication.outcome == "not_attempted"

    clone = CAKey.generate(protocol, parameter_id, key_id=genuine.key_id)
    chip = make_chip(ca_keys=[genuine], chip_ca=[clone])
    result = read_card(chip, CANKey(CAN), files=FILES_READ)
    assert result.chip_authentication.outcome == "failed"
    assert "private key" in result.chip_authentication.reason


AA_KEYS = {
    "rsa-sha1": lambda: AAKey.rsa_generate(1024, "sha1"),
    "rsa-sha256": lambda: AAKey.rsa_generate(1024, "sha256"),
    "ec-plain": lambda: AAKey.ec_generate(ecdsa.BRAINPOOLP256r1, "sha256"),
    "ec-der": lambda: AAKey.ec_generate(ecdsa.NIST384p, "sha384", der_signature=True),
}


@pytest.mark.parametrize("kind", list(AA_KEYS))
def test_active_authentication_genuine_clone_and_replay(kind: str) -> None:
    genuine = AA_KEYS[kind]()
    chip = make_chip(aa=genuine)
    challenge = bytes.fromhex("0102030405060708")
    result = read_card(
        chip,
        CANKey(CAN),
        files=FILES_READ,
        aa_challenge=challenge,
        aa_verifier=verify_active_authentication,
    )
    aa = result.active_authentication
    assert aa.outcome == "passed", aa.reason
    assert aa.transcript["challenge"] == challenge.hex().upper()
    response = bytes.fromhex(aa.transcript["response"])
    dg14 = result.files.get("DG14")
    assert verify_active_authentication(result.files["DG15"], challenge, response, dg14)
    other = bytes.fromhex("0102030405060709")
    assert not verify_active_authentication(result.files["DG15"], other, response, dg14)

    clone = AA_KEYS[kind]()
    chip = make_chip(aa=genuine, chip_aa=clone)
    result = read_card(
        chip,
        CANKey(CAN),
        files=FILES_READ,
        random=os.urandom,
        aa_verifier=verify_active_authentication,
    )
    assert result.active_authentication.outcome == "failed"
    assert len(bytes.fromhex(result.active_authentication.transcript["challenge"])) == 8


def test_active_authentication_not_attempted_without_dg15() -> None:
    chip = make_chip(aa=AA_KEYS["ec-plain"](), dg15=False)
    result = read_card(chip, CANKey(CAN), files=FILES_READ)
    assert result.active_authentication.outcome == "not_attempted"
    assert "DG15" in result.active_authentication.reason
    assert "88" not in [ins for ins, _ in chip.counters.log]


def test_active_authentication_refused_by_chip_without_key() -> None:
    aa = AA_KEYS["rsa-sha1"]()
    files_chip = make_chip(aa=aa)
    files_chip.extensions[1].aa_key = None  # type: ignore[attr-defined]
    result = read_card(files_chip, CANKey(CAN), files=FILES_READ)
    assert result.active_authentication.outcome == "error"
    assert "6D00" in result.active_authentication.reason


def test_reader_leaves_the_aa_signature_to_verify() -> None:
    """Without a verifier the reader records the signature ("signed"); verify checks it."""
    from verify.check import _check_active_authentication

    genuine = AA_KEYS["ec-plain"]()
    result = read_card(make_chip(aa=genuine), CANKey(CAN), files=FILES_READ)
    assert result.active_authentication.outcome == "signed"
    assert _check_active_authentication(result, result.active_authentication).outcome == "passed"
    clone = read_card(
        make_chip(aa=genuine, chip_aa=AA_KEYS["ec-plain"]()), CANKey(CAN), files=FILES_READ
    )
    assert _check_active_authentication(clone, clone.active_authentication).outcome == "failed"

"""PACE details that round trips with our own chip cannot catch (ICAO 9303-11 §4.4.3.5, §9.2):
the PACE-CAM data encryption checked against AES computed here from the standard's
definition (IV = E(KS_enc, -1)), its range check, and the wording of a refused password."""

from __future__ import annotations

import pytest

from fixtures.chip import SimulatedChip
from fixtures.chip_pace import PaceExtension, build_card_access
from reader import BACKey, CANKey, open_session
from reader.errors import AccessDeniedError, ProtocolError
from reader.protocol.cipher import Cipher
from reader.protocol.groups import standard_group
from reader.protocol.pace_mapping import cam_iv, decrypt_ca_data, encrypt_ca_data
from tests.crypto_oracle import aes_cbc_encrypt, aes_ecb_encrypt, pad  # pycryptodome, not ours

KS_ENC = bytes.fromhex("F5F0E35C0D7161EE6724EE513A0D9A7F")
SUITE = Cipher.of("AES", 16)
GROUP = standard_group(13)


def test_cam_iv_and_encryption_follow_the_definition() -> None:
    iv = aes_ecb_encrypt(KS_ENC, b"\xff" * 16)
    assert cam_iv(KS_ENC) == iv
    ca_ic = 0x1234567890ABCDEF << 128 | 0x42
    plain = pad(ca_ic.to_bytes(32, "big"), 16)
    expected = aes_cbc_encrypt(KS_ENC, plain, iv)
    assert encrypt_ca_data(SUITE, KS_ENC, ca_ic, GROUP) == expected
    assert len(expected) == 48
    assert decrypt_ca_data(SUITE, KS_ENC, expected, GROUP) == ca_ic


@pytest.mark.parametrize("value", [0, "order", "order+1"])
def test_cam_data_out_of_range_is_refused(value: object) -> None:
    ca_ic = {0: 0, "order": GROUP.order, "order+1": GROUP.order + 1}[value]  # type: ignore[index]
    plain = pad(ca_ic.to_bytes(33, "big").lstrip(b"\x00") or b"\x00", 16)
    encrypted = aes_cbc_encrypt(KS_ENC, plain, cam_iv(KS_ENC))
    with pytest.raises(ProtocolError, match="out of range"):
        decrypt_ca_data(SUITE, KS_ENC, encrypted, GROUP)
    assert (
        decrypt_ca_data(
            SUITE, KS_ENC, aes_cbc_encrypt(KS_ENC, pad(b"\x01", 16), cam_iv(KS_ENC)), GROUP
        )
        == 1
    )
    assert (
        decrypt_ca_data(
            SUITE,
            KS_ENC,
            encrypt_ca_data(SUITE, KS_ENC, GROUP.order - 1, GROUP),
            GROUP,
        )
        == GROUP.order - 1
    )


MRZ = BACKey("185001234", "850314", "250314")


def _chip() -> SimulatedChip:
    offers = [("id-PACE-ECDH-GM-AES-CBC-CMAC-128", 13)]
    return SimulatedChip(
        {"CardAccess": build_card_access(offers), "COM": b"\x60\x00"},
        bac_key=MRZ,
        extensions=[PaceExtension(can="001234", mrz=MRZ, offers=offers)],
    )


def test_refused_passwords_say_which_and_where() -> None:
    with pytest.raises(AccessDeniedError) as can:
        open_session(_chip(), CANKey("999999"))
    text = str(can.value)
    assert "the CAN is wrong" in text and "last 6 digits" in text and "6300" in text
    assert "PACE refused at" in text and "MRZ" not in text
    wrong = BACKey("185001234", "850314", "300314")
    with pytest.raises(AccessDeniedError) as mrz:
        open_session(_chip(), wrong)
    text = str(mrz.value)
    assert "the MRZ password is wrong" in text and "last 9 digits" in text
    assert "6300" in text and "CAN" not in text
    assert mrz.value.sw == 0x6300

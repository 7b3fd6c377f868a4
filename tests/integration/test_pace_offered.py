""" "PACE offered" means any id-PACE entry in EF.CardAccess (ICAO 9303-11 §9.2.1), understood
or not: a card offering only what the reader cannot run is refused with ``UnsupportedError``
naming the entry, or, when the caller allowed BAC, read over BAC with the reason reported.
Never a silent BAC."""

from __future__ import annotations

import pytest

from fixtures.chip import SimulatedChip
from reader import BACKey, CANKey, ReadOptions, open_session, tlv
from reader.errors import UnsupportedError
from reader.lds import parse_card_access
from reader.lds.security_infos import encode_oid

MRZ = BACKey("185001234", "850314", "250314")
ID_PACE = "0.4.0.127.0.7.2.2.4"


def _entry(oid: str, *rest: bytes) -> bytes:
    return tlv.encode(0x30, [tlv.encode(0x06, encode_oid(oid)), *rest])


def _int(value: int) -> bytes:
    return tlv.encode(0x02, bytes([value]))


# Entries a strict parser does not understand, each of which still says "this card has PACE".
UNRECOGNISED = {
    "no version": _entry(f"{ID_PACE}.2.2"),
    "unknown cipher arc": _entry(f"{ID_PACE}.2.9", _int(2), _int(13)),
    "CAM with 3DES (undefined)": _entry(f"{ID_PACE}.6.1", _int(2), _int(13)),
    "unknown mapping arc": _entry(f"{ID_PACE}.7.2", _int(2), _int(13)),
    "parameter id nobody standardised": _entry(f"{ID_PACE}.2.2", _int(2), _int(31)),
    "bare domain-parameter info": _entry(
        f"{ID_PACE}.2", tlv.encode(0x30, [tlv.encode(0x06, encode_oid("1.2.3"))])
    ),
}


def _chip(entry: bytes) -> SimulatedChip:
    card_access = tlv.encode(0x31, [entry])
    return SimulatedChip({"CardAccess": card_access, "COM": b"\x60\x00"}, bac_key=MRZ)


@pytest.mark.parametrize("name", sorted(UNRECOGNISED))
def test_every_id_pace_entry_counts_as_offered(name: str) -> None:
    infos = parse_card_access(tlv.encode(0x31, [UNRECOGNISED[name]]))
    assert infos.pace_offered
    assert infos.describe_pace_entries().startswith(ID_PACE)


def test_entries_outside_id_pace_do_not_count() -> None:
    ta = _entry("0.4.0.127.0.7.2.2.2", _int(1))
    assert not parse_card_access(tlv.encode(0x31, [ta])).pace_offered


@pytest.mark.parametrize("name", sorted(UNRECOGNISED))
def test_unrunnable_pace_is_refused_naming_the_entry(name: str) -> None:
    chip = _chip(UNRECOGNISED[name])
    with pytest.raises(UnsupportedError) as info:
        open_session(chip, MRZ)
    assert ID_PACE in str(info.value)
    sent = [ins for ins, _ in chip.counters.log]
    assert "84" not in sent and "82" not in sent  # BAC was never tried
    assert chip.sm is None


@pytest.mark.parametrize("name", sorted(UNRECOGNISED))
def test_unrunnable_pace_falls_back_only_when_allowed_and_says_why(name: str) -> None:
    chip = _chip(UNRECOGNISED[name])
    session = open_session(chip, MRZ, options=ReadOptions(allow_fallback_to_bac=True))
    assert session.access_protocol == "BAC"
    reason = session.fallback_reason
    assert reason is not None and ID_PACE in reason and "PACE" in reason


def test_can_key_cannot_fall_back() -> None:
    chip = _chip(UNRECOGNISED["unknown cipher arc"])
    with pytest.raises(UnsupportedError):
        open_session(chip, CANKey("001234"), options=ReadOptions(allow_fallback_to_bac=True))

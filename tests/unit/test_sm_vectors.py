"""Secure messaging against published examples, from the terminal side and without the
simulated chip (ICAO 9303-11 §9.8; BSI TR-03110 worked example for EAC): protected commands,
protected responses, a DO'87' payload and the AES encryption and MAC primitives. The vectors
(``tests/vectors/aes-secure-messaging.json``) come from gmrtd's secure-messaging tests and the
BSI worked example as carried by OpenPACE; each SSC is the value before the step."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from reader import tlv
from reader.apdu import Command, Response
from reader.errors import SecureMessagingError, StatusWordError
from reader.protocol.cipher import Cipher
from reader.protocol.sm import SecureMessaging, SessionDeadError

VECTORS = json.loads(
    (Path(__file__).parents[1] / "vectors" / "aes-secure-messaging.json").read_text("utf-8")
)
CASES = {case["name"]: case for case in VECTORS["cases"]}


def _sm(case: dict[str, Any], ssc_field: str = "ssc_before") -> SecureMessaging:
    cipher = Cipher.of(case["cipher"], len(bytes.fromhex(case["ks_enc"])))
    return SecureMessaging(
        cipher,
        bytes.fromhex(case["ks_enc"]),
        bytes.fromhex(case["ks_mac"]),
        bytes.fromhex(case[ssc_field]),
    )


COMMANDS = [name for name, case in CASES.items() if "protected_command" in case]
RESPONSES = [name for name, case in CASES.items() if "protected_response" in case]


def test_every_kind_of_vector_is_present() -> None:
    assert len(COMMANDS) == 2 and len(RESPONSES) == 2
    assert {CASES[n]["cipher"] for n in COMMANDS} == {"3DES", "AES"}
    assert {CASES[n]["cipher"] for n in RESPONSES} == {"3DES", "AES"}


@pytest.mark.parametrize("name", COMMANDS)
def test_protected_command_matches_the_published_bytes(name: str) -> None:
    case = CASES[name]
    sm = _sm(case)
    wrapped = sm.wrap(Command.parse(bytes.fromhex(case["plain_command"])))
    assert wrapped.hex().upper() == case["protected_command"].upper()
    assert sm.ssc == int(case["ssc_after"], 16)


@pytest.mark.parametrize("name", RESPONSES)
def test_protected_response_unwraps_to_the_published_plain_answer(name: str) -> None:
    case = CASES[name]
    sm = _sm(case)
    response = sm.unwrap(bytes.fromhex(case["protected_response"]))
    plain = bytes.fromhex(case["plain_response"])
    assert response == Response(plain[:-2], int.from_bytes(plain[-2:], "big"))
    assert sm.ssc == int(case["ssc_after"], 16)


@pytest.mark.parametrize("name", RESPONSES)
def test_protected_response_is_what_a_chip_would_send(name: str) -> None:
    """The card side, with the same keys and counter, produces the published bytes."""
    case = CASES[name]
    sm = _sm(case)
    plain = bytes.fromhex(case["plain_response"])
    answer = sm.wrap_response(plain[:-2], int.from_bytes(plain[-2:], "big"))
    assert answer.hex().upper() == case["protected_response"].upper()


@pytest.mark.parametrize("name", RESPONSES)
def test_a_published_response_one_counter_off_is_refused(name: str) -> None:
    case = CASES[name]
    for delta in (-1, 1):
        sm = _sm(case)
        sm.ssc += delta
        with pytest.raises(SecureMessagingError, match="MAC"):
            sm.unwrap(bytes.fromhex(case["protected_response"]))


def test_aes256_do87_payload() -> None:
    case = CASES["AES-256 DO87 payload: an EF.COM chunk"]
    sm = _sm(case, "ssc_for_iv")
    do87 = bytes.fromhex(case["do87_value"])
    assert do87[0] == 0x01
    assert sm._decrypt(do87[1:]) == bytes.fromhex(case["plain_data"])
    assert sm._encrypt(bytes.fromhex(case["plain_data"])) == do87[1:]


def test_bsi_worked_example_primitives() -> None:
    case = CASES["AES-128 primitives from the BSI EAC worked example"]
    encrypt, mac = case["encrypt"], case["mac"]
    sm = _sm({**case, "ssc_before": encrypt["ssc"]})
    assert sm._encrypt(bytes.fromhex(encrypt["data"])).hex().upper() == encrypt["ciphertext"]
    sm.ssc = int(mac["ssc"], 16)
    assert sm._mac(bytes.fromhex(mac["data"])).hex().upper() == mac["mac"]


# -- the negatives gmrtd publishes, on the published AES response -------------------------

AES_RESPONSE = CASES["AES-128 response: a 223-byte chunk of a German EF.CardSecurity"]
TDES_RESPONSE = CASES["3DES response to it"]


def _objects(case: dict[str, Any]) -> list[tlv.TLV]:
    return tlv.decode(bytes.fromhex(case["protected_response"])[:-2])


@pytest.mark.parametrize("case", [AES_RESPONSE, TDES_RESPONSE], ids=["AES", "3DES"])
def test_missing_duplicated_or_trailing_do99_and_wrong_mac_are_refused(
    case: dict[str, Any],
) -> None:
    objects = _objects(case)
    do99 = next(o for o in objects if o.tag == 0x99)
    do8e = objects[-1]
    body = [o.raw for o in objects[:-1]]
    variants = {
        "missing": b"".join(o.raw for o in objects if o.tag != 0x99),
        "duplicated": b"".join([*body, do99.raw, do8e.raw]),
        "trailing": b"".join([*body, do8e.raw, do99.raw]),
        "wrong MAC": b"".join([*body, tlv.encode(0x8E, bytes(8))]),
    }
    for name, raw in variants.items():
        sm = _sm(case)
        with pytest.raises(SecureMessagingError):
            sm.unwrap(raw + b"\x90\x00")
        assert sm.dead, name
        with pytest.raises(SessionDeadError):
            sm.wrap(Command(0x00, 0xB0, 0, 0, b"", 4))


@pytest.mark.parametrize("case", [AES_RESPONSE, TDES_RESPONSE], ids=["AES", "3DES"])
def test_replayed_published_response_is_refused(case: dict[str, Any]) -> None:
    sm = _sm(case)
    raw = bytes.fromhex(case["protected_response"])
    sm.unwrap(raw)
    sm.wrap(Command(0x00, 0xB0, 0, 0, b"", 4))
    with pytest.raises(SecureMessagingError, match="MAC"):
        sm.unwrap(raw)


@pytest.mark.parametrize("case", [AES_RESPONSE, TDES_RESPONSE], ids=["AES", "3DES"])
def test_bare_status_words_once_sm_is_up(case: dict[str, Any]) -> None:
    sm = _sm(case)
    with pytest.raises(SecureMessagingError, match="unprotected 9000"):
        sm.unwrap(b"\x90\x00")
    assert sm.dead
    sm = _sm(case)
    before = sm.ssc
    sm.wrap(Command(0x00, 0xB0, 0, 0, b"", 4))
    with pytest.raises(StatusWordError) as caught:
        sm.unwrap(b"\x69\x88")
    assert caught.value.sw == 0x6988 and sm.dead and sm.ssc == before
    sm = _sm(case)
    with pytest.raises(SecureMessagingError, match="unprotected answer with data"):
        sm.unwrap(b"\x01\x02\x90\x00")

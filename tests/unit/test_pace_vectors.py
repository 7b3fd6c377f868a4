"""PACE against the published worked examples: ICAO 9303-11 Appendix G.1 (ECDH generic
mapping, brainpoolP256r1, AES-128, MRZ password) byte for byte through ``open_session`` with
injected randomness, and the Appendix H.1 integrated-mapping values for R(s,t) and f_G."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from reader import BACKey, CANKey, ReadOptions, ReplayTransport, open_session
from reader.apdu import Command, Response
from reader.drivers.access import perform_pace
from reader.errors import AccessDeniedError, ProtocolError
from reader.protocol.cipher import Cipher
from reader.protocol.groups import DHGroup, ECGroup, point_encode, standard_group
from reader.protocol.pace import PaceTerminal
from reader.protocol.pace_chip import PaceChip
from reader.protocol.pace_mapping import pseudo_random
from reader.protocol.pace_messages import password_seed

VECTOR = json.loads(
    (
        Path(__file__).parent.parent / "vectors" / "icao-9303-11-appendix-G1-pace-ecdh-gm.json"
    ).read_text(encoding="utf-8")
)


def scripted(*values: str) -> Callable[[int], bytes]:
    """A random source that hands out the given hex values in order, checking the sizes."""
    queue = [bytes.fromhex(v) for v in values]

    def draw(n: int) -> bytes:
        value = queue.pop(0)
        assert len(value) == n, f"asked for {n} bytes, the example drew {len(value)}"
        return value

    return draw


def g1_key() -> BACKey:
    return BACKey(VECTOR["document_number"], VECTOR["date_of_birth"], VECTOR["date_of_expiry"])


def g1_trace(card_access: bytes) -> list[tuple[str, str]]:
    head = [
        ("00A4020C02011C", "9000"),
        ("00B0000000", card_access.hex() + "9000"),
    ]
    return head + [(c, r) for c, r in VECTOR["trace"]]


def test_password_seed_and_k_pi_match_appendix_g1() -> None:
    key = g1_key()
    assert key.mrz_information == VECTOR["mrz_information"]
    ref, seed = password_seed(key)
    assert ref == 1
    assert seed.hex().upper() == VECTOR["k"]
    terminal = PaceTerminal(key, bytes.fromhex(VECTOR["card_access"]), scripted())
    assert terminal.k_pi.hex().upper() == VECTOR["k_pi"]


def test_appendix_g1_byte_for_byte_through_open_session() -> None:
    card_access = bytes.fromhex(VECTOR["card_access"])
    transport = ReplayTransport(g1_trace(card_access))
    random = scripted(
        VECTOR["terminal_mapping_private_key"], VECTOR["terminal_ephemeral_private_key"]
    )
    session = open_session(
        transport, g1_key(), random=random, options=ReadOptions(select_applet=False)
    )
    assert transport.finished
    assert session.access_protocol == "PACE"
    assert session.access.pace_parameters == "PACE-ECDH-GM-AES-128 brainpoolP256r1"
    assert session.sm is not None
    assert session.sm.cipher.name == "AES"
    assert session.sm.ks_enc.hex().upper() == VECTOR["ks_enc"]
    assert session.sm.ks_mac.hex().upper() == VECTOR["ks_mac"]
    assert session.sm.ssc == int(VECTOR["ssc_after"], 16)


def test_appendix_g1_intermediate_values() -> None:
    group = standard_group(13)
    assert isinstance(group, ECGroup)
    nonce = int(VECTOR["nonce"], 16)
    sk_map = int(VECTOR["terminal_mapping_private_key"], 16)
    chip_map = group.decode(bytes.fromhex(VECTOR["chip_mapping_public_key"]))
    h = group.shared_point(sk_map, chip_map)
    assert group.encode(h).hex().upper() == VECTOR["shared_point_h"]
    mapped = group.map_generic(nonce, h)
    assert group.encode(mapped.generator).hex().upper() == VECTOR["mapped_generator"]
    chip_private = int(VECTOR["chip_ephemeral_private_key"], 16)
    terminal_public = mapped.public(int(VECTOR["terminal_ephemeral_private_key"], 16))
    secret = mapped.shared_secret(chip_private, terminal_public)
    assert secret.hex().upper() == VECTOR["shared_secret_x"]


def test_wrong_password_on_last_step_is_access_denied_naming_the_can() -> None:
    card_access = bytes.fromhex(VECTOR["card_access"])
    trace = g1_trace(card_access)
    trace[-1] = (trace[-1][0], "6300")
    # Under a CAN the MSE:Set AT says 83 02 and the keys differ: build a chip that refuses.
    random = scripted(
        VECTOR["terminal_mapping_private_key"], VECTOR["terminal_ephemeral_private_key"]
    )
    with pytest.raises(AccessDeniedError) as info:
        open_session(
            ReplayTransport(trace),
            g1_key(),
            random=random,
            options=ReadOptions(select_applet=False),
        )
    assert info.value.sw == 0x6300
    assert "mutual authentication" in str(info.value)

    chip = PaceChip(
        offers=[("0.4.0.127.0.7.2.2.4.2.2", 13)],
        mrz=None,
        can="123456",
        random=scripted("11" * 16, "22" * 32, "33" * 32),
    )

    def send(command: Command) -> Response:
        if command.ins == 0x22:
            return Response(b"", chip.set_at(command.data))
        return Response(*chip.general_authenticate(command.data))

    with pytest.raises(AccessDeniedError) as info:
        perform_pace(send, CANKey("654321"), card_access, scripted("44" * 32, "55" * 32))
    assert "last 6 digits of the 12-digit ID number" in str(info.value)
    assert info.value.sw == 0x6300


def test_retry_mse_set_at_with_parameter_id_after_6a88() -> None:
    card_access = bytes.fromhex(VECTOR["card_access"])
    chip = PaceChip(
        offers=[("0.4.0.127.0.7.2.2.4.2.2", 13)],
        mrz=None,
        can="123456",
        random=scripted("11" * 16, "22" * 32, "33" * 32),
        require_parameter_id=True,
    )
    sent: list[bytes] = []

    def send(command: Command) -> Response:
        sent.append(command.to_bytes())
        if command.ins == 0x22:
            return Response(b"", chip.set_at(command.data))
        return Response(*chip.general_authenticate(command.data))

    sm, description = perform_pace(
        send, CANKey("123456"), card_access, scripted("44" * 32, "55" * 32)
    )
    assert sent[0].hex().upper() == "0022C1A40F800A04007F00070202040202830102"
    assert sent[1].hex().upper() == "0022C1A412800A04007F0007020204020283010284010D"
    assert description == "PACE-ECDH-GM-AES-128 brainpoolP256r1"
    assert chip.result is not None
    assert (sm.ks_enc, sm.ks_mac) == (chip.result.ks_enc, chip.result.ks_mac)
    # every General Authenticate but the last is chained
    assert [raw[0] for raw in sent[2:]] == [0x10, 0x10, 0x10, 0x00]


# Appendix H.1 (ECDH integrated mapping, brainpoolP256r1, AES-128).
H1_S = "2923BE84E16CD6AE529049F1F1BBE9EB"
H1_T = "5DD4CBFC96F5453B130D890A1CDBAE32"


def test_appendix_h1_pseudo_random_and_point_encoding() -> None:
    group = standard_group(13)
    assert isinstance(group, ECGroup)
    suite = Cipher("AES", 16)
    value = pseudo_random(bytes.fromhex(H1_S), bytes.fromhex(H1_T), suite, group.modulus)
    assert value == int("A2F8FF2DF50E52C6599F386ADCB595D229F6A167ADE2BE5F2C3296ADD5B7430E", 16)
    x, y = point_encode(value, group.modulus, int(group.curve.a()), int(group.curve.b()))
    assert x == int("8E82D31559ED0FDE92A4D0498ADD3C23BABA94FB77691E31E90AEA77FB17D427", 16)
    assert y == int("4C1AE14BD0C3DBAC0C871B7F3608169364437CA30AC243A089D3F266C1E60FAD", 16)
    mapped = group.map_integrated(value)
    terminal = mapped.public(
        int("A73FB703AC1436A18E0CFA5ABB3F7BEC7A070E7A6788486BEE230C4A22762595", 16)
    )
    assert group.encode(terminal).hex().upper() == (
        "0489CBA23FFE96AA18D824627C3E934E54A9FD0B87A95D1471DC1C0ABFDCD640D4"
        "6755DE9B7B778280B6BEBD57439ADFEB0E21FD4ED6DF42578C13418A59B34C37"
    )


def test_invalid_points_and_dh_values_are_refused() -> None:
    group = standard_group(13)
    assert isinstance(group, ECGroup)
    good = bytearray(group.encode(group.public(12345)))
    off_curve = bytes(good[:-1] + bytes([good[-1] ^ 1]))
    with pytest.raises(ProtocolError):
        group.decode(off_curve)
    with pytest.raises(ProtocolError):
        group.decode(b"\x00")  # the point at infinity
    with pytest.raises(ProtocolError):
        group.decode(bytes(good[:33]))  # compressed-length garbage
    dh = standard_group(0)
    assert isinstance(dh, DHGroup)
    for bad in (1, dh.p - 1, 0, dh.p):
        with pytest.raises(ProtocolError):
            dh.decode(bad.to_bytes(dh.element_length, "big"))
    with pytest.raises(ProtocolError):
        dh.decode((2).to_bytes(dh.element_length, "big"))  # not in the order-q subgroup
    dh.decode(dh.encode(dh.public(99)))


def test_rfc5114_groups_are_consistent() -> None:
    from Crypto.Util.number import isPrime

    for pid in (0, 1, 2):
        group = standard_group(pid)
        assert isinstance(group, DHGroup)
        assert isPrime(group.p) and isPrime(group.order)
        assert (group.p - 1) % group.order == 0
        assert pow(group.g, group.order, group.p) == 1

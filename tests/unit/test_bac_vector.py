"""ICAO 9303-11 Appendix D, byte for byte: key derivation, mutual authentication, session
keys, SSC and the three protected commands reading EF.COM."""

from __future__ import annotations

from typing import Any

import pytest

from reader import BACKey, ReadOptions, ReplayTransport, open_session
from reader.protocol.bac import BACTerminal, BasicAccessKeys
from reader.protocol.cipher import KDF_ENC, Cipher


def _key(v: dict[str, Any]) -> BACKey:
    return BACKey(v["document_number"], v["date_of_birth"], v["date_of_expiry"])


def _random(v: dict[str, Any]):  # type: ignore[no-untyped-def]
    draws = [bytes.fromhex(v["rnd_ifd"]), bytes.fromhex(v["k_ifd"])]

    def random(n: int) -> bytes:
        value = draws.pop(0)
        assert len(value) == n
        return value

    return random


def test_mrz_information_and_key_seed(bac_vector: dict[str, Any]) -> None:
    key = _key(bac_vector)
    assert key.mrz_information == bac_vector["mrz_information"]
    keys = BasicAccessKeys.from_key(key)
    assert keys.k_seed.hex().upper() == bac_vector["k_seed"]
    assert keys.k_enc.hex().upper() == bac_vector["k_enc"]
    assert keys.k_mac.hex().upper() == bac_vector["k_mac"]


def test_mutual_authentication_and_session_keys(bac_vector: dict[str, Any]) -> None:
    terminal = BACTerminal(_key(bac_vector), _random(bac_vector))
    command = terminal.authenticate_command(bytes.fromhex(bac_vector["rnd_ic"]))
    assert command.to_bytes().hex().upper() == bac_vector["trace"][1][0]
    assert command.data[:32].hex().upper() == bac_vector["e_ifd"]
    assert command.data[32:].hex().upper() == bac_vector["m_ifd"]
    sm = terminal.finish(bytes.fromhex(bac_vector["trace"][1][1])[:-2])
    assert sm.ks_enc.hex().upper() == bac_vector["ks_enc"]
    assert sm.ks_mac.hex().upper() == bac_vector["ks_mac"]
    assert sm.ssc_bytes().hex().upper() == bac_vector["ssc"]


def test_open_session_and_read_com_replay_byte_for_byte(bac_vector: dict[str, Any]) -> None:
    transport = ReplayTransport([tuple(pair) for pair in bac_vector["trace"]])
    session = open_session(
        transport,
        _key(bac_vector),
        random=_random(bac_vector),
        options=ReadOptions.worked_example(),
    )
    assert session.access_protocol == "BAC"
    assert session.read_file("COM").hex().upper() == bac_vector["ef_com"]
    assert transport.finished
    assert session.sm is not None
    # SSC: start + 2 per protected pair, three pairs.
    assert session.sm.ssc == int(bac_vector["ssc"], 16) + 6


def test_replay_refuses_any_deviation(bac_vector: dict[str, Any]) -> None:
    trace = [tuple(pair) for pair in bac_vector["trace"]]
    other = dict(bac_vector, rnd_ifd="00" * 8)
    transport = ReplayTransport(trace)
    with pytest.raises(Exception, match="differs: expected"):
        open_session(
            transport, _key(bac_vector), random=_random(other), options=ReadOptions.worked_example()
        )


def test_kdf_aes_lengths() -> None:
    seed = bytes(range(16))
    assert len(Cipher("AES", 16).kdf(seed, KDF_ENC)) == 16
    assert len(Cipher("AES", 24).kdf(seed, KDF_ENC)) == 24
    assert len(Cipher("AES", 32).kdf(seed, KDF_ENC)) == 32
    # 3DES keys carry odd parity in every byte.
    assert all(bin(b).count("1") % 2 for b in Cipher("3DES").kdf(seed, KDF_ENC))

"""Chip Authentication, both sides (ICAO 9303-11 §6.2; BSI TR-03110-3 §3.4 for the APDUs), as
sans-I/O objects: :class:`ChipAuthenticationTerminal` builds the terminal's commands and the new
secure messaging, :class:`ChipAuthenticationChip` answers them for the simulated chip.
docs/spec/cccd-chip.md says when the CCCD runs it.

An ephemeral-static key agreement with the chip's DG14 key; 3DES through MSE:Set KAT
(0022 41A6), AES through MSE:Set AT (0022 41A4) + GENERAL AUTHENTICATE; the answer goes out
under the old keys and secure messaging restarts with the new ones (SSC 0). The chip proves it
holds the private key only by answering correctly under the new keys.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Protocol

from ecdsa import ellipticcurve

from reader import curves, tlv
from reader.apdu import Command, Response
from reader.errors import ParseError, ProtocolError, UnsupportedError
from reader.lds.der import encode_oid
from reader.lds.public_key import PublicKeyInfo
from reader.lds.security_infos import ChipAuthenticationOption
from reader.oids import CA_BY_NAME
from reader.protocol.cipher import Cipher
from reader.protocol.groups import DHGroup, ECGroup, Group, draw_scalar, group_for_curve_oid
from reader.protocol.sm import SecureMessaging

RandomFn = Callable[[int], bytes]


def ca_group(key: PublicKeyInfo) -> Group:
    """The group of a DG14 chip authentication key (named or explicit EC, or DH)."""
    if key.key_type == "EC":
        if key.curve_oid is not None:
            named = group_for_curve_oid(key.curve_oid)
            if named is not None:
                return named
        domain = key.ec_domain
        if domain is None:
            raise UnsupportedError("chip authentication key without curve parameters")
        known = curves.matching(domain.p, domain.a, domain.b, domain.order)
        if known is not None:
            return ECGroup.named(known.name, known.ecdsa)
        curve = ellipticcurve.CurveFp(domain.p, domain.a, domain.b, domain.cofactor or 1)
        base = ECGroup("explicit", curve, None, domain.order)
        generator = base.decode(domain.generator)
        return ECGroup("explicit", curve, generator, domain.order)
    if key.key_type == "DH":
        dh = key.dh_domain
        if dh is None:
            raise UnsupportedError("DH chip authentication key without domain parameters")
        return DHGroup("dh", dh.p, dh.g, dh.q or 0)
    raise UnsupportedError(f"chip authentication key of type {key.key_type}")


def ca_public_key_bytes(key: PublicKeyInfo, group: Group) -> bytes:
    """The chip's static public key as the group encodes it."""
    if isinstance(group, DHGroup):
        if key.dh_public_value is None:
            raise ParseError("DH chip authentication key without a public value", file="DG14")
        return group.encode(key.dh_public_value)
    return key.public_key


def _int_bytes(value: int) -> bytes:
    return value.to_bytes(max(1, (value.bit_length() + 7) // 8), "big")


def _uses_key_agreement_template(cipher: Cipher) -> bool:
    """§6.2.4 / TR-03110-3 §3.4: CA with 3DES runs over MSE:Set KAT, with AES over MSE:Set AT
    and GENERAL AUTHENTICATE."""
    return cipher.name == "3DES"


class ChipAuthenticationTerminal:
    """The terminal side of Chip Authentication (sans-I/O): commands, then the new session."""

    def __init__(self, option: ChipAuthenticationOption, random: RandomFn) -> None:
        self.option = option
        self.protocol = option.protocol
        self.key = option.public_key_info.public_key
        self.group = ca_group(self.key)
        self.chip_public = self.group.decode(ca_public_key_bytes(self.key, self.group))
        self.cipher = Cipher.of(self.protocol.cipher, self.protocol.key_length)
        self.private = draw_scalar(random, self.group.order or self.group.modulus - 1)
        self.public = self.group.encoded_public(self.private)

    def _key_reference(self) -> bytes:
        key_id = self.option.key_id
        return tlv.encode(0x84, _int_bytes(key_id)) if key_id is not None else b""

    def commands(self) -> list[Command]:
        """MSE:Set KAT for 3DES, else MSE:Set AT then GENERAL AUTHENTICATE."""
        if _uses_key_agreement_template(self.cipher):
            data = tlv.encode(0x91, self.public) + self._key_reference()
            return [Command(0x00, 0x22, 0x41, 0xA6, data)]
        mse = Command(
            0x00,
            0x22,
            0x41,
            0xA4,
            tlv.encode(0x80, encode_oid(self.protocol.oid)) + self._key_reference(),
        )
        body = tlv.encode(0x7C, [tlv.encode(0x80, self.public)])
        return [mse, Command(0x00, 0x86, 0x00, 0x00, body, 65536 if len(body) > 255 else 256)]

    def session(self) -> SecureMessaging:
        """The secure messaging under the new keys (SSC 0)."""
        secret = self.group.shared_secret(self.private, self.chip_public)
        return SecureMessaging.from_shared_secret(self.cipher, secret)


class ChipAuthenticationKey(Protocol):
    """A chip's static key pair as the card side needs it (the simulated chip's keys)."""

    @property
    def protocol(self) -> str: ...  # e.g. "id-CA-ECDH-AES-CBC-CMAC-128"
    @property
    def group(self) -> Group: ...
    @property
    def private(self) -> int: ...
    @property
    def key_id(self) -> int | None: ...


ChipAnswer = tuple[Response, "SecureMessaging | None"]


class ChipAuthenticationChip:
    """The card side of Chip Authentication over already unwrapped commands: INS 22 with
    P1P2 41A6 (MSE:Set KAT) or 41A4 (MSE:Set AT), then INS 86 (GENERAL AUTHENTICATE). Each
    answer comes with the new secure messaging once the keys are agreed (None before): the
    answer itself still goes out under the old keys."""

    def __init__(self, keys: Sequence[ChipAuthenticationKey]) -> None:
        self.keys = keys
        self.selected: ChipAuthenticationKey | None = None

    @staticmethod
    def claims(command: Command) -> bool:
        if command.ins == 0x22:
            return (command.p1, command.p2) in ((0x41, 0xA6), (0x41, 0xA4))
        return command.ins == 0x86

    def answer(self, command: Command) -> ChipAnswer:
        try:
            objects = {o.tag: o.value for o in tlv.decode(command.data, max_elements=8)}
        except ParseError:
            return Response(b"", 0x6A80), None
        if command.ins == 0x22 and command.p2 == 0xA6:
            key = self._key(objects.get(0x84), None)
            if key is None or 0x91 not in objects:
                return Response(b"", 0x6A88 if key is None else 0x6A80), None
            return self._agree(key, objects[0x91], b"")
        if command.ins == 0x22:
            key = self._key(objects.get(0x84), objects.get(0x80))
            self.selected = key
            return Response(b"", 0x9000 if key is not None else 0x6A88), None
        if self.selected is None:
            return Response(b"", 0x6985), None
        try:
            inner = {o.tag: o.value for o in tlv.decode(objects.get(0x7C, b""), max_elements=4)}
        except ParseError:
            return Response(b"", 0x6A80), None
        if 0x80 not in inner:
            return Response(b"", 0x6A80), None
        key, self.selected = self.selected, None
        return self._agree(key, inner[0x80], tlv.encode(0x7C, b""))

    def _key(self, key_id: bytes | None, oid: bytes | None) -> ChipAuthenticationKey | None:
        for key in self.keys:
            if oid is not None and encode_oid(CA_BY_NAME[key.protocol].oid) != oid:
                continue
            if key_id is not None and (
                key.key_id is None or key.key_id != int.from_bytes(key_id, "big")
            ):
                continue
            return key
        return None

    @staticmethod
    def _agree(key: ChipAuthenticationKey, public: bytes, answer: bytes) -> ChipAnswer:
        try:
            terminal = key.group.decode(public)
            secret = key.group.shared_secret(key.private, terminal)
        except ProtocolError:
            return Response(b"", 0x6A80), None
        protocol = CA_BY_NAME[key.protocol]
        cipher = Cipher.of(protocol.cipher, protocol.key_length)
        return Response(answer, 0x9000), SecureMessaging.from_shared_secret(cipher, secret)


__all__ = [
    "ChipAuthenticationChip",
    "ChipAuthenticationKey",
    "ChipAuthenticationTerminal",
    "ca_group",
    "ca_public_key_bytes",
]

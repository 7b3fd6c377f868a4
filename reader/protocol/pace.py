"""PACE, Password Authenticated Connection Establishment, the terminal's side (ICAO 9303-11
§4.4; domain parameters §9.5.1; key agreement §9.6; key derivation §9.7.1/§9.7.3; public key
data objects §9.4; BSI TR-03110-2/3 for the PACE parts). docs/spec/cccd-chip.md describes how
the CCCD runs it.

Sans-I/O (docs/architecture.md, h11 style): :class:`PaceTerminal` builds the commands and checks
the answers; ``reader.drivers.access`` sends them. The card side is
:class:`reader.protocol.pace_chip.PaceChip`; both sides take their groups from
:mod:`reader.protocol.groups`, their cipher from :mod:`reader.protocol.cipher`, the mappings
(GM, IM, CAM) from :mod:`reader.protocol.pace_mapping` and the messages (7C, 7F49, password)
from :mod:`reader.protocol.pace_messages`.

Supported: passwords MRZ (``BACKey``) and CAN (``CANKey``); Generic Mapping over ECDH
(standardized parameter ids 8-18) and DH (ids 0-2, RFC 5114), Integrated Mapping over both
(ECDH needs p = 3 mod 4, which every standardized curve but NIST P-224 has), Chip
Authentication Mapping (ECDH, AES); 3DES and AES-128/192/256.

Randomness (docs/architecture.md): the terminal draws its mapping private key (Integrated Mapping:
its nonce t), then its ephemeral private key, each ``random(L)`` with L the byte length of the
group order, big-endian, drawn again when 0 or not below the order. Nothing else draws.
Elliptic-curve arithmetic is the maintained ``ecdsa`` package's (fast with gmpy2).
"""

from __future__ import annotations

import hmac
from typing import Any

from reader import tlv
from reader.apdu import Command
from reader.errors import ProtocolError, SecureMessagingError, UnsupportedError
from reader.keys import AccessKey
from reader.lds.security_infos import (
    PACEInfo,
    PACEProtocol,
    SecurityInfos,
    encode_oid,
    parse_card_access,
)
from reader.protocol.cipher import KDF_PACE, Cipher
from reader.protocol.groups import (
    STANDARD_PARAMETER_IDS,
    Group,
    RandomFn,
    draw_scalar,
    standard_group,
)
from reader.protocol.pace_mapping import (
    ChipAuthenticationData,
    decrypt_ca_data,
    generic_mapping,
    integrated_mapping,
)
from reader.protocol.pace_messages import (
    authentication_token,
    dynamic_data,
    general_authenticate,
    password_seed,
    required,
)
from reader.protocol.sm import SecureMessaging


def describe(protocol: PACEProtocol, group: Group) -> str:
    """E.g. "PACE-ECDH-GM-AES-128 brainpoolP256r1"."""
    cipher = Cipher.of(protocol.cipher, protocol.key_length).describe()
    return f"PACE-{protocol.key_agreement}-{protocol.mapping}-{cipher} {group.name}"


class PaceSecureMessaging(SecureMessaging):
    """The secure messaging PACE established, with its parameters and PACE-CAM data."""

    description: str = ""
    chip_authentication_data: ChipAuthenticationData | None = None


def select_pace(infos: SecurityInfos) -> PACEInfo:
    """The PACEInfo to run: the best one whose parameters we implement."""
    usable = [
        info
        for info in infos.pace_infos
        if info.protocol is not None
        and info.parameter_id in STANDARD_PARAMETER_IDS
        and not (
            info.protocol.mapping == "IM"
            and info.protocol.key_agreement == "ECDH"
            and info.parameter_id == 10
        )
    ]
    if not usable:
        raise UnsupportedError(
            "EF.CardAccess offers PACE, but no option this reader implements: "
            + infos.describe_pace_entries()
        )
    chosen = SecurityInfos(raw=infos.raw, infos=tuple(usable)).best_pace()
    assert chosen is not None
    return chosen


class PaceTerminal:
    """The terminal side of PACE as a state machine over command/response data."""

    def __init__(
        self,
        key: AccessKey,
        card_access: bytes | SecurityInfos,
        random: RandomFn,
        *,
        info: PACEInfo | None = None,
    ) -> None:
        infos = (
            card_access
            if isinstance(card_access, SecurityInfos)
            else parse_card_access(card_access)
        )
        self.info = info or select_pace(infos)
        protocol = self.info.protocol
        if protocol is None or self.info.parameter_id is None:
            raise UnsupportedError("PACEInfo without a known protocol or parameter id")
        self.protocol: PACEProtocol = protocol
        self.parameter_id: int = self.info.parameter_id
        self.ambiguous = len(infos.pace_infos) > 1
        self.random = random
        self.cipher = Cipher.of(protocol.cipher, protocol.key_length)
        self.group = standard_group(self.parameter_id)
        self.password_ref, seed = password_seed(key)
        self.k_pi = self.cipher.kdf(seed, KDF_PACE)
        self.description = describe(protocol, self.group)
        self.sent_parameter_id = False
        self._nonce = 0
        self._nonce_bytes = b""
        self._map_private = 0
        self._map_public_ic: bytes = b""
        self._mapped: Group = self.group
        self._private = 0
        self._public = b""
        self._public_ic: Any = None
        self._public_ic_bytes = b""
        self._ks_enc = b""
        self._ks_mac = b""
        self._t_nonce = b""

    def mse_set_at(self, *, with_parameter_id: bool | None = None) -> Command:
        """MSE:Set AT (§4.4.4.1): 80 OID, 83 password, 84 parameter id when ambiguous."""
        include = self.ambiguous if with_parameter_id is None else with_parameter_id
        data = tlv.encode(0x80, encode_oid(self.protocol.oid))
        data += tlv.encode(0x83, bytes([self.password_ref]))
        if include:
            data += tlv.encode(0x84, bytes([self.parameter_id]))
        self.sent_parameter_id = include
        return Command(0x00, 0x22, 0xC1, 0xA4, data)

    def nonce_command(self) -> Command:
        return general_authenticate([], last=False)

    def mapping_command(self, answer: bytes) -> Command:
        """Decrypt the nonce s; send the mapping data (GM/CAM: PK_Map,IFD; IM: nonce t)."""
        z = required(dynamic_data(answer, "encrypted nonce"), 0x80, "encrypted nonce")
        self._nonce_bytes = self.cipher.decrypt(self.k_pi, z)
        self._nonce = int.from_bytes(self._nonce_bytes, "big")
        if self.protocol.mapping == "IM":
            self._t_nonce = self.random(self.cipher.key_length)
            return general_authenticate([tlv.encode(0x81, self._t_nonce)], last=False)
        self._map_private = draw_scalar(self.random, self.group.order)
        mapping_public = self.group.encoded_public(self._map_private)
        return general_authenticate([tlv.encode(0x81, mapping_public)], last=False)

    def key_agreement_command(self, answer: bytes) -> Command:
        """Compute the ephemeral generator; send PK_DH,IFD."""
        objects = dynamic_data(answer, "map nonce")
        if self.protocol.mapping == "IM":
            self._mapped = integrated_mapping(
                self.group, self.cipher, self._nonce_bytes, self._t_nonce
            )
        else:
            self._map_public_ic = required(objects, 0x82, "map nonce")
            chip_map = self.group.decode(self._map_public_ic)
            mine = self.group.encoded_public(self._map_private)
            if self._map_public_ic == mine:
                raise ProtocolError("PACE map nonce: the chip echoed the terminal's key")
            self._mapped = generic_mapping(self.group, self._nonce, self._map_private, chip_map)
        self._private = draw_scalar(self.random, self._mapped.order)
        self._public = self._mapped.encoded_public(self._private)
        return general_authenticate([tlv.encode(0x83, self._public)], last=False)

    def mutual_authentication_command(self, answer: bytes) -> Command:
        """Key agreement, session keys; send the terminal's token T_IFD."""
        objects = dynamic_data(answer, "key agreement")
        self._public_ic_bytes = required(objects, 0x84, "key agreement")
        self._public_ic = self._mapped.decode(self._public_ic_bytes)
        if self._public_ic_bytes == self._public:
            raise ProtocolError("PACE key agreement: the chip's public key equals the terminal's")
        secret = self._mapped.shared_secret(self._private, self._public_ic)
        self._ks_enc, self._ks_mac = self.cipher.session_keys(secret)
        token = authentication_token(
            self.cipher, self._ks_mac, self.protocol.oid, self._mapped, self._public_ic_bytes
        )
        return general_authenticate([tlv.encode(0x85, token)], last=True)

    def finish(self, answer: bytes) -> PaceSecureMessaging:
        """Check the chip's token T_IC (and decrypt its CA data for CAM): the new session."""
        objects = dynamic_data(answer, "mutual authentication")
        token = required(objects, 0x86, "mutual authentication")
        expected = authentication_token(
            self.cipher, self._ks_mac, self.protocol.oid, self._mapped, self._public
        )
        if not hmac.compare_digest(token, expected):
            raise SecureMessagingError(
                "PACE: the chip's authentication token does not verify (not the chip that "
                "knows the password, or a corrupted answer)"
            )
        sm = PaceSecureMessaging(self.cipher, self._ks_enc, self._ks_mac, 0)
        sm.description = self.description
        if self.protocol.mapping == "CAM":
            encrypted = required(objects, 0x8A, "mutual authentication (CAM)")
            ca_ic = decrypt_ca_data(self.cipher, self._ks_enc, encrypted, self.group)
            sm.chip_authentication_data = ChipAuthenticationData(
                ca_ic=ca_ic, mapping_public_key=self._map_public_ic, parameter_id=self.parameter_id
            )
        return sm


__all__ = [
    "PaceSecureMessaging",
    "PaceTerminal",
    "describe",
    "select_pace",
]

"""The card side of PACE (ICAO 9303-11 §4.4, APDUs §4.4.4), used by the simulated chip
(``fixtures.chip_pace``): MSE:Set AT and the four GENERAL AUTHENTICATE steps, with the same
groups, mappings and messages as the terminal in :mod:`reader.protocol.pace`.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable

from reader import tlv
from reader.errors import ParseError, ProtocolError, UnsupportedError
from reader.keys import BACKey, CANKey
from reader.lds.security_infos import PACE_PROTOCOLS, PACEProtocol, encode_oid
from reader.protocol.cipher import KDF_PACE, Cipher
from reader.protocol.groups import Group, RandomFn, draw_scalar, standard_group
from reader.protocol.pace_mapping import encrypt_ca_data, generic_mapping, integrated_mapping
from reader.protocol.pace_messages import (
    PASSWORD_CAN,
    PASSWORD_MRZ,
    authentication_token,
    dynamic_data,
    password_seed,
    required,
)
from reader.protocol.sm import SecureMessaging

TamperFn = Callable[[str, bytes], bytes]


class PaceChip:
    """The card side of PACE (used by ``fixtures.chip_pace``): MSE:Set AT and the four
    GENERAL AUTHENTICATE steps. Answers are (data, SW); the finished session is
    :attr:`result` once the last step succeeds. ``tamper(step, encoded_public_key)`` lets
    tests send invalid public keys ("mapping" or "ephemeral")."""

    def __init__(
        self,
        *,
        offers: list[tuple[str, int]],
        mrz: BACKey | None,
        can: str | None,
        random: RandomFn,
        ca_private_key: int | None = None,
        require_parameter_id: bool = False,
        tamper: TamperFn | None = None,
    ) -> None:
        self.offers = offers
        self.passwords: dict[int, bytes] = {}
        if mrz is not None:
            self.passwords[PASSWORD_MRZ] = password_seed(mrz)[1]
        if can is not None:
            self.passwords[PASSWORD_CAN] = password_seed(CANKey(can))[1]
        self.random = random
        self.ca_private_key = ca_private_key
        self.require_parameter_id = require_parameter_id
        self.tamper = tamper
        self.result: SecureMessaging | None = None
        self.reset()

    def reset(self) -> None:
        self.step = 0
        self.protocol: PACEProtocol | None = None
        self.group: Group | None = None
        self.cipher: Cipher | None = None
        self.k_pi = b""
        self.result = None

    @property
    def active(self) -> bool:
        return self.protocol is not None

    def set_at(self, data: bytes) -> int:
        self.reset()
        try:
            objects = {o.tag: o.value for o in tlv.decode(data, max_elements=8)}
        except ParseError:
            return 0x6A80
        oid_value = objects.get(0x80)
        protocol = next(
            (
                p
                for p in PACE_PROTOCOLS.values()
                if oid_value is not None and encode_oid(p.oid) == oid_value
            ),
            None,
        )
        if protocol is None:
            return 0x6A80
        matching = [pid for oid, pid in self.offers if oid == protocol.oid]
        if 0x84 in objects:
            wanted = int.from_bytes(objects[0x84], "big")
            if wanted not in matching:
                return 0x6A88
        elif len(matching) == 1 and not self.require_parameter_id:
            wanted = matching[0]
        else:
            return 0x6A88
        password_ref = objects.get(0x83, b"")
        if len(password_ref) != 1 or password_ref[0] not in self.passwords:
            return 0x6A88
        self.protocol = protocol
        self.group = standard_group(wanted)
        self.cipher = Cipher.of(protocol.cipher, protocol.key_length)
        self.k_pi = self.cipher.kdf(self.passwords[password_ref[0]], KDF_PACE)
        return 0x9000

    def general_authenticate(self, data: bytes) -> tuple[bytes, int]:
        if self.protocol is None or self.group is None or self.cipher is None:
            return b"", 0x6985
        try:
            objects = dynamic_data(data, "command")
            return self._step(objects)
        except (ProtocolError, UnsupportedError):
            self.reset()
            return b"", 0x6A80

    def _out(self, step: str, encoded: bytes) -> bytes:
        return self.tamper(step, encoded) if self.tamper is not None else encoded

    def _step(self, objects: dict[int, bytes]) -> tuple[bytes, int]:
        assert self.protocol is not None and self.group is not None and self.cipher is not None
        group, cipher, protocol = self.group, self.cipher, self.protocol
        self.step += 1
        if self.step == 1:
            self.nonce_bytes = self.random(cipher.nonce_length)
            z = cipher.encrypt(self.k_pi, self.nonce_bytes)
            return tlv.encode(0x7C, [tlv.encode(0x80, z)]), 0x9000
        if self.step == 2:
            mapping = required(objects, 0x81, "map nonce")
            nonce = int.from_bytes(self.nonce_bytes, "big")
            if protocol.mapping == "IM":
                if len(mapping) != cipher.key_length:
                    raise ProtocolError("nonce t of the wrong length")
                self.mapped = integrated_mapping(group, cipher, self.nonce_bytes, mapping)
                return tlv.encode(0x7C, [tlv.encode(0x82, b"")]), 0x9000
            terminal_map = group.decode(mapping)
            self.map_private = draw_scalar(self.random, group.order)
            mine = group.encoded_public(self.map_private)
            self.mapped = generic_mapping(group, nonce, self.map_private, terminal_map)
            return tlv.encode(0x7C, [tlv.encode(0x82, self._out("mapping", mine))]), 0x9000
        if self.step == 3:
            self.terminal_public = required(objects, 0x83, "key agreement")
            terminal_key = self.mapped.decode(self.terminal_public)
            self.private = draw_scalar(self.random, self.mapped.order)
            self.public = self.mapped.encoded_public(self.private)
            if self.public == self.terminal_public:
                raise ProtocolError("equal ephemeral keys")
            secret = self.mapped.shared_secret(self.private, terminal_key)
            self.ks_enc, self.ks_mac = cipher.session_keys(secret)
            public = self._out("ephemeral", self.public)
            return tlv.encode(0x7C, [tlv.encode(0x84, public)]), 0x9000
        if self.step == 4:
            token = required(objects, 0x85, "mutual authentication")
            expected = authentication_token(
                cipher, self.ks_mac, protocol.oid, self.mapped, self.public
            )
            if not hmac.compare_digest(token, expected):
                self.reset()
                return b"", 0x6300
            chip_token = authentication_token(
                cipher, self.ks_mac, protocol.oid, self.mapped, self.terminal_public
            )
            answer = [tlv.encode(0x86, chip_token)]
            if protocol.mapping == "CAM":
                if self.ca_private_key is None:
                    self.reset()
                    return b"", 0x6A88
                ca_ic = pow(self.ca_private_key, -1, group.order) * self.map_private % group.order
                answer.append(tlv.encode(0x8A, encrypt_ca_data(cipher, self.ks_enc, ca_ic, group)))
            sm = SecureMessaging(cipher, self.ks_enc, self.ks_mac, 0)
            self.reset()
            self.result = sm
            return tlv.encode(0x7C, answer), 0x9000
        self.reset()
        return b"", 0x6985


__all__ = ["PaceChip", "TamperFn"]

"""Basic Access Control, ICAO 9303-11 §4.3 (key seed from the MRZ information, mutual
authentication with GET CHALLENGE / EXTERNAL AUTHENTICATE, session keys and SSC) as sans-I/O
steps for both sides.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable
from dataclasses import dataclass

from reader.apdu import Command, get_challenge
from reader.errors import AccessDeniedError, ProtocolError
from reader.keys import BACKey
from reader.protocol.cipher import TDES
from reader.protocol.sm import SecureMessaging

# BAC runs on two-key 3DES with the retail MAC: the cipher object shared with secure
# messaging, PACE and Chip Authentication (key derivation, padding, MAC, CBC).
RandomFn = Callable[[int], bytes]


@dataclass(frozen=True, slots=True)
class BasicAccessKeys:
    """K_enc and K_mac derived from the MRZ information (§9.7.2)."""

    k_seed: bytes
    k_enc: bytes
    k_mac: bytes

    @classmethod
    def from_key(cls, key: BACKey) -> BasicAccessKeys:
        seed = hashlib.sha1(key.password).digest()[:16]
        return cls(seed, *TDES.session_keys(seed))


def session_from_seed(k_ifd: bytes, k_ic: bytes, rnd_ic: bytes, rnd_ifd: bytes) -> SecureMessaging:
    """KS_enc, KS_mac from K.IFD xor K.IC, SSC from the two nonces (§9.8.4.1)."""
    k_seed = bytes(a ^ b for a, b in zip(k_ifd, k_ic, strict=True))
    return SecureMessaging(TDES, *TDES.session_keys(k_seed), rnd_ic[4:] + rnd_ifd[4:])


class BACTerminal:
    """The terminal's side of BAC: ``challenge_command`` -> ``authenticate_command(rnd_ic)``
    -> ``finish(response)`` giving the secure-messaging session."""

    def __init__(self, key: BACKey, random: RandomFn) -> None:
        self.keys = BasicAccessKeys.from_key(key)
        self._random = random
        self._rnd_ic = b""
        self._rnd_ifd = b""
        self._k_ifd = b""

    @staticmethod
    def challenge_command() -> Command:
        return get_challenge(8)

    def authenticate_command(self, rnd_ic: bytes) -> Command:
        if len(rnd_ic) != 8:
            raise ProtocolError(f"GET CHALLENGE answered {len(rnd_ic)} bytes instead of 8")
        self._rnd_ic = rnd_ic
        self._rnd_ifd = self._random(8)
        self._k_ifd = self._random(16)
        s = self._rnd_ifd + rnd_ic + self._k_ifd
        e_ifd = TDES.encrypt(self.keys.k_enc, s)
        m_ifd = TDES.mac(self.keys.k_mac, e_ifd)
        return Command(0x00, 0x82, 0x00, 0x00, e_ifd + m_ifd, le=40)

    def finish(self, response: bytes) -> SecureMessaging:
        if len(response) != 40:
            raise ProtocolError(f"EXTERNAL AUTHENTICATE answered {len(response)} bytes, not 40")
        e_ic, m_ic = response[:32], response[32:]
        if not hmac.compare_digest(TDES.mac(self.keys.k_mac, e_ic), m_ic):
            raise AccessDeniedError(0x6300, "BAC: the chip's answer does not verify (MAC)")
        plain = TDES.decrypt(self.keys.k_enc, e_ic)
        if plain[:8] != self._rnd_ic or plain[8:16] != self._rnd_ifd:
            raise AccessDeniedError(0x6300, "BAC: the chip's answer does not match our nonces")
        return session_from_seed(self._k_ifd, plain[16:], self._rnd_ic, self._rnd_ifd)


class BACChip:
    """The chip's side of BAC, used by the simulated chip."""

    def __init__(self, key: BACKey, random: RandomFn) -> None:
        self.keys = BasicAccessKeys.from_key(key)
        self._random = random
        self.rnd_ic: bytes | None = None

    def challenge(self) -> bytes:
        self.rnd_ic = self._random(8)
        return self.rnd_ic

    def external_authenticate(self, data: bytes) -> tuple[bytes, SecureMessaging]:
        """Verify the terminal's cryptogram; the answer and the new session.

        Raises ``AccessDeniedError`` (the chip answers 6300) when it does not verify.
        """
        if self.rnd_ic is None or len(data) != 40:
            raise AccessDeniedError(0x6985, "EXTERNAL AUTHENTICATE without a challenge")
        e_ifd, m_ifd = data[:32], data[32:]
        rnd_ic, self.rnd_ic = self.rnd_ic, None
        if not hmac.compare_digest(TDES.mac(self.keys.k_mac, e_ifd), m_ifd):
            raise AccessDeniedError(0x6300, "BAC cryptogram MAC wrong")
        plain = TDES.decrypt(self.keys.k_enc, e_ifd)
        if plain[8:16] != rnd_ic:
            raise AccessDeniedError(0x6300, "BAC cryptogram does not carry our challenge")
        rnd_ifd, k_ifd = plain[:8], plain[16:]
        k_ic = self._random(16)
        e_ic = TDES.encrypt(self.keys.k_enc, rnd_ic + rnd_ifd + k_ic)
        answer = e_ic + TDES.mac(self.keys.k_mac, e_ic)
        return answer, session_from_seed(k_ifd, k_ic, rnd_ic, rnd_ifd)

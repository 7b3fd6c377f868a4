"""Secure messaging, ICAO 9303-11 §9.8 (3DES and AES, DO'85'/'87'/'97'/'99'/'8E', short and
extended length), as a sans-I/O state object used by both sides: the terminal wraps commands
and unwraps responses; the simulated chip unwraps commands and wraps responses with the very
same object and counter.

The send sequence counter (SSC) is incremented exactly once before each command MAC and once
before each response MAC. A bare error status word from the chip (no data objects) means the
chip did not process the command under SM: the SSC is restored to its value before the
command, and 6987/6988 mark the session dead because the chip has dropped its keys.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable

from reader import tlv
from reader.apdu import Command, Response, status_error
from reader.errors import ParseError, SecureMessagingError, StatusWordError
from reader.protocol.cipher import Cipher

SM_CLA = 0x0C
SESSION_ENDING_SW = frozenset({0x6987, 0x6988})


class SessionDeadError(SecureMessagingError):
    """The secure-messaging session has ended; the card must be authenticated again."""


class SecureMessaging:
    """One secure-messaging session (either side)."""

    def __init__(self, cipher: Cipher, ks_enc: bytes, ks_mac: bytes, ssc: int | bytes) -> None:
        self.cipher = cipher
        self.ks_enc = ks_enc
        self.ks_mac = ks_mac
        self.ssc = int.from_bytes(ssc, "big") if isinstance(ssc, bytes) else ssc
        self.dead = False
        self._ssc_before_command = self.ssc

    @classmethod
    def from_shared_secret(cls, cipher: Cipher, shared_secret: bytes) -> SecureMessaging:
        """Secure messaging under the session keys of ``shared_secret``, SSC 0 (§9.7.1)."""
        return cls(cipher, *cipher.session_keys(shared_secret), 0)

    # -- shared pieces --------------------------------------------------------------------
    @property
    def block(self) -> int:
        return self.cipher.block_size

    def ssc_bytes(self) -> bytes:
        return self.cipher.ssc_bytes(self.ssc)

    def _mac(self, data: bytes) -> bytes:
        return self.cipher.mac(self.ks_mac, self.ssc_bytes() + data)

    def _encrypt(self, data: bytes) -> bytes:
        return self.cipher.sm_encrypt(self.ks_enc, self.ssc, data)

    def _decrypt(self, data: bytes) -> bytes:
        return self.cipher.sm_decrypt(self.ks_enc, self.ssc, data)

    def _fail(self, message: str) -> SecureMessagingError:
        self.dead = True
        return SecureMessagingError(message)

    def _check_alive(self) -> None:
        if self.dead:
            raise SessionDeadError("secure messaging has ended; authenticate the card again")

    # -- terminal side --------------------------------------------------------------------
    def wrap(self, command: Command) -> bytes:
        """Protect a plain command (§9.8.5): the APDU bytes to send."""
        self._check_alive()
        self._ssc_before_command = self.ssc
        self.ssc += 1
        cla = (command.cla & 0xF0) | SM_CLA  # keep chaining bit 0x10, set SM bits
        header = bytes([cla, command.ins, command.p1, command.p2])
        body = b""
        if command.data:
            if command.ins & 1:
                body += tlv.encode(0x85, self._encrypt(command.data))
            else:
                body += tlv.encode(0x87, b"\x01" + self._encrypt(command.data))
        extended = False
        if command.le is not None:
            le = command.le
            if le > 256:
                extended = True
                body += tlv.encode(0x97, (le % 65536).to_bytes(2, "big"))
            else:
                body += tlv.encode(0x97, bytes([le % 256]))
        checksum = self._mac(self.cipher.pad(header) + body)
        body += tlv.encode(0x8E, checksum)
        # The protected answer is larger than the plain one: a plain Le that cannot fit a
        # short answer with SM overhead needs extended length. Le 256 (short '00') means "as
        # much as a short answer carries" and stays short, so chips without extended length
        # still do CA, AA and small reads.
        if command.le is not None and command.le != 256:
            extended = extended or _protected_size(command.le, self.block) > 256
        extended = extended or len(body) > 255 or bool(command.extended)
        # A protected command always has Le: the answer carries at least DO'99' and DO'8E'.
        le_out = 65536 if extended else 256
        return Command(
            cla, command.ins, command.p1, command.p2, body, le_out, extended=extended
        ).to_bytes()

    def unwrap(self, raw: bytes) -> Response:
        """Check and decrypt a protected response (§9.8.6). Always verifies the MAC."""
        self._check_alive()
        response = Response.parse(raw)
        if not response.data:
            if response.sw == 0x9000:
                raise self._fail("unprotected 9000 answer while secure messaging is active")
            # The chip refused the command before SM processing: it did not count it.
            self.ssc = self._ssc_before_command
            if response.sw in SESSION_ENDING_SW:
                self.dead = True
            raise status_error(response.sw, "secure messaging")
        self.ssc += 1
        if response.data[0] not in (0x85, 0x87, 0x99):
            raise self._fail("unprotected answer with data while secure messaging is active")
        try:
            objects = tlv.decode(response.data, max_elements=8)
        except ParseError as exc:
            raise self._fail(f"protected response is not valid TLV: {exc}") from exc
        try:
            do87, do99, do8e, macced = _sort_objects(objects, 0x99)
        except ValueError as exc:
            raise self._fail(f"{exc} in a protected response") from None
        if do8e is None:
            raise self._fail("protected response without DO'8E' (MAC)")
        if do99 is None:
            raise self._fail("protected response without DO'99' (status word)")
        if objects[-1] is not do8e:
            raise self._fail("DO'8E' is not the last data object")
        if not hmac.compare_digest(self._mac(macced), do8e.value):
            raise self._fail("response MAC does not verify (wrong key, replay or tampering)")
        if len(do99.value) != 2:
            raise self._fail("DO'99' does not hold two bytes")
        data = b""
        if do87 is not None:
            payload = do87.value
            if do87.tag == 0x87:
                if not payload or payload[0] != 0x01:
                    raise self._fail("DO'87' without padding-content indicator 01")
                payload = payload[1:]
            try:
                data = self._decrypt(payload)
            except SecureMessagingError as exc:
                raise self._fail(str(exc)) from None
        sw = int.from_bytes(do99.value, "big")
        if sw in SESSION_ENDING_SW:
            self.dead = True
        return Response(data, sw)

    def transmit(self, send: Callable[[bytes], bytes], command: Command) -> Response:
        """Wrap, send through ``send`` and unwrap."""
        return self.unwrap(send(self.wrap(command)))

    # -- card side ------------------------------------------------------------------------
    def unwrap_command(self, raw: bytes) -> Command:
        """Check and decrypt a protected command (chip side). Raises ``StatusWordError``
        with the SW the chip must answer (6987 / 6988) when the command is not acceptable;
        the chip then drops the session."""
        self._check_alive()
        command = Command.parse(raw)
        if command.cla & 0x0C != 0x0C:
            self.dead = True
            raise StatusWordError(0x6982, "plain command while secure messaging is active")
        self.ssc += 1
        try:
            objects = tlv.decode(command.data, max_elements=8)
        except ParseError as exc:
            self.dead = True
            raise StatusWordError(0x6988, "SM data objects are not valid TLV") from exc
        header = bytes([command.cla, command.ins, command.p1, command.p2])
        try:
            do87, do97, do8e, macced = _sort_objects(objects, 0x97)
        except ValueError as exc:
            self.dead = True
            raise StatusWordError(0x6988, f"{exc} in an SM command") from None
        if do8e is None:
            self.dead = True
            raise StatusWordError(0x6987, "SM command without DO'8E'")
        if not hmac.compare_digest(self._mac(self.cipher.pad(header) + macced), do8e.value):
            self.dead = True
            raise StatusWordError(0x6988, "SM command MAC does not verify")
        data = b""
        if do87 is not None:
            payload = do87.value[1:] if do87.tag == 0x87 else do87.value
            try:
                data = self._decrypt(payload)
            except SecureMessagingError as exc:
                self.dead = True
                raise StatusWordError(0x6988, "SM command data does not decrypt") from exc
        le: int | None = None
        if do97 is not None:
            raw_le = int.from_bytes(do97.value, "big") if do97.value else 0
            le = raw_le or (65536 if len(do97.value) == 2 else 256)
        plain_cla = command.cla & 0xF0 & ~0x0C & 0xFF
        return Command(plain_cla, command.ins, command.p1, command.p2, data, le)

    def wrap_response(self, data: bytes, sw: int) -> bytes:
        """Protect a response (chip side): DO'87' (or '85' for odd INS), DO'99', DO'8E'."""
        self.ssc += 1
        body = b""
        if data:
            body += tlv.encode(0x87, b"\x01" + self._encrypt(data))
        body += tlv.encode(0x99, sw.to_bytes(2, "big"))
        body += tlv.encode(0x8E, self._mac(body))
        return body + b"\x90\x00"


def _sort_objects(
    objects: list[tlv.TLV], second: int
) -> tuple[tlv.TLV | None, tlv.TLV | None, tlv.TLV | None, bytes]:
    """(DO'85'/'87', DO ``second`` ('97' in commands, '99' in answers), DO'8E', the bytes the
    MAC covers). ``ValueError`` for any other data object."""
    data = other = checksum = None
    macced = b""
    for obj in objects:
        if any(o is not obj and o.tag == obj.tag for o in objects):
            raise ValueError(f"duplicated data object {obj.tag:X}")
        if obj.tag in (0x85, 0x87):
            data = obj
            macced += obj.raw
        elif obj.tag == second:
            other = obj
            macced += obj.raw
        elif obj.tag == 0x8E:
            checksum = obj
        else:
            raise ValueError(f"unexpected data object {obj.tag:X}")
    return data, other, checksum, macced


def _protected_size(plain: int, block: int) -> int:
    """Bytes of a protected response carrying ``plain`` bytes of data."""
    if plain == 0:
        return 14
    encrypted = plain + 1 + (-(plain + 1) % block) + 1  # padding + indicator byte
    return 1 + len(tlv.encode_length(encrypted)) + encrypted + 4 + 10


def max_plain_for_short(block: int) -> int:
    """The largest plain Le whose protected response fits a short (256-byte) answer."""
    plain = 256
    while _protected_size(plain, block) > 256:
        plain -= 1
    return plain

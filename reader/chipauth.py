"""Chip Authentication (ICAO 9303-11 §6.2; BSI TR-03110-3 §3.4 APDUs) and Active
Authentication (§6.1), run after the files are read (docs/architecture.md data path step 4), and
the PACE-CAM check (§4.4.3.5.2) when PACE ran with Chip Authentication Mapping.

Chip Authentication: an ephemeral-static key agreement with the DG14 key; 3DES through
MSE:Set KAT (0022 41A6), AES through MSE:Set AT (0022 41A4) + GENERAL AUTHENTICATE; secure
messaging then restarts with the new keys (SSC 0). The chip proves it holds the private key
only by answering correctly under the new keys, so a protected SELECT EF.COM follows.

Outcomes are data (``AuthOutcome``): "passed", "failed" (the chip answered, and
the answer proves it does not hold the key: a clone), "not_attempted", "error" (the protocol
could not run). They count only when passive authentication holds -- that is ``verify``'s
call. Randomness: CA draws its ephemeral key; AA draws its 8-byte challenge, last of all.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from reader import tlv
from reader.apdu import Command, select_file
from reader.cipher import Cipher
from reader.errors import (
    CardError,
    ParseError,
    ProtocolError,
    SecureMessagingError,
    StatusWordError,
    TransportError,
    UnsupportedError,
)
from reader.files import FILES
from reader.groups import DHGroup, Group, draw_scalar, group_for_key_info
from reader.lds.der import encode_oid
from reader.lds.public_key import PublicKeyInfo
from reader.lds.security_infos import ChipAuthenticationOption, SecurityInfos, parse_dg14
from reader.oids import ID_PK_ECDH
from reader.pace import PaceSecureMessaging
from reader.pace_mapping import verify_cam
from reader.session import Session
from reader.sm import SecureMessaging, max_plain_for_short

RandomFn = Callable[[int], bytes]
AAVerifier = Callable[[bytes, bytes, bytes, "bytes | None"], bool]
AA_CHALLENGE_LENGTH = 8


@dataclass(frozen=True, slots=True, kw_only=True)
class AuthOutcome:
    """The result of Chip or Active Authentication. ``outcome`` is "passed", "failed",
    "not_attempted", "signed" (AA answered; ``verify`` checks the signature) or "error";
    ``reason`` says why; ``transcript`` keeps what was sent and received so it can be
    checked again offline."""

    outcome: str
    reason: str
    transcript: dict[str, str] = field(default_factory=dict)

    @classmethod
    def not_attempted(cls, reason: str) -> AuthOutcome:
        return cls(outcome="not_attempted", reason=reason)


def ca_group(key: PublicKeyInfo) -> Group:
    """The group of a DG14 chip authentication key (named or explicit EC, or DH)."""
    return group_for_key_info(key)


def ca_public_key_bytes(key: PublicKeyInfo, group: Group) -> bytes:
    """The chip's static public key as the group encodes it."""
    if isinstance(group, DHGroup):
        if key.dh_public_value is None:
            raise ParseError("DH chip authentication key without a public value", file="DG14")
        return group.encode(key.dh_public_value)
    return key.public_key


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
        if self.protocol.cipher == "3DES":
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


def _int_bytes(value: int) -> bytes:
    return value.to_bytes(max(1, (value.bit_length() + 7) // 8), "big")


def chip_authentication(
    session: Session, option: ChipAuthenticationOption, random: RandomFn
) -> AuthOutcome:
    """Run Chip Authentication and switch the session to the new keys."""
    try:
        terminal = ChipAuthenticationTerminal(option, random)
    except (ProtocolError, UnsupportedError, ParseError) as exc:
        return AuthOutcome(outcome="error", reason=f"DG14 key unusable: {exc}")
    transcript = {
        "protocol": option.protocol.name,
        "ephemeral_public_key": terminal.public.hex().upper(),
    }
    if option.key_id is not None:
        transcript["key_id"] = str(option.key_id)
    try:
        for command in terminal.commands():
            response = session.send(command)
            if response.sw != 0x9000:
                return AuthOutcome(
                    outcome="error",
                    transcript=transcript,
                    reason=f"chip refused chip authentication ({response.sw:04X})",
                )
    except StatusWordError as exc:
        return AuthOutcome(
            outcome="error",
            reason=f"chip refused chip authentication: {exc}",
            transcript=transcript,
        )
    session.replace_sm(terminal.session())
    try:
        answer = session.send(select_file(FILES["COM"].fid))
    except (SecureMessagingError, StatusWordError) as exc:
        return AuthOutcome(
            outcome="failed",
            transcript=transcript,
            reason=(
                "the chip cannot answer under the keys agreed with the DG14 public key: "
                f"it does not hold the private key (a cloned chip?) [{exc}]"
            ),
        )
    transcript["probe_sw"] = f"{answer.sw:04X}"
    return AuthOutcome(
        outcome="passed",
        transcript=transcript,
        reason="the chip proved it holds the DG14 private key "
        "(genuine only when passive authentication holds)",
    )


def active_authentication(
    session: Session,
    dg15: bytes,
    dg14: bytes | None,
    challenge: bytes,
    verifier: AAVerifier | None = None,
) -> AuthOutcome:
    """INTERNAL AUTHENTICATE with ``challenge``. With a ``verifier`` the signature is checked
    against DG15 here; without one the outcome is "signed" and ``verify`` checks the
    transcript (the import direction is verify -> reader, never back)."""
    if len(challenge) != AA_CHALLENGE_LENGTH:
        return AuthOutcome(outcome="error", reason="the AA challenge must be 8 bytes")
    transcript = {"challenge": challenge.hex().upper()}
    try:
        from reader.lds.dg15 import parse_dg15

        bits = parse_dg15(dg15).public_key.key_size
    except ParseError as exc:
        return AuthOutcome(
            outcome="error", reason=f"DG15 does not parse: {exc}", transcript=transcript
        )
    # A short answer under SM carries at most 231 (3DES) / 223 (AES) plain bytes: a longer
    # signature (RSA-2048 is 256 bytes) needs extended length, and chips refuse a short
    # command with 6700. Ask short when it fits, extended otherwise, and once more extended
    # on a length refusal.
    sm = session.sm
    fits = (bits + 7) // 8 <= (max_plain_for_short(sm.block) if sm is not None else 256)
    le = 256 if fits else 65536
    try:
        try:
            response = session.send(Command(0x00, 0x88, 0x00, 0x00, challenge, le))
        except StatusWordError as exc:
            if le == 65536 or (exc.sw != 0x6700 and exc.sw & 0xFF00 != 0x6C00):
                raise
            response = session.send(Command(0x00, 0x88, 0x00, 0x00, challenge, 65536))
        if response.sw == 0x6700 and le == 256:
            response = session.send(Command(0x00, 0x88, 0x00, 0x00, challenge, 65536))
    except StatusWordError as exc:
        return AuthOutcome(
            outcome="error", reason=f"INTERNAL AUTHENTICATE refused: {exc}", transcript=transcript
        )
    if response.sw != 0x9000:
        return AuthOutcome(
            outcome="error",
            transcript=transcript,
            reason=f"INTERNAL AUTHENTICATE answered {response.sw:04X}",
        )
    transcript["response"] = response.data.hex().upper()
    if verifier is None:
        return AuthOutcome(
            outcome="signed",
            transcript=transcript,
            reason="the chip signed the challenge; the signature is checked against DG15 by verify",
        )
    if verifier(dg15, challenge, response.data, dg14):
        return AuthOutcome(
            outcome="passed",
            transcript=transcript,
            reason="the chip signed the challenge with the DG15 key "
            "(genuine only when passive authentication holds)",
        )
    return AuthOutcome(
        outcome="failed",
        transcript=transcript,
        reason="the signature does not verify with the DG15 key (a cloned chip?)",
    )


def _cam_outcome(sm: PaceSecureMessaging, infos: SecurityInfos | None) -> AuthOutcome | None:
    data = sm.chip_authentication_data
    if data is None:
        return None
    keys = [
        k for k in (infos.chip_authentication_public_keys if infos else ()) if k.oid == ID_PK_ECDH
    ]
    transcript = {
        "mapping": "PACE-CAM",
        "ca_ic": f"{data.ca_ic:X}",
        "mapping_public_key": data.mapping_public_key.hex().upper(),
    }
    if not keys:
        return AuthOutcome(
            outcome="error",
            transcript=transcript,
            reason="PACE-CAM ran but DG14 holds no ECDH chip key to check it",
        )
    if any(verify_cam(data, key.public_key.public_key) for key in keys):
        return AuthOutcome(
            outcome="passed",
            transcript=transcript,
            reason="PACE-CAM: the chip authentication data match the DG14 key",
        )
    return AuthOutcome(
        outcome="failed",
        transcript=transcript,
        reason="PACE-CAM: the chip authentication data do not match the DG14 key",
    )


def authenticate(
    session: Session,
    files: Mapping[str, bytes],
    parsed: Mapping[str, Any],
    *,
    random: RandomFn,
    aa_challenge: bytes | None = None,
    aa_verifier: AAVerifier | None = None,
) -> tuple[AuthOutcome, AuthOutcome]:
    """(chip authentication, active authentication): PACE-CAM or CA when DG14 offers it,
    else AA when DG15 exists."""
    infos: SecurityInfos | None = None
    ca = AuthOutcome.not_attempted("DG14 absent")
    dg14 = files.get("DG14")
    if dg14 is not None:
        candidate = parsed.get("DG14")
        try:
            infos = candidate if isinstance(candidate, SecurityInfos) else parse_dg14(dg14)
        except ParseError as exc:
            ca = AuthOutcome(outcome="error", reason=f"DG14 does not parse: {exc}")
    if isinstance(session.sm, PaceSecureMessaging):
        cam = _cam_outcome(session.sm, infos)
        if cam is not None:
            ca = cam
    if ca.outcome == "not_attempted" and infos is not None:
        option = infos.best_chip_authentication()
        if option is None:
            ca = AuthOutcome.not_attempted("DG14 offers no chip authentication")
        else:
            try:
                ca = chip_authentication(session, option, random)
            except TransportError:
                raise  # the card left: the read is cut short, not a verdict
            except CardError as exc:
                ca = AuthOutcome(outcome="error", reason=f"chip authentication: {exc}")
    dg15 = files.get("DG15")
    if dg15 is None:
        return ca, AuthOutcome.not_attempted("DG15 absent")
    if ca.outcome in ("passed", "failed"):
        return ca, AuthOutcome.not_attempted("chip authentication ran instead")
    if session.sm is not None and session.sm.dead:
        return ca, AuthOutcome.not_attempted("secure messaging ended")
    challenge = aa_challenge if aa_challenge is not None else random(AA_CHALLENGE_LENGTH)
    try:
        aa = active_authentication(session, dg15, dg14, challenge, aa_verifier)
    except TransportError:
        raise
    except CardError as exc:
        aa = AuthOutcome(
            outcome="error",
            reason=f"active authentication: {exc}",
            transcript={"challenge": challenge.hex().upper()},
        )
    return ca, aa


__all__ = [
    "ChipAuthenticationTerminal",
    "active_authentication",
    "authenticate",
    "ca_group",
    "ca_public_key_bytes",
    "chip_authentication",
]

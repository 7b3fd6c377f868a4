"""Choosing and running Chip Authentication (ICAO 9303-11 §6.2) or Active Authentication
(§6.1) after the files are read (docs/architecture.md data path step 4), and the PACE-CAM
check (§4.4.3.5.2) when PACE ran with Chip Authentication Mapping. The protocol steps are the
sans-I/O objects of :mod:`reader.protocol.chip_auth` and :mod:`reader.protocol.active_auth`;
this driver decides which runs and sends them through the :class:`Session`.

After Chip Authentication secure messaging restarts with the new keys (SSC 0); the chip proves
it holds the private key only by answering correctly under them, so a protected SELECT EF.COM
follows.

Outcomes are data (``AuthOutcome``): "passed", "failed" (the chip answered, and
the answer proves it does not hold the key: a clone), "not_attempted", "error" (the protocol
could not run). They count only when passive authentication holds -- that is ``verify``'s
call. Randomness: CA draws its ephemeral key; AA draws its 8-byte challenge, last of all.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from reader.apdu import select_file
from reader.drivers.session import Session
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
from reader.lds.security_infos import ChipAuthenticationOption, SecurityInfos, parse_dg14
from reader.oids import ID_PK_ECDH
from reader.protocol.active_auth import (
    AA_CHALLENGE_LENGTH,
    internal_authenticate,
    signature_fits_short,
)
from reader.protocol.chip_auth import ChipAuthenticationTerminal
from reader.protocol.pace import PaceSecureMessaging
from reader.protocol.pace_mapping import verify_cam

RandomFn = Callable[[int], bytes]
AAVerifier = Callable[[bytes, bytes, bytes, "bytes | None"], bool]


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
    # A longer signature than a short answer carries (RSA-2048 under SM) needs extended
    # length, and chips refuse a short command with 6700. Ask short when it fits, extended
    # otherwise, and once more extended on a length refusal.
    sm = session.sm
    extended = not signature_fits_short(bits, sm.block if sm is not None else None)
    try:
        try:
            response = session.send(internal_authenticate(challenge, extended=extended))
        except StatusWordError as exc:
            if extended or (exc.sw != 0x6700 and exc.sw & 0xFF00 != 0x6C00):
                raise
            response = session.send(internal_authenticate(challenge, extended=True))
        if response.sw == 0x6700 and not extended:
            response = session.send(internal_authenticate(challenge, extended=True))
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
    "AuthOutcome",
    "active_authentication",
    "authenticate",
    "chip_authentication",
]

"""How the CLI shows a read: a short human report, or JSON. Shared by ``read``, ``verify``,
``inspect`` and ``watch``."""

from __future__ import annotations

from typing import Any

from reader.drivers.card import CardRead

VERDICTS = {
    "verified": "GENUINE: signed by a trusted CSCA",
    "signer_not_trusted": "signature valid, but the signer is not in the trust store "
    "(install the Vietnamese CSCA: `cccd trust add`)",
    "invalid": "NOT GENUINE: data or signature does not verify",
    "malformed": "EF.SOD is malformed",
    "unsupported": "cannot verify: unsupported algorithm",
}


def card_summary(card: CardRead) -> dict[str, Any]:
    """Per file: size and a one-line description of what it holds (no personal data)."""
    files: dict[str, dict[str, Any]] = {}
    for name, raw in card.files.items():
        parsed = card.parsed.get(name)
        if name in card.parse_errors:
            text = f"does not parse: {card.parse_errors[name]}"
        elif parsed is None:
            text = "(no parser)"
        else:
            text = _describe(name, parsed)
        files[name] = {"bytes": len(raw), "summary": text}
    return {
        "access_protocol": card.access_protocol,
        "pace_parameters": card.pace_parameters,
        "fallback_reason": card.fallback_reason,
        "complete": card.complete,
        "missing": card.missing,
        "files": files,
        "stats": {
            "apdus": card.stats.apdus,
            "bytes_sent": card.stats.bytes_sent,
            "bytes_received": card.stats.bytes_received,
            "seconds": round(card.stats.seconds, 4),
        },
        "chip_authentication": _auth(card.chip_authentication),
        "active_authentication": _auth(card.active_authentication),
    }


def _auth(outcome: Any) -> dict[str, Any]:
    return {"outcome": outcome.outcome, "reason": outcome.reason}


def _describe(name: str, parsed: Any) -> str:
    if name == "DG1":
        return f"MRZ {parsed.format}, check digits {'ok' if parsed.checks_ok else 'WRONG'}"
    if name == "DG2":
        face = parsed.face
        if face is None:
            return "no face image"
        return f"face {face.width}x{face.height} {face.format}, {len(face.image)} bytes"
    if name == "DG13":
        return f"{len(parsed.fields)} fields" + (
            f", undecodable text in {list(parsed.invalid_text_fields)}"
            if parsed.invalid_text_fields
            else ""
        )
    if name in ("DG14", "CardAccess"):
        return ", ".join(type(info).__name__ for info in parsed.infos)
    if name == "COM":
        return f"LDS {getattr(parsed, 'lds_version', '?')}, lists {', '.join(parsed.data_groups)}"
    if name == "DG15":
        key = parsed.public_key
        size = f"-{key.key_size}" if key.key_type == "RSA" else f" {key.curve}"
        return f"Active Authentication key: {key.key_type}{size}"
    if name == "SOD":
        return f"hashes of DG {sorted(parsed.data_group_hashes)}"
    return type(parsed).__name__


def check_json(result: Any, card: CardRead) -> dict[str, Any]:
    data = result.to_json()
    data["read"] = card_summary(card)
    return data


def print_human(result: Any, card: CardRead) -> None:
    identity = result.identity.to_json(result.today) if result.identity is not None else {}
    print(f"Verdict:            {VERDICTS.get(result.status, result.status)}")
    if result.passive.reason:
        print(f"                    {result.passive.reason}")
    for warning in result.passive.warnings:
        print(f"Warning:            {warning.message}")
    clone = result.clone_check
    print(
        f"Clone check:        {clone.method}: {clone.outcome}"
        f"{'' if clone.counted else ' (not counted)'} - {clone.reason}"
    )
    print(
        f"Access:             {card.access_protocol}"
        f"{' ' + card.pace_parameters if card.pace_parameters else ''}"
        f"{'  (fallback: ' + card.fallback_reason + ')' if card.fallback_reason else ''}"
    )
    for key in (
        "full_name",
        "id_number",
        "date_of_birth",
        "sex",
        "nationality",
        "ethnicity",
        "place_of_origin",
        "place_of_residence",
        "date_of_issue",
        "date_of_expiry",
        "card_status",
    ):
        if key in identity and identity[key] not in (None, ""):
            print(f"{key.replace('_', ' ').capitalize() + ':':<20}{identity[key]}")
    print(
        f"Read:               {card.stats.apdus} APDUs, {card.stats.bytes_received} bytes in "
        f"{card.stats.seconds * 1000:.0f} ms"
    )

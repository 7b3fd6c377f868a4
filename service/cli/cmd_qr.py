"""``cccd qr PAYLOAD``: parse the QR code of a CCCD / thẻ căn cước and derive access keys."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import date

from reader.keys import BACKey, CANKey
from reader.lds import vocabulary
from verify.identity import build_identity
from verify.qr import QRError, parse_qr


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    qr = subparsers.add_parser(
        "qr",
        help="parse a card's QR payload and print the identity and access keys",
        description="Parse the pipe-separated QR payload (2021 CCCD or 2024 thẻ căn cước); "
        "mangled scans (CP1252, Big5, Shift-JIS mojibake) are repaired first.",
    )
    qr.add_argument("payload", metavar="PAYLOAD", help="the payload; '-' reads it from stdin")
    qr.add_argument("--json", action="store_true", help="print JSON")
    qr.set_defaults(func=run_qr)


def _key_json(key: CANKey | BACKey) -> dict[str, str]:
    if isinstance(key, CANKey):
        return {"type": "CAN", "can": key.can}
    return {
        "type": "BAC",
        "document_number": key.document_number,
        "date_of_birth": key.date_of_birth,
        "date_of_expiry": key.date_of_expiry,
    }


def run_qr(args: argparse.Namespace) -> int:
    payload: str | bytes = args.payload
    if payload == "-":
        payload = sys.stdin.buffer.read()
    try:
        qr = parse_qr(payload)
    except QRError as exc:
        print(f"cccd qr: {exc} (field: {exc.field})", file=sys.stderr)
        return 2
    expiry = qr.expected_expiry
    identity = build_identity(qr=qr).to_json(date.today())
    data: dict[str, object] = {
        **qr.fields(),
        "generation": qr.generation,
        "extra_fields": list(qr.extra_fields),
        "expected_expiry": expiry.isoformat() if expiry else None,
        "repair": (
            {"source_encoding": qr.repair.source_encoding, "changed": qr.repair.changed}
            if qr.repair
            else None
        ),
        "field_repairs": [{"field": f, "source_encoding": s} for f, s in qr.field_repairs],
        "access_keys": [_key_json(k) for k in qr.access_keys()],
        "identity": identity,
    }
    if args.json:
        print(json.dumps(data, ensure_ascii=False, indent=2))
        return 0
    for name in (*vocabulary.QR_NAMES, "generation"):
        print(f"{name:20} {data[name] if data[name] is not None else '-'}")
    if qr.extra_fields:
        print(f"{'extra_fields':20} {' | '.join(qr.extra_fields)}")
    print(f"{'expected_expiry':20} {data['expected_expiry'] or 'none (no expiry or unknown)'}")
    if qr.repaired:
        sources = {s for _, s in qr.field_repairs}
        if qr.repair is not None and qr.repair.changed:
            sources.add(qr.repair.source_encoding)
        print(f"{'repaired from':20} {', '.join(sorted(sources))}")
    print(f"{'title case':20} {identity['full_name_title']}")
    print(f"{'search key':20} {identity['search_key']}")
    print(f"{'age':20} {identity['age']}")
    his = identity["his"]
    assert isinstance(his, dict)
    print("HIS fields:", "  ".join(f"{k}={v}" for k, v in his.items()))
    print("access keys (best first):")
    for key in qr.access_keys():
        if isinstance(key, CANKey):
            print(f"  CAN {key.can}")
        else:
            print(f"  BAC {key.document_number} {key.date_of_birth} {key.date_of_expiry}")
    return 0

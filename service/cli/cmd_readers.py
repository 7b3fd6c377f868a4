"""``cccd readers``: the PC/SC readers and whether each holds a card (docs/spec
``pcsc-testing.md``); ``--probe`` also shows what each reader and card can do (T=0/T=1, extended
length by the ATR, by EF.ATR/INFO and by trying it) and what earlier reads learned about it
(the reader memory in the data folder). The probe output is what an operator sends when
reporting a reader that needs a quirk: it holds no personal data."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from reader.errors import CardError, TransportError

# Plain READ BINARY of EF.CardAccess by SFI, with an extended Le (0000 = as much as there is).
EXTENDED_PROBE = bytes.fromhex("00B09C00000000")
SHORT_PROBE = bytes.fromhex("00B09C0000")


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = subparsers.add_parser(
        "readers",
        help="list the PC/SC readers and their cards",
        description="List the smart-card readers pcscd knows, with a card's ATR when present.",
    )
    parser.add_argument("--json", action="store_true", help="print JSON")
    parser.add_argument(
        "--probe",
        action="store_true",
        help="connect to each card: protocol, extended length (ATR, EF.ATR/INFO, tried), "
        "and what earlier reads learned about the reader",
    )
    parser.add_argument("--data-dir", metavar="DIR", help="where the reader memory is kept")
    parser.set_defaults(func=run_readers)


def data_dir(option: str | None) -> Path:
    """The service's data folder: ``--data-dir``, else the settings' (``CCCD_DATA_DIR``)."""
    if option:
        return Path(option).expanduser()
    from service.settings import Settings, SettingsError

    try:
        return Settings.load().data_dir
    except SettingsError:
        return Settings().data_dir


def run_readers(args: argparse.Namespace) -> int:
    from reader.drivers.events import CardMonitor
    from reader.drivers.pcsc import parse_atr

    states = CardMonitor(report_present=False).snapshot()
    if args.probe:
        return _run_probe(args, states)
    if args.json:
        print(
            json.dumps(
                [
                    {
                        "name": name,
                        "card_present": state.present,
                        "atr": state.atr.hex().upper() or None,
                    }
                    for name, state in states.items()
                ],
                indent=2,
            )
        )
        return 0
    if not states:
        print("no smart-card reader is connected", file=sys.stderr)
        return 1
    for name, state in states.items():
        if state.present:
            info = parse_atr(state.atr)
            extended = {True: "yes", False: "no", None: "unknown"}[info.extended_length]
            card = f"card present, ATR {state.atr.hex().upper()}, extended length {extended}"
        else:
            card = "no card"
        print(f"{name}\t{card}")
    return 0


def probe(name: str) -> dict[str, Any]:
    """What the card on reader ``name`` and the reader can do, tried with plain commands only
    (no access key: nothing personal is read)."""
    from reader.drivers.access import read_atr_info
    from reader.drivers.pcsc import PCSCTransport, parse_atr

    found: dict[str, Any] = {}
    # extended_length=True: send the extended probe even where the ATR says nothing of it.
    with PCSCTransport(name, extended_length=True) as transport:
        atr = transport.atr
        info = parse_atr(atr)
        found["atr"] = atr.hex().upper()
        found["protocols"] = [f"T={p}" for p in info.protocols]
        found["protocol"] = transport.protocol
        found["extended_length_by_atr"] = info.extended_length
        try:
            atr_info, _ = read_atr_info(transport)
        except CardError as exc:
            atr_info = None
            found["atr_info_error"] = str(exc)
        found["atr_info"] = atr_info.to_json() if atr_info is not None else None
        found["extended_length_tried"] = _try_extended(transport)
    return found


def _try_extended(transport: Any) -> str:
    """ "works", "refused by the card" (6700), "fails at the reader", or why it is unknown."""
    if transport.protocol == "T=0":
        return "not possible over T=0"
    try:
        answer = transport.transmit(EXTENDED_PROBE)
    except TransportError as exc:
        return f"fails at the reader ({exc})"
    sw = answer[-2:].hex().upper()
    if sw in ("9000", "6282"):
        return "works"
    if sw == "6700" or sw.startswith("6C"):
        return f"refused by the card ({sw})"
    return f"unknown: no EF.CardAccess to try it with ({sw})"


def _run_probe(args: argparse.Namespace, states: dict[str, Any]) -> int:
    from service.scan.reader_memory import ReaderMemory

    memory = ReaderMemory.in_folder(data_dir(args.data_dir))
    report = []
    for name, state in states.items():
        entry: dict[str, Any] = {"name": name, "card_present": state.present}
        if state.present:
            try:
                entry.update(probe(name))
            except CardError as exc:
                entry["error"] = str(exc)
        entry["learned"] = [
            {"atr": e.atr.hex().upper(), "updated_at": e.updated_at, **e.profile.to_json()}
            for e in memory.entries()
            if e.reader == name
        ]
        report.append(entry)
    if args.json:
        print(json.dumps(report, indent=2))
        return 0
    if not report:
        print("no smart-card reader is connected", file=sys.stderr)
        return 1
    for entry in report:
        print(entry["name"])
        for line in _describe(entry):
            print(f"  {line}")
    return 0


def _yes_no(value: bool | None) -> str:
    return {True: "yes", False: "no", None: "unknown"}[value]


def _describe(entry: dict[str, Any]) -> list[str]:
    lines = []
    if not entry["card_present"]:
        lines.append("no card")
    elif "error" in entry:
        lines.append(f"card present, probe failed: {entry['error']}")
    else:
        lines.append(
            f"card ATR {entry['atr']}; offers {', '.join(entry['protocols'])}; "
            f"connected with {entry['protocol']}"
        )
        atr_info = entry["atr_info"]
        if atr_info is None:
            info_text = "absent"
        else:
            info_text = (
                f"extended length {_yes_no(atr_info['extended_length'])}, commands up to "
                f"{atr_info['max_command']}, answers up to {atr_info['max_response']} bytes"
            )
        lines.append(
            f"extended length: by ATR {_yes_no(entry['extended_length_by_atr'])}; "
            f"EF.ATR/INFO {info_text}; tried: {entry['extended_length_tried']}"
        )
    if not entry["learned"]:
        lines.append("learned: nothing yet (no card read on this reader)")
    for learned in entry["learned"]:
        recoveries = ", ".join(f"{k} x{v}" for k, v in learned["recoveries"].items()) or "none"
        lines.append(
            f"learned for ATR {learned['atr']} ({learned['reads']} reads, "
            f"{learned['updated_at']}): extended length {_yes_no(learned['extended_length'])}, "
            f"read size {learned['max_read'] or 'unknown'}, largest answer "
            f"{learned['largest_answer']} bytes, {learned['protocol'] or 'protocol unknown'}, "
            f"recoveries {recoveries}"
        )
    return lines

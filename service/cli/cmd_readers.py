"""``cccd readers``: the PC/SC readers and whether each holds a card (shared spec
``pcsc-vpcd.md``)."""

from __future__ import annotations

import argparse
import json
import sys


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = subparsers.add_parser(
        "readers",
        help="list the PC/SC readers and their cards",
        description="List the smart-card readers pcscd knows, with a card's ATR when present.",
    )
    parser.add_argument("--json", action="store_true", help="print JSON")
    parser.set_defaults(func=run_readers)


def run_readers(args: argparse.Namespace) -> int:
    from reader.events import CardMonitor
    from reader.pcsc import parse_atr

    states = CardMonitor(report_present=False).snapshot()
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

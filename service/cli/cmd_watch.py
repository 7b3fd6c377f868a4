"""``cccd watch --reader NAME``: wait for cards on a PC/SC reader and read each one inserted,
asking for its ID number (typed, or the QR code scanned into the prompt), then print the
verified identity. Card events come from ``reader.drivers.events`` (pcscd's event counter, so a
quick swap is still two cards)."""

from __future__ import annotations

import argparse
import sys
import threading

from reader.keys import InvalidKeyError


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = subparsers.add_parser(
        "watch",
        help="wait for cards on a reader and read each one",
        description="Wait for cards on a PC/SC reader; for each card, ask for the ID number "
        "(or a scanned QR code), read and verify it, print the identity.",
    )
    parser.add_argument(
        "--reader", metavar="NAME", required=True, help="PC/SC reader name (see `cccd readers`)"
    )
    parser.add_argument(
        "--id-number", metavar="N", help="use this ID number for every card instead of asking"
    )
    parser.add_argument(
        "--count",
        type=int,
        default=0,
        help="stop after this many cards (default: run until Ctrl-C)",
    )
    parser.add_argument(
        "--timeout", type=float, default=10.0, help="seconds a card may take to answer one command"
    )
    parser.add_argument("--trust", metavar="DIR", help="CSCA trust-store directory")
    parser.add_argument("--at", metavar="DATE", help="verify as of this date (YYYY-MM-DD)")
    parser.add_argument("--json", action="store_true", help="print JSON, one document per card")
    parser.set_defaults(func=run_watch)


def id_number_from(text: str) -> str:
    """The ID number from what was typed: 12 digits, or a scanned QR payload."""
    text = text.strip()
    if "|" in text:
        from verify.qr import parse_qr

        return parse_qr(text).id_number
    return text


def run_watch(args: argparse.Namespace) -> int:
    from reader.drivers.events import CardMonitor

    monitor = CardMonitor([args.reader])
    stop = threading.Event()
    cards = 0
    worst = 0
    print(f"waiting for cards on {args.reader!r} (Ctrl-C to stop)", file=sys.stderr)
    for event in monitor.events(stop=stop):
        if event.kind == "reader_removed":
            print(f"reader {args.reader!r} was disconnected", file=sys.stderr)
        elif event.kind == "card_removed":
            print("card removed", file=sys.stderr)
        if event.kind != "card_inserted":
            continue
        print("card inserted", file=sys.stderr)
        worst = max(worst, _read_one(args))
        cards += 1
        if args.count and cards >= args.count:
            stop.set()
    return worst


def _read_one(args: argparse.Namespace) -> int:
    from reader import CardError, ReadOptions, keys_for_id_number, read_card
    from reader.drivers.pcsc import PCSCTransport
    from service.cli.cmd_read import _show
    from service.cli.progress import FileProgress

    try:
        typed = args.id_number or input("ID number (12 digits) or scan the QR code: ")
        key = keys_for_id_number(id_number_from(typed))[0]
    except (InvalidKeyError, ValueError) as exc:
        print(f"cccd watch: {exc}; take the card off and put it back to try again", file=sys.stderr)
        return 2
    except EOFError:
        return 2
    progress = FileProgress(enabled=None if not args.json else False)
    try:
        with PCSCTransport(args.reader, timeout=args.timeout) as transport:
            card = read_card(transport, key, options=ReadOptions(), progress=progress)
    except CardError as exc:
        progress.finish()
        print(f"cccd watch: {exc}", file=sys.stderr)
        return 2
    return _show(card, args)

"""``cccd simulate``: a simulated CCCD on a real PC/SC stack, for trying the reader path without
a card. ``cccd simulate --vpcd`` puts a fictional citizen's card on pcscd's vpcd virtual reader
(``docs/spec/pcsc-testing.md``); ``cccd simulate list`` lists the fictional citizens;
``cccd simulate --export-trust DIR`` writes the simulated cards' CSCA certificates (DER and
PEM) and CRL, for checking the simulated cards with another tool."""

from __future__ import annotations

import argparse
import sys
import threading
from typing import Any

VPCD_BASE_PORT = 35963


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = subparsers.add_parser(
        "simulate",
        help="put a simulated card on the vpcd virtual reader, or list the fictional citizens",
        description=(
            "`cccd simulate list` lists the fictional citizens. `cccd simulate --vpcd` puts one "
            "citizen's simulated card on pcscd's vpcd virtual reader (needs pcscd and "
            "vsmartcard-vpcd); then `cccd read --reader 'Virtual PCD 00 00' --id-number N` "
            "reads it. On a terminal, type r (remove), i (insert), s ID (swap), q (quit)."
        ),
    )
    parser.add_argument("action", nargs="?", choices=("list",), help="list the citizens")
    parser.add_argument("--vpcd", action="store_true", help="connect the card to vpcd")
    parser.add_argument(
        "--export-trust",
        metavar="DIR",
        help="write the simulated cards' CSCA certificate(s) and CRL to DIR, then exit",
    )
    parser.add_argument("--host", default="127.0.0.1", help="vpcd host (default 127.0.0.1)")
    parser.add_argument(
        "--port",
        type=int,
        default=VPCD_BASE_PORT,
        help="vpcd port: 35963 is 'Virtual PCD 00 00', 35964 is '... 00 01'",
    )
    parser.add_argument("--citizen", metavar="ID", help="12-digit ID of a fictional citizen")
    parser.add_argument(
        "--faults",
        nargs="*",
        default=[],
        metavar="FAULT",
        help="faults on the card, e.g. tampered removed_after=40 no_extended_length slow=0.01",
    )
    parser.add_argument(
        "--link",
        choices=("106", "212", "424", "contact"),
        help="simulate the link's speed (the chip sleeps)",
    )
    parser.set_defaults(func=run_simulate)


def run_simulate(args: argparse.Namespace) -> int:
    from fixtures.citizens import load_citizens

    if args.action == "list":
        for person in load_citizens():
            expiry = person.date_of_expiry.isoformat() if person.date_of_expiry else "none"
            print(
                f"{person.id_number}  {person.card_kind:<14} born {person.date_of_birth}  "
                f"expires {expiry}  {person.full_name}"
            )
        return 0
    if args.export_trust:
        return export_trust(args.export_trust)
    if not args.vpcd:
        print("cccd simulate: give --vpcd, --export-trust DIR (or `list`)", file=sys.stderr)
        return 2
    citizen_id = args.citizen or load_citizens()[0].id_number
    try:
        chip = _chip(citizen_id, args)
    except (KeyError, ValueError) as exc:
        print(f"cccd simulate: {exc}", file=sys.stderr)
        return 2
    from fixtures.vpcd import VpcdCard

    card = VpcdCard(args.port, args.host)
    try:
        try:
            card.insert(chip)
        except TimeoutError as exc:
            print(f"cccd simulate: {exc}", file=sys.stderr)
            return 1
        reader = f"Virtual PCD 00 {args.port - VPCD_BASE_PORT:02d}"
        print(
            f"card of citizen {citizen_id} on {reader!r} (port {args.port}); Ctrl-C to stop",
            file=sys.stderr,
        )
        if sys.stdin.isatty():
            _console(card, args, citizen_id)
        else:
            threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        card.stop()
    return 0


def export_trust(directory: str) -> int:
    """The test PKI's CSCA that signs every simulated card (with its CRL), as DER and PEM."""
    from pathlib import Path

    from asn1crypto import pem

    from fixtures import pki
    from fixtures.cards import CardProfile

    profile = CardProfile().pki
    target = Path(directory)
    try:
        target.mkdir(parents=True, exist_ok=True)
        csca = pki.csca(profile)
        files = {
            f"simulated-csca-{profile}.der": csca.der,
            f"simulated-csca-{profile}.pem": pem.armor("CERTIFICATE", csca.der),
            f"simulated-csca-{profile}.crl": pki.crl(profile),
        }
        for name, data in files.items():
            (target / name).write_bytes(data)
    except OSError as exc:
        print(f"cccd simulate: cannot write to {target}: {exc.strerror}", file=sys.stderr)
        return 1
    for name in files:
        print(target / name)
    print(
        "these certificates belong to a test PKI: never install them where real cards are read",
        file=sys.stderr,
    )
    return 0


def _chip(citizen_id: str, args: argparse.Namespace) -> Any:
    from fixtures.cards import chip_for_citizen
    from fixtures.faults import parse_fault
    from fixtures.link import LINKS

    faults = [parse_fault(text) for text in args.faults]
    options: dict[str, Any] = {}
    if args.link:
        options = {"link": LINKS[args.link], "sleep_for_link": True}
    return chip_for_citizen(citizen_id, faults=faults, **options)


def _console(card: Any, args: argparse.Namespace, current: str) -> None:
    for line in sys.stdin:
        command, _, value = line.strip().partition(" ")
        try:
            if command == "q":
                return
            if command == "r":
                card.remove()
                print("card removed", file=sys.stderr)
            elif command == "i":
                card.insert(_chip(current, args))
                print("card inserted", file=sys.stderr)
            elif command == "s":
                current = value.strip() or current
                card.swap(_chip(current, args))
                print(f"card of citizen {current} inserted", file=sys.stderr)
            else:
                print("r: remove, i: insert, s ID: swap, q: quit", file=sys.stderr)
        except (KeyError, ValueError, RuntimeError, TimeoutError) as exc:
            print(f"cccd simulate: {exc}", file=sys.stderr)

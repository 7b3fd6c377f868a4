"""``cccd read``, ``cccd inspect``: read a card (simulated or on a PC/SC reader) end to end,
or look at a saved dump, and print the identity and the verification report.

On a PC/SC reader the read starts from what earlier reads learned about the reader (the
reader memory in the data folder) and saves what this one learned; a card that leaves
mid-read is waited for (``--resume-wait``, 10 s by default) and the read resumes."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from reader import BACKey, CANKey, ReadOptions, keys_for_id_number, read_card
from reader.drivers.card import DEFAULT_RESUME_WAIT, CardRead, ReadEvent
from reader.keys import AccessKey, InvalidKeyError
from service.cli.render import card_summary, check_json, print_human

DUMP_SUFFIX = ".bin"


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    read = subparsers.add_parser(
        "read",
        help="read a card end to end and print the verified identity",
        description="Open the card (PACE with the CAN by default), read every file, verify it.",
    )
    source = read.add_mutually_exclusive_group()
    source.add_argument(
        "--simulated",
        nargs="?",
        const="017072769692",
        metavar="ID_NUMBER",
        help="read a simulated card of a fictional citizen (no hardware)",
    )
    source.add_argument("--reader", metavar="NAME", help="PC/SC reader name (see `cccd readers`)")
    read.add_argument("--id-number", metavar="N", help="12-digit ID number (CAN = last 6)")
    read.add_argument("--can", help="card access number (PACE)")
    read.add_argument("--document-number", help="BAC/MRZ: document number (last 9 ID digits)")
    read.add_argument("--birth", help="BAC/MRZ: date of birth YYMMDD")
    read.add_argument("--expiry", help="BAC/MRZ: date of expiry YYMMDD")
    read.add_argument("--bac", action="store_true", help="use BAC even when the card offers PACE")
    read.add_argument(
        "--allow-fallback", action="store_true", help="fall back to BAC (reported) when PACE fails"
    )
    read.add_argument(
        "--faults",
        nargs="*",
        default=[],
        metavar="FAULT",
        help="with --simulated: faults to put on the card (e.g. tampered clone)",
    )
    read.add_argument("--trust", metavar="DIR", help="CSCA trust-store directory")
    read.add_argument(
        "--at", metavar="DATE", type=_iso_date, help="verify as of this date (YYYY-MM-DD)"
    )
    read.add_argument("--json", action="store_true", help="print JSON")
    read.add_argument("--dump", metavar="DIR", help="write the raw files (COM.bin, DG1.bin ...)")
    read.add_argument(
        "--resume-wait",
        type=_seconds,
        default=DEFAULT_RESUME_WAIT,
        metavar="SECONDS",
        help="how long to wait for a card that left mid-read (default 10; 0: fail at once)",
    )
    read.add_argument("--data-dir", metavar="DIR", help="where the reader memory is kept")
    read.set_defaults(func=run_read)

    verify = subparsers.add_parser(
        "verify", help="verify a saved dump (passive authentication, identity checks)"
    )
    verify.add_argument("directory", metavar="DUMP_DIR")
    verify.add_argument("--trust", metavar="DIR", help="CSCA trust-store directory")
    verify.add_argument(
        "--at", metavar="DATE", type=_iso_date, help="verify as of this date (YYYY-MM-DD)"
    )
    verify.add_argument("--json", action="store_true", help="print JSON")
    verify.set_defaults(func=run_verify)

    inspect = subparsers.add_parser("inspect", help="show a saved dump in human-readable form")
    inspect.add_argument("directory", metavar="DIR")
    inspect.add_argument("--json", action="store_true")
    inspect.set_defaults(func=run_inspect)


def _seconds(value: str) -> float:
    try:
        seconds = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected seconds, not {value!r}") from None
    if not 0 <= seconds <= 120:
        raise argparse.ArgumentTypeError("between 0 and 120 seconds")
    return seconds


def _iso_date(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected YYYY-MM-DD, not {value!r}") from None


def access_key(args: argparse.Namespace) -> AccessKey:
    """The key from the command line: --can, --document-number/--birth/--expiry, --id-number."""
    if args.can:
        return CANKey(args.can)
    if args.document_number or args.birth or args.expiry:
        if not (args.document_number and args.birth and args.expiry):
            raise InvalidKeyError("BAC needs --document-number, --birth and --expiry together")
        return BACKey(args.document_number, args.birth, args.expiry)
    if args.id_number:
        return keys_for_id_number(args.id_number)[0]
    if args.simulated:
        return keys_for_id_number(args.simulated)[0]
    raise InvalidKeyError("give --id-number (or --can, or --document-number/--birth/--expiry)")


def _transport(args: argparse.Namespace) -> tuple[Any, AccessKey]:
    if args.reader:
        from reader.drivers.pcsc import PCSCTransport

        return PCSCTransport(args.reader, timeout=10.0), access_key(args)
    from fixtures.cards import build_card, chip_for_card
    from fixtures.faults import parse_fault
    from fixtures.quirks import quirky

    card = build_card(args.simulated or "017072769692", faults=args.faults)
    key = access_key(args)
    if args.bac and isinstance(key, CANKey):
        key = card.bac_key
    # Reader quirks among the faults (t0, extended_apdu_error, lost_at=K:MS ...) sit
    # between the reader and the chip.
    return quirky(chip_for_card(card), [parse_fault(f) for f in args.faults]), key


def _trust(args: argparse.Namespace) -> Any:
    from verify.trust import TrustStore

    if args.trust:
        return _report_problems(TrustStore.from_directory(args.trust))
    if getattr(args, "simulated", None):
        from fixtures.cards import trust_store_for_tests

        return trust_store_for_tests()
    from service.settings import default_trust_dir

    directory = Path(default_trust_dir())
    if not directory.is_dir():
        return TrustStore()
    return _report_problems(TrustStore.from_directory(directory))


def _report_problems(store: Any) -> Any:
    """Files in the trust directory that were not trusted: the operator must know."""
    for problem in store.problems:
        print(f"cccd: trust store: not used: {problem}", file=sys.stderr)
    return store


def _when(args: argparse.Namespace) -> datetime:
    at = getattr(args, "at", None)
    if at:
        day = at if isinstance(at, date) else _iso_date(str(at))  # `cccd watch` passes text
        return datetime.combine(day, datetime.min.time(), UTC)
    return datetime.now(UTC)


def run_read(args: argparse.Namespace) -> int:
    if not args.simulated and not args.reader:
        args.simulated = "017072769692"
    try:
        transport, key = _transport(args)
    except InvalidKeyError as exc:
        print(f"cccd read: {exc}", file=sys.stderr)
        return 2
    options = ReadOptions(allow_pace=not args.bac, allow_fallback_to_bac=args.allow_fallback)
    progress = None
    if sys.stderr.isatty() and not args.json:
        from service.cli.progress import FileProgress

        progress = FileProgress()
    memory, profile, atr = None, None, b""
    if args.reader:
        from service.cli.cmd_readers import data_dir
        from service.scan.reader_memory import ReaderMemory

        memory = ReaderMemory.in_folder(data_dir(args.data_dir))
        atr = bytes(getattr(transport, "atr", b""))
        profile = memory.get(args.reader, atr)
    try:
        card = read_card(
            transport,
            key,
            options=options,
            progress=progress,
            profile=profile,
            resume_wait=args.resume_wait,
            on_event=_say,
        )
    finally:
        transport.close()
        if progress is not None:
            progress.finish()
    if memory is not None:
        memory.put(args.reader, atr, card.profile(profile, getattr(transport, "protocol", None)))
    if args.dump:
        write_dump(card, Path(args.dump))
    return _show(card, args)


def _say(event: ReadEvent) -> None:
    """What the read does on its own, for the person holding the card."""
    if event.kind == "paused":
        text = (
            f"the card left the reader: hold it still on the reader "
            f"(waiting up to {event.wait_seconds:g} s)"
        )
    elif event.kind == "resumed":
        text = "the card is back: reading on"
    elif event.kind == "restarted":
        text = "another card was put on the reader: reading it from the start"
    else:
        text = "the reader failed an extended-length command: reading on with short commands"
    print(f"cccd read: {text}", file=sys.stderr)


def _show(card: CardRead, args: argparse.Namespace) -> int:
    from verify.check import check_card
    from verify.trust import TrustStoreError

    try:
        trust = _trust(args)
    except TrustStoreError as exc:
        print(f"cccd: {exc}", file=sys.stderr)
        return 2
    result = check_card(card, trust, at=_when(args))
    if args.json:
        print(json.dumps(check_json(result, card), ensure_ascii=False, indent=2))
    else:
        print_human(result, card)
    return 0 if result.status in ("verified", "signer_not_trusted") else 1


def write_dump(card: CardRead, directory: Path) -> None:
    """Raw files as ``NAME.bin``, so a read can be verified and replayed later. They hold
    personal data: the folder is made 0700 and each file 0600."""
    from service.storage.private_files import private_dir, write_private

    private_dir(directory)
    for name, raw in card.files.items():
        write_private(directory / f"{name}{DUMP_SUFFIX}", raw)


def read_dump(directory: Path) -> dict[str, bytes]:
    from reader.files import FILES

    if not directory.is_dir():
        raise FileNotFoundError(f"{directory} is not a directory")
    files = {}
    for name in FILES:
        path = directory / f"{name}{DUMP_SUFFIX}"
        if path.is_file():
            files[name] = path.read_bytes()
    if not files:
        raise FileNotFoundError(f"no COM.bin, SOD.bin, DG1.bin ... in {directory}")
    return files


def card_from_dump(directory: Path) -> CardRead:
    from reader.drivers.authenticate import AuthOutcome
    from reader.drivers.card import ReadStats, parse_one

    files = read_dump(directory)
    offline = AuthOutcome.not_attempted(
        "a saved dump: chip and active authentication need the card itself"
    )
    card = CardRead(
        files=files,
        parsed={},
        parse_errors={},
        missing={},
        stats=ReadStats(apdus=0, bytes_sent=0, bytes_received=0, seconds=0.0),
        access_protocol="(dump)",
        complete=True,
        chip_authentication=offline,
        active_authentication=offline,
    )
    for name, raw in files.items():
        parsed, error = parse_one(name, raw)
        if parsed is not None:
            card.parsed[name] = parsed
        if error is not None:
            card.parse_errors[name] = error
    return card


def _load_dump(args: argparse.Namespace) -> CardRead | None:
    try:
        return card_from_dump(Path(args.directory))
    except FileNotFoundError as exc:
        print(f"cccd {args.command}: {exc}", file=sys.stderr)
        return None


def run_inspect(args: argparse.Namespace) -> int:
    card = _load_dump(args)
    if card is None:
        return 2
    summary = card_summary(card)
    if args.json:
        print(json.dumps(summary, ensure_ascii=False, indent=2))
    else:
        for name, info in summary["files"].items():
            print(f"{name:<11} {info['bytes']:>6} bytes  {info['summary']}")
    return 0


def run_verify(args: argparse.Namespace) -> int:
    card = _load_dump(args)
    return 2 if card is None else _show(card, args)

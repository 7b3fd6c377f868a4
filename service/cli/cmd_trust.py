"""``cccd trust``: manage the CSCA trust-store directory (ICAO 9303-12 §5-§8).

    cccd trust add FILE... [--trust DIR]           CSCA / link certificates (PEM or DER)
    cccd trust list [--trust DIR] [--json]
    cccd trust import-master-list FILE [--trust DIR] [--at DATE] [--unsigned]
    cccd trust import-crl FILE [--trust DIR]
    cccd trust unknown-issuers [--data-dir DIR] [--json]

The directory defaults to ``$XDG_DATA_HOME/cccd/trust`` (``~/.local/share/cccd/trust``).
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from service.settings import default_trust_dir
from verify.trust import TrustStore, TrustStoreError


def add_trust_argument(parser: argparse.ArgumentParser) -> None:
    """``--trust DIR`` for any command that needs the trust store."""
    parser.add_argument(
        "--trust",
        metavar="DIR",
        type=Path,
        default=None,
        help=f"trust-store directory (default: {default_trust_dir()})",
    )


def trust_dir(args: argparse.Namespace) -> Path:
    value = getattr(args, "trust", None)
    return Path(value) if value is not None else default_trust_dir()


def open_store(directory: Path) -> TrustStore:
    """The store in ``directory``; an empty one when the directory does not exist yet."""
    if not directory.is_dir():
        return TrustStore()
    return TrustStore.from_directory(directory)


def register(subparsers: argparse._SubParsersAction[Any]) -> None:
    trust = subparsers.add_parser("trust", help="manage trusted CSCA certificates and CRLs")
    commands = trust.add_subparsers(dest="trust_command", metavar="ACTION")
    trust.set_defaults(func=lambda args: (trust.print_help(), 2)[1])

    add = commands.add_parser("add", help="trust CSCA or link certificates (PEM or DER)")
    add.add_argument("files", nargs="+", type=Path, metavar="FILE")
    add_trust_argument(add)
    add.set_defaults(func=_add)

    listing = commands.add_parser("list", help="list trusted certificates and CRLs")
    listing.add_argument("--json", action="store_true", help="machine-readable output")
    add_trust_argument(listing)
    listing.set_defaults(func=_list)

    master = commands.add_parser(
        "import-master-list", help="verify an ICAO CSCA master list and trust its CSCAs"
    )
    master.add_argument("file", type=Path, metavar="FILE")
    master.add_argument("--at", help="check the signer's validity at this date (YYYY-MM-DD)")
    master.add_argument("--json", action="store_true", help="machine-readable report")
    master.add_argument(
        "--unsigned",
        action="store_true",
        help="accept a bare CscaMasterList without a CMS signature (only for a list whose "
        "origin you checked yourself)",
    )
    add_trust_argument(master)
    master.set_defaults(func=_import_master_list)

    crl = commands.add_parser("import-crl", help="load a CRL signed by a trusted CSCA")
    crl.add_argument("file", type=Path, metavar="FILE")
    add_trust_argument(crl)
    crl.set_defaults(func=_import_crl)

    unknown = commands.add_parser(
        "unknown-issuers",
        help="document-signer issuers seen on cards that no installed CSCA anchors",
    )
    unknown.add_argument("--data-dir", type=Path, default=None, help="the service's data directory")
    unknown.add_argument("--json", action="store_true", help="machine-readable output")
    unknown.set_defaults(func=_unknown_issuers)


def _read(path: Path) -> bytes | None:
    try:
        return path.read_bytes()
    except OSError as exc:
        print(f"cccd trust: cannot read {path}: {exc.strerror}", file=sys.stderr)
        return None


def _add(args: argparse.Namespace) -> int:
    directory = trust_dir(args)
    store = open_store(directory)
    status = 0
    for path in args.files:
        data = _read(path)
        if data is None:
            status = 1
            continue
        try:
            added = store.add_certificate(data, source=path.name)
        except TrustStoreError as exc:
            print(f"refused {path}: {exc}", file=sys.stderr)
            status = 1
            continue
        for cert in added:
            kind = "link certificate" if cert.is_link else "CSCA"
            print(f"trusted {kind}: {cert.subject} (valid to {cert.not_after.date()})")
    store.save(directory)
    return status


def _list(args: argparse.Namespace) -> int:
    directory = trust_dir(args)
    store = open_store(directory)
    if args.json:
        document = {
            "directory": str(directory),
            "certificates": [cert.to_json() for cert in store],
            "crls": [
                {
                    "issuer": entry.issuer,
                    "this_update": entry.this_update.isoformat(),
                    "next_update": entry.next_update.isoformat() if entry.next_update else None,
                    "revoked": len(entry.revoked),
                }
                for entry in store.crls
            ],
            "problems": list(store.problems),
        }
        print(json.dumps(document, indent=2, ensure_ascii=False))
        return 0
    print(f"trust store {directory}: {len(store)} certificate(s), {len(store.crls)} CRL(s)")
    for cert in store:
        kind = "link" if cert.is_link else "csca"
        print(
            f"  [{kind}] {cert.subject}  {cert.not_before.date()} .. {cert.not_after.date()}  "
            f"{cert.fingerprint[:16]}"
        )
    for entry in store.crls:
        print(f"  [crl]  {entry.issuer}  {len(entry.revoked)} revoked")
    for problem in store.problems:
        print(f"  problem: {problem}")
    return 0


def _import_master_list(args: argparse.Namespace) -> int:
    directory = trust_dir(args)
    data = _read(args.file)
    if data is None:
        return 1
    at = None
    if args.at:
        try:
            at = datetime.fromisoformat(args.at).replace(tzinfo=UTC)
        except ValueError:
            print(f"cccd trust: --at must be YYYY-MM-DD, not {args.at!r}", file=sys.stderr)
            return 2
    store = open_store(directory)
    report = store.load_master_list(data, at=at, allow_unsigned=args.unsigned)
    if args.json:
        print(json.dumps(report.to_json(), indent=2, ensure_ascii=False))
    else:
        print(report.message)
        if report.signer:
            print(f"  signer: {report.signer}")
        for cert in report.loaded:
            print(f"  loaded: {cert.subject}")
        for who, why in report.rejected:
            print(f"  rejected: {who}: {why}")
        for warning in report.warnings:
            print(f"  warning: {warning}")
        if report.accepted:
            print(f"  Vietnamese CSCAs in the list: {len(report.vietnamese)}")
            for subject in report.vietnamese:
                print(f"    {subject}")
    if not report.accepted:
        return 1
    store.save(directory)
    return 0


def _import_crl(args: argparse.Namespace) -> int:
    directory = trust_dir(args)
    data = _read(args.file)
    if data is None:
        return 1
    store = open_store(directory)
    report = store.load_crl(data)
    print(report.message)
    if not report.accepted:
        return 1
    store.save(directory)
    return 0


def _unknown_issuers(args: argparse.Namespace) -> int:
    from service.scan.unknown_issuers import UnknownIssuers
    from service.settings import Settings, SettingsError

    directory = args.data_dir
    if directory is None:
        try:
            directory = Settings.load().data_dir
        except SettingsError as exc:
            print(f"cccd trust: {exc}", file=sys.stderr)
            return 2
    issuers = UnknownIssuers(directory).list()
    if args.json:
        print(json.dumps([u.to_json() for u in issuers], indent=2, ensure_ascii=False))
        return 0
    if not issuers:
        print("no unanchored document-signer issuer seen yet")
        return 0
    print("document-signer issuers that no installed CSCA anchors (count, last seen):")
    for entry in issuers:
        key = entry.authority_key_identifier or "no key identifier"
        print(f"  {entry.count:6d}  {entry.last_seen}  {entry.issuer}  [key id {key}]")
    print("install the CSCA that issued them (cccd trust add / import-master-list)")
    return 0

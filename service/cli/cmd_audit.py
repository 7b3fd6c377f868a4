"""``cccd audit export`` and ``cccd audit verify`` (docs/operations.md "Audit log"): write the
audit log as CSV, headed by the declared purpose and legal basis; check its chain of keyed
hashes and name the first record that does not hold. Subjects are already hashed or masked
in the database, per ``CCCD_AUDIT_SUBJECT``. Both are themselves audited.
"""

from __future__ import annotations

import argparse
import sys
from datetime import datetime


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = subparsers.add_parser("audit", help="the desk service's audit log")
    commands = parser.add_subparsers(dest="audit_command", metavar="ACTION")
    export = commands.add_parser("export", help="write the audit log as CSV")
    export.add_argument("--output", "-o", help="file to write (default: standard output)")
    export.add_argument("--since", help="only records at or after this ISO date/time")
    export.add_argument("--config", help="TOML config file (or CCCD_CONFIG)")
    export.set_defaults(func=export_audit)
    check = commands.add_parser("verify", help="check the audit log's chain of keyed hashes")
    check.add_argument("--config", help="TOML config file (or CCCD_CONFIG)")
    check.set_defaults(func=verify_audit)
    parser.set_defaults(func=lambda args: (parser.print_help(), 2)[1])


def _open(args: argparse.Namespace, command: str):  # type: ignore[no-untyped-def]
    from service.settings import Settings, SettingsError
    from service.storage.audit_key import AuditKeyError
    from service.storage.store import open_store

    try:
        settings = Settings.load(config_file=args.config)
        store = open_store(settings, create_key=False)
        store.migrate()
    except (SettingsError, AuditKeyError, ValueError) as exc:
        print(f"cccd audit {command}: {exc}", file=sys.stderr)
        return None, None
    return settings, store


def export_audit(args: argparse.Namespace) -> int:
    from service.api.routes.account import export_declaration
    from service.storage.private_files import private_umask

    try:
        since = datetime.fromisoformat(args.since) if args.since else None
    except ValueError:
        print("cccd audit export: --since must be an ISO date or date-time", file=sys.stderr)
        return 2
    settings, store = _open(args, "export")
    if store is None:
        return 2
    try:
        if args.output:
            with private_umask(), open(args.output, "w", newline="", encoding="utf-8") as out:
                count = store.audit_csv(out, since=since, declaration=export_declaration(settings))
            print(f"{count} audit records written to {args.output}", file=sys.stderr)
        else:
            count = store.audit_csv(
                sys.stdout, since=since, declaration=export_declaration(settings)
            )
        store.audit(desk="cli", role="admin", action="audit_export", outcome=f"{count} records")
    finally:
        store.close()
    return 0


def verify_audit(args: argparse.Namespace) -> int:
    _settings, store = _open(args, "verify")
    if store is None:
        return 2
    try:
        check = store.verify_audit_chain()
        if check.first_broken is None:
            print(f"audit log intact: {check.records} records, chain holds")
            store.audit(desk="cli", role="admin", action="audit_verify", outcome="intact")
            return 0
        print(
            f"audit log BROKEN at record {check.first_broken} "
            f"({check.records} records read): that record was changed, or one before it "
            "was removed or inserted"
        )
        store.audit(desk="cli", role="admin", action="audit_verify", outcome="broken")
        return 1
    finally:
        store.close()

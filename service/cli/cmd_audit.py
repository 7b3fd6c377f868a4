"""``cccd audit export``: write the audit log as CSV (issue 9 "Persistence"). Subjects are
already hashed or masked in the database, per ``CCCD_AUDIT_SUBJECT``."""

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
    parser.set_defaults(func=lambda args: (parser.print_help(), 2)[1])


def export_audit(args: argparse.Namespace) -> int:
    from service.db import Store
    from service.settings import Settings, SettingsError

    try:
        settings = Settings.load(config_file=args.config)
        since = datetime.fromisoformat(args.since) if args.since else None
    except (SettingsError, ValueError) as exc:
        print(f"cccd audit export: {exc}", file=sys.stderr)
        return 2
    store = Store(settings.effective_database_url, audit_subject=settings.audit_subject)
    try:
        store.migrate()
        if args.output:
            with open(args.output, "w", newline="", encoding="utf-8") as out:
                count = store.audit_csv(out, since=since)
            print(f"{count} audit records written to {args.output}", file=sys.stderr)
        else:
            store.audit_csv(sys.stdout, since=since)
    finally:
        store.close()
    return 0
